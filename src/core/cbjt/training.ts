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
  /** The early-stopping score after the epoch (train-union: Recall@10 of its held-out pairs), when there is one. */
  holdout?: number;
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

/**
 * `size` row indices drawn proportionally to `weights`, in a seeded random order. Systematic resampling
 * (one uniform offset, `size` evenly spaced points on the cumulative weights): row i appears
 * floor or ceil(size·w_i / Σw) times, the proportional draw with the least variance — a plain multinomial
 * draw would also leave out ~1/e of equally weighted rows each epoch. Zero-weight rows are never drawn.
 */
export function weightedOrder(weights: ArrayLike<number>, size: number, rng: Rng): Int32Array {
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (!(w >= 0 && Number.isFinite(w))) throw new RangeError(`weightedOrder: weight ${i} is ${w}`);
    total += w;
  }
  const out = new Int32Array(size);
  if (size === 0) return out;
  if (!(total > 0)) throw new RangeError('weightedOrder: all weights are zero');
  const step = total / size;
  let point = rng.next() * step;
  let cum = 0;
  let j = 0;
  for (let i = 0; i < weights.length && j < size; i++) {
    cum += weights[i];
    while (j < size && point < cum) {
      out[j++] = i;
      point += step;
    }
  }
  // Float rounding can leave the last point(s) just past the final cumulative sum: give them the last row drawn.
  for (; j < size; j++) out[j] = out[j - 1];
  return rng.shuffle(out);
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
 * left[i] = left[k]. With `sharedSpace` (both sides embedded by one model, as in train-union) an item can
 * also sit on both sides — pairs (a, b) and (c, a) — and entry (i, k) with left[i] = right[k] is then
 * u_a·u_a, the largest logit there is, so it is hidden from row i's and from column k's softmax. Where the
 * sides are different spaces (two views, content vs ID) equal ids are unrelated vectors: no cross rule.
 * Null when nothing needs hiding.
 */
export function duplicateMasks(left: ArrayLike<number>, right: ArrayLike<number>, opts: { sharedSpace?: boolean } = {}): LogitMasks | null {
  const n = left.length;
  const dupLeft = hasDuplicates(left);
  const dupRight = hasDuplicates(right);
  const cross = opts.sharedSpace === true && hasCrossMatch(left, right, dupLeft);
  if (!dupLeft && !dupRight && !cross) return null;
  const rows = new Uint8Array(n * n);
  const cols = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      if (k === i) continue;
      if (dupRight && right[k] === right[i]) rows[i * n + k] = 1;
      if (dupLeft && left[i] === left[k]) cols[i * n + k] = 1;
      if (cross && left[i] === right[k]) rows[i * n + k] = cols[i * n + k] = 1;
    }
  }
  return { rows, cols };
}

/**
 * Whether left[i] = right[k] for some i ≠ k. Exact in O(n): with no left duplicates each left value has one
 * index; with duplicates the masks are built anyway, so any match at all may answer true.
 */
function hasCrossMatch(left: ArrayLike<number>, right: ArrayLike<number>, dupLeft: boolean): boolean {
  const at = new Map<number, number>();
  for (let i = 0; i < left.length; i++) at.set(left[i], i);
  for (let k = 0; k < right.length; k++) {
    const i = at.get(right[k]);
    if (i !== undefined && (dupLeft || i !== k)) return true;
  }
  return false;
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
  /**
   * Optional per-row sampling weights (length n): each epoch then draws n rows proportionally to them
   * (`weightedOrder`) instead of a permutation, so steps per epoch stay the same.
   */
  weights?: Float64Array;
  /** The trainer's config: batch size, epochs, and the step floor (`minSteps`) on small catalogues. */
  schedule: { batchSize: number; epochs: number; minSteps: number };
  rng: Rng;
  logitScale: tf.Variable;
  phase: string;
  onProgress: OnProgress;
  /** One training step on the batch's row indices; returns its loss. */
  step(batch: Int32Array, epochRng: Rng): number;
  /**
   * Early stopping: `score()` after each epoch (higher is better); training stops once `patience` epochs in a
   * row have not beaten the best, and the best epoch's weights (`save()`) are put back (`restore()`).
   */
  earlyStop?: { score(): number; patience: number; save(): void; restore(): void };
}

/**
 * Seeded shuffled batches per epoch, τ clamped after each step, mean loss per epoch. `epochs`: epochs run;
 * `bestEpoch`: the epoch whose weights the model ends with (the last, unless early stopping went back).
 */
export function runEpochs(o: EpochLoop): { curve: LossPoint[]; epochs: number; bestEpoch: number } {
  const curve: LossPoint[] = [];
  const { batchSize } = o.schedule;
  const stepsPerEpoch = Math.ceil(o.n / batchSize);
  const epochs = epochsToRun(o.schedule.epochs, o.schedule.minSteps, stepsPerEpoch);
  const total = epochs * stepsPerEpoch;
  let done = 0;
  let best = -Infinity;
  let bestEpoch = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const epochRng = o.rng.fork(`epoch${epoch}`);
    let sum = 0;
    let steps = 0;
    const batches = o.weights ? evenBatches(weightedOrder(o.weights, o.n, epochRng), batchSize) : shuffledBatches(o.n, batchSize, epochRng);
    for (const batch of batches) {
      const loss = o.step(batch, epochRng);
      clampLogitScale(o.logitScale);
      sum += loss;
      steps++;
      done++;
      o.onProgress({ phase: o.phase, done, total, info: `epoch ${epoch} loss ${loss.toFixed(4)}` });
    }
    const point: LossPoint = { epoch, loss: round6(sum / Math.max(steps, 1)), temperature: round6(temperatureOf(o.logitScale)) };
    curve.push(point);
    const score = o.earlyStop ? round6(o.earlyStop.score()) : undefined;
    if (score !== undefined) point.holdout = score;
    const held = score === undefined ? '' : ` held-out ${score.toFixed(4)}`;
    o.onProgress({ phase: o.phase, done, total, line: `${o.phase}: epoch ${epoch}/${epochs} loss ${point.loss.toFixed(4)} temperature ${point.temperature.toFixed(4)}${held}` });
    if (!o.earlyStop || score === undefined) continue;
    if (score > best) {
      best = score;
      bestEpoch = epoch;
      o.earlyStop.save();
    } else if (epoch - bestEpoch >= o.earlyStop.patience) break;
  }
  const ran = curve.length;
  if (o.earlyStop && bestEpoch > 0 && bestEpoch < ran) o.earlyStop.restore();
  return { curve, epochs: ran, bestEpoch: bestEpoch > 0 ? bestEpoch : ran };
}
