/**
 * Arrow files' big numeric columns read straight into their final typed arrays. `readFileSync` and then one copy
 * of every batch's values into a contiguous array paid each column's memory twice, and fresh memory is what a big
 * read costs on these VMs (~4 ms per MB): the paper-shaped run reads its 870 MB source sequences and 800 MB GSU
 * files in almost every step. Here each record batch's buffers land in their place by positioned reads, so a
 * column costs its own size once.
 *
 * Only for what this fast path can check completely: the Arrow file format, no compression, every requested column
 * a primitive or a list of primitives without nulls. Anything else — or anything that does not add up (a region
 * outside the body, offsets that go backwards) — returns null, and `readArrow` takes its full decoding path, which
 * also names the error.
 */
import * as fs from 'node:fs';
import { DataType, Schema, Type } from 'apache-arrow';
import { Footer } from 'apache-arrow/ipc/metadata/file';
import { Message } from 'apache-arrow/ipc/metadata/message';
import { hasMagicAt, IpcPreflight, kindMatches, MAGIC } from './arrow-preflight.js';
import { InputDataError } from './errors.js';
import { hugeArray } from './huge-pages.js';
import type { ColumnKind, TableSpec } from './schemas.js';

type Numeric = Int32Array | Int8Array | Float32Array | Float64Array;
type NumericCtor = (new (n: number) => Numeric) & { readonly BYTES_PER_ELEMENT: number };

const ELEMENT: Partial<Record<ColumnKind, { list: boolean; ctor: NumericCtor }>> = {
  int32: { list: false, ctor: Int32Array },
  int8: { list: false, ctor: Int8Array },
  float32: { list: false, ctor: Float32Array },
  float64: { list: false, ctor: Float64Array },
  list_int32: { list: true, ctor: Int32Array },
  list_float32: { list: true, ctor: Float32Array },
  list_float64: { list: true, ctor: Float64Array },
};

/** A requested column: where its nodes and buffers sit in each record batch (IPC order: depth-first by field). */
interface Slot {
  name: string;
  kind: ColumnKind;
  node: number;
  buffer: number;
}

/** The columns read directly, the row count and the schema (its types and metadata for the caller's checks). */
export interface DirectRead {
  schema: Schema;
  numRows: number;
  columns: Record<string, Numeric | { offsets: Int32Array; values: Numeric }>;
}

/** Field nodes and buffers one field takes in a record batch; null for a type this reader does not lay out. */
function layout(t: DataType): { nodes: number; buffers: number } | null {
  switch (t.typeId) {
    case Type.Int:
    case Type.Float:
    case Type.Bool:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Decimal:
    case Type.FixedSizeBinary:
    case Type.Interval:
    case Type.Duration:
    case Type.Dictionary: // the index array; the values come in dictionary batches
      return { nodes: 1, buffers: 2 };
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary:
      return { nodes: 1, buffers: 3 };
    case Type.List:
    case Type.FixedSizeList:
    case Type.Struct: {
      const own = t.typeId === Type.List ? { nodes: 1, buffers: 2 } : { nodes: 1, buffers: 1 };
      for (const c of t.children) {
        const inner = layout(c.type);
        if (!inner) return null;
        own.nodes += inner.nodes;
        own.buffers += inner.buffers;
      }
      return own;
    }
    default:
      return null;
  }
}

function readAt(fd: number, into: Uint8Array, position: number): boolean {
  let done = 0;
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done);
    if (n <= 0) return false;
    done += n;
  }
  return true;
}

/**
 * The requested columns of an Arrow file, or null when the fast path does not apply (see the module comment).
 * `shared`: the arrays on SharedArrayBuffers (for worker threads, without a copy).
 */
export function readArrowDirect(file: string, spec: TableSpec, shared = false): DirectRead | null {
  return withOpenFile(file, (fd) => {
    try {
      return readOpen(fd, spec, shared);
    } catch {
      return null; // whatever arrow-js could not decode, the full path reports properly
    }
  });
}

/** The row count from the file's footer and batch headers (the direct read's plan), or null where that does not apply. */
export function readArrowDirectRows(file: string, spec: TableSpec): number | null {
  return withOpenFile(file, (fd) => {
    try {
      return planRead(fd, spec)?.rows ?? null;
    } catch {
      return null;
    }
  });
}

