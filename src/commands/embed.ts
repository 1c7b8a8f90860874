import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { outFlag } from '../cli/flags.js';
import { embedItems, type EmbedResult } from '../core/cbjt/embed.js';
import type { BackendName } from '../core/engine/backend.js';

export default class Embed extends BaseCommand<typeof Embed> {
  static override summary = 'Compute joint embeddings u for new items from their content alone (paper section 4: online new items).';
  static override description =
    'Runs the trained content encoder (ct), behavior encoder (bh) and union model (u) on an ITEMS-shaped Arrow file (title, text, optional content vector; item ids need not be dense). Writes joint.arrow, plus content.arrow and behavior.arrow for the same items.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --union-model work/demo/union/model --content-model work/demo/content/model --behavior-model work/demo/behavior/model --items work/demo/data/items.arrow --out work/demo/embedded',
    '<%= config.bin %> <%= command.id %> --union-model work/demo/union-content/model --content-model work/demo/content/model --items work/demo/data/items.arrow --out work/demo/embedded-content --json',
  ];
  static override flags = {
    'union-model': Flags.directory({ description: 'union model folder (UNION_OUT/model)', required: true, aliases: ['model'], deprecateAliases: true }),
    'content-model': Flags.directory({ description: 'content encoder folder (CONTENT_OUT/model); not needed for --view behavior union models' }),
    'behavior-model': Flags.directory({ description: 'behavior encoder folder (BEHAVIOR_OUT/model); not needed for --view content union models' }),
    items: Flags.file({ description: 'ITEMS-shaped Arrow file of the new items', required: true }),
    out: outFlag,
    'batch-size': Flags.integer({ description: 'items per inference batch [default: 2048]', min: 1 }),
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
      onProgress: this.progress(),
    });
    this.say(`${result.outputs.joint}: ${result.items} items × ${result.dim} (union view ${result.view}), ${result.seconds.toFixed(1)} s`);
    return result;
  }
}
