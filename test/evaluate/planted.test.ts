import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SequenceStore, type Items, type Samples } from '../../src/core/dataset.js';
import type { GsuIndex } from '../../src/core/ctr/inputs.js';
import { gsuPlantedShares, plantedHistoryCounts, plantedNeighbourRecall, readPlanted, topOrder, type Planted } from '../../src/core/evaluate/planted.js';
import { makeRng } from '../../src/core/rng.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Items 0–5 are source items, 6–7 target items. Sub-topics: 0,0,1,1,2,2 | 0,1; topics: sub >> 1 (0,0,0,0,1,1 | 0,0).
const planted: Planted = { subtopic: Int32Array.from([0, 0, 1, 1, 2, 2, 0, 1]), topic: Int32Array.from([0, 0, 0, 0, 1, 1, 0, 0]) };

test('GSU share@k against planted sub-topics, beside the best the history allows (hand-computed)', () => {
  // One user with 6 source events before t=10: items 0, 2, 3, 4, 5, 1.
  const store = new SequenceStore('source', Int32Array.from([0]), Int32Array.from([0, 6]), Int32Array.from([0, 2, 3, 4, 5, 1]), Float64Array.from([1, 2, 3, 4, 5, 6]));
  // Two target samples (valid split 1): item 6 (sub 0) clicked, item 7 (sub 1) not; a third in test is ignored.
  const samples: Samples = { domain: 'target', count: 3, userId: Int32Array.from([0, 0, 0]), itemId: Int32Array.from([6, 7, 6]), ts: Float64Array.from([10, 10, 10]), label: Int8Array.from([1, 0, 1]), split: Int8Array.from([1, 1, 2]), pTrue: null };
  // GSU results: sample 0 → [0, 4, 2] (1 of 2 in the top 2 is sub 0), sample 1 → [2, 3, 0] (2 of 2 in sub 1).
  const gsu: GsuIndex = { file: 'x', rowOfSample: Int32Array.from([0, 1, -1]), offsets: Int32Array.from([0, 3, 6]), items: Int32Array.from([0, 4, 2, 2, 3, 0]), scores: new Float32Array(6), metadata: {} };
  const [at2] = gsuPlantedShares('g', gsu, samples, store, planted, 1, [2]).all;
  assert.equal(at2.samples, 2);
  assert.equal(at2.subtopic, (0.5 + 1) / 2);
  assert.equal(at2.topic, (0.5 + 1) / 2, 'item 4 is of topic 1');
  // Best: the history holds 2 events of sub 0 and 2 of sub 1 → 2/2 for both.
  assert.equal(at2.best_subtopic, 1);
  const [clicked] = gsuPlantedShares('g', gsu, samples, store, planted, 1, [3]).clicked;
  assert.equal(clicked.samples, 1);
  assert.equal(clicked.subtopic, 1 / 3);
  assert.equal(clicked.best_subtopic, 2 / 3);
});

test('history counts shared between GSUs give the same shares; the wrong split is refused', () => {
  const store = new SequenceStore('source', Int32Array.from([0]), Int32Array.from([0, 6]), Int32Array.from([0, 2, 3, 4, 5, 1]), Float64Array.from([1, 2, 3, 4, 5, 6]));
  const samples: Samples = { domain: 'target', count: 3, userId: Int32Array.from([0, 0, 0]), itemId: Int32Array.from([6, 7, 6]), ts: Float64Array.from([10, 10, 3.5]), label: Int8Array.from([1, 0, 1]), split: Int8Array.from([1, 1, 1]), pTrue: null };
  const gsu: GsuIndex = { file: 'x', rowOfSample: Int32Array.from([0, 1, 2]), offsets: Int32Array.from([0, 3, 6, 8]), items: Int32Array.from([0, 4, 2, 2, 3, 0, 2, 0]), scores: new Float32Array(8), metadata: {} };
  const history = plantedHistoryCounts(samples, store, planted, 1);
  assert.deepEqual([...history.subtopic], [2, 2, 1], 'sample 2 (t = 3.5) sees items 0, 2, 3 only');
  assert.deepEqual([...history.events], [6, 6, 3]);
  assert.deepEqual(gsuPlantedShares('g', gsu, samples, store, planted, 1, [1, 2, 3], history), gsuPlantedShares('g', gsu, samples, store, planted, 1, [1, 2, 3]));
  assert.throws(() => gsuPlantedShares('g', gsu, samples, store, planted, 2, [2], history), /another split/);
});

