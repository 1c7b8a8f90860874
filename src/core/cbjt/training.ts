/** Training plumbing shared by the three CBJT trainers: seeded batches, one gradient step, loss curves. */
import type * as tf from '@tensorflow/tfjs-core';
import type { OnProgress } from '../output.js';
import type { Rng } from '../rng.js';
import { round6 } from './common.js';
import { clampLogitScale, temperatureOf, type LogitMasks } from './infonce.js';

/** One point of a saved loss curve (`loss_curve.json`). */
export interface LossPoint {
  epoch: number;
  /** Mean batch loss over the epoch. */
  loss: number;
  /** τ = exp(−logit_scale) at the end of the epoch. */
  temperature: number;
}

export interface LossCurve {
  epochs: LossPoint[];
}

/**
 * The rows 0..n−1 in a seeded random order, cut into ceil(n / batchSize) batches of near-equal size
 * (no tiny tail batch: in-batch contrastive losses need negatives).
 */
export function shuffledBatches(n: number, batchSize: number, rng: Rng): Int32Array[] {
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  return evenBatches(order, batchSize);
}

/** `order` cut into ceil(len / batchSize) consecutive batches of near-equal size. */
export function evenBatches(order: Int32Array, batchSize: number): Int32Array[] {
  const n = order.length;
  if (n === 0) return [];
  const count = Math.ceil(n / batchSize);
  const out: Int32Array[] = [];
  for (let b = 0; b < count; b++) out.push(order.subarray(Math.floor((b * n) / count), Math.floor(((b + 1) * n) / count)));
  return out;
}

/**
 * Masks that hide in-batch duplicates of a positive (the same item twice in one batch would otherwise be its
 * own negative): rows[i][k] = 1 when k ≠ i and right[k] = right[i]; cols[i][k] = 1 when i ≠ k and
 * left[i] = left[k]. Null when the batch has no duplicates.
 */
export function duplicateMasks(left: ArrayLike<number>, right: ArrayLike<number>): LogitMasks | null {
  const n = left.length;
  const dupLeft = hasDuplicates(left);
  const dupRight = hasDuplicates(right);
  if (!dupLeft && !dupRight) return null;
  const rows = new Uint8Array(n * n);
  const cols = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      if (k === i) continue;
      if (dupRight && right[k] === right[i]) rows[i * n + k] = 1;
      if (dupLeft && left[i] === left[k]) cols[i * n + k] = 1;
    }
  }
  return { rows, cols };
}

function hasDuplicates(xs: ArrayLike<number>): boolean {
  const seen = new Set<number>();
  for (let i = 0; i < xs.length; i++) {
    if (seen.has(xs[i])) return true;
    seen.add(xs[i]);
  }
  return false;
}

/**
 * Epochs to run: `epochs`, raised so that training takes at least `minSteps` steps (small catalogues have few
 * batches per epoch); 0 stays 0 (no training).
 */
export function epochsToRun(epochs: number, minSteps: number, stepsPerEpoch: number): number {
  if (epochs === 0 || stepsPerEpoch === 0) return 0;
  return Math.max(epochs, Math.ceil(minSteps / stepsPerEpoch));
}

/** The epoch loop every CBJT trainer runs; only `step` (one gradient step on a batch) differs. */
export interface EpochLoop {
  /** Training rows 0..n−1 (items, or pairs), shuffled into batches each epoch. */
  n: number;
  /** The trainer's config: batch size, epochs, and the step floor (`minSteps`) on small catalogues. */
  schedule: { batchSize: number; epochs: number; minSteps: number };
  rng: Rng;
  logitScale: tf.Variable;
  phase: string;
  onProgress: OnProgress;
  /** One training step on the batch's row indices; returns its loss. */
  step(batch: Int32Array, epochRng: Rng): number;
}

/** Seeded shuffled batches per epoch, τ clamped after each step, mean loss per epoch. */
export function runEpochs(o: EpochLoop): { curve: LossPoint[]; epochs: number } {
  const curve: LossPoint[] = [];
  const { batchSize } = o.schedule;
  const stepsPerEpoch = Math.ceil(o.n / batchSize);
  const epochs = epochsToRun(o.schedule.epochs, o.schedule.minSteps, stepsPerEpoch);
  const total = epochs * stepsPerEpoch;
  let done = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const epochRng = o.rng.fork(`epoch${epoch}`);
    let sum = 0;
    let steps = 0;
    for (const batch of shuffledBatches(o.n, batchSize, epochRng)) {
      const loss = o.step(batch, epochRng);
      clampLogitScale(o.logitScale);
      sum += loss;
      steps++;
      done++;
      o.onProgress({ phase: o.phase, done, total, info: `epoch ${epoch} loss ${loss.toFixed(4)}` });
    }
    curve.push({ epoch, loss: round6(sum / Math.max(steps, 1)), temperature: round6(temperatureOf(o.logitScale)) });
  }
  return { curve, epochs };
}
