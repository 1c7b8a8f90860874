/**
 * Checks both Arrow readers (the full decoding in arrow-io.ts, the direct column reader in arrow-direct.ts) apply:
 * the structure of IPC bytes before arrow-js decodes them (a corrupt length must be an error, not an out-of-memory
 * crash or a hang), and which Arrow types a spec column's kind accepts.
 */
import { Type, type DataType, type Dictionary, type FixedSizeList, type Float32, type Float64, type Int8, type Int32, type List } from 'apache-arrow';
import type { ColumnKind } from './schemas.js';

/** Whether an Arrow type is what a spec column of `kind` holds. */
export function kindMatches(kind: ColumnKind, t: DataType): boolean {
  switch (kind) {
    case 'int32':
      return t.typeId === Type.Int && (t as Int32).bitWidth === 32 && (t as Int32).isSigned;
    case 'int8':
      return t.typeId === Type.Int && (t as Int8).bitWidth === 8 && (t as Int8).isSigned;
    case 'float32':
      return t.typeId === Type.Float && (t as Float32).precision === 1;
    case 'float64':
      return t.typeId === Type.Float && (t as Float64).precision === 2;
    case 'utf8':
      return t.typeId === Type.Utf8;
    case 'dict8':
    case 'dict32':
      return t.typeId === Type.Dictionary && (t as Dictionary).dictionary.typeId === Type.Utf8;
    case 'list_int32':
      return t.typeId === Type.List && kindMatches('int32', (t as List).children[0].type);
    case 'list_float32':
      return t.typeId === Type.List && kindMatches('float32', (t as List).children[0].type);
    case 'list_float64':
      return t.typeId === Type.List && kindMatches('float64', (t as List).children[0].type);
    case 'fsl_float32':
      return t.typeId === Type.FixedSizeList && kindMatches('float32', (t as FixedSizeList).children[0].type);
  }
}

export const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"

export function hasMagicAt(bytes: Uint8Array, at: number): boolean {
  if (at < 0 || at + MAGIC.length > bytes.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[at + i] !== MAGIC[i]) return false;
  return true;
}

/**
 * Structural preflight of IPC metadata before arrow-js decodes it. arrow-js materialises every FlatBuffers
 * vector it meets (schema fields and children, batch nodes and buffers, custom metadata, footer blocks) with a
 * loop over the length stored in the file, so one corrupt length means an out-of-memory crash or a hang.
 * Here each of those vectors must fit inside its buffer, and the number of fields visited is capped.
 */
export class IpcPreflight {
  private readonly view: DataView;
  private fieldsSeen = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private fail(why: string): never {
    throw new Error(`corrupt ${this.what} (${why})`);
  }

  private i32(p: number): number {
    if (p < 0 || p + 4 > this.buf.length) this.fail(`offset ${p} outside ${this.buf.length} bytes`);
    return this.view.getInt32(p, true);
  }

  private u16(p: number): number {
    if (p < 0 || p + 2 > this.buf.length) this.fail(`offset ${p} outside ${this.buf.length} bytes`);
    return this.view.getUint16(p, true);
  }

  /** Position of field `slot` of the table at `table`, or 0 when absent. */
  private field(table: number, slot: number): number {
    const vtable = table - this.i32(table);
    const vtableLength = this.u16(vtable);
    const at = 4 + 2 * slot;
    if (at + 2 > vtableLength) return 0;
    const off = this.u16(vtable + at);
    return off ? table + off : 0;
  }

  /** The table referenced by field `slot`, or 0. */
  table(table: number, slot: number): number {
    const p = this.field(table, slot);
    return p ? p + this.i32(p) : 0;
  }

  /** Length of the vector in field `slot`, checked to fit the buffer; positions of its elements follow. */
  vector(table: number, slot: number, elementBytes: number): { start: number; length: number } {
    const p = this.field(table, slot);
    if (!p) return { start: 0, length: 0 };
    const v = p + this.i32(p);
    const length = this.i32(v);
    if (length < 0 || v + 4 + length * elementBytes > this.buf.length) this.fail(`vector of ${length} entries in ${this.buf.length} bytes`);
    return { start: v + 4, length };
  }

  /** Table of element i of a vector of tables. */
  element(vec: { start: number }, i: number): number {
    const p = vec.start + 4 * i;
    return p + this.i32(p);
  }

  u8(table: number, slot: number): number {
    const p = this.field(table, slot);
    if (!p) return 0;
    if (p >= this.buf.length) this.fail(`offset ${p} outside ${this.buf.length} bytes`);
    return this.buf[p];
  }

