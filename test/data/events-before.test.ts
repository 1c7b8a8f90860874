import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { Field, Float64, Int32, List, makeData, RecordBatch, Schema, Struct, Table, tableToIPC } from 'apache-arrow';
import { historyLengthsBefore } from '../../src/core/ctr/batcher.js';
import { DATASET_FILES, eventsBeforeInFile, loadDataset, loadSequences, type Samples } from '../../src/core/dataset.js';
import { plantedHistoryCounts, type Planted } from '../../src/core/evaluate/planted.js';
import { makeRng } from '../../src/core/rng.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-events-before-'));

/** A sequences file of several record batches: rows (user, items, times) split at `cuts`. */
function writeSequences(name: string, rows: { user: number; ts: number[]; items?: number[] }[], cuts: number[]): string {
  const itemType = new List(new Field('item', new Int32(), false));
  const tsType = new List(new Field('item', new Float64(), false));
  const schema = new Schema([new Field('user_id', new Int32(), false), new Field('items', itemType, false), new Field('ts', tsType, false)]);
  const batches: RecordBatch[] = [];
  for (let c = 0; c < cuts.length - 1; c++) {
    const part = rows.slice(cuts[c], cuts[c + 1]);
    const offsets = Int32Array.from([0, ...part.map(((acc) => (r: { ts: number[] }) => (acc += r.ts.length))(0))]);
    const flat = part.flatMap((r) => r.ts);
    const children = [
      makeData({ type: new Int32(), length: part.length, nullCount: 0, data: Int32Array.from(part, (r) => r.user) }),
      makeData({ type: itemType, length: part.length, nullCount: 0, valueOffsets: offsets, child: makeData({ type: new Int32(), length: flat.length, nullCount: 0, data: Int32Array.from(part.flatMap((r) => r.items ?? r.ts.map(() => 0))) }) }),
      makeData({ type: tsType, length: part.length, nullCount: 0, valueOffsets: offsets, child: makeData({ type: new Float64(), length: flat.length, nullCount: 0, data: Float64Array.from(flat) }) }),
    ];
    batches.push(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: part.length, nullCount: 0, children })));
  }
  const file = path.join(dir, name);
  fs.writeFileSync(file, tableToIPC(new Table(batches), 'file'));
  return file;
}

const rng = makeRng(6);
// 60 users (some without events, ids out of order), times with ties; 500 samples of 70 users (10 with no sequence)
const rows = makeRng(1)
  .shuffle(Int32Array.from({ length: 60 }, (_, u) => u))
  .reduce<{ user: number; ts: number[] }[]>((acc, u) => {
    let t = 0;
    acc.push({ user: u, ts: Array.from({ length: rng.int(40) }, () => (t += rng.int(3))) });
    return acc;
  }, []);
const n = 500;
const samples = { count: n, userId: Int32Array.from({ length: n }, () => rng.int(70)), ts: Float64Array.from({ length: n }, () => rng.int(90)) } as unknown as Samples;

test('events before each sample, read from a sequences file batch by batch, equal the loaded store\'s', () => {
  const file = writeSequences('seq.arrow', rows, [0, 7, 7, 31, 60]);
  const want = historyLengthsBefore(samples, loadSequences(file, 'source', 1), Infinity);
  assert.deepEqual(eventsBeforeInFile(file, 'source', samples), want);
  assert.ok(want.some((x) => x > 10) && want.some((x) => x === 0));
});

test('a sequences file that would count wrong is refused, naming the row', () => {
  const unsorted = rows.map((r, i) => (i === 40 ? { user: r.user, ts: [5, 4] } : r));
  assert.throws(() => eventsBeforeInFile(writeSequences('unsorted.arrow', unsorted, [0, 31, 60]), 'source', samples), (e: Error & { row?: number; column?: string }) => /not sorted/.test(e.message) && e.row === 40 && e.column === 'ts');
  const twice = [...rows, { user: rows[3].user, ts: [1] }];
  assert.throws(() => eventsBeforeInFile(writeSequences('twice.arrow', twice, [0, 31, 61]), 'source', samples), (e: Error & { row?: number }) => /duplicate user_id/.test(e.message) && e.row === 60);
});

test('loadDataset can leave a domain\'s sequences unloaded: the rest is the same, and using them fails loudly', () => {
  const data = path.join(ROOT, 'fixtures', 'tiny');
  const all = loadDataset(data);
  const targetOnly = loadDataset(data, { sequences: ['target'] });
  assert.deepEqual(targetOnly.samples, all.samples);
  assert.deepEqual(targetOnly.sequences.target, all.sequences.target);
  assert.throws(() => targetOnly.sequences.source.historyBefore(0, 1, Infinity), /source sequences were not loaded/);
  const file = path.join(data, DATASET_FILES.sequences('source'));
  assert.deepEqual(eventsBeforeInFile(file, 'source', all.samples.target), historyLengthsBefore(all.samples.target, all.sequences.source, Infinity));
});

test('planted history counts from the sequences file batch by batch equal the loaded store\'s; a bad item id is refused with its row', () => {
  // the same rows with random items of 30 planted items (12 sub-topics, 4 topics); samples of every split, target items 30–39
  const withItems = rows.map((r) => ({ ...r, items: r.ts.map(() => rng.int(30)) }));
  const file = writeSequences('seq-items.arrow', withItems, [0, 7, 7, 31, 60]);
  const p: Planted = { subtopic: Int32Array.from({ length: 40 }, () => rng.int(12)), topic: Int32Array.from({ length: 40 }, () => rng.int(4)) };
  const s = { ...samples, itemId: Int32Array.from({ length: n }, () => 30 + rng.int(10)), split: Int8Array.from({ length: n }, () => rng.int(3)) } as Samples;
  for (const split of [1, 2]) {
    const want = plantedHistoryCounts(s, loadSequences(file, 'source', 40), p, split);
    assert.deepEqual(plantedHistoryCounts(s, file, p, split), want);
    assert.ok(want.subtopic.some((x) => x > 2) && want.events.some((x) => x > 10));
  }
  const bad = withItems.map((r, i) => (i === 45 && r.ts.length > 0 ? { ...r, items: r.items.map(() => 40) } : r));
  const badRow = bad.findIndex((r) => r.items[0] === 40);
  assert.throws(() => plantedHistoryCounts(s, writeSequences('bad-item.arrow', bad, [0, 31, 60]), p, 1), (e: Error & { row?: number; column?: string }) => /item id 40 out of range/.test(e.message) && e.row === badRow && e.column === 'items');
});
