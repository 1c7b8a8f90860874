import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { holdOutPairs, MIN_HOLDOUT_PAIRS, pairWeights, resolveTrainUnionConfig } from '../../src/core/cbjt/train-union.js';
import { duplicateMasks, runEpochs, weightedOrder } from '../../src/core/cbjt/training.js';
import { noProgress } from '../../src/core/output.js';
import { initBackend } from '../../src/core/engine/backend.js';
import { UsageError } from '../../src/core/errors.js';
import { makeRng } from '../../src/core/rng.js';

/** Hidden entries (i, k) of a row-major n × n mask. */
function hidden(mask: Uint8Array, n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) if (mask[i * n + k]) out.push([i, k]);
  return out;
}

test('shared space: an item on both sides of a batch is not its own negative', () => {
  // Pairs (a, b), (c, a), (d, e) with a = 1, b = 2, c = 3, d = 4, e = 5: entry (0, 1) is u_a·u_a.
  const left = [1, 3, 4];
  const right = [2, 1, 5];
  const m = duplicateMasks(left, right, { sharedSpace: true });
  assert.ok(m);
  // Row 0 (query a, positive b) must not see column 1 (a); column 1 (query a, positive c) must not see row 0 (a).
  assert.deepEqual(hidden(m.rows, 3), [[0, 1]]);
  assert.deepEqual(hidden(m.cols, 3), [[0, 1]]);
  // Different spaces (two views, content vs ID): equal ids are unrelated vectors, nothing is hidden.
  assert.equal(duplicateMasks(left, right), null);
  assert.equal(duplicateMasks(left, right, { sharedSpace: false }), null);
});

test('shared space: reversed pairs hide both self-similarities; same-side duplicates still hidden', () => {
  // (a, b), (b, a), (c, b): entries (0, 1) = u_a·u_a and (1, 0), (1, 2) = u_b·u_b; right b repeats in rows 0 and 2.
  const m = duplicateMasks([1, 2, 3], [2, 1, 2], { sharedSpace: true });
  assert.ok(m);
  assert.deepEqual(hidden(m.rows, 3), [[0, 1], [0, 2], [1, 0], [1, 2], [2, 0]]);
  assert.deepEqual(hidden(m.cols, 3), [[0, 1], [1, 0], [1, 2]]);
  // Without the shared space only the same-side duplicate (right b in rows 0 and 2) is hidden.
  const plain = duplicateMasks([1, 2, 3], [2, 1, 2]);
  assert.ok(plain);
  assert.deepEqual(hidden(plain.rows, 3), [[0, 2], [2, 0]]);
  assert.deepEqual(hidden(plain.cols, 3), []);
});

test('masks are null when nothing needs hiding, including a self-pair in shared space', () => {
  assert.equal(duplicateMasks([0, 1, 2], [3, 4, 5], { sharedSpace: true }), null);
  // left[i] = right[i] is the positive itself (the diagonal), never hidden.
  assert.equal(duplicateMasks([0, 1], [0, 2], { sharedSpace: true }), null);
  // A left duplicate alone still gives masks, with the cross rule adding nothing.
  const m = duplicateMasks([0, 0], [1, 2], { sharedSpace: true });
  assert.ok(m);
  assert.deepEqual(hidden(m.rows, 2), []);
  assert.deepEqual(hidden(m.cols, 2), [[0, 1], [1, 0]]);
});

test('count-weighted sampling: frequencies follow the weights, seeded and deterministic', () => {
  const count = Int32Array.from([1, 4, 9, 16, 1, 100]);
  const sqrt = pairWeights(count, 'sqrt-count');
  assert.deepEqual(Array.from(sqrt!), [1, 2, 3, 4, 1, 10]);
  assert.deepEqual(Array.from(pairWeights(count, 'count')!), [1, 4, 9, 16, 1, 100]);
  assert.equal(pairWeights(count, 'none'), null);

  // Over many epochs of n draws each, every row's share matches its weight's share.
  const n = count.length;
  const total = sqrt!.reduce((a, b) => a + b, 0);
  const freq = new Float64Array(n);
  const rng = makeRng(3);
  const epochs = 2000;
  for (let e = 0; e < epochs; e++) {
    const order = weightedOrder(sqrt!, n, rng.fork(`epoch${e}`));
    assert.equal(order.length, n); // same steps per epoch as an unweighted permutation
    for (const i of order) freq[i]++;
  }
  for (let i = 0; i < n; i++) {
    const expected = (sqrt![i] / total) * n * epochs;
    assert.ok(Math.abs(freq[i] - expected) < 0.05 * expected + 5, `row ${i}: ${freq[i]} draws, expected ~${expected.toFixed(1)}`);
  }
  // Within one epoch each row appears floor or ceil of its expected count (systematic resampling).
  const big = Float64Array.from({ length: 1000 }, (_, i) => 1 + (i % 10));
  const sum = big.reduce((a, b) => a + b, 0);
  const once = new Float64Array(1000);
  for (const i of weightedOrder(big, 1000, makeRng(5))) once[i]++;
  for (let i = 0; i < 1000; i++) {
    const x = (big[i] / sum) * 1000;
    assert.ok(once[i] >= Math.floor(x) && once[i] <= Math.ceil(x), `row ${i}: ${once[i]} vs ${x}`);
  }
  // Zero weight: never drawn. Same seed: same order.
  const z = weightedOrder(Float64Array.from([0, 1, 0, 1]), 50, makeRng(9));
  assert.ok(Array.from(z).every((i) => i === 1 || i === 3));
  assert.deepEqual(weightedOrder(sqrt!, n, makeRng(11)), weightedOrder(sqrt!, n, makeRng(11)));
});

