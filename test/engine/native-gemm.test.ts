import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/engine/backend.js';
import { NATIVE_GEMM_MIN_MACS, nativeGemmCalls, setNativeGemm } from '../../src/core/engine/native-gemm.js';
import { digestsByThreads, gemmOutputs } from './_native-digest.js';
import { maxAbsDiff, randArray } from './_util.js';
import { nativeKernels } from '../../src/core/retrieval/native.js';
import { rowDot } from '../../src/core/ctr/asi.js';


/** The same products with XNNPACK's kernel (native GEMM off for the call). */
function onXnnpack<T>(f: () => T): T {
  setNativeGemm(false);
  try {
    return f();
  } finally {
    setNativeGemm(true);
  }
}

test('native GEMM = XNNPACK up to rounding: plain, transposed operands, fused bias + relu', async () => {
  await initBackend('wasm');
  const before = nativeGemmCalls();
  const native = gemmOutputs();
  assert.equal(nativeGemmCalls() - before, native.length, 'every product ran on the native GEMM');
  const stock = onXnnpack(() => gemmOutputs());
  native.forEach((x, i) => {
    const scale = Math.max(...Array.from(stock[i], Math.abs));
    assert.ok(maxAbsDiff(x, stock[i]) <= 1e-5 * scale, `product ${i}: ${maxAbsDiff(x, stock[i])} (scale ${scale})`);
  });
  // relu applied: the fused product has zeros where the plain one is negative
  assert.ok(native[4].some((v) => v === 0) && native[0].some((v) => v < 0));
});

test('native GEMM gives the same bits on 1, 2 and 3 threads', async () => {
  await initBackend('wasm');
  const digests = digestsByThreads(() => gemmOutputs(2));
  assert.equal(new Set(digests).size, 1, digests.join(' '));
});

test('small and batched products stay on XNNPACK; gradients through the native GEMM match', async () => {
  await initBackend('wasm');
  const before = nativeGemmCalls();
  tf.tidy(() => {
    tf.matMul(tf.ones([4, 8]), tf.ones([8, 4])); // 128 MACs < NATIVE_GEMM_MIN_MACS
    tf.matMul(tf.ones([3, 40, 40]), tf.ones([3, 40, 40])); // batched
  });
  assert.ok(4 * 8 * 4 < NATIVE_GEMM_MIN_MACS);
  assert.equal(nativeGemmCalls(), before);
  // d/dx, d/dw of sum(relu(x·w + b)): forward and both gradients (transposed products) on the native GEMM
  const grads = (): Float32Array[] =>
    tf.tidy(() => {
      const x = tf.tensor2d(Float32Array.from({ length: 64 * 300 }, (_, i) => Math.sin(i)), [64, 300]);
      const w = tf.tensor2d(Float32Array.from({ length: 300 * 50 }, (_, i) => Math.cos(i) * 0.1), [300, 50]);
      const b = tf.tensor1d(Float32Array.from({ length: 50 }, (_, i) => (i % 7) * 0.01));
      const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.fused.matMul({ a: xx as tf.Tensor2D, b: ww as tf.Tensor2D, bias: b, activation: 'relu' })))([x, w]);
      return g.map((t) => Float32Array.from(t.dataSync()));
    });
  const calls = nativeGemmCalls();
  const native = grads();
  assert.ok(nativeGemmCalls() - calls >= 3, 'forward and both gradient products on the native GEMM');
  const stock = onXnnpack(grads);
  native.forEach((x, i) => assert.ok(maxAbsDiff(x, stock[i]) < 1e-4, `gradient ${i}: ${maxAbsDiff(x, stock[i])}`));
});

