import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadGsu } from '../../src/core/ctr/inputs.js';
import { SequenceStore, type Samples } from '../../src/core/dataset.js';
import { gsuScoreHistogram, summarizeGsuFile, type GsuPlantedInput } from '../../src/core/evaluate/gsu-files.js';
import { gsuPlantedShares, plantedHistoryCounts, type Planted } from '../../src/core/evaluate/planted.js';
import { GSU_BATCH_ROWS, GsuWriter } from '../../src/core/retrieval/gsu-io.js';
import { makeRng } from '../../src/core/rng.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-gsu-files-'));

// A world big enough for two record batches: 75,536 target samples of 300 users, 400 items (300 source).
const rng = makeRng(17);
const n = GSU_BATCH_ROWS + 10_000;
const users = 300;
const planted: Planted = { subtopic: Int32Array.from({ length: 400 }, () => rng.int(25)), topic: Int32Array.from({ length: 400 }, () => rng.int(5)) };
const lengths = Array.from({ length: users }, () => rng.int(60));
const offsets = Int32Array.from([0, ...lengths.map(((acc) => (x: number) => (acc += x))(0))]);
const seqTs = new Float64Array(offsets[users]);
for (let u = 0; u < users; u++) for (let j = offsets[u]; j < offsets[u + 1]; j++) seqTs[j] = j - offsets[u];
const store = new SequenceStore('source', Int32Array.from({ length: users }, (_, u) => u), offsets, Int32Array.from({ length: offsets[users] }, () => rng.int(300)), seqTs);
const samples: Samples = {
  domain: 'target',
  count: n,
  userId: Int32Array.from({ length: n }, () => rng.int(users)),
  itemId: Int32Array.from({ length: n }, () => 300 + rng.int(100)),
  ts: Float64Array.from({ length: n }, () => rng.int(70)),
  label: Int8Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0)),
  split: Int8Array.from({ length: n }, () => rng.int(3)),
  pTrue: null,
};
const input: GsuPlantedInput = { samples, numItems: 400, planted, history: plantedHistoryCounts(samples, store, planted, 2) };

/** A gsu.arrow with a row for most samples (some left out, some empty, lists up to 150), rows in `order`. */
function writeGsu(name: string, order: Int32Array): string {
  const file = path.join(dir, name);
  const w = new GsuWriter(file, { command: 'test' }, 150);
  const items = new Int32Array(150);
  const scores = new Float32Array(150);
  for (const s of order) {
    const count = s % 7 === 0 ? 0 : rng.int(150);
    for (let j = 0; j < count; j++) {
      items[j] = rng.int(300);
      scores[j] = 1 - j / 150 + (s % 5) * 0.01;
    }
    w.add(s, items, scores, 0, count);
  }
  w.close();
  return file;
}

const inOrder = Int32Array.from({ length: n }, (_, s) => s).filter((s) => s % 11 !== 3);

/** The whole-file computation the streaming one replaces. */
function reference(file: string, ks: number[]): unknown {
  const index = loadGsu(file, n, 400);
  let longest = 0;
  for (let r = 0; r + 1 < index.offsets.length; r++) longest = Math.max(longest, index.offsets[r + 1] - index.offsets[r]);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const s of index.scores) {
    sum += s;
    min = Math.min(min, s);
    max = Math.max(max, s);
  }
  const gsuKs = [...new Set([10, ...ks.filter((k) => k <= longest)])].sort((a, b) => a - b);
  const shares = gsuPlantedShares('g', index, samples, store, planted, 2, gsuKs, input.history);
  return { samples: index.offsets.length - 1, scores: index.scores.length, sum, min, max, shares };
}

test('a GSU file read batch by batch gives the whole-file figures bit for bit (rows in sample order, or not)', () => {
  const file = writeGsu('ordered.arrow', inOrder);
  const got = summarizeGsuFile(file, 'g', [5, 100, 1000], input);
  assert.deepEqual(got, reference(file, [5, 100, 1000]));
  assert.equal(got.shares?.all.at(-1)?.k, 100, 'K = 1000 is past the longest list');
  assert.ok((got.shares?.all[0].samples ?? 0) > 10_000);
  const shuffled = makeRng(4).shuffle(Int32Array.from(inOrder));
  const other = writeGsu('shuffled.arrow', shuffled);
  assert.deepEqual(summarizeGsuFile(other, 'g', [5, 100], input), reference(other, [5, 100]));
  // without planted truth: the score summary only
  const { shares, ...summary } = summarizeGsuFile(file, 'g', [5], null);
  assert.equal(shares, null);
  const { shares: _s, ...want } = reference(file, [5]) as { shares: unknown };
  assert.deepEqual(summary, want);
});

test('the score histogram of a GSU file counts every score once, on the given grid', () => {
  const file = writeGsu('hist.arrow', inOrder);
  const { scores } = loadGsu(file, n, 400);
  const counts = gsuScoreHistogram(file, 0, 1.05, 7);
  const want = new Array<number>(7).fill(0);
  for (const s of scores) want[Math.min(6, Math.floor(((s - 0) / 1.05) * 7))]++;
  assert.deepEqual(counts, want);
  assert.equal(counts.reduce((a, b) => a + b, 0), scores.length);
});

test('a GSU file of another dataset is refused with the row that shows it', () => {
  assert.ok(inOrder.length > GSU_BATCH_ROWS, 'the repeat lands in the second batch');
  const dup = writeGsu('dup.arrow', Int32Array.from([...inOrder, 12]));
  assert.throws(() => summarizeGsuFile(dup, 'g', [10], input), (e: Error & { row?: number; column?: string }) => /duplicate sample_id 12/.test(e.message) && e.row === inOrder.length && e.column === 'sample_id');
  const far = writeGsu('far.arrow', Int32Array.from([0, 1, n + 5]));
  assert.throws(() => summarizeGsuFile(far, 'g', [10], input), (e: Error & { row?: number }) => /out of range/.test(e.message) && e.row === 2);
});
