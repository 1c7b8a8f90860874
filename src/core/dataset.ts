/**
 * A prepared dataset folder (`--data DIR`): items, per-user event sequences stored once per domain, and
 * labelled samples per domain. A sample's history is sliced from the sequence store at read time.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { arrowRows, readArrow, readArrowBatches, type ArrowFile, type DictColumn, type ListColumn, type VectorColumn } from './arrow-io.js';
import { InputDataError, IoError } from './errors.js';
import { DOMAINS, ITEMS, SAMPLES, SEQUENCES, SPLITS, USERS, type Domain, type Split } from './schemas.js';

export const DATASET_FILES = {
  items: 'items.arrow',
  sequences: (d: Domain) => `sequences_${d}.arrow`,
  samples: (d: Domain) => `samples_${d}.arrow`,
  manifest: 'dataset.json',
  /** Imported data only: each user's own id (USERS). */
  users: 'users.arrow',
  /** Synthetic data only: planted topic/sub-topic per item, for diagnostics (no loader here reads it). */
  planted: 'planted.arrow',
} as const;

export const DOMAIN_CODE: Record<Domain, number> = { source: 0, target: 1 };
export const SPLIT_CODE: Record<Split, number> = { train: 0, valid: 1, test: 2 };

export interface Items {
  count: number;
  /** 0 = source, 1 = target (DOMAIN_CODE). */
  domain: Int8Array;
  title: string[];
  text: string[];
  /** Category code per item, −1 when unknown; null when the dataset has no categories. */
  category: Int32Array | null;
  categoryNames: string[];
  content: VectorColumn | null;
  sourceCount: Int32Array;
  targetCount: Int32Array;
  /** Each item's own id in the imported data; null for synthetic data. */
  key: string[] | null;
}

/** Per-user events of one domain in CSR form, time-ascending within each user. */
export class SequenceStore {
  constructor(
    readonly domain: Domain,
    /** row of each user id, −1 if the user has no events in this domain */
    readonly userRow: Int32Array,
    readonly offsets: Int32Array,
    readonly items: Int32Array,
    readonly ts: Float64Array,
  ) {}

  get numUsers(): number {
    return this.userRow.length;
  }

  /** [start, end) of the user's events; empty when the user has none. */
  range(user: number): [number, number] {
    const row = user < this.userRow.length ? this.userRow[user] : -1;
    if (row < 0) return [0, 0];
    return [this.offsets[row], this.offsets[row + 1]];
  }

  /**
   * [start, end) of the user's events strictly before `ts`, keeping the most recent `maxLen`
   * (end is found by binary search so no event at or after ts can leak in).
   */
  historyBefore(user: number, ts: number, maxLen: number): [number, number] {
    const [lo0, hi0] = this.range(user);
    let lo = lo0;
    let hi = hi0;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ts[mid] < ts) lo = mid + 1;
      else hi = mid;
    }
    const end = lo;
    return [Math.max(lo0, end - maxLen), end];
  }
}

export interface Samples {
  domain: Domain;
  count: number;
  userId: Int32Array;
  itemId: Int32Array;
  ts: Float64Array;
  label: Int8Array;
  /** 0 train, 1 valid, 2 test (SPLIT_CODE). */
  split: Int8Array;
  pTrue: Float32Array | null;
}

export interface Dataset {
  dir: string;
  manifest: DatasetManifest;
  items: Items;
  sequences: Record<Domain, SequenceStore>;
  samples: Record<Domain, Samples>;
}

export interface DatasetManifest {
  name: string;
  format: string;
  created_by: string;
  seed: number;
  counts: Record<string, number>;
  notes?: string[];
}

function mapDict(file: string, column: string, col: DictColumn, allowed: readonly string[]): Int8Array {
  const remap = col.values.map((v) => allowed.indexOf(v));
  const out = new Int8Array(col.codes.length);
  for (let i = 0; i < col.codes.length; i++) {
    const c = col.codes[i];
    const m = c < 0 ? -1 : remap[c];
    if (m < 0) throw new InputDataError(`value ${c < 0 ? 'null' : JSON.stringify(col.values[c])} not one of ${allowed.join('/')}`, file, column, i);
    out[i] = m;
  }
  return out;
}

