import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeArrow, readArrow, writeArrow, describeArrow } from '../../src/core/arrow-io.js';
import { EMBEDDINGS, ITEMS, SAMPLES, SEQUENCES, GSU } from '../../src/core/schemas.js';
import { InputDataError, IoError } from '../../src/core/errors.js';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'gist-arrow-'));
const meta = { command: 'test', version: '0', seed: 1, config_hash: 'abc' };

function itemsColumns() {
  return {
    item_id: Int32Array.from([0, 1, 2]),
    domain: { codes: Int32Array.from([0, 1, 1]), values: ['source', 'target'] },
    title: ['Red apple', 'Blue pan', ''],
    text: ['fruit', 'kitchen', 'x'],
    category: { codes: Int32Array.from([0, -1, 1]), values: ['food', 'pans'] },
    content: { dim: 2, values: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    source_count: Int32Array.from([5, 0, 1]),
    target_count: Int32Array.from([0, 2, 3]),
  };
}

test('items round trip keeps values, nulls and metadata', () => {
  const file = path.join(tmp(), 'items.arrow');
  writeArrow(file, ITEMS, itemsColumns(), meta);
  const back = readArrow(file, ITEMS);
  assert.equal(back.numRows, 3);
  assert.deepEqual(back.columns.title, ['Red apple', 'Blue pan', '']);
  assert.deepEqual(back.columns.category, { codes: Int32Array.from([0, -1, 1]), values: ['food', 'pans'] });
  assert.deepEqual(back.columns.content, { dim: 2, values: Float32Array.from([1, 2, 3, 4, 5, 6]) });
  assert.equal(back.metadata.command, 'test');
  assert.equal(back.metadata.config_hash, 'abc');
  assert.equal(back.metadata['gist.table'], 'items');
});

test('list columns round trip across several record batches', () => {
  const n = 300_000; // more than one batch (262,144 rows)
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + (i % 3);
  const values = new Int32Array(offsets[n]).map((_, i) => i % 1000);
  const scores = new Float32Array(offsets[n]).fill(0.5);
  const file = path.join(tmp(), 'gsu.arrow');
  writeArrow(file, GSU, { sample_id: Int32Array.from({ length: n }, (_, i) => i), items: { offsets, values }, scores: { offsets, values: scores } }, meta);
  const back = readArrow(file, GSU);
  assert.equal(back.numRows, n);
  assert.equal(describeArrow(file).batches, 2);
  assert.deepEqual((back.columns.items as { offsets: Int32Array }).offsets, offsets);
  assert.deepEqual((back.columns.items as { values: Int32Array }).values, values);
});

test('empty table writes and reads', () => {
  const file = path.join(tmp(), 'emb.arrow');
  writeArrow(file, EMBEDDINGS, { item_id: new Int32Array(0), vector: { dim: 4, values: new Float32Array(0) } }, meta);
  assert.equal(readArrow(file, EMBEDDINGS).numRows, 0);
});

test('readers fail with typed errors naming file, column and row', () => {
  const dir = tmp();
  const missing = path.join(dir, 'nope.arrow');
  assert.throws(() => readArrow(missing, ITEMS), IoError);
  const empty = path.join(dir, 'empty.arrow');
  fs.writeFileSync(empty, '');
  assert.throws(() => readArrow(empty, ITEMS), (e: unknown) => e instanceof InputDataError && /empty file/.test((e as Error).message));
  const csv = path.join(dir, 'samples.arrow');
  fs.writeFileSync(csv, 'user_id,item_id\n1,2\n');
  assert.throws(() => readArrow(csv, SAMPLES), (e: unknown) => e instanceof InputDataError && e.message.includes(csv));
  const good = path.join(dir, 'items.arrow');
  writeArrow(good, ITEMS, itemsColumns(), meta);
  const truncated = path.join(dir, 'trunc.arrow');
  const bytes = fs.readFileSync(good);
  fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  assert.throws(() => readArrow(truncated, ITEMS), InputDataError);
  // Wrong table: an items file read as samples names the missing column.
  assert.throws(() => readArrow(good, SAMPLES), (e: unknown) => e instanceof InputDataError && (e as InputDataError).column === 'sample_id');
  // NaN in a vector names the row.
  const cols = itemsColumns();
  cols.content.values[3] = NaN;
  const nan = path.join(dir, 'nan.arrow');
  writeArrow(nan, ITEMS, cols, meta);
  assert.throws(() => readArrow(nan, ITEMS), (e: unknown) => e instanceof InputDataError && e.column === 'content' && e.row === 1);
});

test('label outside {0,1} is rejected with its row', () => {
  const file = path.join(tmp(), 'samples.arrow');
  writeArrow(
    file,
    SAMPLES,
    {
      sample_id: Int32Array.from([0, 1]),
      user_id: Int32Array.from([0, 0]),
      item_id: Int32Array.from([0, 1]),
      ts: Float64Array.from([1, 2]),
      label: Int8Array.from([1, 2]),
      split: { codes: Int32Array.from([0, 0]), values: ['train', 'valid', 'test'] },
    },
    meta,
  );
  assert.throws(() => readArrow(file, SAMPLES), (e: unknown) => e instanceof InputDataError && e.column === 'label' && e.row === 1);
});

test('encodeArrow refuses columns the spec does not know', () => {
  assert.throws(() => encodeArrow(SEQUENCES, { user_id: new Int32Array(0), items: { offsets: new Int32Array(1), values: new Int32Array(0) }, ts: { offsets: new Int32Array(1), values: new Float64Array(0) }, extra: new Int32Array(0) }, {}), /unknown column extra/);
});

test('dictionary columns span several record batches (one shared dictionary)', () => {
  const n = 300_000;
  const codes = Int32Array.from({ length: n }, (_, i) => i % 3);
  const file = path.join(tmp(), 'samples.arrow');
  writeArrow(
    file,
    SAMPLES,
    {
      sample_id: Int32Array.from({ length: n }, (_, i) => i),
      user_id: new Int32Array(n),
      item_id: new Int32Array(n),
      ts: new Float64Array(n),
      label: new Int8Array(n),
      split: { codes, values: ['train', 'valid', 'test'] },
    },
    meta,
  );
  const back = readArrow(file, SAMPLES);
  assert.deepEqual((back.columns.split as { codes: Int32Array }).codes, codes);
});

test('bytes do not depend on what the process encoded before (fixed dictionary ids)', () => {
  const first = encodeArrow(ITEMS, itemsColumns(), meta);
  encodeArrow(SAMPLES, { sample_id: new Int32Array(0), user_id: new Int32Array(0), item_id: new Int32Array(0), ts: new Float64Array(0), label: new Int8Array(0), split: { codes: new Int32Array(0), values: ['train'] } }, meta);
  assert.deepEqual(encodeArrow(ITEMS, itemsColumns(), meta), first);
});
