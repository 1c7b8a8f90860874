/**
 * Writes a prepared dataset folder (the tables `loadDataset` reads): items.arrow, sequences_{source,target}.arrow,
 * samples_{source,target}.arrow, dataset.json and config.json, all through an OutputStage. `gist prepare` and
 * `gist synth` both end here, so every dataset is checked by the same invariants before it is written.
 */
import * as fs from 'node:fs';
import { AsyncByteQueue, DataType, Dictionary, Field, RecordBatch, RecordBatchFileWriter, Schema, tableFromIPC, type Vector } from 'apache-arrow';
import { encodeArrow, type ColumnData, type Columns, type DictColumn, type ListColumn, type OutputMeta, type VectorColumn } from './arrow-io.js';
import { DATASET_FILES, DOMAIN_CODE, type DatasetManifest, type Samples } from './dataset.js';
import { IoError } from './errors.js';
import { hugeArray } from './huge-pages.js';
import { outputMeta, type OutputStage } from './output.js';
import { DOMAINS, ITEMS, SAMPLES, SEQUENCES, SPLITS, USERS, type Domain, type Split, type TableSpec } from './schemas.js';

/** Item catalogue columns; row i is item i. */
export interface ItemsPart {
  /** 0 = source, 1 = target (DOMAIN_CODE). */
  domain: Int8Array;
  title: string[];
  text: string[];
  /** Category per item (code −1 = unknown); null when the dataset has no categories. */
  category: DictColumn | null;
  content: VectorColumn | null;
  /** Interactions counted on training data only. */
  sourceCount: Int32Array;
  targetCount: Int32Array;
  /** Each item's own id in the imported data (kept so results join back to the user's catalogue). */
  key?: string[];
}

/** One domain's event sequences in CSR form: row r is user userId[r] (strictly ascending), events time-ascending. */
export interface SequencesPart {
  userId: Int32Array;
  offsets: Int32Array;
  items: Int32Array;
  ts: Float64Array;
}

/** A sequence file already streamed into the stage by a SequenceFileWriter (very long source sequences). */
export interface WrittenSequences {
  written: true;
  userId: Int32Array;
  events: number;
  maxLen: number;
}

/** One domain's samples as the importers build them: the loader's Samples without domain and count. */
export type SamplesPart = Omit<Samples, 'domain' | 'count'>;

export interface DatasetParts {
  items: ItemsPart;
  /** Each dense user id's own id in the imported data. */
  userKeys?: string[];
  sequences: Record<Domain, SequencesPart | WrittenSequences>;
  samples: Record<Domain, SamplesPart>;
}

/** What a dataset is and how it was made (manifest fields and output metadata). */
export interface DatasetInfo {
  name: string;
  format: string;
  /** Command name stamped into every file's metadata, e.g. "prepare" or "synth". */
  command: string;
  seed: number;
  /** The resolved config, written as config.json and hashed into the metadata. */
  config: unknown;
  notes: string[];
}

export type SplitCounts = Record<Split, { samples: number; positives: number }>;

/** Counts reported by `--json` and stored (flattened) in dataset.json's `counts`. */
export interface DatasetSummary {
  items: { total: number; source: number; target: number; target_unseen_in_training: number };
  users: { total: number; source: number; target: number; overlapping: number; overlapping_by_split: Record<Split, number> };
  events: { source: number; target: number; max_source_len: number; max_target_len: number };
  samples: Record<Domain, SplitCounts>;
}

export function datasetMeta(info: DatasetInfo): OutputMeta {
  return outputMeta(info.command, info.seed, info.config, { dataset: info.name, format: info.format });
}