export function loadItems(file: string): Items {
  const f = readArrow(file, ITEMS);
  const c = f.columns;
  const ids = c.item_id as Int32Array;
  for (let i = 0; i < ids.length; i++) if (ids[i] !== i) throw new InputDataError(`item_id ${ids[i]} must equal its row number (dense ids 0..N-1)`, file, 'item_id', i);
  const cat = c.category as DictColumn | undefined;
  return {
    count: f.numRows,
    domain: mapDict(file, 'domain', c.domain as DictColumn, DOMAINS),
    title: c.title as string[],
    text: c.text as string[],
    category: cat ? cat.codes : null,
    categoryNames: cat ? cat.values : [],
    content: (c.content as VectorColumn | undefined) ?? null,
    sourceCount: c.source_count as Int32Array,
    targetCount: c.target_count as Int32Array,
    key: (c.item_key as string[] | undefined) ?? null,
  };
}

/** users.arrow of a dataset folder: the users' own ids by dense user_id, or null when the data has none. */
export function loadUserKeys(dir: string): string[] | null {
  const file = path.join(dir, DATASET_FILES.users);
  if (!fs.existsSync(file)) return null;
  const f = readArrow(file, USERS);
  const ids = f.columns.user_id as Int32Array;
  for (let i = 0; i < ids.length; i++) if (ids[i] !== i) throw new InputDataError(`user_id ${ids[i]} must equal its row number (dense ids 0..U-1)`, file, 'user_id', i);
  return f.columns.user_key as string[];
}

/**
 * `maxUsers` bounds the dense user ids (a dataset's users are 0..U−1 and each appears in some table, so
 * U ≤ the tables' total rows; loadDataset passes that): a corrupt id like 2^30 would otherwise size the user
 * index at gigabytes.
 */
export function loadSequences(file: string, domain: Domain, numItems: number, maxUsers = Infinity): SequenceStore {
  return sequenceStore(file, readArrow(file, SEQUENCES), domain, numItems, maxUsers);
}

function sequenceStore(file: string, f: ArrowFile, domain: Domain, numItems: number, maxUsers: number): SequenceStore {
  const users = f.columns.user_id as Int32Array;
  const items = f.columns.items as ListColumn<Int32Array>;
  const ts = f.columns.ts as ListColumn<Float64Array>;
  let maxUser = -1;
  for (let r = 0; r < users.length; r++) {
    if (users[r] >= maxUsers) throw new InputDataError(`user_id ${users[r]} is not a dense id (the dataset has at most ${maxUsers} users)`, file, 'user_id', r);
    maxUser = Math.max(maxUser, users[r]);
  }
  const userRow = new Int32Array(maxUser + 1).fill(-1);
  for (let r = 0; r < users.length; r++) {
    if (userRow[users[r]] >= 0) throw new InputDataError(`duplicate user_id ${users[r]}`, file, 'user_id', r);
    userRow[users[r]] = r;
    checkSequenceRow(file, items, ts, r, 0, numItems);
  }
  return new SequenceStore(domain, userRow, items.offsets, items.values, ts.values);
}

/**
 * Row r of a sequences table (file row rowBase + r: a whole file, or one batch): its items and ts lists of one
 * length, item ids below numItems, times ascending. Without items (null), the times only.
 */
function checkSequenceRow(file: string, items: ListColumn<Int32Array> | null, ts: ListColumn<Float64Array>, r: number, rowBase: number, numItems: number): void {
  const a = ts.offsets[r];
  const b = ts.offsets[r + 1];
  if (items !== null && (items.offsets[r] !== a || items.offsets[r + 1] !== b)) throw new InputDataError('items and ts lists differ in length', file, 'ts', rowBase + r);
  for (let j = a; j < b; j++) {
    if (items !== null && items.values[j] >= numItems) throw new InputDataError(`item id ${items.values[j]} out of range (${numItems} items)`, file, 'items', rowBase + r);
    if (j > a && ts.values[j] < ts.values[j - 1]) throw new InputDataError('times not sorted ascending', file, 'ts', rowBase + r);
  }
}

