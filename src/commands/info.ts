import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { describeArrow } from '../core/arrow-io.js';

export type InfoResult = ReturnType<typeof describeArrow>;

export default class Info extends BaseCommand<typeof Info> {
  static override summary = "Print an Arrow file's schema, row count and metadata.";
  static override examples = ['<%= config.bin %> <%= command.id %> work/demo/data/items.arrow', '<%= config.bin %> <%= command.id %> work/demo/union/joint.arrow --json'];
  static override args = { file: Args.string({ description: 'Arrow IPC file', required: true }) };

  async run(): Promise<InfoResult> {
    const { args } = await this.parse(Info);
    const info = describeArrow(args.file);
    this.say(`${info.file}: ${info.rows} rows in ${info.batches} batch(es)`);
    for (const c of info.columns) this.say(`  ${c.name.padEnd(16)} ${c.type}${c.nullable ? ' (nullable)' : ''}`);
    for (const [k, v] of Object.entries(info.metadata)) this.say(`  # ${k} = ${v}`);
    return info;
  }
}
