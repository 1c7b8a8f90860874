/**
 * DIN target attention (paper eq. 8's Attention(v_i, s_j)): a score per history position, a softmax over the
 * real positions, and the attention-weighted sum of the history. The MLP scorer's first layer on
 * concat(h, t, h−t, h·t) is computed as h·Wh + t·Wt + (h·t)·Wp (+ side·Ws for ASI side features): h−t is
 * linear, so its block folds into Wh and Wt and the parameter space is the same, without materialising the
 * [B, L, 4d] concat. The scorer has a hand-written gradient (tf.customGrad) that uses only untransposed
 * matMuls and cheap 3-D transposes, the fast paths of the wasm backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MLP_ATTENTION, MLP_ATTENTION_GRAD, nativeAttentionActive } from '../engine/native-attention.js';
import { nativeThreads } from '../retrieval/native.js';

/** Scorer weights of one attention unit (MLP kind; the dot kind has none beyond `ws`). */
export interface AttentionWeights {
  /** [d, A] history block (Wh + Wd of the concat form). */
  wh?: tf.Tensor;
  /** [d, A] target block (Wt − Wd). */
  wt?: tf.Tensor;
  /** [d, A] product block. */
  wp?: tf.Tensor;
  /** [A] first-layer bias. */
  b1?: tf.Tensor;
  /** [A, 1] output layer (its bias would cancel in the softmax, so there is none). */
  w2?: tf.Tensor;
  /** [S, A] (MLP) or [S, 1] (dot) side-feature block. */
  ws?: tf.Tensor;
}

export interface AttentionOutput {
  /** Attention-weighted history [B, d]. */
  pooled: tf.Tensor2D;
  /** Attention-weighted side features [B, S], when side features are given. */
  pooledSide: tf.Tensor2D | null;
  /** Softmax weights over the positions [B, L] (0 at padding). */
  weights: tf.Tensor2D;
}

/** [R, C] → [C, R] via a 3-D view: the wasm backend's 3-D transpose is several times faster than its 2-D one. */
export function transpose2d(x: tf.Tensor, rows1: number, rows2: number): tf.Tensor2D {
  const [r, c] = x.shape;
  if (rows1 * rows2 !== r || rows1 < 2 || rows2 < 2) return tf.transpose(x) as tf.Tensor2D;
  return tf.reshape(tf.transpose(tf.reshape(x, [rows1, rows2, c]), [2, 0, 1]), [c, r]);
}

type MlpWeights = Required<Pick<AttentionWeights, 'wh' | 'wt' | 'wp' | 'b1' | 'w2'>>;

/** mlpScores on the native kernels (engine/native-attention.ts): one pass forward, one backward. */
function nativeMlpScores(h: tf.Tensor3D, t: tf.Tensor2D, w: MlpWeights, side: tf.Tensor3D | null, ws: tf.Tensor | null): tf.Tensor2D {
  const attrs = { threads: nativeThreads() };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [hh, tt, wh, wt, wp, b1, w2, sd, wsd] = args.slice(0, -1) as (tf.Tensor | undefined)[] as tf.Tensor[];
    const sideInputs: tf.NamedTensorMap = sd ? { side: sd, ws: wsd } : {};
    const [scores, z] = tf.engine().runKernel(MLP_ATTENTION, { h: hh, t: tt, wh, wt, wp, b1, w2, ...sideInputs }, attrs) as tf.Tensor[];
    save([hh, tt, z, wh, wt, wp, w2, ...(sd ? [sd, wsd] : [])]);
    return {
      value: scores,
      gradFunc: (dy: tf.Tensor, [sh, st, sz, swh, swt, swp, sw2, ssd, swsd]: tf.Tensor[]) => {
        const savedSide: tf.NamedTensorMap = ssd ? { side: ssd, ws: swsd } : {};
        // dh, dt, dwh, dwt, dwp, db1, dw2 (+ dside, dws): the op's inputs in order
        return tf.engine().runKernel(MLP_ATTENTION_GRAD, { dy, h: sh, t: st, z: sz, wh: swh, wt: swt, wp: swp, w2: sw2, ...savedSide }, attrs) as tf.Tensor[];
      },
    };
  });
  const inputs: tf.Tensor[] = [h, t, w.wh, w.wt, w.wp, w.b1, w.w2];
  if (side && ws) inputs.push(side, ws);
  return op(...inputs) as tf.Tensor2D;
}