export function loadSamples(file: string, domain: Domain, numItems: number): Samples {
  const f = readArrow(file, SAMPLES);
  const c = f.columns;
  const ids = c.sample_id as Int32Array;
  for (let i = 0; i < ids.length; i++) if (ids[i] !== i) throw new InputDataError(`sample_id ${ids[i]} must equal its row number`, file, 'sample_id', i);
  const itemId = c.item_id as Int32Array;
  for (let i = 0; i < itemId.length; i++) if (itemId[i] >= numItems) throw new InputDataError(`item id ${itemId[i]} out of range (${numItems} items)`, file, 'item_id', i);
  return {
    domain,
    count: f.numRows,
    userId: c.user_id as Int32Array,
    itemId,
    ts: c.ts as Float64Array,
    label: c.label as Int8Array,
    split: mapDict(file, 'split', c.split as DictColumn, SPLITS),
    pTrue: (c.p_true as Float32Array | undefined) ?? null,
  };
}

/** Load a prepared dataset folder, validating every file. */
/** Metadata keys that tie an output to the dataset it was computed from. */
export const DATASET_IDENTITY_KEYS = { fingerprint: 'dataset_fingerprint', items: 'items_fingerprint', dir: 'dataset_dir' } as const;

const fingerprints = new Map<string, string>();

/**
 * A prepared dataset's identity: SHA-256 (first 16 hex digits) of its manifest, items and samples files — what
 * decides which sample and item ids mean what. Two folders with the same content share it (a copy is the same
 * dataset); any change to items or samples changes it. Memoised per folder and file sizes/mtimes.
 */
export function datasetFingerprint(dir: string): string {
  const files = [DATASET_FILES.manifest, DATASET_FILES.items, ...DOMAINS.map((d) => DATASET_FILES.samples(d))].map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f));
  const key = files
    .map((f) => {
      const st = fs.statSync(f);
      return `${path.resolve(f)}:${st.size}:${st.mtimeMs}`;
    })
    .join('|');
  let fp = fingerprints.get(key);
  if (!fp) {
    const h = createHash('sha256');
    for (const f of files) h.update(path.basename(f)).update(fs.readFileSync(f));
    fp = h.digest('hex').slice(0, 16);
    fingerprints.set(key, fp);
  }
  return fp;
}

const itemFingerprints = new Map<string, string>();

/**
 * The item catalogue's identity (what each item id is: domain, title, text, content, own id), apart from the
 * samples and the training counts: per-item outputs (embeddings) stay valid for another dataset of the same items.
 */
export function itemsFingerprint(dataDir: string): string {
  const file = path.join(dataDir, DATASET_FILES.items);
  const st = fs.statSync(file);
  const key = `${path.resolve(file)}:${st.size}:${st.mtimeMs}`;
  let fp = itemFingerprints.get(key);
  if (!fp) {
    const items = loadItems(file);
    const h = createHash('sha256');
    h.update(Buffer.from(items.domain.buffer, items.domain.byteOffset, items.domain.byteLength));
    for (const list of [items.title, items.text, items.key ?? [], items.categoryNames]) h.update(JSON.stringify(list));
    if (items.category) h.update(Buffer.from(items.category.buffer, items.category.byteOffset, items.category.byteLength));
    if (items.content) h.update(Buffer.from(items.content.values.buffer, items.content.values.byteOffset, items.content.values.byteLength));
    fp = h.digest('hex').slice(0, 16);
    itemFingerprints.set(key, fp);
  }
  return fp;
}

/** Output metadata naming the dataset (fingerprints and folder), for `requireSameDataset` / `requireSameItems`. */
export function datasetIdentity(dataDir: string): Record<string, string> {
  return {
    [DATASET_IDENTITY_KEYS.fingerprint]: datasetFingerprint(dataDir),
    [DATASET_IDENTITY_KEYS.items]: itemsFingerprint(dataDir),
    [DATASET_IDENTITY_KEYS.dir]: path.resolve(dataDir),
  };
}

/**
 * Refuse a per-item input (embeddings) computed from another item catalogue than `--data`'s. Files that name
 * only their dataset are held to the dataset check; files without either pass.
 */