test('history counts (one walk per user) equal a scan of each sample\'s history, on random data with time ties', () => {
  const rng = makeRng(9);
  const users = 40;
  const lengths = Array.from({ length: users }, () => (rng.next() < 0.2 ? 0 : rng.int(300)));
  const offsets = Int32Array.from([0, ...lengths.map(((acc) => (n: number) => (acc += n))(0))]);
  const items = Int32Array.from({ length: offsets[users] }, () => rng.int(50));
  const ts = new Float64Array(offsets[users]);
  for (let u = 0; u < users; u++) for (let j = offsets[u], t = 0; j < offsets[u + 1]; j++) ts[j] = t += rng.int(3); // ties
  const store = new SequenceStore('source', Int32Array.from({ length: users }, (_, u) => u), offsets, items, ts);
  const p: Planted = { subtopic: Int32Array.from({ length: 60 }, () => rng.int(12)), topic: Int32Array.from({ length: 60 }, () => rng.int(4)) };
  const n = 2000;
  // users 40–44 have no source sequence
  const samples: Samples = { domain: 'target', count: n, userId: Int32Array.from({ length: n }, () => rng.int(users + 5)), itemId: Int32Array.from({ length: n }, () => 50 + rng.int(10)), ts: Float64Array.from({ length: n }, () => rng.int(400)), label: new Int8Array(n), split: Int8Array.from({ length: n }, () => rng.int(3)), pTrue: null };
  const got = plantedHistoryCounts(samples, store, p, 2);
  for (let s = 0; s < n; s++) {
    if (samples.split[s] !== 2) {
      assert.deepEqual([got.subtopic[s], got.topic[s], got.events[s]], [0, 0, 0]);
      continue;
    }
    const [lo, hi] = store.historyBefore(samples.userId[s], samples.ts[s], Infinity);
    let sub = 0;
    let topic = 0;
    for (let j = lo; j < hi; j++) {
      if (p.subtopic[items[j]] === p.subtopic[samples.itemId[s]]) sub++;
      if (p.topic[items[j]] === p.topic[samples.itemId[s]]) topic++;
    }
    assert.deepEqual([got.subtopic[s], got.topic[s], got.events[s]], [sub, topic, hi - lo], `sample ${s}`);
  }
});

test('topOrder keeps exactly the first K of a full sort by (score desc, index asc), ties and −∞ included', () => {
  const rng = makeRng(5);
  for (const [n, keep] of [[1, 1], [10, 3], [500, 100], [2000, 1000], [7, 7], [7, 20], [30, 0]]) {
    const scores = Float64Array.from({ length: n }, () => (rng.next() < 0.1 ? -Infinity : Math.round(rng.next() * 20) / 20));
    const full = Int32Array.from({ length: n }, (_, i) => i).sort((x, y) => scores[y] - scores[x] || x - y);
    assert.deepEqual([...topOrder(scores, Math.min(keep, n))], [...full.subarray(0, Math.min(keep, n))], `n ${n} keep ${keep}`);
  }
});

test('planted-neighbour precision and recall of an embedding (hand-computed)', () => {
  const items = { count: 8, domain: Int8Array.from([0, 0, 0, 0, 0, 0, 1, 1]) } as unknown as Items;
  // 2-d vectors: sub 0 items near (1, 0), sub 1 near (0, 1), sub 2 at (−1, 0); target 6 = (1, 0.2), target 7 = (0.9, 0.1) (points the wrong way).
  const values = Float32Array.from([1, 0, 1, 0.1, 0, 1, 0.1, 1, -1, 0, -1, 0.1, 1, 0.2, 0.9, 0.1]);
  const has = new Uint8Array(8).fill(1);
  const r = plantedNeighbourRecall('e', { dim: 2, values }, has, items, planted, [2], 10, makeRng(1));
  assert.equal(r.queries, 2);
  assert.equal(r.precision['2'], (1 + 0) / 2);
  assert.equal(r.recall['2'], (1 + 0) / 2);
  const src = plantedNeighbourRecall('e', { dim: 2, values }, has, items, planted, [1], 10, makeRng(1), 0);
  assert.equal(src.queries, 6);
  assert.equal(src.precision['1'], 1, 'each source item’s nearest other source item shares its sub-topic');
});

test('planted-neighbour recall with the native dots equals the JS loop\'s, bit for bit', () => {
  const run = (env: Record<string, string>): { native: boolean; result: unknown } => {
    const p = spawnSync(process.execPath, ['--import', 'tsx', 'test/evaluate/_planted-recall.ts'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(p.status, 0, p.stderr);
    return JSON.parse(p.stdout) as { native: boolean; result: unknown };
  };
  const native = run({});
  const js = run({ GIST_NATIVE: '0' });
  assert.equal(native.native, true, 'the native addon is built');
  assert.equal(js.native, false);
  assert.deepEqual(native.result, js.result);
});

test('the committed synthetic fixture carries planted truth: topic = category, one row per item', () => {
  const dir = path.join(ROOT, 'fixtures', 'tiny');
  const p = readPlanted(dir, 300);
  assert.ok(p);
  assert.equal(p.topic.length, 300);
  assert.equal(readPlanted(path.join(ROOT, 'test'), 300), null, 'no planted.arrow: null');
});

test('no trainer, searcher or pair extractor reads the planted truth', () => {
  // Only the generator, the schema/file-name declarations and the evaluation diagnostics may name it.
  const allowed = new Set(['synth.ts', 'schemas.ts', 'dataset.ts', 'evaluate/planted.ts', 'evaluate/evaluate.ts', 'evaluate/gsu-files.ts', 'evaluate/result.ts', 'evaluate/tables.ts', 'pipeline/pipeline.ts']);
  const core = path.join(ROOT, 'src', 'core');
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts')) {
        const rel = path.relative(core, full).split(path.sep).join('/');
        if (!allowed.has(rel) && /planted|PLANTED/.test(fs.readFileSync(full, 'utf8'))) offenders.push(rel);
      }
    }
  };
  walk(core);
  assert.deepEqual(offenders, []);
  // And the pipeline only checks the file exists (to ask evaluate for the diagnostics); it hands it to no step.
  const pipeline = fs.readFileSync(path.join(core, 'pipeline', 'pipeline.ts'), 'utf8');
  assert.equal((pipeline.match(/DATASET_FILES\.planted/g) ?? []).length, 1);
});