/** A typed array that grows by doubling, for tables of unknown size. */
class GrowableArray<T extends Int32Array | Float64Array> {
  data: T;
  length = 0;
  constructor(private readonly make: (n: number) => T) {
    this.data = make(1024);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = this.make(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  /** Appends every value of `values`. */
  pushAll(values: ArrayLike<number>): void {
    const need = this.length + values.length;
    if (need > this.data.length) {
      let size = this.data.length * 2;
      while (size < need) size *= 2;
      const next = this.make(size);
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    this.data.set(values, this.length);
    this.length = need;
  }
  toArray(): T {
    const out = this.make(this.length);
    out.set(this.data.subarray(0, this.length));
    return out;
  }
}

export class GrowableInt32 extends GrowableArray<Int32Array> {
  constructor() {
    super((n) => hugeArray(Int32Array, n));
  }
}

export class GrowableFloat64 extends GrowableArray<Float64Array> {
  constructor() {
    super((n) => hugeArray(Float64Array, n));
  }
}

function isWritten(s: SequencesPart | WrittenSequences): s is WrittenSequences {
  return (s as WrittenSequences).written === true;
}

/** Importer invariants (not user-input checks: importers validate their input with line numbers first). */
function checkSequences(domain: Domain, s: SequencesPart, items: ItemsPart): void {
  const code = DOMAIN_CODE[domain];
  if (s.offsets.length !== s.userId.length + 1 || s.offsets[s.userId.length] !== s.items.length || s.items.length !== s.ts.length) {
    throw new Error(`sequences_${domain}: inconsistent CSR arrays`);
  }
  for (let r = 0; r < s.userId.length; r++) {
    if (r > 0 && s.userId[r] <= s.userId[r - 1]) throw new Error(`sequences_${domain}: user ids not strictly ascending at row ${r}`);
    for (let j = s.offsets[r]; j < s.offsets[r + 1]; j++) {
      const it = s.items[j];
      if (!(it >= 0 && it < items.domain.length)) throw new Error(`sequences_${domain}: item ${it} out of range at row ${r}`);
      if (items.domain[it] !== code) throw new Error(`sequences_${domain}: item ${it} belongs to the other domain (row ${r})`);
      if (!Number.isFinite(s.ts[j]) || (j > s.offsets[r] && s.ts[j] < s.ts[j - 1])) throw new Error(`sequences_${domain}: times not ascending at row ${r}`);
    }
  }
}

function checkSamples(domain: Domain, s: SamplesPart, items: ItemsPart): void {
  const code = DOMAIN_CODE[domain];
  const n = s.userId.length;
  if (s.itemId.length !== n || s.ts.length !== n || s.label.length !== n || s.split.length !== n || (s.pTrue && s.pTrue.length !== n)) {
    throw new Error(`samples_${domain}: columns differ in length`);
  }
  for (let i = 0; i < n; i++) {
    const it = s.itemId[i];
    if (!(it >= 0 && it < items.domain.length) || items.domain[it] !== code) throw new Error(`samples_${domain}: item ${it} is not a ${domain} item (sample ${i})`);
    if (s.label[i] !== 0 && s.label[i] !== 1) throw new Error(`samples_${domain}: label ${s.label[i]} (sample ${i})`);
    if (s.split[i] < 0 || s.split[i] > 2) throw new Error(`samples_${domain}: split code ${s.split[i]} (sample ${i})`);
  }
}

function sequenceColumns(s: SequencesPart) {
  return { user_id: s.userId, items: { offsets: s.offsets, values: s.items }, ts: { offsets: s.offsets, values: s.ts } };
}

/**
 * An Arrow IPC file written batch by batch straight to disk: never more than one batch in memory. Every batch
 * is encoded by encodeArrow (the exact layout readers validate) and re-emitted into one file under one schema
 * whose dictionary ids are the column order (arrow-js otherwise numbers them from a process-wide counter, so
 * bytes would depend on what ran before); dictionary columns reuse the first batch's dictionary (the Arrow
 * file format allows no replacement dictionaries).
 */
export class ArrowFileStreamWriter {
  private readonly fd: number;
  private readonly writer: RecordBatchFileWriter;
  private schema: Schema | null = null;
  private dictionaries: (Vector | undefined)[] = [];

  constructor(
    readonly file: string,
    private readonly spec: TableSpec,
    private readonly meta: OutputMeta,
  ) {
    try {
      this.fd = fs.openSync(file, 'w');
    } catch (err) {
      throw new IoError(`${file}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const fd = this.fd;
    // A byte sink that writes straight to the file instead of queueing bytes in memory.
    class FileSink extends AsyncByteQueue {
      override write(value: Uint8Array): void {
        if (value.byteLength > 0) fs.writeSync(fd, value);
      }
    }
    this.writer = new RecordBatchFileWriter();
    this.writer.reset(new FileSink() as unknown as AsyncByteQueue);
  }

  /** Append rows (at most BATCH_ROWS of them, so encodeArrow makes a single batch and dictionary). */
  append(columns: Columns): void {
    const table = tableFromIPC(encodeArrow(this.spec, columns, this.meta));
    for (const batch of table.batches) {
      if (!this.schema) {
        let id = 0;
        const fields = batch.schema.fields.map((f) =>
          DataType.isDictionary(f.type) ? new Field(f.name, new Dictionary(f.type.dictionary, f.type.indices, id++, f.type.isOrdered), f.nullable, f.metadata) : f,
        );
        this.schema = new Schema(fields, batch.schema.metadata);
        this.dictionaries = batch.data.children.map((c) => c.dictionary);
      } else {
        batch.data.children.forEach((child, k) => {
          if (child.dictionary) child.dictionary = this.dictionaries[k];
        });
      }
      this.writer.write(new RecordBatch(this.schema, batch.data));
    }
  }

  /** Finish the file; with no rows appended, an empty table carrying the given (empty) columns' schema. */
  close(emptyColumns: Columns): void {
    try {
      if (!this.schema) this.append(emptyColumns);
      this.writer.finish();
    } finally {
      fs.closeSync(this.fd);
    }
  }

  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

/** Rows per written batch, and list values per batch (keeps every buffer far below arrow-js's 2 GB limit). */
const BATCH_ROWS = 262_144;
const BATCH_LIST_VALUES = 1 << 24;

function sliceColumn(data: ColumnData, a: number, b: number): ColumnData {
  if (Array.isArray(data)) return data.slice(a, b);
  if (ArrayBuffer.isView(data)) return data.subarray(a, b);
  if ('codes' in data) return { codes: data.codes.subarray(a, b), values: data.values };
  if ('offsets' in data) return { offsets: data.offsets.subarray(a, b + 1), values: data.values } as ColumnData;
  return { dim: data.dim, values: data.values.subarray(a * data.dim, b * data.dim) };
}

/** Write a whole table through an ArrowFileStreamWriter in bounded batches. */
export function writeTable(file: string, spec: TableSpec, columns: Columns, meta: OutputMeta): void {
  const names = Object.keys(columns);
  const first = columns[names[0]];
  const numRows = Array.isArray(first) || ArrayBuffer.isView(first) ? first.length : 'codes' in first ? first.codes.length : 'offsets' in first ? first.offsets.length - 1 : first.values.length / first.dim;
  const lists = names.map((n) => columns[n]).filter((c): c is ListColumn<Int32Array> => !Array.isArray(c) && !ArrayBuffer.isView(c) && 'offsets' in c);
  const out = new ArrowFileStreamWriter(file, spec, meta);
  try {
    for (let a = 0; a < numRows; ) {
      let b = Math.min(numRows, a + BATCH_ROWS);
      for (const l of lists) {
        while (b > a + 1 && l.offsets[b] - l.offsets[a] > BATCH_LIST_VALUES) b = a + Math.ceil((b - a) / 2);
      }
      const chunk: Columns = {};
      for (const n of names) chunk[n] = sliceColumn(columns[n], a, b);
      out.append(chunk);
      a = b;
    }
    out.close(columns);
  } catch (err) {
    out.abort();
    throw err;
  }
}

function emptySequences(): SequencesPart {
  return { userId: new Int32Array(0), offsets: new Int32Array(1), items: new Int32Array(0), ts: new Float64Array(0) };
}

/**
 * Streams one domain's sequences into a file chunk by chunk, so source sequences of 10^8 events never sit in
 * memory whole. Chunks must arrive in ascending user order.
 */
export class SequenceFileWriter {
  private readonly out: ArrowFileStreamWriter;
  private readonly users: number[] = [];
  private events = 0;
  private maxLen = 0;
  private lastUser = -1;

  constructor(
    file: string,
    private readonly domain: Domain,
    private readonly items: ItemsPart,
    meta: OutputMeta,
  ) {
    this.out = new ArrowFileStreamWriter(file, SEQUENCES, meta);
  }

  append(chunk: SequencesPart): void {
    if (chunk.userId.length === 0) return;
    checkSequences(this.domain, chunk, this.items);
    if (chunk.userId[0] <= this.lastUser) throw new Error(`sequences_${this.domain}: chunks out of user order`);
    this.lastUser = chunk.userId[chunk.userId.length - 1];
    this.out.append(sequenceColumns(chunk));
    for (let r = 0; r < chunk.userId.length; r++) {
      this.users.push(chunk.userId[r]);
      this.maxLen = Math.max(this.maxLen, chunk.offsets[r + 1] - chunk.offsets[r]);
    }
    this.events += chunk.items.length;
  }

  close(): WrittenSequences {
    this.out.close(sequenceColumns(emptySequences()));
    return { written: true, userId: Int32Array.from(this.users), events: this.events, maxLen: this.maxLen };
  }

  abort(): void {
    this.out.abort();
  }
}

function emptySplitCounts(): SplitCounts {
  return { train: { samples: 0, positives: 0 }, valid: { samples: 0, positives: 0 }, test: { samples: 0, positives: 0 } };
}

/** Counts of a dataset about to be written. */
export function summarizeDataset(parts: DatasetParts): DatasetSummary {
  const { items } = parts;
  const n = items.domain.length;
  let source = 0;
  let unseen = 0;
  for (let i = 0; i < n; i++) {
    if (items.domain[i] === DOMAIN_CODE.source) source++;
    else if (items.targetCount[i] === 0) unseen++;
  }
  let maxUser = -1;
  const usersOf: Record<Domain, Int32Array> = { source: new Int32Array(0), target: new Int32Array(0) };
  const events = { source: 0, target: 0, max_source_len: 0, max_target_len: 0 };
  for (const d of DOMAINS) {
    const s = parts.sequences[d];
    usersOf[d] = s.userId;
    let maxLen = 0;
    if (isWritten(s)) {
      events[d] = s.events;
      maxLen = s.maxLen;
    } else {
      events[d] = s.items.length;
      for (let r = 0; r < s.userId.length; r++) maxLen = Math.max(maxLen, s.offsets[r + 1] - s.offsets[r]);
    }
    events[d === 'source' ? 'max_source_len' : 'max_target_len'] = maxLen;
    for (const u of s.userId) maxUser = Math.max(maxUser, u);
    for (const u of parts.samples[d].userId) maxUser = Math.max(maxUser, u);
  }
  const numUsers = maxUser + 1;
  const has = new Uint8Array(numUsers); // bit 1 source events, bit 2 target events, bit 4 any sample
  for (const u of usersOf.source) has[u] |= 1;
  for (const u of usersOf.target) has[u] |= 2;
  const samples = { source: emptySplitCounts(), target: emptySplitCounts() };
  const userSplit = new Uint8Array(numUsers); // bit (1 << split) when the user has target samples in it
  for (const d of DOMAINS) {
    const s = parts.samples[d];
    for (let i = 0; i < s.userId.length; i++) {
      const c = samples[d][SPLITS[s.split[i]]];
      c.samples++;
      c.positives += s.label[i];
      has[s.userId[i]] |= 4;
      if (d === 'target') userSplit[s.userId[i]] |= 1 << s.split[i];
    }
  }
  let total = 0;
  let overlapping = 0;
  const overlappingBySplit: Record<Split, number> = { train: 0, valid: 0, test: 0 };
  for (let u = 0; u < numUsers; u++) {
    if (has[u]) total++;
    if ((has[u] & 3) === 3) {
      overlapping++;
      SPLITS.forEach((sp, k) => {
        if (userSplit[u] & (1 << k)) overlappingBySplit[sp]++;
      });
    }
  }
  return {
    items: { total: n, source, target: n - source, target_unseen_in_training: unseen },
    users: { total, source: usersOf.source.length, target: usersOf.target.length, overlapping, overlapping_by_split: overlappingBySplit },
    events,
    samples,
  };
}

/** dataset.json's flat `counts` (e.g. samples_target_test, positives_target_test, overlapping_users_valid). */
export function flattenSummary(s: DatasetSummary): Record<string, number> {
  const out: Record<string, number> = {
    items: s.items.total,
    items_source: s.items.source,
    items_target: s.items.target,
    target_items_unseen_in_training: s.items.target_unseen_in_training,
    users: s.users.total,
    users_source: s.users.source,
    users_target: s.users.target,
    overlapping_users: s.users.overlapping,
    events_source: s.events.source,
    events_target: s.events.target,
    max_source_len: s.events.max_source_len,
    max_target_len: s.events.max_target_len,
  };
  for (const sp of SPLITS) out[`overlapping_users_${sp}`] = s.users.overlapping_by_split[sp];
  for (const d of DOMAINS) {
    for (const sp of SPLITS) {
      out[`samples_${d}_${sp}`] = s.samples[d][sp].samples;
      out[`positives_${d}_${sp}`] = s.samples[d][sp].positives;
    }
  }
  return out;
}

/**
 * Write every table of a dataset into the stage (sequences given as WrittenSequences are already there),
 * then dataset.json and config.json. Returns the dataset's counts.
 */
export function writeDataset(stage: OutputStage, parts: DatasetParts, info: DatasetInfo): DatasetSummary {
  const { items } = parts;
  const n = items.domain.length;
  for (const [name, len] of [
    ['title', items.title.length],
    ['text', items.text.length],
    ['source_count', items.sourceCount.length],
    ['target_count', items.targetCount.length],
  ] as const) {
    if (len !== n) throw new Error(`items: column ${name} has ${len} rows, expected ${n}`);
  }
  for (const d of DOMAINS) {
    const s = parts.sequences[d];
    if (!isWritten(s)) checkSequences(d, s, items);
    checkSamples(d, parts.samples[d], items);
  }
  const meta = datasetMeta(info);
  const itemId = new Int32Array(n);
  for (let i = 0; i < n; i++) itemId[i] = i;
  writeTable(stage.file(DATASET_FILES.items), ITEMS, {
    item_id: itemId,
    domain: { codes: Int32Array.from(items.domain), values: [...DOMAINS] },
    title: items.title,
    text: items.text,
    ...(items.category ? { category: items.category } : {}),
    ...(items.content ? { content: items.content } : {}),
    source_count: items.sourceCount,
    target_count: items.targetCount,
    ...(items.key ? { item_key: items.key } : {}),
  }, meta);
  if (parts.userKeys) writeTable(stage.file(DATASET_FILES.users), USERS, { user_id: Int32Array.from(parts.userKeys, (_, i) => i), user_key: parts.userKeys }, meta);
  for (const d of DOMAINS) {
    const s = parts.sequences[d];
    if (!isWritten(s)) writeTable(stage.file(DATASET_FILES.sequences(d)), SEQUENCES, sequenceColumns(s), meta);
    const sm = parts.samples[d];
    const sampleId = new Int32Array(sm.userId.length);
    for (let i = 0; i < sampleId.length; i++) sampleId[i] = i;
    writeTable(stage.file(DATASET_FILES.samples(d)), SAMPLES, {
      sample_id: sampleId,
      user_id: sm.userId,
      item_id: sm.itemId,
      ts: sm.ts,
      label: sm.label,
      split: { codes: Int32Array.from(sm.split), values: [...SPLITS] },
      ...(sm.pTrue ? { p_true: sm.pTrue } : {}),
    }, meta);
  }
  const summary = summarizeDataset(parts);
  const manifest: DatasetManifest = {
    name: info.name,
    format: info.format,
    created_by: `gist ${info.command} ${meta.version}`,
    seed: info.seed,
    counts: flattenSummary(summary),
    notes: info.notes,
  };
  stage.writeJson(DATASET_FILES.manifest, manifest);
  stage.writeJson('config.json', info.config);
  return summary;
}

/** Names of the files a dataset folder holds (for command output). */
export function datasetFileNames(): string[] {
  return [DATASET_FILES.items, ...DOMAINS.map((d) => DATASET_FILES.sequences(d)), ...DOMAINS.map((d) => DATASET_FILES.samples(d)), DATASET_FILES.manifest, 'config.json'];
}