export function requireSameItems(file: string, metadata: Record<string, string>, dataDir: string): void {
  const fp = metadata[DATASET_IDENTITY_KEYS.items];
  if (fp === undefined) return requireSameDataset(file, metadata, dataDir);
  if (fp === itemsFingerprint(dataDir)) return;
  const from = metadata[DATASET_IDENTITY_KEYS.dir] ?? 'another dataset';
  throw new InputDataError(`computed from the items of ${from}, not those of --data ${path.resolve(dataDir)} (item catalogue fingerprints ${fp} ≠ ${itemsFingerprint(dataDir)})`, file);
}

/**
 * Refuse an input computed from another dataset than `--data` (ids would silently mean other items or samples).
 * Files written before fingerprints existed carry none and pass.
 */
export function requireSameDataset(file: string, metadata: Record<string, string>, dataDir: string): void {
  const fp = metadata[DATASET_IDENTITY_KEYS.fingerprint];
  if (fp === undefined || fp === datasetFingerprint(dataDir)) return;
  const from = metadata[DATASET_IDENTITY_KEYS.dir] ?? 'another dataset';
  throw new InputDataError(`computed from ${from}, not from --data ${path.resolve(dataDir)} (dataset fingerprints ${fp} ≠ ${datasetFingerprint(dataDir)})`, file);
}

/**
 * `sharedSequences`: the sequence arrays on SharedArrayBuffers where the file allows (worker threads read them in place).
 * `sequences`: the domains whose sequences are loaded (default both); another domain's store throws when used, and its
 * file is only counted (a target-domain model does not read the source sequences, 867 MB at the paper's shape).
 */
export function loadDataset(dir: string, opts: { sharedSequences?: boolean; sequences?: readonly Domain[] } = {}): Dataset {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new IoError(`${dir}: no such dataset folder (run \`gist prepare\` or \`gist synth\` first)`);
  const manifestPath = path.join(dir, DATASET_FILES.manifest);
  let manifest: DatasetManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as DatasetManifest;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new InputDataError(`missing ${DATASET_FILES.manifest}: not a prepared dataset folder`, dir);
    throw new InputDataError(`unreadable manifest (${e.message})`, manifestPath);
  }
  const items = loadItems(path.join(dir, DATASET_FILES.items));
  const sequences = {} as Record<Domain, SequenceStore>;
  const samples = {} as Record<Domain, Samples>;
  const seqFiles = {} as Record<Domain, ArrowFile>;
  const loaded = opts.sequences ?? DOMAINS;
  const seqRows = {} as Record<Domain, number>;
  for (const d of DOMAINS) {
    const file = path.join(dir, DATASET_FILES.sequences(d));
    if (loaded.includes(d)) seqFiles[d] = readArrow(file, SEQUENCES, { shared: opts.sharedSequences });
    seqRows[d] = loaded.includes(d) ? seqFiles[d].numRows : arrowRows(file, SEQUENCES);
    samples[d] = loadSamples(path.join(dir, DATASET_FILES.samples(d)), d, items.count);
  }
  // Dense user ids: every user appears in some table, so no id reaches the tables' total rows.
  const maxUsers = DOMAINS.reduce((n, d) => n + seqRows[d] + samples[d].count, 0);
  for (const d of DOMAINS) {
    const u = samples[d].userId;
    for (let i = 0; i < u.length; i++) {
      if (u[i] >= maxUsers) throw new InputDataError(`user_id ${u[i]} is not a dense id (the dataset has at most ${maxUsers} users)`, path.join(dir, DATASET_FILES.samples(d)), 'user_id', i);
    }
    sequences[d] = loaded.includes(d) ? sequenceStore(path.join(dir, DATASET_FILES.sequences(d)), seqFiles[d], d, items.count, maxUsers) : unloadedStore(d);
  }
  return { dir, manifest, items, sequences, samples };
}

/** Stands for the sequences of a domain loadDataset was told not to load: any use is a bug, and says so. */
function unloadedStore(domain: Domain): SequenceStore {
  return new Proxy({} as SequenceStore, {
    get: (_, key) => {
      throw new Error(`the ${domain} sequences were not loaded (loadDataset's sequences option); read: ${String(key)}`);
    },
  });
}

