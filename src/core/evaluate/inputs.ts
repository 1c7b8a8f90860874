/** Inputs of `gist evaluate`: named run files, predictions of one split, training curves, GSU scores, pairs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readArrow, type DictColumn, type ListColumn, type VectorColumn } from '../arrow-io.js';
import { InputDataError, IoError, UsageError } from '../errors.js';
import { aliasedColumn, forEachTableRow } from '../prepare/delimited.js';
import { EMBEDDINGS, GSU, MAX_ITEM_ID, PAIRS, PREDICTIONS } from '../schemas.js';

/** A run named on the command line: `NAME=path` or a plain path (name = its parent folder's name). */
export interface NamedPath {
  name: string;
  file: string;
}

/**
 * Parse `NAME=path` or `path`. A plain path is named after its parent folder (`work/ctr-gist/predictions.arrow`
 * → `ctr-gist`); a folder stands for `folder/<defaultFile>` and is named after the folder itself.
 */
export function parseNamedPath(spec: string, defaultFile: string, flag: string): NamedPath {
  const eq = spec.indexOf('=');
  let name = '';
  let file = spec;
  // A '=' before the first path separator separates a name (paths may contain '=' further on).
  if (eq > 0 && !spec.slice(0, eq).includes('/') && !spec.slice(0, eq).includes(path.sep)) {
    name = spec.slice(0, eq);
    file = spec.slice(eq + 1);
  }
  if (!file) throw new UsageError(`${flag} "${spec}": missing path after "="`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
    if (!name) name = path.basename(path.resolve(file));
    file = path.join(file, defaultFile);
  }
  if (!name) name = path.basename(path.dirname(path.resolve(file)));
  return { name, file };
}

/** Parse several specs; two runs with the same name are a usage error. */
export function parseNamedPaths(specs: readonly string[], defaultFile: string, flag: string): NamedPath[] {
  const out = specs.map((s) => parseNamedPath(s, defaultFile, flag));
  const seen = new Set<string>();
  for (const r of out) {
    if (seen.has(r.name)) throw new UsageError(`${flag}: two inputs are named "${r.name}"; name them explicitly as NAME=path`);
    seen.add(r.name);
  }
  return out;
}

/** One run's predictions restricted to a split. */
export interface SplitPredictions {
  userId: Int32Array;
  itemId: Int32Array;
  label: Int8Array;
  score: Float32Array;
  /** gist's own predictions: each row's sample id (what pairs two runs' rows); other tools' files have none. */
  sampleId: Int32Array | null;
  /** Arrow metadata of gist's own predictions (dataset identity); other tools' files have none. */
  metadata: Record<string, string>;
}

