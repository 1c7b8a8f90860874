/**
 * Symmetric in-batch InfoNCE with a learnable temperature (eq. 1, 5–6; CLIP's parameterisation):
 * logits = s·A·Bᵀ with s = exp(logit_scale) = 1/τ, L = (L_AB + L_BA)/2 where L_AB is the mean over rows of
 * −log softmax_k(logits[i, k])[i] and L_BA the same over columns. The paper writes eq. 1/5 without the log;
 * we use the standard InfoNCE (−log softmax), as CLIP does.
 *
 * The cross-entropy part runs as one custom op in plain JS (forward and gradient): on the wasm backend the
 * broadcasting ops of a tensor-op logSumExp and its gradient cost ~10× more than the whole [B, B] pass here.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DenseParams } from '../engine/sparse-embedding.js';

/** CLIP's initial temperature τ = 0.07. */
export const INITIAL_TEMPERATURE = 0.07;
/** CLIP clamps the logit scale to at most 100 (τ ≥ 0.01). */
export const MAX_LOGIT_SCALE = Math.log(100);
/** ... and we keep τ ≤ 1 so the loss cannot flatten itself away. */
export const MIN_LOGIT_SCALE = 0;

/**
 * Entries hidden from a softmax (in-batch duplicates of a positive), row-major [B × B], 1 = hidden:
 * `rows[i·B + k]` hides column k from row i's softmax (the A→B direction), `cols[i·B + k]` hides row i from
 * column k's softmax (B→A). The diagonal is never hidden.
 */
export interface LogitMasks {
  rows: Uint8Array;
  cols: Uint8Array;
}

/**
 * Symmetric cross-entropy of a [B, B] logits matrix with the diagonal as targets (a differentiable scalar).
 * Gradient: ½·(softmax_rows − I)/B + ½·(softmax_cols − I)/B over the entries that are not hidden.
 */
export function symmetricCrossEntropy(logits: tf.Tensor2D, masks?: LogitMasks | null): tf.Scalar {
  const op = tf.customGrad<tf.Scalar>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const n = x.shape[0];
    if (x.shape.length !== 2 || x.shape[1] !== n) throw new Error(`symmetricCrossEntropy: logits must be square, got [${x.shape.join(', ')}]`);
    const { loss, grad } = symmetricCrossEntropyValues(x.dataSync() as Float32Array, n, masks ?? null);
    return {
      value: tf.scalar(loss),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync()[0];
        if (g !== 1) for (let i = 0; i < grad.length; i++) grad[i] *= g;
        return tf.tensor2d(grad, [n, n]);
      },
    };
  });
  return op(logits) as tf.Scalar;
}

/**
 * Loss and gradient of the symmetric cross-entropy of row-major logits [n × n]. One exp per entry: every
 * entry is shifted by the global maximum, which is safe in float64 because InfoNCE logits are bounded
 * (|s·cos| ≤ 100, so shifted values stay far above exp's underflow at −745).
 */
export function symmetricCrossEntropyValues(z: Float32Array, n: number, masks: LogitMasks | null): { loss: number; grad: Float32Array } {
  let max = -Infinity;
  for (let i = 0; i < z.length; i++) if (z[i] > max) max = z[i];
  // exp values in a buffer kept between calls: a fresh multi-MB array per step cost more in first-touch page
  // faults than the exps (measured on our VMs).
  if (expScratch.length < n * n) expScratch = new Float64Array(n * n);
  const e = expScratch;
  for (let i = 0; i < n * n; i++) e[i] = Math.exp(z[i] - max);
  const rowSum = new Float64Array(n);
  const colSum = new Float64Array(n);
  const rowMask = masks ? masks.rows : null;
  const colMask = masks ? masks.cols : null;
  for (let i = 0; i < n; i++) {
    const o = i * n;
    let rs = 0;
    for (let k = 0; k < n; k++) {
      const v = e[o + k];
      if (rowMask === null || rowMask[o + k] === 0) rs += v;
      if (colMask === null || colMask[o + k] === 0) colSum[k] += v;
    }
    rowSum[i] = rs;
  }
  const half = 0.5 / n;
  let loss = 0;
  for (let i = 0; i < n; i++) loss += half * (Math.log(rowSum[i]) + Math.log(colSum[i]) - 2 * (z[i * n + i] - max));
  const colScale = new Float64Array(n);
  for (let k = 0; k < n; k++) colScale[k] = half / colSum[k];
  const grad = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const o = i * n;
    const ri = half / rowSum[i];
    for (let k = 0; k < n; k++) {
      const v = e[o + k];
      let g = 0;
      if (rowMask === null || rowMask[o + k] === 0) g += v * ri;
      if (colMask === null || colMask[o + k] === 0) g += v * colScale[k];
      grad[o + k] = g;
    }
    grad[o + i] -= 2 * half;
  }
  return { loss, grad };
}

let expScratch = new Float64Array(0);

/**
 * Mean symmetric InfoNCE of a batch of aligned pairs (a_i, b_i). `a`, `b`: [B, d], L2-normalised rows;
 * `logitScale`: scalar log(1/τ). Returns a scalar.
 */
export function symmetricInfoNce(a: tf.Tensor2D, b: tf.Tensor2D, logitScale: tf.Tensor, masks?: LogitMasks | null): tf.Scalar {
  return tf.tidy(() => {
    const logits = tf.mul(tf.matMul(a, b, false, true), tf.exp(logitScale)) as tf.Tensor2D; // [B, B]
    return symmetricCrossEntropy(logits, masks);
  });
}

/** The learnable log-scale as a parameter, initialised to log(1/0.07). */
export function addLogitScale(params: DenseParams, name = 'logit_scale'): tf.Variable {
  return params.constant(name, [], Math.log(1 / INITIAL_TEMPERATURE));
}

/** Clamp the log-scale after an optimiser step (CLIP: scale ≤ 100). */
export function clampLogitScale(v: tf.Variable): void {
  tf.tidy(() => v.assign(tf.clipByValue(v, MIN_LOGIT_SCALE, MAX_LOGIT_SCALE)));
}

/** τ = exp(−logit_scale). */
export function temperatureOf(v: tf.Variable): number {
  return Math.exp(-(v.dataSync()[0] as number));
}
