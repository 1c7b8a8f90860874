/**
 * Outputs of the native model kernels on fixed random inputs (not a test file): the MLP attention scorer's values
 * and every gradient, matMul products through the GEMM, and an embedding gather with its gradient. Imported by native-attention.test.ts and
 * native-gemm.test.ts, and run as a script in child processes with GIST_NATIVE_ISA / GIST_NATIVE set: prints
 * {kernel, attention, gemm, rows}, digests covering every output bit.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { targetAttention } from '../../src/core/ctr/attention.js';
import { initBackend } from '../../src/core/engine/backend.js';
import { SparseEmbedding } from '../../src/core/engine/sparse-embedding.js';
import { modelKernelName } from '../../src/core/retrieval/native.js';
import { makeRng } from '../../src/core/rng.js';
import { randArray } from './_util.js';

export interface AttentionCase {
  B: number;
  L: number;
  d: number;
  A: number;
  /** side-feature width (0: none) */
  S: number;
}

/** Attention weights [B, L] followed by the gradients of a fixed scalar of the outputs w.r.t. every input. */
export function attentionOutputs(c: AttentionCase, seed = 1): { names: string[]; values: Float32Array[] } {
  const { B, L, d, A, S } = c;
  const t = (shape: number[], s: number, scale = 1): tf.Tensor => tf.tensor(randArray(shape.reduce((a, b) => a * b, 1), seed * 100 + s, -scale, scale), shape);
  // a third of the positions padded, as in real batches
  const maskVals = Float32Array.from({ length: B * L }, (_, i) => (i % L >= L - Math.floor(L / 3) && i % 2 === 0 ? -1e9 : 0));
  return tf.tidy(() => {
    const mask = tf.tensor2d(maskVals, [B, L]);
    const inputs = [t([B, L, d], 1), t([B, d], 2), t([d, A], 3, 0.5), t([d, A], 4, 0.5), t([d, A], 5, 0.5), t([A], 6, 0.1), t([A, 1], 7, 0.5)];
    if (S > 0) inputs.push(t([B, L, S], 8), t([S, A], 9, 0.5));
    const mix = t([d], 10);
    const f = (...x: tf.Tensor[]): tf.Tensor => {
      const [h, q, wh, wt, wp, b1, w2, side, ws] = x;
      const o = targetAttention('mlp', h as tf.Tensor3D, q as tf.Tensor2D, mask, { wh, wt, wp, b1, w2, ws }, (side ?? null) as tf.Tensor3D | null);
      const pooled = tf.sum(tf.mul(o.pooled, mix));
      return o.pooledSide ? tf.add(pooled, tf.sum(tf.square(o.pooledSide))) : pooled;
    };
    const grads = tf.grads(f)(inputs);
    const [h, q, wh, wt, wp, b1, w2, side, ws] = inputs;
    const weights = targetAttention('mlp', h as tf.Tensor3D, q as tf.Tensor2D, mask, { wh, wt, wp, b1, w2, ws }, (side ?? null) as tf.Tensor3D | null).weights;
    const names = ['weights', 'dh', 'dt', 'dwh', 'dwt', 'dwp', 'db1', 'dw2', ...(S > 0 ? ['dside', 'dws'] : [])];
    return { names, values: [weights, ...grads].map((x) => Float32Array.from(x.dataSync())) };
  });
}

/** Products through the wasm matMul kernels: plain, transposed operands, fused bias + relu. */
export function gemmOutputs(seed = 1): Float32Array[] {
  const r = (rows: number, cols: number, s: number): tf.Tensor2D => tf.tensor2d(randArray(rows * cols, seed * 100 + s), [rows, cols]);
  return tf.tidy(() => {
    const a = r(70, 300, 1);
    const b = r(300, 45, 2);
    const outs = [
      tf.matMul(a, b),
      tf.matMul(r(300, 70, 3), b, true, false),
      tf.matMul(a, r(45, 300, 4), false, true),
      tf.matMul(r(300, 70, 5), r(45, 300, 6), true, true),
      tf.fused.matMul({ a, b, bias: tf.tensor1d(randArray(45, seed * 100 + 7)), activation: 'relu' }),
      // 9M multiply-adds (threads get 4M each) and K = 900 (k blocks of 384: partial sums carried between them);
      // M and N not multiples of the 6 × 32 tile
      tf.matMul(r(131, 900, 8), r(900, 77, 9)),
      tf.matMul(r(900, 131, 10), r(77, 900, 11), true, true),
      tf.fused.matMul({ a: r(131, 900, 12), b: r(77, 900, 13), transposeB: true, bias: tf.tensor1d(randArray(77, seed * 100 + 14)), activation: 'relu' }),
    ];
    return outs.map((x) => Float32Array.from(x.dataSync()));
  });
}

/**
 * An embedding-style gather and its gradient (GatherV2, UnsortedSegmentSum), float32 and int32; then a table after
 * a few row-sparse Adam steps (SparseEmbedding.applyGradient: native/rows.h's sparse_adam or its JS loop).
 */
export function rowsOutputs(seed = 1): Float32Array[] {
  const emb = new SparseEmbedding('digest', { rows: 300, dim: 18, optimizer: 'adam', learningRate: 0.01 }, makeRng(seed));
  for (let step = 0; step < 6; step++) {
    // rows revisited at different counts, so their bias corrections differ
    const unique = Int32Array.from({ length: 300 }, (_, i) => i).filter((i) => (i * 7 + step * 13) % (2 + (i % 3)) !== 0);
    emb.applyGradient(unique, randArray(unique.length * 18, seed * 100 + 20 + step));
  }
  return [...rowsTensorOutputs(seed), emb.table.slice()];
}

function rowsTensorOutputs(seed: number): Float32Array[] {
  return tf.tidy(() => {
    const table = tf.tensor2d(randArray(300 * 18, seed * 100 + 11), [300, 18]);
    const ids = tf.tensor1d(Int32Array.from(randArray(5000, seed * 100 + 12, 0, 300), Math.floor), 'int32');
    const weights = tf.tensor2d(randArray(5000 * 18, seed * 100 + 13), [5000, 18]);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), weights)))(table);
    const intRows = tf.gather(tf.tensor2d(Int32Array.from({ length: 300 * 4 }, (_, i) => i * 7), [300, 4], 'int32'), ids);
    return [tf.gather(table, ids), grad, intRows].map((x) => Float32Array.from(x.dataSync()));
  });
}

export const DIGEST_CASE: AttentionCase = { B: 37, L: 13, d: 18, A: 45, S: 8 };

export function digest(values: Float32Array[]): string {
  const h = createHash('sha256');
  for (const v of values) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return h.digest('hex');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await initBackend('wasm');
  const { values } = attentionOutputs(DIGEST_CASE);
  console.log(JSON.stringify({ kernel: modelKernelName('wasm'), attention: digest(values), gemm: digest(gemmOutputs()), rows: digest(rowsOutputs()) }));
}

/** Digests of `outputs()` run with GIST_THREADS = 1, 2 and 3 (the variable restored after). */
export function digestsByThreads(outputs: () => Float32Array[]): string[] {
  const before = process.env.GIST_THREADS;
  try {
    return ['1', '2', '3'].map((n) => {
      process.env.GIST_THREADS = n;
      return digest(outputs());
    });
  } finally {
    if (before === undefined) delete process.env.GIST_THREADS;
    else process.env.GIST_THREADS = before;
  }
}
