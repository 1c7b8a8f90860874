/** `gist prepare`: import a public dataset (or generic TSV/CSV) into a prepared dataset folder. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requireRange, resolveConfig } from '../config.js';
import { datasetFileNames, writeDataset, type DatasetParts, type DatasetSummary } from '../dataset-writer.js';
import { IoError, UsageError } from '../errors.js';
import { noProgress, OutputStage, type OnProgress } from '../output.js';
import { makeRng } from '../rng.js';
import { DEFAULT_FOOD_KITCHEN_CONFIG, importFoodKitchen, type FoodKitchenConfig } from './food-kitchen.js';
import { DEFAULT_MOVIELENS_CONFIG, importMovieLens, type MovieLensConfig } from './movielens.js';
import { DEFAULT_TSV_CONFIG, importTsv, type TsvConfig } from './tsv.js';

export const PREPARE_FORMATS = ['food-kitchen', 'movielens', 'tsv'] as const;
export type PrepareFormat = (typeof PREPARE_FORMATS)[number];

export interface PrepareOptions {
  format: string;
  /** Input folder. */
  input: string;
  /** Output dataset folder. */
  out: string;
  seed: number;
  /** Sampled negatives per positive (all formats). */
  negatives?: number;
  /** movielens: genres that make a movie a target item. */
  targetGenres?: string[];
  /** movielens, tsv: share of each user's labelled events (by time) for valid / test. */
  validShare?: number;
  testShare?: number;
  /** food-kitchen: share of source users whose last Kitchen positive is held out as source validation. */
  sourceValidShare?: number;
}

export interface PrepareResult {
  out: string;
  format: PrepareFormat;
  seed: number;
  files: string[];
  counts: DatasetSummary;
  notes: string[];
}

type FormatConfig = FoodKitchenConfig | MovieLensConfig | TsvConfig;

function onlyFor(format: PrepareFormat, allowed: readonly PrepareFormat[], flag: string, value: unknown): void {
  if (value !== undefined && !allowed.includes(format)) throw new UsageError(`${flag} applies to --format ${allowed.join(' or ')}, not ${format}`);
}

/** The format's resolved config from the options (flags that do not apply to the format are usage errors). */
export function resolvePrepareConfig(opts: PrepareOptions): { format: PrepareFormat; config: FormatConfig } {
  if (!(PREPARE_FORMATS as readonly string[]).includes(opts.format)) throw new UsageError(`unknown --format "${opts.format}" (known: ${PREPARE_FORMATS.join(', ')})`);
  const format = opts.format as PrepareFormat;
  onlyFor(format, ['movielens'], '--target-genres', opts.targetGenres);
  onlyFor(format, ['movielens', 'tsv'], '--valid-share', opts.validShare);
  onlyFor(format, ['movielens', 'tsv'], '--test-share', opts.testShare);
  onlyFor(format, ['food-kitchen'], '--source-valid-share', opts.sourceValidShare);
  if (opts.negatives !== undefined) requireRange('--negatives', opts.negatives, 0, 1000);
  if (opts.validShare !== undefined) requireRange('--valid-share', opts.validShare, 0, 1, false, true);
  if (opts.testShare !== undefined) requireRange('--test-share', opts.testShare, 0, 1, false, true);
  if (opts.sourceValidShare !== undefined) requireRange('--source-valid-share', opts.sourceValidShare, 0, 1);
  if ((opts.validShare ?? 0.1) + (opts.testShare ?? 0.1) >= 1) throw new UsageError('--valid-share + --test-share must be below 1');
  if (opts.negatives !== undefined && !Number.isInteger(opts.negatives)) throw new UsageError(`--negatives must be an integer, got ${opts.negatives}`);
  if (opts.targetGenres !== undefined && opts.targetGenres.length === 0) throw new UsageError('--target-genres needs at least one genre');
  const where = `prepare --format ${format}`;
  switch (format) {
    case 'food-kitchen':
      return { format, config: resolveConfig(DEFAULT_FOOD_KITCHEN_CONFIG, { negatives: opts.negatives, sourceValidShare: opts.sourceValidShare }, where) };
    case 'movielens':
      return { format, config: resolveConfig(DEFAULT_MOVIELENS_CONFIG, { negatives: opts.negatives, targetGenres: opts.targetGenres, validShare: opts.validShare, testShare: opts.testShare }, where) };
    case 'tsv':
      return { format, config: resolveConfig(DEFAULT_TSV_CONFIG, { negatives: opts.negatives, validShare: opts.validShare, testShare: opts.testShare }, where) };
  }
}

export async function prepareDataset(opts: PrepareOptions, onProgress: OnProgress = noProgress): Promise<PrepareResult> {
  const { format, config } = resolvePrepareConfig(opts);
  let st: fs.Stats;
  try {
    st = fs.statSync(opts.input);
  } catch (err) {
    throw new IoError(`${opts.input}: cannot read input folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!st.isDirectory()) throw new IoError(`${opts.input}: not a folder (--input takes the dataset's folder)`);
  const rng = makeRng(opts.seed);
  onProgress({ phase: 'prepare', done: 0, total: 2, info: `reading ${format}` });
  let imported: { parts: DatasetParts; notes: string[] };
  switch (format) {
    case 'food-kitchen':
      imported = importFoodKitchen(opts.input, config as FoodKitchenConfig, rng);
      break;
    case 'movielens':
      imported = importMovieLens(opts.input, config as MovieLensConfig, rng);
      break;
    case 'tsv':
      imported = importTsv(opts.input, config as TsvConfig, rng);
      break;
  }
  onProgress({ phase: 'prepare', done: 1, total: 2, info: 'writing' });
  const resolved = { format, ...config };
  const counts = await OutputStage.run(opts.out, [opts.input], (stage) =>
    writeDataset(stage, imported.parts, { name: path.basename(path.resolve(opts.input)), format, command: 'prepare', seed: opts.seed, config: resolved, notes: imported.notes }),
  );
  onProgress({ phase: 'prepare', done: 2, total: 2 });
  return { out: path.resolve(opts.out), format, seed: opts.seed, files: datasetFileNames(), counts, notes: imported.notes };
}
