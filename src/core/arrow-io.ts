/** Arrow IPC files in and out: typed columns, schema validation with typed errors, metadata, atomic writes. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Data,
  DataType,
  Dictionary,
  Field,
  Float32,
  Float64,
  FixedSizeList,
  Int8,
  Int32,
  List,
  RecordBatch,
  RecordBatchReader,
  Schema,
  Struct,
  Table,
  Type,
  Utf8,
  Vector,
  makeData,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import { readArrowDirect, readArrowDirectBatches, readArrowDirectRows } from './arrow-direct.js';
import { hasMagicAt, kindMatches, MAGIC, preflightFile, preflightStream } from './arrow-preflight.js';
import { InputDataError, IoError } from './errors.js';
import type { ColumnKind, ColumnSpec, TableSpec } from './schemas.js';

/** A list column in CSR form: element i is values[offsets[i]..offsets[i+1]). */
export interface ListColumn<T extends Int32Array | Float32Array | Float64Array> {
  offsets: Int32Array;
  values: T;
}
/** A dictionary column: codes index into values; code −1 is null. */
export interface DictColumn {
  codes: Int32Array;
  values: string[];
}
/** Dense vectors, row-major [rows × dim]. */
export interface VectorColumn {
  dim: number;
  values: Float32Array;
}

export type ColumnData =
  | Int32Array
  | Int8Array
  | Float32Array
  | Float64Array
  | string[]
  | DictColumn
  | ListColumn<Int32Array>
  | ListColumn<Float32Array>
  | ListColumn<Float64Array>
  | VectorColumn;

export type Columns = Record<string, ColumnData>;

/** Metadata every gist output carries. */
export interface OutputMeta {
  command: string;
  version: string;
  seed: number;
  config_hash: string;
  [key: string]: string | number;
}

export interface ArrowFile {
  columns: Columns;
  numRows: number;
  metadata: Record<string, string>;
}

/** `dictId` fixes dictionary ids (arrow-js would take them from a process-wide counter, breaking byte-identical output). */
function arrowType(col: ColumnSpec, data: ColumnData, dictId = 0): DataType {
  switch (col.kind) {
    case 'int32':
      return new Int32();
    case 'int8':
      return new Int8();
    case 'float32':
      return new Float32();
    case 'float64':
      return new Float64();
    case 'utf8':
      return new Utf8();
    case 'dict8':
      return new Dictionary(new Utf8(), new Int8(), dictId);
    case 'dict32':
      return new Dictionary(new Utf8(), new Int32(), dictId);
    case 'list_int32':
      return new List(new Field('item', new Int32(), false));
    case 'list_float32':
      return new List(new Field('item', new Float32(), false));
    case 'list_float64':
      return new List(new Field('item', new Float64(), false));
    case 'fsl_float32':
      return new FixedSizeList((data as VectorColumn).dim, new Field('item', new Float32(), false));
  }
}

function lengthOf(kind: ColumnKind, data: ColumnData): number {
  if (kind.startsWith('list_')) return (data as ListColumn<Int32Array>).offsets.length - 1;
  if (kind === 'fsl_float32') {
    const v = data as VectorColumn;
    return v.dim === 0 ? 0 : v.values.length / v.dim;
  }
  if (kind === 'dict8' || kind === 'dict32') return (data as DictColumn).codes.length;
  return (data as { length: number }).length;
}

function nullBitmapFromCodes(codes: Int32Array): { bitmap: Uint8Array | undefined; nulls: number } {
  let nulls = 0;
  for (let i = 0; i < codes.length; i++) if (codes[i] < 0) nulls++;
  if (nulls === 0) return { bitmap: undefined, nulls };
  const bitmap = new Uint8Array(Math.ceil(codes.length / 8));
  for (let i = 0; i < codes.length; i++) if (codes[i] >= 0) bitmap[i >> 3] |= 1 << (i & 7);
  return { bitmap, nulls };
}