/**
 * The samples (those `keep` accepts) grouped by user, by counting: user u's are order[start[u] … start[u+1]), in sample
 * order; start has one entry per user id up to the largest kept one, plus one.
 */
export function samplesByUser(samples: Samples, keep: (s: number) => boolean = () => true): { start: Int32Array; order: Int32Array } {
  let users = 0;
  for (let s = 0; s < samples.count; s++) if (keep(s)) users = Math.max(users, samples.userId[s] + 1);
  const start = new Int32Array(users + 1);
  for (let s = 0; s < samples.count; s++) if (keep(s)) start[samples.userId[s] + 1]++;
  for (let u = 0; u < users; u++) start[u + 1] += start[u];
  const order = new Int32Array(start[users]);
  const fill = start.slice(0, users);
  for (let s = 0; s < samples.count; s++) if (keep(s)) order[fill[samples.userId[s]]++] = s;
  return { start, order };
}

/**
 * A sequences file read batch by batch (never whole: 867 MB of source sequences at the paper's shape): `visit(store, u)`
 * once for each user id below `users` with a row in the file, `store` holding that row's batch (read it through
 * `store.range(u)` / `historyBefore` inside the call only). Checked as loadDataset checks them: times ascending, each
 * user once, and where `numItems` is given (the items are read) item ids below it in lists as long as the times'
 * (checkSequenceRow, as loadDataset's).
 */
export function eachSequenceInFile(file: string, domain: Domain, users: number, numItems: number | null, visit: (store: SequenceStore, user: number) => void): void {
  const seen = new Uint8Array(users);
  const noItems = new Int32Array(0);
  const spec = numItems === null ? { ...SEQUENCES, columns: SEQUENCES.columns.filter((c) => c.name !== 'items') } : SEQUENCES;
  const userRow = new Int32Array(users).fill(-1); // this batch's rows of the users visited
  readArrowBatches(file, spec, (b) => {
    const ids = b.columns.user_id as Int32Array;
    const ts = b.columns.ts as ListColumn<Float64Array>;
    const items = numItems === null ? null : (b.columns.items as ListColumn<Int32Array>);
    for (let r = 0; r < b.length; r++) {
      checkSequenceRow(file, items, ts, r, b.rowStart, numItems ?? 0);
      const u = ids[r];
      if (u >= users) continue; // not asked for
      if (seen[u]) throw new InputDataError(`duplicate user_id ${u}`, file, 'user_id', b.rowStart + r);
      seen[u] = 1;
      userRow[u] = r;
    }
    const store = new SequenceStore(domain, userRow, ts.offsets, items?.values ?? noItems, ts.values);
    for (let r = 0; r < b.length; r++) if (ids[r] < users) visit(store, ids[r]);
    for (let r = 0; r < b.length; r++) if (ids[r] < users) userRow[ids[r]] = -1;
  });
}

/**
 * Per sample, the user's events in a sequences file strictly before the sample's time (`historyLengthsBefore` with no
 * cap, what search-gsu ranks), the file read batch by batch (user ids and times only) through eachSequenceInFile.
 */
export function eventsBeforeInFile(file: string, domain: Domain, samples: Samples): Int32Array {
  const out = new Int32Array(samples.count);
  const { start, order } = samplesByUser(samples);
  eachSequenceInFile(file, domain, start.length - 1, null, (store, u) => {
    for (let i = start[u]; i < start[u + 1]; i++) {
      const [lo, hi] = store.historyBefore(u, samples.ts[order[i]], Infinity);
      out[order[i]] = hi - lo;
    }
  });
  return out;
}

/** Indices of samples in a split (and optionally only positives). */
export function samplesInSplit(s: Samples, split: Split | readonly Split[], positivesOnly = false): Int32Array {
  const codes = new Set((typeof split === 'string' ? [split] : split).map((x) => SPLIT_CODE[x]));
  const out: number[] = [];
  for (let i = 0; i < s.count; i++) if (codes.has(s.split[i]) && (!positivesOnly || s.label[i] === 1)) out.push(i);
  return Int32Array.from(out);
}