/** The MLP scorer as one differentiable op: (h [B,L,d], t [B,d], weights, side [B,L,S]?) → scores [B,L]. */
function mlpScores(h: tf.Tensor3D, t: tf.Tensor2D, w: MlpWeights, side: tf.Tensor3D | null, ws: tf.Tensor | null): tf.Tensor2D {
  if (nativeAttentionActive()) return nativeMlpScores(h, t, w, side, ws);
  const [B, L, d] = h.shape;
  const A = w.b1.shape[0];
  const N = B * L;
  const S = side ? side.shape[2] : 0;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [hh, tt, wh, wt, wp, b1, w2, sd, wsd] = args.slice(0, -1) as (tf.Tensor | undefined)[] as tf.Tensor[];
    const h2 = tf.reshape(hh, [N, d]) as tf.Tensor2D;
    const t3 = tf.reshape(tt, [B, 1, d]);
    const ht2 = tf.reshape(tf.mul(hh, t3), [N, d]) as tf.Tensor2D; // [N, d]
    let pre = tf.add(tf.matMul(h2, wh as tf.Tensor2D), tf.matMul(ht2, wp as tf.Tensor2D)); // [N, A]
    if (sd) pre = tf.add(pre, tf.matMul(tf.reshape(sd, [N, S]) as tf.Tensor2D, wsd as tf.Tensor2D));
    const q = tf.reshape(tf.add(tf.matMul(tt as tf.Tensor2D, wt as tf.Tensor2D), b1), [B, 1, A]);
    const z = tf.reshape(tf.relu(tf.add(tf.reshape(pre, [B, L, A]), q)), [N, A]) as tf.Tensor2D; // [N, A]
    const value = tf.reshape(tf.matMul(z, w2 as tf.Tensor2D), [B, L]);
    save([hh, tt, ht2, z, wh, wt, wp, w2, ...(sd ? [sd, wsd] : [])]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sh, st, sht2, sz, swh, swt, swp, sw2, ssd, swsd] = saved;
        const ds = tf.reshape(dy, [N, 1]) as tf.Tensor2D;
        // dL/dpre: through the output layer (an outer product, as a broadcast: a reshaped w2 must never be a
        // matMul right operand, the wasm backend caches packed right operands by tensor id, not shape) and the
        // ReLU (z > 0 exactly where pre > 0).
        const dz = tf.mul(tf.mul(ds, tf.reshape(sw2, [1, A])), tf.step(sz)) as tf.Tensor2D; // [N, A]
        // Weight gradients Σ_n x_n ⊗ dz_n: the wasm matMul repacks its right operand on every call, so the
        // tall [N, ·] operands go left (transposed by the fast 3-D path) and the narrower ones right.
        const dzT = transpose2d(dz, B, L); // [A, N]
        const dzLT = tf.sum(tf.reshape(dzT, [A, B, L]), 2) as tf.Tensor2D; // Σ over positions, [A, B]
        const dzL = tf.transpose(dzLT) as tf.Tensor2D; // [B, A]
        const dw2 = tf.matMul(transpose2d(sz, B, L), ds); // [A, 1]
        const db1 = tf.sum(dzLT, 1);
        const dwt = tf.transpose(tf.matMul(dzLT, st as tf.Tensor2D));
        const dwh = tf.transpose(tf.matMul(dzT, tf.reshape(sh, [N, d]) as tf.Tensor2D));
        const dwp = tf.transpose(tf.matMul(dzT, sht2 as tf.Tensor2D));
        const gp = tf.reshape(tf.matMul(dz, tf.transpose(swp) as tf.Tensor2D), [B, L, d]); // dL/d(h·t)
        const dh = tf.add(tf.reshape(tf.matMul(dz, tf.transpose(swh) as tf.Tensor2D), [B, L, d]), tf.mul(gp, tf.reshape(st, [B, 1, d])));
        const dt = tf.add(tf.matMul(dzL, tf.transpose(swt) as tf.Tensor2D), tf.sum(tf.mul(gp, sh), 1));
        const grads = [dh, dt, dwh, dwt, dwp, db1, dw2];
        if (ssd) {
          const sd2 = tf.reshape(ssd, [N, S]);
          grads.push(tf.reshape(tf.matMul(dz, tf.transpose(swsd) as tf.Tensor2D), [B, L, S]), tf.transpose(tf.matMul(dzT, sd2 as tf.Tensor2D)));
        }
        return grads;
      },
    };
  });
  const inputs: tf.Tensor[] = [h, t, w.wh, w.wt, w.wp, w.b1, w.w2];
  if (side && ws) inputs.push(side, ws);
  return op(...inputs) as tf.Tensor2D;
}