function makeColumnData(col: ColumnSpec, type: DataType, data: ColumnData, start: number, end: number, dictionaries: Map<string, Vector>): Data {
  const length = end - start;
  switch (col.kind) {
    case 'int32':
    case 'int8':
    case 'float32':
    case 'float64':
      return makeData({ type, length, data: (data as Int32Array).subarray(start, end) } as never);
    case 'utf8':
      return vectorFromArray((data as string[]).slice(start, end), new Utf8()).data[0];
    case 'dict8':
    case 'dict32': {
      const d = data as DictColumn;
      const codes = d.codes.subarray(start, end);
      const { bitmap, nulls } = nullBitmapFromCodes(codes);
      const typed = col.kind === 'dict8' ? Int8Array.from(codes, (c) => Math.max(c, 0)) : Int32Array.from(codes, (c) => Math.max(c, 0));
      // One dictionary per column shared by every batch: the file format allows no replacement dictionaries.
      let dictionary = dictionaries.get(col.name);
      if (!dictionary) dictionaries.set(col.name, (dictionary = vectorFromArray(d.values, new Utf8())));
      return makeData({ type, length, nullCount: nulls, nullBitmap: bitmap, data: typed, dictionary } as never);
    }
    case 'list_int32':
    case 'list_float32':
    case 'list_float64': {
      const l = data as ListColumn<Int32Array>;
      const base = l.offsets[start];
      const offsets = new Int32Array(length + 1);
      for (let i = 0; i <= length; i++) offsets[i] = l.offsets[start + i] - base;
      const childType = (type as List).children[0].type;
      const child = makeData({ type: childType, length: offsets[length], data: l.values.subarray(base, base + offsets[length]) } as never);
      return makeData({ type, length, valueOffsets: offsets, child } as never);
    }
    case 'fsl_float32': {
      const v = data as VectorColumn;
      const childType = (type as FixedSizeList).children[0].type;
      const child = makeData({ type: childType, length: length * v.dim, data: v.values.subarray(start * v.dim, end * v.dim) } as never);
      return makeData({ type, length, child } as never);
    }
  }
}

/** Rows per record batch: keeps every buffer far below arrow-js's 2 GB limit. */
const BATCH_ROWS = 262_144;

/** Build an in-memory Arrow file (file format) from typed columns, validated against the spec's column set. */
export function encodeArrow(spec: TableSpec, columns: Columns, meta: Record<string, string | number>): Uint8Array {
  const present = spec.columns.filter((c) => columns[c.name] !== undefined);
  for (const c of spec.columns) if (!c.optional && columns[c.name] === undefined) throw new Error(`encodeArrow(${spec.name}): missing column ${c.name}`);
  for (const k of Object.keys(columns)) if (!spec.columns.some((c) => c.name === k)) throw new Error(`encodeArrow(${spec.name}): unknown column ${k}`);
  const numRows = present.length ? lengthOf(present[0].kind, columns[present[0].name]) : 0;
  for (const c of present) {
    const n = lengthOf(c.kind, columns[c.name]);
    if (n !== numRows) throw new Error(`encodeArrow(${spec.name}): column ${c.name} has ${n} rows, expected ${numRows}`);
  }
  const types = present.map((c, i) => arrowType(c, columns[c.name], i));
  const fields = present.map((c, i) => new Field(c.name, types[i], c.nullable ?? false));
  const metadata = new Map<string, string>([['gist.table', spec.name]]);
  for (const [k, v] of Object.entries(meta)) metadata.set(k, String(v));
  const schema = new Schema(fields, metadata);
  const batches: RecordBatch[] = [];
  const dictionaries = new Map<string, Vector>();
  for (let start = 0; start < numRows || (start === 0 && batches.length === 0); start += BATCH_ROWS) {
    const end = Math.min(numRows, start + BATCH_ROWS);
    const children = present.map((c, i) => makeColumnData(c, types[i], columns[c.name], start, end, dictionaries));
    const structData = makeData({ type: new Struct(fields), length: end - start, children, nullCount: 0 });
    batches.push(new RecordBatch(schema, structData));
    if (numRows === 0) break;
  }
  return tableToIPC(new Table(schema, batches), 'file');
}

