/**
 * Microbenchmarks of the tfjs-wasm kernels behind a DIN attention training step at the bench shape
 * (B = 1024, L = 100, d = 18, A = 64), to size the CTR speed-ups suggested in the bench report.
 *   node --import tsx bench/ctr_kernels.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/core/engine/backend.js';

await initBackend('wasm');
const B = 1024;
const L = 100;
const d = 18;
const A = 64;
const N = B * L;
const U = 19_000;

function time(label: string, f: () => tf.Tensor | tf.Tensor[], reps = 10): [string, number] {
  const once = (): void => tf.dispose(tf.tidy(f)); // wasm kernels run eagerly; no dataSync (a copy out of the heap)
  once();
  once();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) once();
  return [label, Math.round(((performance.now() - t0) / reps) * 100) / 100];
}

const r = (shape: number[]) => tf.randomUniform(shape, -1, 1);
const h2 = r([N, d]);
const h3 = tf.reshape(h2, [B, L, d]);
const wh = r([d, A]);
const wp = r([d, A]);
const w36 = r([2 * d, A]);
const h36 = r([N, 2 * d]);
const t = r([B, d]);
const wb = r([B, d, A]);
const dz = r([N, A]);
const dz3 = tf.reshape(dz, [B, L, A]);
const dzT = r([A, N]);
const rows = r([U + 1, d]);
const idx = tf.tensor1d(Int32Array.from({ length: N }, (_, i) => (i * 7919) % U), 'int32');
const g = r([N, d]);
const ds = r([N, 1]);
const r2T = r([2 * d, N]);
const w2 = r([A, 1]);
const results = [
  time('matMul [N,18]x[18,64] (one of the 2 first-layer products)', () => tf.matMul(h2, wh)),
  time('2 x matMul [N,18]x[18,64] + add (current first layer)', () => tf.add(tf.matMul(h2, wh), tf.matMul(tf.reshape(tf.mul(h3, tf.reshape(t, [B, 1, d])), [N, d]) as tf.Tensor2D, wp))),
  time('matMul [N,36]x[36,64] (both blocks in one product)', () => tf.matMul(h36, w36)),
  time('per-sample W_b = Wh + diag(t_b) Wp  [B,18,64]', () => tf.add(wh, tf.mul(tf.reshape(t, [B, d, 1]), wp))),
  time('batched matMul [B,100,18]x[B,18,64] (h @ W_b)', () => tf.matMul(h3, wb)),
  time('batched matMul [B,100,64]x[B,64,18] (dz @ W_b^T, pre-transposed)', () => tf.matMul(dz3, tf.reshape(r([B, A, d]), [B, A, d]))),
  time('batched matMul h^T dz [B,18,100]x[B,100,64] (transposeA)', () => tf.matMul(h3, dz3, true, false)),
  time('matMul dzT [64,N] x h [N,18] (current weight grad)', () => tf.matMul(dzT, h2)),
  time('transpose [N,64] -> [64,N] via 3-D', () => tf.reshape(tf.transpose(tf.reshape(dz, [B, L, A]), [2, 0, 1]), [A, N])),
  time('relu [N,64]', () => tf.relu(dz)),
  time('add [N,64] + [N,64]', () => tf.add(dz, dz)),
  time('mul [B,L,18] * [B,1,18]', () => tf.mul(h3, tf.reshape(t, [B, 1, d]))),
  time('gather rows [U,18] by N ids', () => tf.gather(rows, idx)),
  time('unsortedSegmentSum [N,18] -> [U,18]', () => tf.unsortedSegmentSum(g, idx, U + 1)),
  time('dw2 now: transpose z (3-D) then [64,N]x[N,1]', () => tf.matMul(tf.reshape(tf.transpose(tf.reshape(dz, [B, L, A]), [2, 0, 1]), [A, N]) as tf.Tensor2D, ds)),
  time('copy [N,64] (fresh operand; subtract from the alt rows)', () => tf.mul(dz, 1)),
  time('dw2 alt: [1,N]x[N,64] (ds as a row, z untransposed, fresh z)', () => tf.matMul(tf.reshape(ds, [1, N]) as tf.Tensor2D, tf.mul(dz, 1))),
  time('dWh now: transpose dz (3-D) then [64,N]x[N,18]', () => tf.matMul(tf.reshape(tf.transpose(tf.reshape(dz, [B, L, A]), [2, 0, 1]), [A, N]) as tf.Tensor2D, h2)),
  time('dWh alt: transpose h (3-D) then [18,N]x[N,64] (fresh dz)', () => tf.matMul(tf.reshape(tf.transpose(tf.reshape(h2, [B, L, d]), [2, 0, 1]), [d, N]) as tf.Tensor2D, tf.mul(dz, 1))),
  time('dWh+dWp alt: one [36,N]x[N,64] on transposed [h | h*t] (fresh dz)', () => tf.matMul(r2T, tf.mul(dz, 1))),
  time('transpose h [N,18] (3-D)', () => tf.reshape(tf.transpose(tf.reshape(h2, [B, L, d]), [2, 0, 1]), [d, N])),
  time('dzL alt: sum over L of dz [B,L,A] (axis 1)', () => tf.sum(dz3, 1)),
  time('dzL now: sum over last axis of dzT [A,B,L]', () => tf.sum(tf.reshape(dzT, [A, B, L]), 2)),
  time('dw2 alt2: batched [B,1,L]x[B,L,64] (fresh z) then sum over B', () => tf.sum(tf.reshape(tf.matMul(tf.reshape(ds, [B, 1, L]) as tf.Tensor3D, tf.reshape(tf.mul(dz, 1), [B, L, A]) as tf.Tensor3D), [B, A]), 0)),
  time('dzT from zT by broadcast: w2 (x) ds * step(zT)', () => tf.mul(tf.mul(tf.reshape(w2, [A, 1]), tf.reshape(ds, [1, N])), tf.step(dzT))),
  time('dz from z by broadcast: ds (x) w2 * step(z)', () => tf.mul(tf.mul(ds, tf.reshape(w2, [1, A])), tf.step(dz))),
];
const flops = 2 * N * d * A;
process.stdout.write(JSON.stringify({ shape: { B, L, d, A, unique_rows: U }, gflop_per_first_layer_product: flops / 1e9, ms: Object.fromEntries(results) }, null, 2) + '\n');