  root(): number {
    return this.i32(0);
  }

  checkField(field: number, depth: number): void {
    if (++this.fieldsSeen > 10_000 || depth > 16) this.fail('too many or too deeply nested fields');
    this.vector(field, 6, 4); // custom_metadata
    const children = this.vector(field, 5, 4);
    for (let i = 0; i < children.length; i++) this.checkField(this.element(children, i), depth + 1);
  }

  checkSchema(schema: number): void {
    if (!schema) return;
    this.vector(schema, 2, 4); // custom_metadata
    this.vector(schema, 3, 8); // features
    const fields = this.vector(schema, 1, 4);
    for (let i = 0; i < fields.length; i++) this.checkField(this.element(fields, i), 0);
  }

  checkRecordBatch(batch: number): void {
    if (!batch) return;
    this.vector(batch, 1, 16); // nodes
    this.vector(batch, 2, 16); // buffers
    this.vector(batch, 4, 8); // variadicBufferCounts
  }

  /** A Message table: header_type (1 schema, 2 dictionary batch, 3 record batch) and its header; returns bodyLength. */
  checkMessage(): number {
    const message = this.root();
    this.vector(message, 4, 4); // custom_metadata
    const type = this.u8(message, 1);
    const header = this.table(message, 2);
    if (type === 1) this.checkSchema(header);
    else if (type === 2 && header) this.checkRecordBatch(this.table(header, 1));
    else if (type === 3) this.checkRecordBatch(header);
    const body = this.field(message, 3);
    if (!body) return 0;
    if (this.i32(body + 4) !== 0) this.fail('body length beyond 2 GiB');
    return this.i32(body) >>> 0;
  }

  /** A file Footer: schema and the dictionary / record-batch blocks (structs of 24 bytes). */
  checkFooter(): { dictionaries: number[]; recordBatches: number[] } {
    const footer = this.root();
    this.vector(footer, 4, 4); // custom_metadata
    this.checkSchema(this.table(footer, 1));
    const offsets = (slot: number): number[] => {
      const blocks = this.vector(footer, slot, 24);
      const out: number[] = [];
      for (let i = 0; i < blocks.length; i++) {
        const p = blocks.start + 24 * i;
        if (this.i32(p + 4) !== 0) this.fail(`block offset beyond 2 GiB`);
        out.push(this.i32(p));
      }
      return out;
    };
    return { dictionaries: offsets(2), recordBatches: offsets(3) };
  }
}

/** Check the message framed at `pos` (continuation marker, metadata length, metadata); null at end-of-stream. */
export function preflightMessage(bytes: Uint8Array, pos: number, limit: number): { bodyStart: number; bodyLength: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (pos < 0 || pos + 4 > limit) throw new Error(`message at byte ${pos} beyond the data`);
  let length = view.getInt32(pos, true);
  pos += 4;
  if (length === -1) {
    if (pos + 4 > limit) throw new Error(`message at byte ${pos} beyond the data`);
    length = view.getInt32(pos, true);
    pos += 4;
  }
  if (length === 0) return null;
  if (length < 0 || pos + length > limit) throw new Error(`message metadata of ${length} bytes at byte ${pos} beyond the data`);
  const bodyLength = new IpcPreflight(bytes.subarray(pos, pos + length), 'message metadata').checkMessage();
  return { bodyStart: pos + length, bodyLength };
}

/** Preflight every message of a stream (from `pos` to EOS or `limit`). */
export function preflightStream(bytes: Uint8Array, pos: number, limit: number): void {
  while (pos < limit) {
    const m = preflightMessage(bytes, pos, limit);
    if (!m) return;
    pos = m.bodyStart + m.bodyLength;
    if (pos > limit) throw new Error(`message body of ${m.bodyLength} bytes beyond the data`);
  }
}

/** Preflight a file: its footer and the message at every block the footer lists. */
export function preflightFile(bytes: Uint8Array): void {
  const footerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(bytes.length - 10, true);
  const footerStart = bytes.length - 10 - footerLength;
  if (footerLength <= 0 || footerStart < 8) throw new Error(`footer length ${footerLength} does not fit the file`);
  const blocks = new IpcPreflight(bytes.subarray(footerStart, footerStart + footerLength), 'footer').checkFooter();
  for (const offset of [...blocks.dictionaries, ...blocks.recordBatches]) {
    if (offset < 8 || offset >= footerStart) throw new Error(`block at byte ${offset} outside the data`);
    preflightMessage(bytes, offset, footerStart);
  }
}

