import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/engine/backend.js';
import { MAX_LOGIT_SCALE, symmetricCrossEntropy, symmetricInfoNce } from '../../src/core/cbjt/infonce.js';
import { duplicateMasks } from '../../src/core/cbjt/training.js';
import { makeRng } from '../../src/core/rng.js';

/** Reference symmetric InfoNCE with plain tensor ops (logSumExp), for gradient comparison. */
function referenceInfoNce(a: tf.Tensor2D, b: tf.Tensor2D, scale: tf.Tensor): tf.Scalar {
  const logits = tf.mul(tf.matMul(a, b, false, true), tf.exp(scale)) as tf.Tensor2D;
  const diag = tf.sum(tf.mul(logits, tf.eye(a.shape[0])), 1);
  const rows = tf.mean(tf.sub(tf.logSumExp(logits, 1), diag));
  const cols = tf.mean(tf.sub(tf.logSumExp(logits, 0), diag));
  return tf.mul(tf.add(rows, cols), 0.5) as tf.Scalar;
}

function unitRows(n: number, d: number, seed: number): tf.Tensor2D {
  const rng = makeRng(seed);
  const v = Float32Array.from({ length: n * d }, () => rng.normal());
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += v[i * d + j] ** 2;
    for (let j = 0; j < d; j++) v[i * d + j] /= Math.sqrt(s);
  }
  return tf.tensor2d(v, [n, d]);
}

test('InfoNCE equals the hand-computed value on a 2-pair batch', async () => {
  await initBackend('wasm');
  // a = [e1, e2], b = [e1, (e1+e2)/√2]; s = 1/τ = 2 (logit_scale = ln 2).
  const r = Math.SQRT1_2;
  const a = tf.tensor2d([1, 0, 0, 1], [2, 2]);
  const b = tf.tensor2d([1, 0, r, r], [2, 2]);
  const scale = tf.scalar(Math.log(2));
  // logits = 2·[[1, r], [0, r]]
  const L = [
    [2, 2 * r],
    [0, 2 * r],
  ];
  const lse = (xs: number[]) => Math.log(xs.reduce((s, x) => s + Math.exp(x), 0));
  const rowsLoss = (lse(L[0]) - L[0][0] + lse(L[1]) - L[1][1]) / 2;
  const colsLoss = (lse([L[0][0], L[1][0]]) - L[0][0] + lse([L[0][1], L[1][1]]) - L[1][1]) / 2;
  const expected = (rowsLoss + colsLoss) / 2;
  const got = symmetricInfoNce(a, b, scale);
  assert.ok(Math.abs(got.dataSync()[0] - expected) < 1e-5, `got ${got.dataSync()[0]}, expected ${expected}`);
  assert.ok(Math.abs(expected - 0.3700) < 1e-3); // ((0.4425 + 0.2176)/2 + (0.1269 + 0.6931)/2)/2, by hand
  tf.dispose([a, b, scale, got]);
});

test('InfoNCE gradients match a tensor-op reference (a, b and the logit scale)', async () => {
  await initBackend('wasm');
  const a = unitRows(6, 4, 1);
  const b = unitRows(6, 4, 2);
  const scale = tf.scalar(Math.log(1 / 0.07));
  const ours = tf.grads((x: tf.Tensor, y: tf.Tensor, s: tf.Tensor) => symmetricInfoNce(x as tf.Tensor2D, y as tf.Tensor2D, s))([a, b, scale]);
  const ref = tf.grads((x: tf.Tensor, y: tf.Tensor, s: tf.Tensor) => referenceInfoNce(x as tf.Tensor2D, y as tf.Tensor2D, s))([a, b, scale]);
  for (let k = 0; k < 3; k++) {
    const o = ours[k].dataSync();
    const r = ref[k].dataSync();
    for (let i = 0; i < o.length; i++) assert.ok(Math.abs(o[i] - r[i]) < 1e-4, `grad ${k}[${i}]: ${o[i]} vs ${r[i]}`);
  }
  const v1 = symmetricInfoNce(a, b, scale);
  const v2 = referenceInfoNce(a, b, scale);
  assert.ok(Math.abs(v1.dataSync()[0] - v2.dataSync()[0]) < 1e-5);
  tf.dispose([a, b, scale, v1, v2, ...ours, ...ref]);
});

test('masks hide in-batch duplicates of a positive; a perfect batch has ~zero loss at max scale', async () => {
  await initBackend('wasm');
  // Items: left [0, 1, 2], right [5, 5, 6]; right 5 appears twice, so rows 0 and 1 must not see each other's column.
  const masks = duplicateMasks([0, 1, 2], [5, 5, 6]);
  assert.ok(masks);
  assert.deepEqual(Array.from(masks.rows), [0, 1, 0, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(masks.cols), [0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(duplicateMasks([0, 1], [2, 3]), null);
  // With the duplicate column hidden, identical right vectors are no longer negatives of each other.
  const logits = tf.tensor2d([5, 5, 0, 5, 5, 0, 0, 0, 5], [3, 3]);
  const masked = symmetricCrossEntropy(logits, { rows: masks.rows, cols: new Uint8Array(9) });
  const unmasked = symmetricCrossEntropy(logits);
  assert.ok(masked.dataSync()[0] < unmasked.dataSync()[0]);
  const eye = tf.eye(4) as tf.Tensor2D;
  const perfect = symmetricInfoNce(eye, eye, tf.scalar(MAX_LOGIT_SCALE));
  assert.ok(perfect.dataSync()[0] < 0.5);
  tf.dispose([logits, masked, unmasked, eye, perfect]);
});

test('InfoNCE leaks no tensors', async () => {
  await initBackend('wasm');
  const a = unitRows(8, 4, 4);
  const b = unitRows(8, 4, 5);
  const s = tf.variable(tf.scalar(1));
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const { value, grads } = tf.variableGrads(() => symmetricInfoNce(a, b, s, duplicateMasks([0, 0, 1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6, 7, 8])), [s]);
    tf.dispose([value, ...Object.values(grads)]);
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([a, b, s]);
});