/**
 * Target attention over a padded sequence.
 * @param keys [B, L, d] history (or searched-item) representations, zero at padding
 * @param query [B, d] target-item representation
 * @param maskBias [B, L] 0 at real positions, −1e9 at padding (softmax weight 0)
 * @param side [B, L, S] per-position side features (ASI), or null
 */
export function targetAttention(kind: 'mlp' | 'dot', keys: tf.Tensor3D, query: tf.Tensor2D, maskBias: tf.Tensor2D, w: AttentionWeights, side: tf.Tensor3D | null): AttentionOutput {
  const [B, L, d] = keys.shape;
  let scores: tf.Tensor2D;
  if (kind === 'mlp') {
    if (!w.wh || !w.wt || !w.wp || !w.b1 || !w.w2) throw new Error('MLP attention needs wh, wt, wp, b1, w2');
    scores = mlpScores(keys, query, { wh: w.wh, wt: w.wt, wp: w.wp, b1: w.b1, w2: w.w2 }, side, w.ws ?? null);
  } else {
    scores = tf.mul(tf.sum(tf.mul(keys, tf.reshape(query, [B, 1, d])), 2), 1 / Math.sqrt(d)) as tf.Tensor2D;
    if (side && w.ws) scores = tf.add(scores, tf.reshape(tf.matMul(tf.reshape(side, [B * L, side.shape[2]]) as tf.Tensor2D, w.ws as tf.Tensor2D), [B, L]));
  }
  const weights = tf.softmax(tf.add(scores, maskBias)) as tf.Tensor2D; // [B, L]
  const pooled = weightedSum(weights, keys);
  const pooledSide = side ? weightedSum(weights, side) : null;
  return { pooled, pooledSide, weights };
}

/**
 * Σ_l w[b, l] · x[b, l, :] → [B, d] as one op: a batched product forward; backward dx = w ⊗ dy as a broadcast
 * (the batched product with transposeA takes the backend's slow per-batch path) and dw = dy · xᵀ.
 */
export function weightedSum(w: tf.Tensor2D, x: tf.Tensor3D): tf.Tensor2D {
  const [B, L, d] = x.shape;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [ww, xx] = args as tf.Tensor[];
    (args[2] as tf.GradSaveFunc)([ww, xx]);
    return {
      value: tf.reshape(tf.matMul(tf.reshape(ww, [B, 1, L]) as tf.Tensor3D, xx as tf.Tensor3D), [B, d]),
      gradFunc: (dy: tf.Tensor, [sw, sx]: tf.Tensor[]) => {
        const dy3 = tf.reshape(dy, [B, 1, d]) as tf.Tensor3D;
        return [tf.reshape(tf.matMul(dy3, sx as tf.Tensor3D, false, true), [B, L]), tf.mul(tf.reshape(sw, [B, L, 1]), dy3)];
      },
    };
  });
  return op(w, x) as tf.Tensor2D;
}

/** Masked mean of a padded sequence [B, K, d] → [B, d] (SIM soft pooling); rows without items give 0. */
export function maskedMeanPool(keys: tf.Tensor3D, meanWeights: tf.Tensor2D): tf.Tensor2D {
  return weightedSum(meanWeights, keys);
}
