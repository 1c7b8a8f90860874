import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { dataFlag, shardFlag } from '../cli/flags.js';
import { UsageError } from '../core/errors.js';
import { EXPORT_FORMATS, exportSamples, type ExportOptions, type ExportResult } from '../core/export.js';
import { DOMAINS, SPLITS } from '../core/schemas.js';

export default class Export extends BaseCommand<typeof Export> {
  static override summary = 'Write one domain\'s samples with their histories joined in, as CSV, TSV or Parquet for other tools.';
  static override description =
    'Columns: sample_id,user_id,item_id,label,split,ts,hist_items,hist_ts (^-joined, events strictly before ts, most recent last), then cross_items,cross_ts (the other domain) with --cross-history, gsu_items,gsu_scores (the GSU top-K) with --gsu, and p_true on synthetic data. --shard i/n writes the users with user_id mod n = i: the parts of a Parquet dataset folder that distributed trainers read part by part. Parquet (.parquet) holds the histories as list columns. --out - writes to stdout.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --data fixtures/tiny --domain target --out work/tiny-target.csv',
    '<%= config.bin %> <%= command.id %> work/tiny-source.tsv --data fixtures/tiny --domain source --max-history 20 --split train --json',
    '<%= config.bin %> <%= command.id %> --data fixtures/tiny --out work/tiny-cross.csv --cross-history 100',
    '<%= config.bin %> <%= command.id %> --data fixtures/tiny --out work/tiny-target.parquet --max-history 200',
    '<%= config.bin %> <%= command.id %> --data fixtures/tiny --split test --out - | head -3',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --gsu work/demo/gsu-joint/gsu.arrow --max-history 200 --shard 0/2 --out work/demo/train-set/part-0-of-2.parquet',
  ];
  static override args = { file: Args.string({ description: 'output file (or --out)', required: false }) };
  static override flags = {
    data: dataFlag,
    out: Flags.file({ char: 'o', description: 'output file (.csv, .tsv or .parquet; - = stdout, csv unless --format)' }),
    domain: Flags.string({ description: 'whose samples to export', options: [...DOMAINS], default: 'target' }),
    format: Flags.string({ description: 'file format [default: from the file extension]', options: [...EXPORT_FORMATS] }),
    'max-history': Flags.integer({ description: 'most recent same-domain events per sample', default: 50, min: 0 }),
    'cross-history': Flags.integer({ description: 'most recent other-domain events per sample (0 = no cross columns)', default: 0, min: 0 }),
    split: Flags.string({ description: 'splits to export (repeatable) [default: all]', options: [...SPLITS], multiple: true }),
    gsu: Flags.file({ description: "a gsu.arrow of the target samples: join its items and scores (gsu_items, gsu_scores)", exists: true }),
    shard: shardFlag('only users with user_id mod n = i: one part file of a multi-file dataset (readers take the folder; no merge)'),
  };

  async run(): Promise<ExportResult> {
    const { args } = await this.parse(Export);
    const { flags } = this;
    if (args.file && flags.out) throw new UsageError('give the output file once: as FILE or as --out, not both');
    const out = args.file ?? flags.out;
    if (!out) throw new UsageError('missing output file: give FILE or --out FILE');
    this.claimStdout({ '--out': out });
    const options: ExportOptions = {
      data: flags.data,
      out,
      domain: flags.domain,
      format: flags.format,
      maxHistory: flags['max-history'],
      crossHistory: flags['cross-history'],
      splits: flags.split,
      gsu: flags.gsu,
      shard: flags.shard,
    };
    const result = exportSamples(options, this.progress());
    this.say(`${result.out}: ${result.rows} ${result.domain} samples, columns ${result.columns.join(',')}`);
    return result;
  }
}
