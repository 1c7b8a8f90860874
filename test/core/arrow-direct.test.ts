import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Field, Float64, Int32, List, makeData, RecordBatch, Schema, Struct, Table, tableToIPC } from 'apache-arrow';
import { readArrowDirect } from '../../src/core/arrow-direct.js';
import { readArrow, readArrowBatches, readArrowDecoded, writeArrow } from '../../src/core/arrow-io.js';
import { SEQUENCES } from '../../src/core/schemas.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-direct-'));

/** A sequences-shaped record batch: user ids, lists of item ids and times; `nullRow` makes one list null. */
function batch(users: number[], lists: number[][], nullRow = -1): RecordBatch {
  const offsets = Int32Array.from([0, ...lists.map((_, i) => lists.slice(0, i + 1).reduce((s, l) => s + l.length, 0))]);
  const flat = lists.flat();
  const itemType = new List(new Field('item', new Int32(), false));
  const tsType = new List(new Field('item', new Float64(), false));
  const nullBitmap = nullRow < 0 ? undefined : Uint8Array.from([0xff & ~(1 << nullRow)]);
  const children = [
    makeData({ type: new Int32(), length: users.length, nullCount: 0, data: Int32Array.from(users) }),
    makeData({ type: itemType, length: users.length, nullCount: nullRow < 0 ? 0 : 1, nullBitmap, valueOffsets: offsets, child: makeData({ type: new Int32(), length: flat.length, nullCount: 0, data: Int32Array.from(flat) }) }),
    makeData({ type: tsType, length: users.length, nullCount: 0, valueOffsets: offsets, child: makeData({ type: new Float64(), length: flat.length, nullCount: 0, data: Float64Array.from(flat.map((x) => x / 2)) }) }),
  ];
  const schema = new Schema([new Field('user_id', new Int32(), false), new Field('items', itemType, true), new Field('ts', tsType, false)], new Map([['command', 'test']]));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: users.length, nullCount: 0, children }));
}

function write(name: string, batches: RecordBatch[], format: 'file' | 'stream' = 'file'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, tableToIPC(new Table(batches), format));
  return file;
}

test('direct read = the full decoding: several batches, an empty one, empty lists, metadata', () => {
  const file = write('multi.arrow', [batch([3, 1], [[5, 6, 7], []]), batch([], []), batch([0, 2, 4], [[1], [], [2, 3]])]);
  assert.ok(readArrowDirect(file, SEQUENCES), 'the fast path applies');
  const direct = readArrow(file, SEQUENCES);
  assert.deepEqual(direct, readArrowDecoded(file, SEQUENCES));
  assert.deepEqual(Array.from((direct.columns.items as { offsets: Int32Array }).offsets), [0, 3, 3, 4, 4, 6]);
  assert.equal(direct.metadata.command, 'test');
});

test('direct read steps aside (null) for what it does not check: nulls, the stream format, a cut file', () => {
  const withNull = write('null.arrow', [batch([0, 1], [[1], [2]], 1)]);
  assert.equal(readArrowDirect(withNull, SEQUENCES), null);
  // … so readArrow reports what the full decoding reports (items is not nullable).
  assert.throws(() => readArrow(withNull, SEQUENCES), /null value/);
  const stream = write('stream.arrow', [batch([0], [[1]])], 'stream');
  assert.equal(readArrowDirect(stream, SEQUENCES), null);
  assert.deepEqual(readArrow(stream, SEQUENCES), readArrowDecoded(stream, SEQUENCES));
  const whole = fs.readFileSync(write('cut.arrow', [batch([0, 1], [[1, 2], [3]])]));
  const cut = path.join(dir, 'cut.arrow');
  fs.writeFileSync(cut, whole.subarray(0, whole.length - 20));
  assert.equal(readArrowDirect(cut, SEQUENCES), null);
  assert.throws(() => readArrow(cut, SEQUENCES), /truncated|magic/);
});

