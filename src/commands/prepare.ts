import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { outFlag } from '../cli/flags.js';
import { UsageError } from '../core/errors.js';
import { prepareDataset, PREPARE_FORMATS, type PrepareOptions, type PrepareResult } from '../core/prepare/index.js';
import { SPLITS } from '../core/schemas.js';

function share(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new UsageError(`--${name} must be a number, got "${v}"`);
  return x;
}

export default class Prepare extends BaseCommand<typeof Prepare> {
  static override summary = 'Import a dataset (Food-Kitchen, MovieLens, or your own TSV/CSV) into a prepared dataset folder.';
  static override description =
    'Writes items.arrow, sequences_{source,target}.arrow (each user\'s events once per domain), samples_{source,target}.arrow (labelled samples with train/valid/test splits) and dataset.json. Negatives are sampled by training-only popularity, never from the user\'s own items.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --format food-kitchen --input ../shared/datasets/food-kitchen --out work/fk/data',
    '<%= config.bin %> <%= command.id %> --format movielens --input ../shared/datasets/movielens-small --target-genres Animation,Children --out work/ml/data --json',
    '<%= config.bin %> <%= command.id %> --format tsv --input my-data --out work/mine/data --negatives 2',
  ];
  static override flags = {
    format: Flags.string({ char: 'f', description: 'input format', options: [...PREPARE_FORMATS], required: true }),
    input: Flags.directory({ char: 'i', description: 'input folder (food-kitchen: items.tsv + user files; movielens: movies.csv, ratings.csv, tags.csv; tsv: items.tsv|csv + events.tsv|csv)', required: true }),
    out: outFlag,
    negatives: Flags.integer({ description: 'sampled negatives per positive [default: 4]', min: 0 }),
    'target-genres': Flags.string({ description: 'movielens: comma-separated genres whose movies form the target domain [default: Animation,Children]' }),
    'valid-share': Flags.string({ description: 'movielens, tsv: share of each user\'s labelled events (by time, before the test ones) for valid [default: 0.1]' }),
    'test-share': Flags.string({ description: 'movielens, tsv: share of each user\'s latest labelled events for test [default: 0.1]' }),
    'source-valid-share': Flags.string({ description: 'food-kitchen: share of source users whose last Kitchen positive is source validation [default: 0.1]' }),
  };

  async run(): Promise<PrepareResult> {
    const { flags } = this;
    const options: PrepareOptions = {
      format: flags.format,
      input: flags.input,
      out: flags.out,
      seed: flags.seed,
      negatives: flags.negatives,
      targetGenres: flags['target-genres']?.split(',').map((g) => g.trim()).filter((g) => g !== ''),
      validShare: share('valid-share', flags['valid-share']),
      testShare: share('test-share', flags['test-share']),
      sourceValidShare: share('source-valid-share', flags['source-valid-share']),
    };
    const result = await prepareDataset(options, this.progress());
    const c = result.counts;
    this.say(`${result.out}: ${c.items.total} items (${c.items.source} source, ${c.items.target} target), ${c.users.total} users (${c.users.overlapping} in both domains)`);
    this.say(`  events: ${c.events.source} source, ${c.events.target} target`);
    for (const d of ['target', 'source'] as const) {
      this.say(`  ${d} samples: ${SPLITS.map((s) => `${s} ${c.samples[d][s].samples} (${c.samples[d][s].positives} positive)`).join(', ')}`);
    }
    for (const note of result.notes) this.say(`  note: ${note}`);
    return result;
  }
}
