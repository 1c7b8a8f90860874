import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { outFlag, shardFlag } from '../cli/flags.js';
import { embedItems, type EmbedResult } from '../core/cbjt/embed.js';
import type { BackendName } from '../core/engine/backend.js';

export default class Embed extends BaseCommand<typeof Embed> {
  static override summary = 'Compute joint embeddings u for new items from their content alone (paper section 4: online new items).';
  static override description =
    'Runs the trained content encoder (ct), behavior encoder (bh) and union model (u) on an ITEMS-shaped Arrow file (title, text, optional content vector; item ids need not be dense). Writes joint.arrow, plus content.arrow and behavior.arrow for the same items. Without --union-model it runs the encoders alone (the final encoding pass of train-content/train-behavior: content.arrow, behavior.arrow). --shard i/n encodes blocks of --batch-size items (block b to shard b mod n); `gist merge` joins the shard folders into exactly the single-run files.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --union-model work/demo/union/model --content-model work/demo/content/model --behavior-model work/demo/behavior/model --items work/demo/data/items.arrow --out work/demo/embedded',
    '<%= config.bin %> <%= command.id %> --union-model work/demo/union-content/model --content-model work/demo/content/model --items work/demo/data/items.arrow --out work/demo/embedded-content --json',
    '<%= config.bin %> <%= command.id %> --content-model work/demo/content/model --items work/demo/data/items.arrow --batch-size 256 --shard 0/2 --out work/demo/encoded-0',
    '<%= config.bin %> <%= command.id %> --content-model work/demo/content/model --items work/demo/data/items.arrow --batch-size 256 --shard 1/2 --out work/demo/encoded-1',
  ];
  static override flags = {
    'union-model': Flags.directory({ description: 'union model folder (UNION_OUT/model); without it, the encoders alone', aliases: ['model'], deprecateAliases: true }),
    'content-model': Flags.directory({ description: 'content encoder folder (CONTENT_OUT/model); not needed for --view behavior union models' }),
    'behavior-model': Flags.directory({ description: 'behavior encoder folder (BEHAVIOR_OUT/model); not needed for --view content union models' }),
    items: Flags.file({ description: 'ITEMS-shaped Arrow file of the new items', required: true }),
    out: outFlag,
    'batch-size': Flags.integer({ description: 'items per inference batch [default: 2048]', min: 1 }),
    shard: shardFlag('blocks of --batch-size items, block b to shard b mod n (join with `gist merge`)'),
  };

  async run(): Promise<EmbedResult> {
    const { flags } = this;
    const result = await embedItems({
      model: flags['union-model'],
      contentModel: flags['content-model'],
      behaviorModel: flags['behavior-model'],
      items: flags.items,
      out: flags.out,
      seed: flags.seed,
      backend: flags.backend as BackendName,
      batchSize: flags['batch-size'],
      shard: flags.shard,
      onProgress: this.progress(),
    });
    const main = result.outputs.joint ?? result.outputs.content ?? result.outputs.behavior;
    this.say(`${main}: ${result.items} items × ${result.dim} (${result.view}${result.shard ? `, shard ${result.shard}` : ''}), ${result.seconds.toFixed(1)} s`);
    return result;
  }
}