/** Bytes written by writeFileAtomic in this process (for the GIST_TEST_FAIL_WRITE_AFTER_BYTES test hook). */
let bytesWrittenAtomically = 0;

/**
 * Test hook: with GIST_TEST_FAIL_WRITE_AFTER_BYTES=N in the environment, the write that would take this
 * process past N bytes stops there and fails with ENOSPC, as a full disk does (test/bad-inputs uses it).
 */
function writeWithTestLimit(tmp: string, bytes: Uint8Array | string): void {
  const limit = process.env.GIST_TEST_FAIL_WRITE_AFTER_BYTES;
  if (limit === undefined || limit === '') return fs.writeFileSync(tmp, bytes);
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const room = Math.max(0, Number(limit) - bytesWrittenAtomically);
  fs.writeFileSync(tmp, data.subarray(0, Math.min(room, data.byteLength)));
  bytesWrittenAtomically += Math.min(room, data.byteLength);
  if (data.byteLength > room) throw Object.assign(new Error('no space left on device (GIST_TEST_FAIL_WRITE_AFTER_BYTES)'), { code: 'ENOSPC' });
}

/** Write bytes to a temp name beside the target, then rename: readers never see a partial file. */
export function writeFileAtomic(file: string, bytes: Uint8Array | string): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}`);
  try {
    writeWithTestLimit(tmp, bytes);
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* nothing left to clean */
    }
    const e = err as NodeJS.ErrnoException;
    throw new IoError(`${file}: cannot write (${e.code ?? e.message})`);
  }
}

export function writeArrow(file: string, spec: TableSpec, columns: Columns, meta: Record<string, string | number>): void {
  writeFileAtomic(file, encodeArrow(spec, columns, meta));
}

const KIND_OF_TYPE: Partial<Record<Type, ColumnKind>> = {};

function describeType(t: DataType): string {
  return String(t);
}

void KIND_OF_TYPE;

function sliceValues<T extends Int32Array | Int8Array | Float32Array | Float64Array>(d: Data, width = 1): T {
  const v = d.values as T;
  return v.subarray(d.offset * width, (d.offset + d.length) * width) as T;
}

function isValid(d: Data, i: number): boolean {
  if (!d.nullBitmap || d.nullCount === 0) return true;
  const j = d.offset + i;
  return (d.nullBitmap[j >> 3] & (1 << (j & 7))) !== 0;
}

function concatTyped<T extends Int32Array | Int8Array | Float32Array | Float64Array>(parts: T[], ctor: new (n: number) => T): T {
  if (parts.length === 1) return parts[0];
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new ctor(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function extractColumn(file: string, col: ColumnSpec, chunks: readonly Data[]): ColumnData {
  const nullsNotAllowed = (d: Data, base: number): void => {
    if (!col.nullable && d.nullCount > 0) {
      for (let i = 0; i < d.length; i++) if (!isValid(d, i)) throw new InputDataError('null value', file, col.name, base + i);
    }
  };
  let base = 0;
  switch (col.kind) {
    case 'int32':
    case 'int8':
    case 'float32':
    case 'float64': {
      const ctor = { int32: Int32Array, int8: Int8Array, float32: Float32Array, float64: Float64Array }[col.kind];
      const parts = chunks.map((d) => {
        nullsNotAllowed(d, base);
        base += d.length;
        return sliceValues(d);
      });
      return concatTyped(parts as Int32Array[], ctor as unknown as new (n: number) => Int32Array);
    }
    case 'utf8': {
      const out: string[] = [];
      const dec = new TextDecoder();
      for (const d of chunks) {
        nullsNotAllowed(d, base);
        const offs = d.valueOffsets as Int32Array;
        const bytes = d.values as Uint8Array;
        for (let i = 0; i < d.length; i++) {
          const j = d.offset + i;
          out.push(isValid(d, i) ? dec.decode(bytes.subarray(offs[j], offs[j + 1])) : '');
        }
        base += d.length;
      }
      return out;
    }
    case 'dict8':
    case 'dict32': {
      // Dictionaries can differ between batches: remap every batch's codes onto one merged value list.
      const values: string[] = [];
      const index = new Map<string, number>();
      const total = chunks.reduce((s, d) => s + d.length, 0);
      const codes = new Int32Array(total);
      let o = 0;
      for (const d of chunks) {
        nullsNotAllowed(d, base);
        const dictVec = d.dictionary;
        const local: number[] = [];
        if (dictVec) {
          for (let k = 0; k < dictVec.length; k++) {
            const s = String(dictVec.get(k));
            let id = index.get(s);
            if (id === undefined) {
              id = values.length;
              values.push(s);
              index.set(s, id);
            }
            local.push(id);
          }
        }
        const raw = d.values as Int8Array | Int32Array;
        for (let i = 0; i < d.length; i++) {
          if (!isValid(d, i)) codes[o++] = -1;
          else {
            const c = raw[d.offset + i];
            if (c < 0 || c >= local.length) throw new InputDataError(`dictionary code ${c} out of range`, file, col.name, base + i);
            codes[o++] = local[c];
          }
        }
        base += d.length;
      }
      return { codes, values };
    }
    case 'list_int32':
    case 'list_float32':
    case 'list_float64': {
      const ctor = { list_int32: Int32Array, list_float32: Float32Array, list_float64: Float64Array }[col.kind];
      const total = chunks.reduce((s, d) => s + d.length, 0);
      const offsets = new Int32Array(total + 1);
      const parts: Int32Array[] = [];
      let row = 0;
      let acc = 0;
      for (const d of chunks) {
        nullsNotAllowed(d, base);
        const offs = d.valueOffsets as Int32Array;
        const child = d.children[0];
        const start = offs[d.offset];
        const end = offs[d.offset + d.length];
        for (let i = 0; i < d.length; i++) offsets[row + i + 1] = acc + offs[d.offset + i + 1] - start;
        const childVals = child.values as Int32Array;
        if (end > childVals.length - child.offset) throw new InputDataError('list offsets beyond its values', file, col.name, base);
        parts.push(childVals.subarray(child.offset + start, child.offset + end));
        acc += end - start;
        row += d.length;
        base += d.length;
      }
      return { offsets, values: concatTyped(parts, ctor as unknown as new (n: number) => Int32Array) } as ListColumn<Int32Array>;
    }
    case 'fsl_float32': {
      const dim = (chunks[0]?.type as FixedSizeList | undefined)?.listSize ?? 0;
      const parts: Float32Array[] = [];
      for (const d of chunks) {
        nullsNotAllowed(d, base);
        const child = d.children[0];
        const vals = child.values as Float32Array;
        const s = child.offset + d.offset * dim;
        parts.push(vals.subarray(s, s + d.length * dim));
        base += d.length;
      }
      return { dim, values: concatTyped(parts, Float32Array) };
    }
  }
}

/** Every value of a column within its spec's range (rowBase: the file's row number of data's first row, for the error). */
function checkValues(file: string, col: ColumnSpec, data: ColumnData, rowBase = 0): void {
  let vals: ArrayLike<number> | undefined;
  let rowOf = (i: number): number => i;
  if (data instanceof Int32Array || data instanceof Int8Array || data instanceof Float32Array || data instanceof Float64Array) vals = data;
  else if ('offsets' in data) {
    vals = data.values;
    const offs = data.offsets;
    rowOf = (i: number): number => {
      let lo = 0;
      let hi = offs.length - 2;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (offs[mid] <= i) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    };
  } else if ('dim' in data) {
    vals = data.values;
    const dim = data.dim;
    rowOf = (i: number): number => Math.floor(i / dim);
  }
  if (!vals) return;
  const lo = col.min ?? -Infinity;
  const hi = col.max ?? Infinity;
  const finite = col.finite ?? false;
  const bad = firstOutside(vals as NumericArray, lo, hi, finite);
  if (bad < 0) return;
  const x = vals[bad];
  if (finite && !Number.isFinite(x)) throw new InputDataError(`non-finite value ${x}`, file, col.name, rowBase + rowOf(bad));
  throw new InputDataError(`value ${x} outside [${lo}, ${hi}]`, file, col.name, rowBase + rowOf(bad));
}

type NumericArray = Int32Array | Int8Array | Float32Array | Float64Array;

/**
 * Index of the first value outside [lo, hi] (or, with `finite`, not finite), −1 when none. One comparison pair
 * per value in a small function of its own: 20M values in ~40 ms, where the general loop took ~1 s.
 */
function firstOutside(vals: NumericArray, lo: number, hi: number, finite: boolean): number {
  const n = vals.length;
  if (finite) {
    // NaN fails both comparisons and ±Infinity lies outside ±MAX_VALUE: one test catches all three
    const l = Math.max(lo, -Number.MAX_VALUE);
    const h = Math.min(hi, Number.MAX_VALUE);
    for (let i = 0; i < n; i++) {
      const x = vals[i];
      if (!(x >= l && x <= h)) return i;
    }
    return -1;
  }
  if (lo === -Infinity && hi === Infinity) return -1;
  for (let i = 0; i < n; i++) {
    const x = vals[i];
    if (x < lo || x > hi) return i;
  }
  return -1;
}

/**
 * Decode Arrow IPC bytes (file or stream format) after the preflight. File-format batches are read one by one
 * through the footer (each must be a record batch): arrow-js's own iteration loops forever on a footer block that
 * points at a schema or dictionary message. Every column of a batch must have the batch's row count.
 */
function decodeIpc(bytes: Uint8Array, file: string): Table {
  const sameLengths = (table: Table): Table => {
    for (const b of table.batches) {
      for (const c of b.data.children) if (c.length !== b.numRows) throw new Error(`a column holds ${c.length} rows in a batch of ${b.numRows}`);
    }
    return table;
  };
  try {
    if (!hasMagicAt(bytes, 0)) {
      preflightStream(bytes, 0, bytes.length);
      const table = tableFromIPC(bytes);
      // Force every batch to be decoded now so truncation surfaces here as a typed error.
      void table.numRows;
      for (const b of table.batches) void b.numRows;
      return sameLengths(table);
    }
    if (bytes.length < 8 + MAGIC.length || !hasMagicAt(bytes, bytes.length - MAGIC.length)) {
      throw new InputDataError('truncated Arrow file (closing ARROW1 magic missing)', file);
    }
    preflightFile(bytes);
    const reader = RecordBatchReader.from(bytes);
    if (!reader.isFile() || !reader.isSync()) throw new Error('not an Arrow file');
    reader.open();
    const n = reader.numRecordBatches;
    // Every batch takes at least one 8-byte message header: more than that is a corrupt footer.
    if (!(Number.isSafeInteger(n) && n >= 0 && n <= bytes.length / 8)) throw new Error(`footer lists ${n} record batches`);
    const batches: RecordBatch[] = [];
    for (let i = 0; i < n; i++) {
      const batch = reader.readRecordBatch(i);
      if (!batch) throw new Error(`record batch ${i} of ${n} missing`);
      batches.push(batch);
    }
    if (!reader.schema) throw new Error('no schema');
    return sameLengths(new Table(reader.schema, batches));
  } catch (err) {
    if (err instanceof InputDataError) throw err;
    throw new InputDataError(`not a readable Arrow IPC file (${(err as Error).message.split('\n')[0]})`, file);
  }
}

/**
 * Check that a decoded column's buffers are as long as its declared length says (recursively), so a corrupt
 * length or offset in the file becomes an InputDataError instead of reads past the buffers or a loop over
 * billions of rows.
 */
function checkData(file: string, column: string, d: Data, depth = 0): void {
  const bad = (what: string): never => {
    throw new InputDataError(`corrupt column data (${what})`, file, column);
  };
  if (depth > 4) bad('nesting too deep');
  const end = d.offset + d.length;
  if (!(Number.isSafeInteger(d.length) && d.length >= 0 && Number.isSafeInteger(d.offset) && d.offset >= 0)) bad(`length ${d.length}`);
  if (d.nullBitmap && d.nullBitmap.length > 0 && d.nullBitmap.length * 8 < end) bad('validity bitmap shorter than the column');
  const t = d.type;
  switch (t.typeId) {
    case Type.Int:
    case Type.Float:
      if (!d.values || d.values.length < end) bad(`values buffer holds ${d.values?.length ?? 0} of ${end} values`);
      break;
    case Type.Utf8: {
      const offs = d.valueOffsets as Int32Array | undefined;
      const bytes = d.values as Uint8Array | undefined;
      if (!offs || offs.length < end + 1 || !bytes) bad('offsets buffer shorter than the column');
      for (let i = d.offset; i < end; i++) if (offs![i] < 0 || offs![i + 1] < offs![i] || offs![i + 1] > bytes!.length) bad(`string offsets out of order or beyond the data at row ${i - d.offset}`);
      break;
    }
    case Type.Dictionary: {
      if (!d.values || d.values.length < end) bad('dictionary codes buffer shorter than the column');
      if (d.dictionary) for (const c of d.dictionary.data) checkData(file, column, c, depth + 1);
      break;
    }
    case Type.List: {
      const offs = d.valueOffsets as Int32Array | undefined;
      const child = d.children[0];
      if (!offs || offs.length < end + 1 || !child) bad('list offsets buffer shorter than the column');
      for (let i = d.offset; i < end; i++) if (offs![i] < 0 || offs![i + 1] < offs![i] || offs![i + 1] > child.length) bad(`list offsets out of order or beyond the values at row ${i - d.offset}`);
      checkData(file, column, child, depth + 1);
      break;
    }
    case Type.FixedSizeList: {
      const child = d.children[0];
      const size = (t as FixedSizeList).listSize;
      if (!child || !(size >= 0) || child.length < end * size) bad('vector values shorter than rows × dimension');
      checkData(file, column, child, depth + 1);
      break;
    }
    default:
      break;
  }
}

/** The bytes of an input file; IoError when it is missing, a folder or unreadable, InputDataError when empty. */
function readInputBytes(file: string): Buffer {
  let bytes: Buffer;
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) throw new IoError(`${file}: is a directory, expected an Arrow file`);
    bytes = fs.readFileSync(file);
  } catch (err) {
    if (err instanceof IoError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new IoError(`${file}: cannot read (${e.code ?? e.message})`);
  }
  if (bytes.length === 0) throw new InputDataError('empty file, expected Arrow IPC', file);
  return bytes;
}

/**
 * Read and validate an Arrow IPC file (file or stream format) against a spec: numeric and list columns straight into
 * their arrays where `readArrowDirect` can (the same result, half the fresh memory), the full decoding otherwise.
 * `shared` asks for numeric and list columns on SharedArrayBuffers where the direct read applies (a hint: the full
 * decoding returns ordinary arrays).
 */
export function readArrow(file: string, spec: TableSpec, opts: { shared?: boolean } = {}): ArrowFile {
  const direct = readArrowDirect(file, spec, opts.shared ?? false);
  if (!direct) return readArrowDecoded(file, spec);
  const columns = direct.columns as Columns;
  for (const col of spec.columns) if (col.name in columns) checkValues(file, col, columns[col.name]);
  const metadata: Record<string, string> = {};
  for (const [k, v] of direct.schema.metadata) metadata[k] = v;
  return { columns, numRows: direct.numRows, metadata };
}

/** One batch of `readArrowBatches`: rows [rowStart, rowStart + length) of the file, columns validated as readArrow's. */
export interface ArrowBatch {
  rowStart: number;
  length: number;
  columns: Columns;
}

/**
 * `readArrow` batch by batch, for files read once from end to end (evaluate's GSU files: 800 MB each at the paper's
 * shape): each record batch's columns, checked as readArrow checks them, in arrays the next batch reuses — so copy
 * what must outlive the call. Where the direct read does not apply, the whole file through readArrow, as one batch.
 * `checked`: the caller read these columns through readArrowBatches before (a second pass): their values are not
 * checked again.
 */
export function readArrowBatches(file: string, spec: TableSpec, onBatch: (batch: ArrowBatch) => void, opts: { checked?: boolean } = {}): { numRows: number; metadata: Record<string, string> } {
  const direct = readArrowDirectBatches(file, spec, (b) => {
    const columns = b.columns as Columns;
    if (!opts.checked) for (const col of spec.columns) if (col.name in columns) checkValues(file, col, columns[col.name], b.rowStart);
    onBatch({ rowStart: b.rowStart, length: b.length, columns });
  });
  if (direct) {
    const metadata: Record<string, string> = {};
    for (const [k, v] of direct.schema.metadata) metadata[k] = v;
    return { numRows: direct.numRows, metadata };
  }
  const whole = readArrow(file, spec);
  onBatch({ rowStart: 0, length: whole.numRows, columns: whole.columns });
  return { numRows: whole.numRows, metadata: whole.metadata };
}

/** Rows of an Arrow file: from its footer and batch headers where the direct read applies, else by reading it whole. */
export function arrowRows(file: string, spec: TableSpec): number {
  return readArrowDirectRows(file, spec) ?? readArrow(file, spec).numRows;
}

/** `readArrow` through arrow-js's decoding of the whole file (every format and type; it names what is wrong). */
export function readArrowDecoded(file: string, spec: TableSpec): ArrowFile {
  const bytes = readInputBytes(file);
  const table = decodeIpc(bytes, file);
  if (table.schema.fields.length === 0 && bytes.length > 0) throw new InputDataError('not a readable Arrow IPC file (no schema)', file);
  const columns: Columns = {};
  for (const col of spec.columns) {
    const field = table.schema.fields.find((f) => f.name === col.name);
    if (!field) {
      if (col.optional) continue;
      throw new InputDataError(`missing column (expected ${spec.name} table)`, file, col.name);
    }
    let data: ColumnData;
    try {
      // Schema and batches come from the file: a malformed type (a list without its child, an odd index width)
      // throws inside arrow-js, which is the file's fault, not ours.
      if (!kindMatches(col.kind, field.type)) throw new InputDataError(`wrong type ${describeType(field.type)}, expected ${col.kind}`, file, col.name);
      const vec = table.getChild(col.name);
      if (!vec) throw new InputDataError('missing column data', file, col.name);
      for (const d of vec.data) checkData(file, col.name, d);
      data = extractColumn(file, col, vec.data);
    } catch (err) {
      if (err instanceof InputDataError) throw err;
      throw new InputDataError(`corrupt column data (${(err as Error).message})`, file, col.name);
    }
    checkValues(file, col, data);
    columns[col.name] = data;
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of table.schema.metadata) metadata[k] = v;
  return { columns, numRows: table.numRows, metadata };
}

/** Schema, row count and metadata of any Arrow file, for `gist info`. */
export function describeArrow(file: string): { file: string; rows: number; batches: number; columns: { name: string; type: string; nullable: boolean }[]; metadata: Record<string, string> } {
  const bytes = readInputBytes(file);
  const table = decodeIpc(bytes, file);
  if (table.schema.fields.length === 0) throw new InputDataError('not a readable Arrow IPC file (no schema)', file);
  const metadata: Record<string, string> = {};
  for (const [k, v] of table.schema.metadata) metadata[k] = v;
  let columns: { name: string; type: string; nullable: boolean }[];
  try {
    columns = table.schema.fields.map((f) => ({ name: f.name, type: describeType(f.type), nullable: f.nullable }));
  } catch (err) {
    throw new InputDataError(`not a readable Arrow IPC file (malformed schema: ${(err as Error).message})`, file);
  }
  return { file, rows: table.numRows, batches: table.batches.length, columns, metadata };
}