/** `use` on the file opened for reading, closed afterwards; null when it cannot be opened (the full path says why). */
function withOpenFile<T>(file: string, use: (fd: number) => T | null): T | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    return use(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** One record batch of a batch-by-batch read: its requested columns in scratch arrays that the next batch reuses. */
export interface DirectBatch {
  /** The file's row number of the batch's first row. */
  rowStart: number;
  length: number;
  /** Plain columns, and lists with offsets from 0 into their values. */
  columns: DirectRead['columns'];
}

/**
 * The requested columns batch by batch: `onBatch` gets each record batch's values in scratch arrays that the next
 * batch refills (valid until it returns), so a file of gigabytes costs a batch of memory instead of its size — and
 * fresh memory, not the page cache, is what a big read costs on these VMs (~1.4–4 ms per MB). Returns the schema and
 * row count, or null, before any call of onBatch, where the direct read does not apply; what onBatch throws goes to
 * the caller.
 */
export function readArrowDirectBatches(file: string, spec: TableSpec, onBatch: (batch: DirectBatch) => void): { schema: Schema; numRows: number } | null {
  return withOpenFile(file, (fd) => {
    let plan: ReadPlan | null;
    try {
      plan = planRead(fd, spec);
    } catch {
      return null; // whatever arrow-js could not decode, the full path reports properly
    }
    if (!plan) return null;
    const scratch = new Map<string, Numeric>();
    const take = (key: string, ctor: NumericCtor, n: number): Numeric => {
      let a = scratch.get(key);
      if (!a || a.length < n) scratch.set(key, (a = new ctor(Math.max(n, 2 * (a?.length ?? 0)))));
      return a.subarray(0, n) as Numeric;
    };
    const fill = (part: Numeric, position: number): void => {
      if (part.length > 0 && !readAt(fd, new Uint8Array(part.buffer, part.byteOffset, part.byteLength), position)) throw new InputDataError('file shorter than its record batches (changed while read?)', file);
    };
    let rowStart = 0;
    for (const batch of plan.batches) {
      const columns: DirectRead['columns'] = {};
      for (const s of plan.slots) {
        const el = ELEMENT[s.kind]!;
        if (!el.list) {
          const part = take(s.name, el.ctor, batch.length);
          fill(part, batch.body + batch.regions[s.buffer + 1].offset);
          columns[s.name] = part;
          continue;
        }
        const offs = batch.offsets.get(s.name) as Int32Array;
        const start = offs[0];
        const offsets = take(`${s.name}/offsets`, Int32Array, batch.length + 1) as Int32Array;
        for (let i = 0; i <= batch.length; i++) offsets[i] = offs[i] - start;
        const values = take(s.name, el.ctor, offs[batch.length] - start);
        fill(values, batch.body + batch.regions[s.buffer + 3].offset + start * el.ctor.BYTES_PER_ELEMENT);
        columns[s.name] = { offsets, values };
      }
      onBatch({ rowStart, length: batch.length, columns });
      rowStart += batch.length;
    }
    return { schema: plan.schema, numRows: plan.rows };
  });
}

/** Pass 1 of a direct read: the schema, where the requested columns sit, and every batch's header and list offsets. */
interface ReadPlan {
  schema: Schema;
  slots: Slot[];
  batches: Batch[];
  rows: number;
  childTotals: Map<string, number>;
}

interface Batch {
  length: number;
  body: number;
  bodyLength: number;
  regions: { offset: number; length: number }[];
  offsets: Map<string, Int32Array>;
}

function readOpen(fd: number, spec: TableSpec, shared: boolean): DirectRead | null {
  const plan = planRead(fd, spec);
  if (!plan) return null;
  const { schema, slots, batches, rows, childTotals } = plan;
  // Pass 2: each batch's values into their place in the final arrays.
  const columns: DirectRead['columns'] = {};
  for (const s of slots) {
    const el = ELEMENT[s.kind]!;
    const bytesOf = (a: Numeric): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    if (!el.list) {
      const out = hugeArray(el.ctor, rows, shared);
      let at = 0;
      for (const batch of batches) {
        const part = out.subarray(at, at + batch.length) as Numeric;
        if (batch.length > 0 && !readAt(fd, bytesOf(part), batch.body + batch.regions[s.buffer + 1].offset)) return null;
        at += batch.length;
      }
      columns[s.name] = out;
      continue;
    }
    const offsets = hugeArray(Int32Array, rows + 1, shared);
    const values = hugeArray(el.ctor, childTotals.get(s.name) as number, shared);
    let row = 0;
    let acc = 0;
    for (const batch of batches) {
      const offs = batch.offsets.get(s.name) as Int32Array;
      const start = offs[0];
      const count = offs[batch.length] - start;
      for (let i = 0; i < batch.length; i++) offsets[row + i + 1] = acc + offs[i + 1] - start;
      const part = values.subarray(acc, acc + count) as Numeric;
      if (count > 0 && !readAt(fd, bytesOf(part), batch.body + batch.regions[s.buffer + 3].offset + start * el.ctor.BYTES_PER_ELEMENT)) return null;
      row += batch.length;
      acc += count;
    }
    columns[s.name] = { offsets, values };
  }
  return { schema, numRows: rows, columns };
}

function planRead(fd: number, spec: TableSpec): ReadPlan | null {
  const size = fs.fstatSync(fd).size;
  const head = Buffer.alloc(MAGIC.length);
  const tail = Buffer.alloc(4 + MAGIC.length); // footer length, closing magic
  if (size < 8 + tail.length || !readAt(fd, head, 0) || !hasMagicAt(head, 0) || !readAt(fd, tail, size - tail.length) || !hasMagicAt(tail, 4)) return null;
  const footerLength = tail.readInt32LE(0);
  const footerStart = size - tail.length - footerLength; // where the batches' bytes end
  if (!(footerLength > 0 && footerStart >= 8)) return null;
  const footerBytes = new Uint8Array(footerLength);
  if (!readAt(fd, footerBytes, footerStart)) return null;
  new IpcPreflight(footerBytes, 'footer').checkFooter(); // every vector arrow-js will materialise fits its bytes
  const footer = Footer.decode(footerBytes);
  const schema = footer.schema;

  // Where each requested column's nodes and buffers sit, from the schema's field order.
  const slots: Slot[] = [];
  let node = 0;
  let buffer = 0;
  const wanted = new Map(spec.columns.map((c) => [c.name, c]));
  for (const field of schema.fields) {
    const spot = layout(field.type);
    if (!spot) return null;
    const col = wanted.get(field.name);
    if (col) {
      const el = ELEMENT[col.kind];
      if (!el || !kindMatches(col.kind, field.type)) return null;
      slots.push({ name: col.name, kind: col.kind, node, buffer });
    }
    node += spot.nodes;
    buffer += spot.buffers;
  }
  if (spec.columns.some((c) => !c.optional && !slots.some((x) => x.name === c.name))) return null;
  const totalNodes = node;
  const totalBuffers = buffer;

  // Pass 1: every batch's header, its row count and (for lists) its offsets, which size the outputs.
  const batches: Batch[] = [];
  let rows = 0;
  const childTotals = new Map<string, number>(slots.map((s) => [s.name, 0]));
  for (let b = 0; b < footer.numRecordBatches; b++) {
    const block = footer.getRecordBatch(b);
    if (!block || !(block.offset >= 8 && block.metaDataLength >= 8 && block.offset + block.metaDataLength + block.bodyLength <= footerStart)) return null;
    const meta = new Uint8Array(block.metaDataLength);
    if (!readAt(fd, meta, block.offset)) return null;
    const view = new DataView(meta.buffer);
    const continued = view.getInt32(0, true) === -1;
    const fbLength = continued ? view.getInt32(4, true) : view.getInt32(0, true);
    const fbStart = continued ? 8 : 4;
    if (!(fbLength > 0 && fbStart + fbLength <= meta.length)) return null;
    const fb = meta.subarray(fbStart, fbStart + fbLength);
    new IpcPreflight(fb, 'message metadata').checkMessage();
    const message = Message.decode(fb);
    if (!message.isRecordBatch()) return null;
    const header = message.header();
    if (header.compression || header.nodes.length !== totalNodes || header.buffers.length !== totalBuffers) return null;
    const length = header.length;
    if (!(Number.isSafeInteger(length) && length >= 0)) return null;
    const batch: Batch = { length, body: block.offset + block.metaDataLength, bodyLength: block.bodyLength, regions: header.buffers, offsets: new Map() };
    const inBody = (r: { offset: number; length: number }, bytes: number): boolean => r.offset >= 0 && bytes <= r.length && r.offset + bytes <= batch.bodyLength;
    for (const s of slots) {
      const own = header.nodes[s.node];
      if (own.length !== length || own.nullCount !== 0) return null;
      const { list, ctor } = ELEMENT[s.kind]!;
      const width = ctor.BYTES_PER_ELEMENT;
      if (!list) {
        if (!inBody(batch.regions[s.buffer + 1], length * width)) return null;
        continue;
      }
      const child = header.nodes[s.node + 1];
      if (child.nullCount !== 0) return null;
      const offsRegion = batch.regions[s.buffer + 1];
      if (!inBody(offsRegion, (length + 1) * 4)) return null;
      const offs = new Int32Array(length + 1);
      if (!readAt(fd, new Uint8Array(offs.buffer), batch.body + offsRegion.offset)) return null;
      for (let i = 0; i < length; i++) if (offs[i + 1] < offs[i]) return null;
      if (offs[0] < 0 || offs[length] > child.length || !inBody(batch.regions[s.buffer + 3], offs[length] * width)) return null;
      batch.offsets.set(s.name, offs);
      childTotals.set(s.name, (childTotals.get(s.name) as number) + offs[length] - offs[0]);
    }
    rows += length;
    batches.push(batch);
  }
  if (rows > 2 ** 31 - 2 || [...childTotals.values()].some((n) => n > 2 ** 31 - 1)) return null;

  return { schema, slots, batches, rows, childTotals };
}
