/**
 * Symmetric in-batch InfoNCE with a learnable temperature (eq. 1, 5–6; CLIP's parameterisation):
 * logits = s·A·Bᵀ with s = exp(logit_scale) = 1/τ, L = (CE_rows + CE_cols)/2, CE with the diagonal as targets.
 * The paper writes eq. 1/5 without the log; we use the standard InfoNCE (−log softmax), as CLIP does.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamSet } from './layers.js';

/** CLIP's initial temperature τ = 0.07. */
export const INITIAL_TEMPERATURE = 0.07;
/** CLIP clamps the logit scale to at most 100 (τ ≥ 0.01). */
export const MAX_LOGIT_SCALE = Math.log(100);
/** ... and we keep τ ≤ 1 so the loss cannot flatten itself away. */
export const MIN_LOGIT_SCALE = 0;

/**
 * Mean symmetric InfoNCE of a batch of aligned pairs (a_i, b_i). `a`, `b`: [B, d], L2-normalised rows;
 * `logitScale`: scalar log(1/τ). `masks` (additive, [B, B]) hide in-batch duplicates of a positive: `rows`
 * applies to the a→b direction (softmax over k of logits[i, k]), `cols` to b→a (softmax over i of
 * logits[i, k]). Returns a scalar.
 */
export function symmetricInfoNce(a: tf.Tensor2D, b: tf.Tensor2D, logitScale: tf.Scalar, masks?: { rows: tf.Tensor2D; cols: tf.Tensor2D } | null): tf.Scalar {
  return tf.tidy(() => {
    const scale = tf.exp(logitScale);
    const logits = tf.mul(tf.matMul(a, b, false, true), scale); // [B, B]
    const positives = tf.mul(tf.sum(tf.mul(a, b), 1), scale); // [B] diagonal of logits
    const rowLse = tf.logSumExp(masks ? tf.add(logits, masks.rows) : logits, 1); // a_i against every b_k
    const colLse = tf.logSumExp(masks ? tf.add(logits, masks.cols) : logits, 0); // b_k against every a_i
    const ceRows = tf.mean(tf.sub(rowLse, positives));
    const ceCols = tf.mean(tf.sub(colLse, positives));
    return tf.mul(tf.add(ceRows, ceCols), 0.5) as tf.Scalar;
  });
}

/** The learnable log-scale as a parameter, initialised to log(1/0.07). */
export function addLogitScale(params: ParamSet, name = 'logit_scale'): tf.Variable {
  return params.add(name, tf.scalar(Math.log(1 / INITIAL_TEMPERATURE)));
}

/** Clamp the log-scale after an optimiser step (CLIP: scale ≤ 100). */
export function clampLogitScale(v: tf.Variable): void {
  tf.tidy(() => v.assign(tf.clipByValue(v, MIN_LOGIT_SCALE, MAX_LOGIT_SCALE)));
}

/** τ = exp(−logit_scale). */
export function temperatureOf(v: tf.Variable): number {
  return Math.exp(-(v.dataSync()[0] as number));
}