test('direct read of what gist writes (a sequences file from the writer) equals the full decoding', () => {
  const file = path.join(dir, 'written.arrow');
  const offsets = Int32Array.from([0, 2, 2, 5]);
  writeArrow(file, SEQUENCES, { user_id: Int32Array.from([0, 1, 2]), items: { offsets, values: Int32Array.from([4, 5, 6, 7, 8]) }, ts: { offsets, values: Float64Array.from([1, 2, 1, 2, 3]) } }, { command: 'test', version: '0', seed: 1, config_hash: 'x' });
  assert.ok(readArrowDirect(file, SEQUENCES));
  assert.deepEqual(readArrow(file, SEQUENCES), readArrowDecoded(file, SEQUENCES));
});

test('shared: the same columns on SharedArrayBuffers (for worker threads); the full decoding ignores the hint', () => {
  const file = write('shared.arrow', [batch([3, 1], [[5, 6, 7], []]), batch([0, 2], [[1], [2, 3]])]);
  const plain = readArrow(file, SEQUENCES);
  const shared = readArrow(file, SEQUENCES, { shared: true });
  const items = shared.columns.items as { offsets: Int32Array; values: Int32Array };
  const ts = shared.columns.ts as { offsets: Int32Array; values: Float64Array };
  for (const a of [shared.columns.user_id as Int32Array, items.offsets, items.values, ts.offsets, ts.values]) assert.ok(a.buffer instanceof SharedArrayBuffer);
  const copy = (x: typeof plain.columns) => JSON.parse(JSON.stringify(x, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int32Array) : v)));
  assert.deepEqual(copy(shared.columns), copy(plain.columns));
  const stream = write('shared-stream.arrow', [batch([0], [[1]])], 'stream');
  assert.ok(!((readArrow(stream, SEQUENCES, { shared: true }).columns.user_id as Int32Array).buffer instanceof SharedArrayBuffer));
});

test('readArrowBatches: each batch in turn (offsets from 0, rows numbered in the file), together what readArrow reads', () => {
  const file = write('batches.arrow', [batch([3, 1], [[5, 6, 7], []]), batch([], []), batch([0, 2, 4], [[1], [], [2, 3]])]);
  const seen: { rowStart: number; length: number; users: number[]; offsets: number[]; items: number[] }[] = [];
  const r = readArrowBatches(file, SEQUENCES, (b) => {
    const items = b.columns.items as { offsets: Int32Array; values: Int32Array };
    seen.push({ rowStart: b.rowStart, length: b.length, users: [...(b.columns.user_id as Int32Array)], offsets: [...items.offsets], items: [...items.values] });
  });
  assert.equal(r.numRows, 5);
  assert.equal(r.metadata.command, 'test');
  assert.deepEqual(seen, [
    { rowStart: 0, length: 2, users: [3, 1], offsets: [0, 3, 3], items: [5, 6, 7] },
    { rowStart: 2, length: 0, users: [], offsets: [0], items: [] },
    { rowStart: 2, length: 3, users: [0, 2, 4], offsets: [0, 1, 1, 3], items: [1, 2, 3] },
  ]);
  const whole = readArrow(file, SEQUENCES);
  assert.deepEqual(seen.flatMap((b) => b.users), [...(whole.columns.user_id as Int32Array)]);
  assert.deepEqual(seen.flatMap((b) => b.items), [...(whole.columns.items as { values: Int32Array }).values]);
  // a value outside the spec in a later batch: the error names the file's row
  const bad = write('bad-batch.arrow', [batch([3, 1], [[5], [6]]), batch([0, 2], [[1], [-4]])]);
  assert.throws(() => readArrowBatches(bad, SEQUENCES, () => undefined), (e: Error & { row?: number; column?: string }) => e.row === 3 && e.column === 'items' && /-4/.test(e.message));
  // where the direct read does not apply (the stream format), the whole file as one batch
  const stream = write('batches-stream.arrow', [batch([0], [[1]]), batch([5], [[2, 3]])], 'stream');
  const parts: number[] = [];
  assert.equal(readArrowBatches(stream, SEQUENCES, (b) => parts.push(b.rowStart, b.length)).numRows, 2);
  assert.deepEqual(parts, [0, 2]);
});