test('pairWeighting is validated by the config resolver; default sqrt-count', () => {
  assert.equal(resolveTrainUnionConfig({}).pairWeighting, 'sqrt-count');
  assert.equal(resolveTrainUnionConfig({ pairWeighting: 'none' }).pairWeighting, 'none');
  assert.throws(() => resolveTrainUnionConfig({ pairWeighting: 'log' as never }), UsageError);
  assert.throws(() => resolveTrainUnionConfig({ pairWeighting: 3 as never }), UsageError);
  assert.equal(resolveTrainUnionConfig({}).holdout, 0.1);
  assert.throws(() => resolveTrainUnionConfig({ holdout: 1 }), UsageError);
  assert.throws(() => resolveTrainUnionConfig({ patience: 0 }), UsageError);
});

test('holdOutPairs: a seeded share held out (capped), disjoint from the pairs trained on; none below the minimum', () => {
  const n = 2000;
  const pairs = { left: Int32Array.from({ length: n }, (_, i) => i), right: Int32Array.from({ length: n }, (_, i) => n + i), count: Int32Array.from({ length: n }, (_, i) => 1 + (i % 3)) };
  const a = holdOutPairs(pairs, 0.1, 5000, makeRng(3));
  assert.equal(a.heldOut?.query.length, 200);
  assert.equal(a.train.left.length, 1800);
  const held = new Set(a.heldOut!.query);
  for (let i = 0; i < a.train.left.length; i++) {
    assert.ok(!held.has(a.train.left[i]), 'a held-out pair is not trained on');
    assert.equal(a.train.right[i], n + a.train.left[i], 'rows stay whole');
    assert.equal(a.train.count[i], 1 + (a.train.left[i] % 3));
  }
  assert.deepEqual(Array.from(a.heldOut!.truth), Array.from(a.heldOut!.query, (q) => n + q));
  assert.deepEqual(holdOutPairs(pairs, 0.1, 5000, makeRng(3)).heldOut, a.heldOut, 'seeded');
  assert.notDeepEqual(holdOutPairs(pairs, 0.1, 5000, makeRng(4)).heldOut, a.heldOut);
  assert.equal(holdOutPairs(pairs, 0.5, 150, makeRng(3)).heldOut?.query.length, 150, 'capped');
  const few = holdOutPairs(pairs, (MIN_HOLDOUT_PAIRS - 1) / n, 5000, makeRng(3));
  assert.equal(few.heldOut, null);
  assert.equal(few.train, pairs, 'every pair trains');
  assert.equal(holdOutPairs(pairs, 0, 5000, makeRng(3)).heldOut, null);
});

test('runEpochs early stopping: stops after `patience` epochs without a better score and goes back to the best epoch', async () => {
  await initBackend('wasm');
  const logitScale = tf.variable(tf.scalar(Math.log(1 / 0.07)));
  const scores = [0.1, 0.3, 0.25, 0.28, 0.9];
  let epoch = 0;
  const saved: number[] = [];
  let restored = -1;
  const run = (patience: number) =>
    runEpochs({
      n: 8,
      schedule: { batchSize: 4, epochs: 5, minSteps: 0 },
      rng: makeRng(1),
      logitScale,
      phase: 't',
      onProgress: noProgress,
      step: () => 1,
      earlyStop: { patience, score: () => scores[epoch++], save: () => saved.push(epoch), restore: () => (restored = saved.at(-1) as number) },
    });
  const r = run(2);
  assert.equal(r.epochs, 4, 'epochs 3 and 4 did not beat epoch 2: stop after 4');
  assert.equal(r.bestEpoch, 2);
  assert.deepEqual(saved, [1, 2]);
  assert.equal(restored, 2, 'the best epoch’s weights are put back');
  assert.deepEqual(r.curve.map((p) => p.holdout), [0.1, 0.3, 0.25, 0.28]);
  epoch = 0;
  saved.length = 0;
  restored = -1;
  const all = run(10);
  assert.equal(all.epochs, 5);
  assert.equal(all.bestEpoch, 5);
  assert.equal(restored, -1, 'the last epoch was the best: nothing to put back');
  const plain = runEpochs({ n: 8, schedule: { batchSize: 4, epochs: 3, minSteps: 0 }, rng: makeRng(1), logitScale, phase: 't', onProgress: noProgress, step: () => 1 });
  assert.deepEqual([plain.epochs, plain.bestEpoch, plain.curve[0].holdout], [3, 3, undefined]);
  logitScale.dispose();
});