test('native row gather and segment sum give the same bits as the JS loops they replace', async () => {
  const { nativeKernels } = await import('../../src/core/retrieval/native.js');
  const { randArray, randInts } = await import('./_util.js');
  const k = nativeKernels();
  assert.ok(k);
  const rows = 500;
  const row = 18;
  const x = randArray(rows * row, 1, -3, 3);
  const idx = randInts(4000, rows, 2);
  const gathered = new Float32Array(idx.length * row);
  k.gatherRows(x, idx, row, gathered);
  const ints = Int32Array.from(x, (v) => Math.round(v * 1000));
  const gatheredInts = new Int32Array(idx.length * row);
  k.gatherRows(ints, idx, row, gatheredInts);
  for (let i = 0; i < idx.length; i++)
    for (let j = 0; j < row; j++) {
      assert.equal(gathered[i * row + j], x[idx[i] * row + j]);
      assert.equal(gatheredInts[i * row + j], ints[idx[i] * row + j]);
    }
  // segment sum: float32 adds in input order, ids outside [0, segments) skipped
  const seg = Int32Array.from(randInts(4000, 130, 3), (s) => s - 5); // −5 … 124, 100 segments
  const src = randArray(seg.length * row, 4, -1, 1);
  const native = new Float32Array(100 * row).fill(7); // zeroed by the kernel
  k.segmentSum(src, seg, row, 100, native);
  const js = new Float32Array(100 * row);
  for (let i = 0; i < seg.length; i++) if (seg[i] >= 0 && seg[i] < 100) for (let j = 0; j < row; j++) js[seg[i] * row + j] += src[i * row + j];
  assert.deepEqual(native, js);
  assert.throws(() => k.gatherRows(x, Int32Array.from([rows]), row, new Float32Array(row)), /index out of range/);
  // sparse Adam reads its bias terms by each row's next update count: tables that stop short are refused
  const table = new Float32Array(4 * 2);
  const step = Int32Array.from([0, 3, 0, 0]);
  const adam = (unique: number[], terms: number) =>
    k.sparseAdam(table, new Float32Array(8), new Float32Array(8), step, Int32Array.from(unique), new Float32Array(unique.length * 2), new Float64Array(terms), new Float64Array(terms), Float64Array.of(0.9, 0.999, 1e-8));
  assert.throws(() => adam([1], 4), /must reach every row's next count/, 'row 1 is at count 3: its next is 4');
  assert.throws(() => adam([4], 8), /row id out of range/);
  adam([1], 5);
  assert.deepEqual(Array.from(step), [0, 4, 0, 0]);
});

test('native rowDots gives rowDot\'s bits (double sums in k order), NaN where a row is missing; bad indices refused', () => {
  const native = nativeKernels();
  assert.ok(native, 'the native addon is built');
  const dim = 37;
  const rows = 50;
  const x = Float32Array.from(randArray(rows * dim, 77), (v) => v * 3);
  const n = 403; // blocks of eight pairs, some with a missing row, and a tail
  const a = Int32Array.from({ length: n }, (_, i) => (i % 17 === 0 ? -1 : (i * 7) % rows));
  const b = Int32Array.from({ length: n }, (_, i) => (i % 23 === 0 ? -1 : (i * 13 + 5) % rows));
  const out = new Float32Array(n);
  native.rowDots(x, dim, a, b, out);
  const js = Float32Array.from({ length: n }, (_, i) => (a[i] < 0 || b[i] < 0 ? NaN : rowDot(x, dim, a[i], b[i])));
  assert.deepEqual(new Uint32Array(out.buffer), new Uint32Array(js.buffer));
  assert.ok(out.some((v) => Number.isNaN(v)) && out.some((v) => v !== 0 && Number.isFinite(v)));
  // kept in double for a Float64Array out
  const out64 = new Float64Array(n);
  native.rowDots(x, dim, a, b, out64);
  const js64 = Float64Array.from({ length: n }, (_, i) => (a[i] < 0 || b[i] < 0 ? NaN : rowDot(x, dim, a[i], b[i])));
  assert.deepEqual(new BigUint64Array(out64.buffer), new BigUint64Array(js64.buffer));
  assert.ok(out64.some((v, i) => v !== out[i] && Number.isFinite(v)), 'not rounded to float');
  assert.throws(() => native.rowDots(x, dim, Int32Array.of(rows), Int32Array.of(0), new Float32Array(1)), /index out of range/);
  assert.throws(() => native.rowDots(x, dim, Int32Array.of(0, 1), Int32Array.of(0), new Float32Array(2)), /as long as a/);
});
