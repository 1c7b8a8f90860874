import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auc, gauc, logloss, rocCurve } from '../../src/core/metrics.js';
import { pairRanks, recallAtK } from '../../src/core/evaluate/recall.js';
import { nativeKernels } from '../../src/core/retrieval/native.js';
import { defaultPopularityThreshold, popularityGroups } from '../../src/core/evaluate/popularity.js';
import { makeRng } from '../../src/core/rng.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Float32, Int32, Int8, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { readArrow } from '../../src/core/arrow-io.js';
import { InputDataError } from '../../src/core/errors.js';
import { evaluate } from '../../src/core/evaluate/evaluate.js';
import { parquetBytes } from '../../src/core/parquet.js';
import { PREDICTIONS } from '../../src/core/schemas.js';
import { makeEvalFixture } from './_fixtures.js';

const close = (a: number, b: number, eps = 1e-12): void => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b}`);

test('AUC counts tied positive/negative pairs as half', () => {
  // pos 0.2 vs neg 0.2 → ½, vs neg 0.5 → 0; pos 0.5 vs 0.2 → 1, vs 0.5 → ½; pos 0.9 → 2. Total 4 of 6 pairs.
  close(auc([0, 1, 0, 1, 1], [0.2, 0.2, 0.5, 0.5, 0.9]), 4 / 6);
  close(auc([1, 0, 1, 0], [0.7, 0.7, 0.7, 0.7]), 0.5);
  assert.ok(Number.isNaN(auc([0, 0], [0.1, 0.2])));
});

test('gAUC weights users by samples and leaves out single-class users', () => {
  const users = [1, 1, 1, 2, 2, 3, 3, 3, 3];
  const labels = [0, 1, 1, 1, 1, 0, 1, 0, 1];
  const scores = [0.3, 0.4, 0.2, 0.1, 0.9, 0.1, 0.9, 0.5, 0.5];
  // user 1: AUC ½ (3 samples); user 2: positives only, excluded; user 3: 3.5/4 (4 samples)
  close(gauc(users, labels, scores), (0.5 * 3 + 0.875 * 4) / 7);
  assert.ok(Number.isNaN(gauc([1, 2], [1, 0], [0.5, 0.5])));
});

test('logloss is the mean cross-entropy with clipped probabilities', () => {
  close(logloss([1, 0, 1], [0.9, 0.2, 0.6]), -(Math.log(0.9) + Math.log(0.8) + Math.log(0.6)) / 3);
  close(logloss([1], [0]), -Math.log(1e-7));
});

test('ROC curve area equals AUC, with ties and after thinning', () => {
  const rng = makeRng(3);
  const n = 3000;
  const labels = Int8Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
  const scores = Float32Array.from(labels, (l) => Math.round((0.4 * l + rng.next()) * 20) / 20); // many ties
  const full = rocCurve(labels, scores, undefined, 1e9);
  let area = 0;
  for (let i = 1; i < full.fpr.length; i++) area += ((full.fpr[i] - full.fpr[i - 1]) * (full.tpr[i] + full.tpr[i - 1])) / 2;
  close(area, auc(labels, scores), 1e-9);
  assert.deepEqual([full.fpr[0], full.tpr[0], full.fpr.at(-1), full.tpr.at(-1)], [0, 0, 1, 1]);
  const thin = rocCurve(labels, scores, undefined, 10);
  assert.equal(thin.fpr.length, Math.min(10, full.fpr.length));
  assert.equal(rocCurve([1, 1], [0.1, 0.2]).fpr.length, 0);
});

test('Recall@K on a hand-made case: ties shared in expectation, query never a candidate', () => {
  const deg = (a: number): [number, number] => [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180)];
  // item 0 is the query; 1 at 10°, 2 and 4 at 20° (a tie), 3 at 30°, 5 has a vector but is no candidate
  const rows = [deg(0), deg(10), deg(20), deg(30), deg(20), deg(5)];
  const norms = [1, 3, 2, 0.5, 2, 1]; // cosine ignores length
  const values = Float32Array.from(rows.flatMap((r, i) => r.map((v) => v * norms[i])));
  const vectors = { dim: 2, values };
  const pairs = { target: Int32Array.from([0, 0, 0, 0]), related: Int32Array.from([1, 2, 4, 5]) };
  const candidates = Int32Array.from([0, 1, 2, 3, 4]);
  const ranks = pairRanks(vectors, pairs, candidates);
  assert.deepEqual(Array.from(ranks.greater), [0, 1, 1, -1]); // item 0 itself is never counted
  assert.deepEqual(Array.from(ranks.ties), [0, 1, 1, 0]);
  // @1: pair 1 only. @2: pairs 2 and 4 share the second place → ½ each. @3: both fit.
  assert.deepEqual(recallAtK(vectors, pairs, [1, 2, 3, 10], candidates), { '1': 0.25, '2': 0.5, '3': 0.75, '10': 0.75 });
});

test('a collapsed embedding scores like chance, not like a perfect one', () => {
  const values = new Float32Array(101 * 4).fill(0.5); // every item the same vector
  const pairs = { target: Int32Array.from([0, 0, 0]), related: Int32Array.from([1, 50, 100]) };
  const candidates = Int32Array.from({ length: 101 }, (_, i) => i);
  const r = recallAtK({ dim: 4, values }, pairs, [10, 100], candidates);
  close(r['10'], 10 / 100);
  close(r['100'], 1);
});

test('blocked Recall@K ranks equal a naive count (several query blocks and a remainder)', () => {
  const rng = makeRng(11);
  const items = 300;
  const dim = 7;
  const values = Float32Array.from({ length: items * dim }, () => Math.round(rng.normal() * 2) / 2); // coarse values: some exact ties
  const candidates = Int32Array.from({ length: 200 }, (_, i) => i + 50);
  const target = Int32Array.from({ length: 45 }, () => rng.int(items));
  const related = Int32Array.from({ length: 45 }, () => 50 + rng.int(200));
  const ranks = pairRanks({ dim, values }, { target, related }, candidates);
  const unit = (a: number): number[] => {
    const v = Array.from(values.subarray(a * dim, (a + 1) * dim));
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
    return v.map((x) => x / n);
  };
  const cos = (a: number, b: number): number => unit(a).reduce((s, x, k) => s + x * unit(b)[k], 0);
  assert.ok(ranks.ties.some((e) => e > 0), 'the data has ties to check');
  for (let p = 0; p < target.length; p++) {
    const t = target[p];
    if (related[p] === t) {
      assert.equal(ranks.greater[p], -1);
      continue;
    }
    const sr = cos(t, related[p]);
    const others = Array.from(candidates).filter((c) => c !== t && c !== related[p]);
    assert.equal(ranks.greater[p], others.filter((c) => cos(t, c) > sr + 1e-6).length, `pair ${p} greater`);
    assert.equal(ranks.ties[p], others.filter((c) => Math.abs(cos(t, c) - sr) <= 1e-6).length, `pair ${p} ties`);
  }
});

test('popularity threshold is the median target_count of target items with interactions', () => {
  const domain = Int8Array.from([0, 1, 1, 1, 1, 1]);
  assert.equal(defaultPopularityThreshold(Int32Array.from([50, 0, 3, 9, 1, 7]), domain), 5); // median of 1, 3, 7, 9
  assert.equal(defaultPopularityThreshold(Int32Array.from([50, 0, 3, 9, 1, 0]), domain), 3); // median of 1, 3, 9
  assert.equal(defaultPopularityThreshold(Int32Array.from([50, 0, 0, 0, 0, 0]), domain), 0);
});

test('popularity groups split samples at the threshold and score each group', () => {
  const itemCount = Int32Array.from([0, 2, 5, 9]);
  const items = Int32Array.from([0, 1, 2, 3, 1, 3, 0, 2]);
  const labels = [1, 0, 1, 0, 1, 1, 0, 0];
  const scores = [0.9, 0.1, 0.2, 0.3, 0.8, 0.7, 0.4, 0.6];
  const g = popularityGroups(items, labels, scores, itemCount, 5);
  // low: items 0 and 1 (rows 0, 1, 4, 6) → positives 0.9, 0.8 above negatives 0.1, 0.4
  assert.deepEqual(g.low, { auc: 1, n: 4 });
  // high: items 2 and 3 (rows 2, 3, 5, 7): positives 0.2, 0.7 vs negatives 0.3, 0.6 → 2 of 4 pairs
  assert.deepEqual(g.high, { auc: 0.5, n: 4 });
});

test('evaluate scores predictions made by other tools (CSV with string users, Parquet with user_id/item_id) like its own', async () => {
  const f = makeEvalFixture();
  const arrowFile = f.predictions.gist;
  const p = readArrow(arrowFile, PREDICTIONS);
  const c = p.columns;
  const split = c.split as { codes: Int32Array; values: string[] };
  const n = (c.user_id as Int32Array).length;
  const csv = path.join(f.work, 'fuxictr.csv');
  const lines = ['user,item,label,score,split,extra'];
  for (let i = 0; i < n; i++) lines.push(`u-${(c.user_id as Int32Array)[i]},${(c.item_id as Int32Array)[i]},${(c.label as Int8Array)[i]},${(c.score as Float32Array)[i]},${split.values[split.codes[i]]},ignored`);
  fs.writeFileSync(csv, lines.join('\n') + '\n');
  const pq = path.join(f.work, 'pandas.parquet');
  fs.writeFileSync(
    pq,
    parquetBytes(
      new Table({
        user_id: vectorFromArray(Array.from(c.user_id as Int32Array), new Int32()),
        item_id: vectorFromArray(Array.from(c.item_id as Int32Array), new Int32()),
        label: vectorFromArray(Array.from(c.label as Int8Array), new Int8()),
        score: vectorFromArray(Array.from(c.score as Float32Array), new Float32()),
        split: vectorFromArray(Array.from(split.codes, (k) => split.values[k]), new Utf8()),
      }),
    ),
  );
  const r = await evaluate({ predictions: [`gist=${arrowFile}`, `csv=${csv}`, `parquet=${pq}`], data: f.data, split: 'test' });
  const [own, fromCsv, fromParquet] = r.runs;
  for (const other of [fromCsv, fromParquet]) {
    assert.equal(other.n, own.n);
    assert.ok(Math.abs(other.auc! - own.auc!) < 1e-12, `${other.name} AUC`);
    assert.ok(Math.abs(other.gauc! - own.gauc!) < 1e-12, `${other.name} gAUC`);
    assert.ok(Math.abs(other.logloss! - own.logloss!) < 1e-6, `${other.name} logloss`);
    assert.deepEqual(other.popularity, own.popularity);
  }
  // Bad rows name the file, column and row; a missing column is named too.
  fs.writeFileSync(csv, 'user,item,label,score\nu1,3,1,0.5\nu2,4,2,0.5\n');
  await assert.rejects(evaluate({ predictions: [csv], split: 'test' }), (e: unknown) => e instanceof InputDataError && /fuxictr\.csv, column label, row 3: label "2" is not 0 or 1/.test((e as Error).message));
  fs.writeFileSync(csv, 'user,item,label\nu1,3,1\n');
  await assert.rejects(evaluate({ predictions: [csv], split: 'test' }), /fuxictr\.csv, column score: missing column "score"/);
});

test('Recall@K ranks from the native kernel equal the JS loop bit for bit (ties, self, unreachable pairs, query groups)', () => {
  const native = nativeKernels();
  assert.ok(native, 'the native addon is built (npm run build:native)');
  const rng = makeRng(5);
  for (const [items, dim, nPairs] of [
    [300, 7, 45],
    [1000, 16, 400],
    [50, 3, 9],
  ] as const) {
    const values = Float32Array.from({ length: items * dim }, () => Math.round(rng.normal() * 2) / 2); // coarse: exact ties
    for (let k = 0; k < dim; k++) values[5 * dim + k] = 2 * values[9 * dim + k]; // a proportional pair: cosine 1
    const candidates = Int32Array.from({ length: Math.floor(items * 0.7) }, (_, i) => i + Math.floor(items * 0.1));
    const target = Int32Array.from({ length: nPairs }, (_, p) => (p % 7 === 0 ? 5 : rng.int(items)));
    const related = Int32Array.from({ length: nPairs }, (_, p) => (p % 7 === 0 ? 9 : p % 11 === 0 ? target[p] : rng.int(items)));
    const js = pairRanks({ dim, values }, { target, related }, candidates, undefined, null);
    const nat = pairRanks({ dim, values }, { target, related }, candidates, undefined, native);
    assert.ok(js.ties.some((e) => e > 0) && js.greater.some((g) => g < 0), 'the case has ties and unreachable pairs');
    assert.deepEqual(Array.from(nat.greater), Array.from(js.greater), `greater, ${items} items × ${dim}`);
    assert.deepEqual(Array.from(nat.ties), Array.from(js.ties), `ties, ${items} items × ${dim}`);
  }
});
