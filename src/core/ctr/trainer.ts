/**
 * The CTR training loop: seeded shuffles per epoch, Adam steps (row-sparse on embedding tables), validation
 * AUC after every epoch with early stopping (the best epoch's weights are kept), a checkpoint after every
 * epoch and on interruption (`shouldStop`), and an exact `--resume`.
 */
import { samplesInSplit, type Samples } from '../dataset.js';
import { InputDataError, InterruptedError } from '../errors.js';
import { auc, logloss } from '../metrics.js';
import { noProgress, type OnProgress } from '../output.js';
import { makeRng, type Rng } from '../rng.js';
import type { WeightMap } from '../engine/model-io.js';
import { capIndices, CtrBatcher } from './batcher.js';
import { freshState, loadCheckpoint, saveCheckpoint, type EpochRecord, type LoopState } from './checkpoint.js';
import type { CtrTrainConfig } from './config.js';
import type { CtrModel } from './model.js';

export interface TrainLoopOptions {
  model: CtrModel;
  batcher: CtrBatcher;
  samples: Samples;
  train: CtrTrainConfig;
  seed: number;
  /** Folder for checkpoints (kept across runs for --resume). */
  checkpointDir: string;
  /** Identity of the run: a checkpoint with another hash is refused. */
  configHash: string;
  resume: boolean;
  /** Polled before every step; true → checkpoint and throw InterruptedError. */
  shouldStop?: () => boolean;
  onProgress?: OnProgress;
}

export interface TrainLoopResult {
  curve: EpochRecord[];
  bestEpoch: number;
  epochsRun: number;
  samplesPerS: number;
  trainSamples: number;
  stoppedEarly: boolean;
}

/** Score samples `idx` in batches; returns probabilities aligned with idx. */
/** Positions in the order samples are scored: by history length (less padding), ties by position. */
export function scoringOrder(lengths: Int32Array): Int32Array {
  return Int32Array.from({ length: lengths.length }, (_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
}

export function scoreSamples(model: CtrModel, batcher: CtrBatcher, idx: Int32Array, batchSize: number, onProgress: OnProgress = noProgress, phase = 'scoring'): Float32Array {
  // Score in order of history length (less padding). The order is deterministic, and a sample's score depends
  // on its batch only through float rounding (≤ 1 ulp seen on wasm).
  const byLength = scoringOrder(batcher.historyLengths(idx));
  const sorted = Int32Array.from(byLength, (i) => idx[i]);
  const tmp = new Float32Array(idx.length);
  const bs = Math.min(batchSize, batcher.capacity);
  for (let from = 0; from < idx.length; from += bs) {
    const to = Math.min(idx.length, from + bs);
    model.score(batcher.fill(sorted, from, to), tmp, from);
    onProgress({ phase, done: to, total: idx.length });
  }
  const out = new Float32Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[byLength[i]] = tmp[i];
  return out;
}

function labelsOf(samples: Samples, idx: Int32Array): Int8Array {
  const out = new Int8Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = samples.label[idx[i]];
  return out;
}

/** Validation metric for early stopping: AUC, or −logloss when AUC is undefined (one class only). */
function validationMetric(labels: Int8Array, scores: Float32Array): { auc: number; metric: number } {
  const a = auc(labels, scores);
  return { auc: a, metric: Number.isNaN(a) ? -logloss(labels, scores) : a };
}

/**
 * One epoch's sample order: a seeded shuffle, then, within chunks of `bucketBatches` batches, samples sorted
 * by history length so each batch pads to a similar length (the batch order inside a chunk is shuffled
 * again). Batch k is order[k·bs, (k+1)·bs). `bucketBatches` ≤ 1 keeps the plain shuffle.
 */
export function epochOrder(trainIdx: Int32Array, lengths: Int32Array, bs: number, bucketBatches: number, rng: Rng): Int32Array {
  const n = trainIdx.length;
  const pos = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i)); // positions into trainIdx
  if (bucketBatches > 1) {
    const chunk = bs * bucketBatches;
    for (let from = 0; from < n; from += chunk) {
      const to = Math.min(n, from + chunk);
      const part = pos.subarray(from, to);
      part.sort((a, b) => lengths[a] - lengths[b] || a - b);
      const nb = Math.ceil((to - from) / bs);
      if (nb > 1 && (to - from) % bs === 0) {
        // Shuffle whole batches (all full) so consecutive steps do not march from short to long.
        const blocks = rng.shuffle(Int32Array.from({ length: nb }, (_, i) => i));
        const copy = Int32Array.from(part);
        blocks.forEach((blk, k) => part.set(copy.subarray(blk * bs, blk * bs + bs), k * bs));
      }
    }
  }
  return Int32Array.from(pos, (p) => trainIdx[p]);
}

