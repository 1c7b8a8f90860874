import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { outFlag } from '../cli/flags.js';
import { mergeShards, MERGEABLE_COMMANDS, type MergeResult } from '../core/merge.js';

export default class Merge extends BaseCommand<typeof Merge> {
  static override summary = 'Join the outputs of a sharded step (`--shard i/n`, all n shards) into the files one process would write.';
  static override description = `Checks that the folders are shards 0..n-1 of one run (same command, settings and metadata; each shard once), merges their rows in the order one process writes them and writes OUT byte-identical to an unsharded run. Mergeable: ${MERGEABLE_COMMANDS.join(', ')} (the shard folders' config.json names the command).`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> work/demo/gsu-joint-0 work/demo/gsu-joint-1 --out work/demo/gsu-joint',
    '<%= config.bin %> <%= command.id %> work/demo/encoded-0 work/demo/encoded-1 --out work/demo/encoded --json',
  ];
  static override strict = false;
  static override args = { shards: Args.directory({ description: 'shard output folders (or their gsu.arrow files)', required: true }) };
  static override flags = { out: outFlag };

  async run(): Promise<MergeResult> {
    const { argv } = await this.parse(Merge);
    const r = await mergeShards({ inputs: argv as string[], out: this.flags.out });
    this.say(`merged ${r.shards} ${r.command} shards: ${r.rows} rows → ${r.file}`);
    return r;
  }
}
