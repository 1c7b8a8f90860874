/**
 * Streaming writer for gsu.arrow (GSU table): rows are appended in sample order and flushed as record batches
 * of exactly GSU_BATCH_ROWS rows (the last one shorter), straight to the file, so memory stays at one batch
 * however many samples there are. A single run and a merge of shards go through this writer with the same
 * rows, which is what makes their files byte-identical.
 */
import * as fs from 'node:fs';
import {
  AsyncByteQueue,
  Field,
  Float32,
  Int32,
  List,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  makeData,
} from 'apache-arrow';
import { IoError } from '../errors.js';
import { GSU } from '../schemas.js';

/** Rows per record batch in gsu.arrow. */
export const GSU_BATCH_ROWS = 65_536;

/** An arrow-js byte sink that writes each chunk synchronously to a file descriptor. */
class FileSink extends AsyncByteQueue {
  constructor(
    private readonly fd: number,
    private readonly file: string,
  ) {
    super();
  }
  override write(value: Uint8Array | ArrayBufferView | ArrayBuffer | string): void {
    const bytes = typeof value === 'string' ? Buffer.from(value) : value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    try {
      let done = 0;
      while (done < bytes.byteLength) done += fs.writeSync(this.fd, bytes, done, bytes.byteLength - done);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new IoError(`${this.file}: cannot write (${e.code ?? e.message})`);
    }
  }
}

function gsuSchema(meta: Record<string, string | number>): Schema {
  const listOf = (t: Int32 | Float32): List => new List(new Field('item', t, false));
  const fields = [new Field('sample_id', new Int32(), false), new Field('items', listOf(new Int32()), false), new Field('scores', listOf(new Float32()), false)];
  if (fields.map((f) => f.name).join() !== GSU.columns.map((c) => c.name).join()) throw new Error('gsu-io: schema out of sync with GSU spec');
  const metadata = new Map<string, string>([['gist.table', GSU.name]]);
  for (const [k, v] of Object.entries(meta)) metadata.set(k, String(v));
  return new Schema(fields, metadata);
}

export class GsuWriter {
  private readonly fd: number;
  private readonly writer: RecordBatchFileWriter;
  private readonly schema: Schema;
  private readonly ids: Int32Array;
  private readonly offsets: Int32Array;
  private items: Int32Array;
  private scores: Float32Array;
  private n = 0;
  private batches = 0;
  rows = 0;

  /** `k` sizes the batch buffers (rows hold at most k entries). */
  constructor(
    readonly file: string,
    meta: Record<string, string | number>,
    k: number,
  ) {
    try {
      this.fd = fs.openSync(file, 'w');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new IoError(`${file}: cannot write (${e.code ?? e.message})`);
    }
    this.schema = gsuSchema(meta);
    this.writer = new RecordBatchFileWriter();
    this.writer.reset(new FileSink(this.fd, file), this.schema);
    this.ids = new Int32Array(GSU_BATCH_ROWS);
    this.offsets = new Int32Array(GSU_BATCH_ROWS + 1);
    const cap = Math.min(GSU_BATCH_ROWS * Math.max(1, k), 1 << 22); // grows on demand past 16 MiB
    this.items = new Int32Array(cap);
    this.scores = new Float32Array(cap);
  }

  /** Append one row (items/scores read from `at`, `count` entries). */
  add(sampleId: number, items: Int32Array, scores: Float32Array, at: number, count: number): void {
    const o = this.offsets[this.n];
    if (o + count > this.items.length) {
      const grown = new Int32Array(Math.max(o + count, this.items.length * 2));
      grown.set(this.items.subarray(0, o));
      this.items = grown;
      const grownS = new Float32Array(grown.length);
      grownS.set(this.scores.subarray(0, o));
      this.scores = grownS;
    }
    this.ids[this.n] = sampleId;
    // block copies (memcpy): an element loop here was the main thread's largest cost at 64k rows × K = 100
    this.items.set(items.subarray(at, at + count), o);
    this.scores.set(scores.subarray(at, at + count), o);
    this.offsets[++this.n] = o + count;
    this.rows++;
    if (this.n === GSU_BATCH_ROWS) this.flush();
  }

  private flush(): void {
    const n = this.n;
    const total = this.offsets[n];
    const [idField, itemsField, scoresField] = this.schema.fields;
    // Views, not copies: the writer serialises the batch synchronously into the file before returning, so the
    // buffers can be refilled afterwards (copies here were 2 × 26 MB of garbage per batch at K = 100).
    const list = (field: Field, values: Int32Array | Float32Array) => {
      const childType = (field.type as List).children[0].type;
      const child = makeData({ type: childType, length: total, data: values.subarray(0, total) } as never);
      return makeData({ type: field.type, length: n, valueOffsets: this.offsets.subarray(0, n + 1), child } as never);
    };
    const children = [
      makeData({ type: idField.type, length: n, data: this.ids.subarray(0, n) } as never),
      list(itemsField, this.items),
      list(scoresField, this.scores),
    ];
    const data = makeData({ type: new Struct(this.schema.fields), length: n, children, nullCount: 0 });
    this.writer.write(new RecordBatch(this.schema, data));
    this.batches++;
    this.n = 0;
  }

  /** Flush the last batch (an empty one when there were no rows), write the footer and close the file. */
  close(): { rows: number; batches: number } {
    if (this.n > 0 || this.batches === 0) this.flush();
    try {
      this.writer.close();
    } finally {
      fs.closeSync(this.fd);
    }
    return { rows: this.rows, batches: this.batches };
  }

  /** Close the file without finishing it (on failure; the staged file is discarded). */
  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}