export async function trainLoop(o: TrainLoopOptions): Promise<TrainLoopResult> {
  const { model, batcher, samples, train } = o;
  const onProgress = o.onProgress ?? noProgress;
  const baseRng = makeRng(o.seed);
  const trainIdx = capIndices(samplesInSplit(samples, 'train'), train.maxTrainSamples, baseRng.fork('train-subset'));
  const validIdx = samplesInSplit(samples, 'valid');
  const validLabels = labelsOf(samples, validIdx);
  let state: LoopState = freshState(o.configHash);
  let best: WeightMap | null = null;
  if (o.resume) {
    const ck = await loadCheckpoint(o.checkpointDir, o.configHash);
    model.fromWeights(ck.weights);
    best = ck.best;
    state = ck.state;
  }
  const n = trainIdx.length;
  const bs = Math.min(train.batchSize, batcher.capacity);
  if (n === 0) throw new InputDataError(`no training samples in the ${samples.domain} domain`);
  const historyLengths = batcher.historyLengths(trainIdx);
  const steps = Math.ceil(n / bs);
  const checkpoint = (): Promise<void> => saveCheckpoint(o.checkpointDir, model.toWeights(true), best, state);
  while (!state.done && state.epoch < train.epochs) {
    const epoch = state.epoch;
    // The epoch's order depends only on (seed, epoch): a resumed run replays it exactly.
    const order = epochOrder(trainIdx, historyLengths, bs, train.bucketBatches, makeRng(o.seed).fork(`shuffle:${epoch}`));
    let t0 = performance.now();
    for (; state.step < steps; state.step++) {
      if (o.shouldStop?.()) {
        state.epochSeconds += (performance.now() - t0) / 1000;
        await checkpoint();
        throw new InterruptedError(`interrupted in epoch ${epoch + 1}, step ${state.step}/${steps}; checkpoint saved in ${o.checkpointDir} (rerun with --resume)`);
      }
      const from = state.step * bs;
      const to = Math.min(n, from + bs);
      const ts = performance.now();
      const loss = model.trainBatch(batcher.fill(order, from, to));
      state.trainSeconds += (performance.now() - ts) / 1000;
      state.trainSamples += to - from;
      if (!Number.isFinite(loss)) throw new Error(`training diverged: loss ${loss} in epoch ${epoch + 1}, step ${state.step + 1} (lower --lr)`);
      state.lossSum += loss * (to - from);
      state.lossCount += to - from;
      onProgress({ phase: `epoch ${epoch + 1}/${train.epochs}`, done: to, total: n, info: `loss ${(state.lossSum / state.lossCount).toFixed(4)}` });
    }
    const trainPart = state.epochSeconds + (performance.now() - t0) / 1000;
    t0 = performance.now();
    const scores = scoreSamples(model, batcher, validIdx, train.evalBatchSize);
    const { auc: validAuc, metric } = validationMetric(validLabels, scores);
    const seconds = trainPart + (performance.now() - t0) / 1000;
    state.curve.push({
      epoch: epoch + 1,
      loss: state.lossCount ? state.lossSum / state.lossCount : NaN,
      valid_auc: validAuc,
      seconds,
      samples_per_s: state.lossCount / Math.max(1e-9, trainPart),
    });
    if (metric > state.bestMetric || state.bestEpoch < 0) {
      state.bestMetric = metric;
      state.bestEpoch = epoch + 1;
      state.badEpochs = 0;
      best = model.toWeights(false);
    } else state.badEpochs++;
    state.epoch = epoch + 1;
    state.step = 0;
    state.lossSum = 0;
    state.lossCount = 0;
    state.epochSeconds = 0;
    state.done = state.badEpochs >= train.patience || state.epoch >= train.epochs;
    const point = state.curve[state.curve.length - 1];
    onProgress({ phase: `epoch ${epoch + 1}/${train.epochs}`, done: n, total: n, line: `epoch ${epoch + 1}/${train.epochs}: loss ${point.loss.toFixed(4)} valid AUC ${point.valid_auc.toFixed(4)}${state.bestEpoch === epoch + 1 ? ' (best)' : ''} ${point.seconds.toFixed(1)} s` });
    await checkpoint();
  }
  if (best) model.fromWeights(best);
  const lastRun = state.curve.length;
  return {
    curve: state.curve,
    bestEpoch: state.bestEpoch,
    epochsRun: lastRun,
    samplesPerS: state.trainSamples / Math.max(1e-9, state.trainSeconds),
    trainSamples: n,
    stoppedEarly: state.badEpochs >= train.patience && state.epoch < train.epochs,
  };
}
