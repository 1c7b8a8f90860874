import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { outFlag } from '../cli/flags.js';
import { mergeGsuShards, type MergeResult } from '../core/retrieval/gsu.js';

export default class Merge extends BaseCommand<typeof Merge> {
  static override summary = 'Join the outputs of `gist search-gsu --shard i/n` (all n shards) into the file one process would write.';
  static override description = 'Checks that the folders are shards 0..n-1 of one search (same metadata and config), merges their rows by sample_id and writes OUT/gsu.arrow and OUT/config.json, byte-identical to an unsharded run.';
  static override examples = ['<%= config.bin %> <%= command.id %> work/demo/gsu-joint-0 work/demo/gsu-joint-1 --out work/demo/gsu-joint'];
  static override strict = false;
  static override args = { shards: Args.directory({ description: 'shard output folders (or their gsu.arrow files)', required: true }) };
  static override flags = { out: outFlag };

  async run(): Promise<MergeResult> {
    const { argv } = await this.parse(Merge);
    const r = await mergeGsuShards({ inputs: argv as string[], out: this.flags.out });
    this.say(`merged ${r.shards} shards: ${r.rows} rows → ${r.file}`);
    return r;
  }
}