function gather<T extends Int32Array | Int8Array | Float32Array>(src: T, rows: Int32Array): T {
  const out = new (src.constructor as new (n: number) => T)(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = src[rows[i]];
  return out;
}

/** Read predictions.arrow and keep the rows of `split`; no rows in that split is an input error. */
/** Column names accepted in predictions made by other tools (first match wins; other columns are ignored). */
const EXTERNAL_COLUMNS = { user: ['user_id', 'user'], item: ['item_id', 'item'], label: ['label'], score: ['score'], split: ['split'] } as const;

/**
 * Predictions made by another tool (a FuxiCTR or pandas model), as .csv, .tsv or .parquet: columns user, item,
 * label, score (user_id / item_id also accepted, e.g. as `gist export` wrote them) and optionally split. Users may
 * be any strings; items are gist's item ids (as exported), or the data's own ids when --data kept them and the file
 * has no item_id column, so popularity groups apply; score is a probability.
 * Without a split column every row is taken as the requested split.
 */
export function loadExternalPredictions(file: string, split: string, itemKeys: string[] | null = null): SplitPredictions {
  // `item` holds the data's own item ids when --data kept them (and no item_id column says otherwise).
  const itemOfKey = itemKeys ? new Map(itemKeys.map((k, i) => [k, i])) : null;
  let byKey = false;
  if (!fs.existsSync(file)) throw new IoError(`${file}: no such file`);
  let col: Record<keyof typeof EXTERNAL_COLUMNS, number> | null = null;
  const userIndex = new Map<string, number>();
  const users: number[] = [];
  const items: number[] = [];
  const labels: number[] = [];
  const scores: number[] = [];
  const splits = new Set<string>();
  forEachTableRow(file, (f, line) => {
    if (!col) {
      const names = f.map((n) => n.trim().toLowerCase());
      const find = (k: keyof typeof EXTERNAL_COLUMNS): number => aliasedColumn(names, k, EXTERNAL_COLUMNS[k], file, k !== 'split');
      col = { user: find('user'), item: find('item'), label: find('label'), score: find('score'), split: find('split') };
      byKey = itemOfKey !== null && !names.includes('item_id');
      return;
    }
    const c = col;
    if (c.split >= 0) {
      const s = (f[c.split] ?? '').trim();
      splits.add(s);
      if (s !== split) return;
    }
    const user = (f[c.user] ?? '').trim();
    if (user === '') throw new InputDataError('empty user', file, EXTERNAL_COLUMNS.user[0], line);
    let u = userIndex.get(user);
    if (u === undefined) userIndex.set(user, (u = userIndex.size));
    const item = byKey ? (itemOfKey!.get((f[c.item] ?? '').trim()) ?? -1) : Number(f[c.item]);
    if (byKey && item < 0) throw new InputDataError(`item "${f[c.item]}" is not an item of --data (its own item ids)`, file, 'item', line);
    if (!Number.isInteger(item) || item < 0 || item > MAX_ITEM_ID) throw new InputDataError(`item "${f[c.item]}" is not a gist item id (a non-negative integer, as \`gist export\` writes)`, file, 'item', line);
    const label = Number(f[c.label]);
    if (label !== 0 && label !== 1) throw new InputDataError(`label "${f[c.label]}" is not 0 or 1`, file, 'label', line);
    const score = Number(f[c.score]);
    if (!Number.isFinite(score) || score < 0 || score > 1) throw new InputDataError(`score "${f[c.score]}" is not a probability in [0, 1]`, file, 'score', line);
    users.push(u);
    items.push(item);
    labels.push(label);
    scores.push(score);
  });
  if (!col) throw new InputDataError('empty file (expected a header and rows)', file);
  if (users.length === 0) {
    const hasSplit = (col as { split: number }).split >= 0;
    throw new InputDataError(hasSplit ? `no rows with split "${split}" (splits present: ${[...splits].join(', ') || 'none'}); choose another with --split` : 'no rows', file, hasSplit ? 'split' : undefined);
  }
  return { userId: Int32Array.from(users), itemId: Int32Array.from(items), label: Int8Array.from(labels), score: Float32Array.from(scores), sampleId: null, metadata: {} };
}

/** Whether a predictions path is another tool's file (CSV, TSV, Parquet) rather than gist's predictions.arrow. */
export function isExternalPredictions(file: string): boolean {
  return /\.(csv|tsv|parquet)$/i.test(file);
}

/** `itemKeys`: the --data's own item ids, for other tools' files that name items by them. */
export function loadPredictions(file: string, split: string, itemKeys: string[] | null = null): SplitPredictions {
  if (isExternalPredictions(file)) return loadExternalPredictions(file, split, itemKeys);
  const f = readArrow(file, PREDICTIONS);
  const c = f.columns;
  const splitCol = c.split as DictColumn;
  const code = splitCol.values.indexOf(split);
  const rows: number[] = [];
  if (code >= 0) for (let i = 0; i < splitCol.codes.length; i++) if (splitCol.codes[i] === code) rows.push(i);
  if (rows.length === 0) {
    const present = splitCol.values.length ? splitCol.values.join(', ') : 'none';
    throw new InputDataError(`no rows with split "${split}" (splits present: ${present}); choose another with --split`, file, 'split');
  }
  const idx = Int32Array.from(rows);
  return {
    userId: gather(c.user_id as Int32Array, idx),
    itemId: gather(c.item_id as Int32Array, idx),
    label: gather(c.label as Int8Array, idx),
    score: gather(c.score as Float32Array, idx),
    sampleId: gather(c.sample_id as Int32Array, idx),
    metadata: f.metadata,
  };
}

/** A training curve: x (epoch or step) and the values logged at it. */
export interface Curve {
  x: number[];
  loss: number[];
  /** CTR trainer only: validation AUC per epoch (NaN where not logged). */
  validAuc: number[];
  xLabel: 'epoch' | 'step';
  file: string;
}

function finiteOrNaN(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

/**
 * Read a training curve if the file exists: `{ epochs: [{epoch, loss, valid_auc}] }` (CTR trainer) or
 * `{ steps: [{step, loss}] }` (embedding trainers). Returns null when absent; a warning string when unreadable.
 */
export function readCurve(file: string): Curve | string | null {
  if (!fs.existsSync(file)) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return `${file}: unreadable training curve (${(err as Error).message}); not plotted`;
  }
  const obj = (doc ?? {}) as { epochs?: unknown; steps?: unknown };
  const rows = Array.isArray(obj.epochs) ? obj.epochs : Array.isArray(obj.steps) ? obj.steps : null;
  if (!rows) return `${file}: expected { epochs: [...] } or { steps: [...] }; not plotted`;
  const xLabel = Array.isArray(obj.epochs) ? 'epoch' : 'step';
  const curve: Curve = { x: [], loss: [], validAuc: [], xLabel, file };
  rows.forEach((r: unknown, i: number) => {
    const row = (r ?? {}) as Record<string, unknown>;
    const x = finiteOrNaN(row[xLabel]);
    curve.x.push(Number.isNaN(x) ? i + 1 : x);
    curve.loss.push(finiteOrNaN(row.loss));
    curve.validAuc.push(finiteOrNaN(row.valid_auc));
  });
  return curve;
}

/** Item vectors placed by item id (row i = item i) and which ids have one. */
export interface LoadedEmbeddings {
  vectors: VectorColumn;
  has: Uint8Array;
  count: number;
}

/** Read an EMBEDDINGS file into a dense by-id matrix; `numItems` (from --data) bounds the ids when known. */
export function loadEmbeddings(file: string, numItems?: number): LoadedEmbeddings {
  const f = readArrow(file, EMBEDDINGS);
  const ids = f.columns.item_id as Int32Array;
  const vec = f.columns.vector as VectorColumn;
  let maxId = -1;
  for (let i = 0; i < ids.length; i++) {
    if (numItems !== undefined && ids[i] >= numItems) throw new InputDataError(`item id ${ids[i]} out of range (${numItems} items in --data)`, file, 'item_id', i);
    maxId = Math.max(maxId, ids[i]);
  }
  const rows = Math.max(maxId + 1, numItems ?? 0);
  const values = new Float32Array(rows * vec.dim);
  const has = new Uint8Array(rows);
  for (let i = 0; i < ids.length; i++) {
    if (has[ids[i]]) throw new InputDataError(`duplicate item_id ${ids[i]}`, file, 'item_id', i);
    has[ids[i]] = 1;
    values.set(vec.values.subarray(i * vec.dim, (i + 1) * vec.dim), ids[i] * vec.dim);
  }
  return { vectors: { dim: vec.dim, values }, has, count: ids.length };
}

/** Pairs used as Recall@K truth: valid/test pairs when the file has a split column, else all of them. */
export interface LoadedPairs {
  target: Int32Array;
  related: Int32Array;
  truth: 'valid+test' | 'all';
  /** Truth pairs left out because (t, r) or (r, t) is also a training pair (`trainPairKeys`). */
  droppedOverlap: number;
  /** Held-out rows before that filter (0: the file has no valid/test pairs, so Recall@K is n/a). */
  heldOut: number;
}

/** One key for {a, b} in either orientation (item ids ≤ MAX_ITEM_ID = 2^25 − 1, so keys stay below 2^50). */
export function unorderedPairKey(a: number, b: number): number {
  return a < b ? a * (MAX_ITEM_ID + 1) + b : b * (MAX_ITEM_ID + 1) + a;
}

/** The columns of a PAIRS file that say which pair a row is and which split produced it. */
export interface PairColumns {
  target: Int32Array;
  related: Int32Array;
  split?: DictColumn;
}

/** Read a PAIRS file's pair and split columns. */
export function readPairColumns(file: string): PairColumns {
  const f = readArrow(file, PAIRS);
  return { target: f.columns.target_item as Int32Array, related: f.columns.related_item as Int32Array, split: f.columns.split as DictColumn | undefined };
}

/** Add the rows a union trains on: split "train" with a split column, every row without one (as readTrainPairs). */
function addTrainPairs(keys: Set<number>, p: PairColumns): void {
  const trainCode = p.split ? p.split.values.indexOf('train') : -1;
  for (let r = 0; r < p.target.length; r++) if (!p.split || p.split.codes[r] === trainCode) keys.add(unorderedPairKey(p.target[r], p.related[r]));
}

/**
 * Unordered keys of every training pair: the train-split rows of the truth file itself (`truth`, read from
 * `truthFile`; none without a split column — then all its rows are truth) and of each `trainFiles` entry (all
 * rows when it has no split column). Held-out pairs that are also training pairs reward memorisation, so
 * Recall@K truth leaves them out.
 */
export function trainPairKeys(truth: PairColumns, truthFile: string, trainFiles: readonly string[] = []): Set<number> {
  const keys = new Set<number>();
  if (truth.split) addTrainPairs(keys, truth);
  const self = path.resolve(truthFile);
  for (const f of new Set(trainFiles.map((x) => path.resolve(x)))) if (f !== self) addTrainPairs(keys, readPairColumns(f));
  return keys;
}

/**
 * Recall@K truth from a PAIRS file: valid/test rows (all rows without a split column), less every pair that
 * also occurs, in either orientation, among the training pairs (`trainPairKeys`).
 */
export function loadTruthPairs(file: string, trainFiles: readonly string[] = []): LoadedPairs {
  const cols = readPairColumns(file);
  const { target, related, split } = cols;
  let heldOut: (r: number) => boolean = () => true;
  if (split) {
    const keep = new Set(['valid', 'test'].map((s) => split.values.indexOf(s)).filter((c) => c >= 0));
    heldOut = (r) => keep.has(split.codes[r]);
  }
  const train = trainPairKeys(cols, file, trainFiles);
  const rows: number[] = [];
  let heldOutRows = 0;
  for (let r = 0; r < target.length; r++) {
    if (!heldOut(r)) continue;
    heldOutRows++;
    if (!train.has(unorderedPairKey(target[r], related[r]))) rows.push(r);
  }
  return {
    target: Int32Array.from(rows, (r) => target[r]),
    related: Int32Array.from(rows, (r) => related[r]),
    truth: split ? 'valid+test' : 'all',
    droppedOverlap: heldOutRows - rows.length,
    heldOut: heldOutRows,
  };
}

/** Fail early with an IoError naming the flag when an input path is missing. */
export function requireFile(file: string, flag: string): void {
  if (!fs.existsSync(file)) throw new IoError(`${file}: no such file (${flag})`);
}
