/**
 * `gist train-union` (eq. 9–10): the Union Training Model fuses ct_i and bh_i into u_i, trained with in-batch
 * symmetric InfoNCE between the u of the two items of each guidance pair (ESU or Swing, train split). Every
 * item gets u (its ct and bh come from content alone), including items that never occur in a pair.
 */
import { datasetIdentity } from '../dataset.js';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { readArrow, type DictColumn, type VectorColumn } from '../arrow-io.js';
import { requireRange, resolveConfig } from '../config.js';
import { initBackend } from '../engine/backend.js';
import { trainStep } from '../engine/train.js';
import { InputDataError, UsageError } from '../errors.js';
import { noProgress, outputMeta, OutputStage } from '../output.js';
import { EMBEDDINGS, PAIRS } from '../schemas.js';
import { encodeWithProgress, evalRecall, loadDatasetItems, readVectorsByItem, round6, trainerRng, writeTrainedEncoder, type TrainerRun } from './common.js';
import { gatherRows } from './encoder.js';
import { symmetricInfoNce, temperatureOf } from './infonce.js';
import { saveUnion } from './model-files.js';
import { recallAtK, type EvalPairs } from './recall.js';
import type { Rng } from '../rng.js';
import type { RecallReport } from './recall.js';
import { duplicateMasks, runEpochs } from './training.js';
import { UnionModel, type UnionArchitecture, type UnionView } from './union.js';

export interface TrainUnionConfig {
  /** 'joint' (ct and bh, eq. 9–10), or one view alone through an MLP (Tables 2–3 ablations). */
  view: UnionView;
  /** Gate network (eq. 9); false = the "no gate" ablation of Table 5. */
  gate: boolean;
  /** Outer-product cross network (eq. 10); false = concatenation + MLP ("no cross", Table 5). */
  cross: boolean;
  /** Size of u. */
  dim: number;
  /** Hidden width of MLP_cs. */
  hidden: number;
  /** Hidden width of each gate MLP. */
  gateHidden: number;
  epochs: number;
  /** Train at least this many steps (more epochs when there are few pairs); 0 = exactly `epochs`. */
  minSteps: number;
  /** Pairs per in-batch contrastive batch. */
  batchSize: number;
  lr: number;
  /** Train only on pairs with attention ≥ this (ESU: eq. 8's θ; pairs files are usually filtered already). */
  minAttention: number;
  /** At most this many held-out pairs for --eval-pairs recall. */
  evalMaxPairs: number;
  /**
   * How often each training pair is drawn per epoch, from its `count` (samples that produced it): 'none' =
   * every pair once (a permutation), 'count' = proportional to count, 'sqrt-count' = proportional to √count.
   * Weighted epochs draw as many pairs as there are (same steps per epoch) by seeded resampling, so batches
   * stay plain pair lists and in-batch negatives stay valid. Default 'sqrt-count': counts are heavy-tailed
   * (a popular target yields the same pair in many samples); 'count' lets those few pairs crowd batches
   * with masked repeats, 'none' gives a one-off co-occurrence the same say as a pair seen hundreds of times.
   */
  pairWeighting: PairWeighting;
  /**
   * Share of the training pairs held out to choose the epoch: after each epoch, Recall@10 of the held-out pairs
   * (target item → its related item among that item's domain); training stops after `patience` epochs without a
   * better one and keeps the best epoch's weights. 0, or fewer than 100 held-out pairs: every pair trains, for
   * exactly the scheduled epochs. Default 0.1: on synthetic data (valid split) the share of a target item's
   * nearest source items in its true sub-topic peaks after 1–2 epochs and falls with more, and held-out Recall@10
   * falls with it (README).
   */
  holdout: number;
  /** Epochs without a better held-out Recall@10 before training stops. */
  patience: number;
}

export const PAIR_WEIGHTINGS = ['none', 'count', 'sqrt-count'] as const;
export type PairWeighting = (typeof PAIR_WEIGHTINGS)[number];

export const DEFAULT_TRAIN_UNION_CONFIG: TrainUnionConfig = {
  view: 'joint',
  gate: true,
  cross: true,
  dim: 64,
  hidden: 128,
  gateHidden: 64,
  epochs: 4,
  minSteps: 200,
  batchSize: 512,
  lr: 0.001,
  minAttention: -Infinity,
  evalMaxPairs: 5_000,
  pairWeighting: 'sqrt-count',
  holdout: 0.1,
  patience: 2,
};

/** Fewer held-out pairs than this cannot tell epochs apart: no early stopping then. */
export const MIN_HOLDOUT_PAIRS = 100;

export interface TrainUnionOptions extends TrainerRun {
  data: string;
  /** content.arrow from train-content (needed unless view is 'behavior'). */
  content?: string;
  /** behavior.arrow from train-behavior (needed unless view is 'content'). */
  behavior?: string;
  /** PAIRS file; rows of split "train" are used when it has a split column, else all rows. */
  pairs: string;
  config?: Partial<TrainUnionConfig>;
}

export interface TrainUnionResult {
  items: number;
  dim: number;
  epochs: number;
  final_loss: number | null;
  temperature: number;
  view: UnionView;
  gate: boolean;
  cross: boolean;
  pairs_used: number;
  /** Training pairs held out to choose the epoch (0: none), and the epoch whose weights were kept. */
  holdout_pairs: number;
  best_epoch: number;
  /** Items that occur in a training pair (the rest get u from their ct/bh alone). */
  items_in_pairs: number;
  recall?: RecallReport;
  seconds: number;
  outputs: { joint: string; model: string; loss_curve: string; config: string };
}

/** An EMBEDDINGS file as a dense [numItems × dim] matrix; every item must have a row. */
export function readItemVectors(file: string, numItems: number, what: string): { dim: number; values: Float32Array } {
  const { dim, values, has } = readVectorsByItem(file, numItems);
  const missing = has.indexOf(0);
  if (missing >= 0) throw new InputDataError(`item ${missing} has no ${what} vector (every item of the dataset needs one)`, file, 'item_id');
  return { dim, values };
}

/** Training pairs: split "train" rows (or all when there is no split column), attention ≥ minAttention, no self-pairs. */
export function readTrainPairs(file: string, numItems: number, minAttention: number): { left: Int32Array; right: Int32Array; count: Int32Array } {
  const f = readArrow(file, PAIRS);
  const target = f.columns.target_item as Int32Array;
  const related = f.columns.related_item as Int32Array;
  const attention = f.columns.attention as Float32Array;
  const counts = f.columns.count as Int32Array;
  const split = f.columns.split as DictColumn | undefined;
  const trainCode = split ? split.values.indexOf('train') : -1;
  const left: number[] = [];
  const right: number[] = [];
  const count: number[] = [];
  for (let r = 0; r < f.numRows; r++) {
    if (target[r] >= numItems) throw new InputDataError(`item id ${target[r]} out of range (${numItems} items)`, file, 'target_item', r);
    if (related[r] >= numItems) throw new InputDataError(`item id ${related[r]} out of range (${numItems} items)`, file, 'related_item', r);
    if (split && split.codes[r] !== trainCode) continue;
    if (attention[r] < minAttention || target[r] === related[r]) continue;
    left.push(target[r]);
    right.push(related[r]);
    count.push(counts[r]);
  }
  return { left: Int32Array.from(left), right: Int32Array.from(right), count: Int32Array.from(count) };
}

type TrainPairs = ReturnType<typeof readTrainPairs>;

/**
 * Split the training pairs: a seeded `share` of them (at most `maxPairs`) held out to choose the epoch, the rest
 * trained on; nothing held out when that would be fewer than MIN_HOLDOUT_PAIRS pairs.
 */
export function holdOutPairs(pairs: TrainPairs, share: number, maxPairs: number, rng: Rng): { train: TrainPairs; heldOut: EvalPairs | null } {
  const n = pairs.left.length;
  const count = Math.min(Math.round(n * share), maxPairs);
  if (count < MIN_HOLDOUT_PAIRS || count >= n) return { train: pairs, heldOut: null };
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const held = order.subarray(0, count).slice().sort();
  const kept = order.subarray(count).slice().sort();
  const pick = (rows: Int32Array): TrainPairs => ({ left: rows.map((r) => pairs.left[r]), right: rows.map((r) => pairs.right[r]), count: rows.map((r) => pairs.count[r]) });
  return { train: pick(kept), heldOut: { query: held.map((r) => pairs.left[r]), truth: held.map((r) => pairs.right[r]) } };
}

/** Per-pair sampling weights for `pairWeighting`; null = uniform (each pair once per epoch). */
export function pairWeights(count: Int32Array, weighting: PairWeighting): Float64Array | null {
  if (weighting === 'none') return null;
  return Float64Array.from(count, (c) => (weighting === 'count' ? c : Math.sqrt(c)));
}

/** Defaults ⊕ overrides, every field checked (types by resolveConfig, values here). */
export function resolveTrainUnionConfig(overrides: Partial<TrainUnionConfig>): TrainUnionConfig {
  const config = resolveConfig(DEFAULT_TRAIN_UNION_CONFIG, overrides, 'train-union');
  if (!['joint', 'content', 'behavior'].includes(config.view)) throw new UsageError(`--view must be joint, content or behavior, got ${String(config.view)}`);
  if (!(PAIR_WEIGHTINGS as readonly string[]).includes(config.pairWeighting)) throw new UsageError(`pairWeighting must be ${PAIR_WEIGHTINGS.join(', ')}, got ${String(config.pairWeighting)}`);
  requireRange('--dim', config.dim, 1, 4096);
  requireRange('--hidden', config.hidden, 1, 16384);
  requireRange('--gate-hidden', config.gateHidden, 1, 16384);
  requireRange('--epochs', config.epochs, 0, 100_000);
  requireRange('--min-steps', config.minSteps, 0, 1e9);
  requireRange('--batch-size', config.batchSize, 2, 1 << 20);
  requireRange('--lr', config.lr, 0, 10, true);
  requireRange('--eval-max-pairs', config.evalMaxPairs, 1, 1e9);
  requireRange('--holdout', config.holdout, 0, 1, false, true);
  requireRange('--patience', config.patience, 1, 1e6);
  return config;
}

export async function trainUnion(opts: TrainUnionOptions): Promise<TrainUnionResult> {
  const t0 = performance.now();
  const config = resolveTrainUnionConfig(opts.config ?? {});
  const useContent = config.view !== 'behavior';
  const useBehavior = config.view !== 'content';
  if (useContent && !opts.content) throw new UsageError(`--content is required for --view ${config.view}`);
  if (useBehavior && !opts.behavior) throw new UsageError(`--behavior is required for --view ${config.view}`);
  OutputStage.preflight(opts.out, [opts.data]);
  const onProgress = opts.onProgress ?? noProgress;
  await initBackend(opts.backend);
  const items = loadDatasetItems(opts.data);
  const ct = useContent ? readItemVectors(opts.content as string, items.count, 'content') : null;
  const bh = useBehavior ? readItemVectors(opts.behavior as string, items.count, 'behavior') : null;
  const pairs = readTrainPairs(opts.pairs, items.count, config.minAttention);
  if (config.epochs > 0 && pairs.left.length < 2) throw new InputDataError(`only ${pairs.left.length} training pair(s); need at least 2 (ESU pairs: the source model's attention did not reach θ; lower --theta or --candidates, or train the source model longer)`, opts.pairs);
  const inPairs = new Uint8Array(items.count);
  for (let p = 0; p < pairs.left.length; p++) inPairs[pairs.left[p]] = inPairs[pairs.right[p]] = 1;
  const rng = trainerRng(opts.seed, 'train-union');
  const { train, heldOut } = holdOutPairs(pairs, config.holdout, config.evalMaxPairs, rng.fork('holdout'));

  const arch: UnionArchitecture = {
    view: config.view,
    gate: config.view === 'joint' && config.gate,
    cross: config.view === 'joint' && config.cross,
    contentDim: ct?.dim ?? 0,
    behaviorDim: bh?.dim ?? 0,
    gateHidden: config.gateHidden,
    hidden: config.hidden,
    dim: config.dim,
  };
  const model = new UnionModel(arch, rng.fork('init'), config.lr);
  const inputsOf = (rows: ArrayLike<number>): [tf.Tensor2D | null, tf.Tensor2D | null] => [
    ct ? tf.tensor2d(gatherRows(ct.values, ct.dim, rows), [rows.length, ct.dim]) : null,
    bh ? tf.tensor2d(gatherRows(bh.values, bh.dim, rows), [rows.length, bh.dim]) : null,
  ];
  try {
    const n = train.left.length;
    let best: ReturnType<typeof model.params.toWeights> | null = null;
    const { curve, epochs, bestEpoch } = runEpochs({
      n,
      weights: pairWeights(train.count, config.pairWeighting) ?? undefined,
      schedule: config,
      rng,
      logitScale: model.logitScale,
      phase: 'train-union',
      onProgress,
      step: (batch) => {
        const left = Int32Array.from(batch, (p) => train.left[p]);
        const right = Int32Array.from(batch, (p) => train.right[p]);
        // One model embeds both sides, so an item on both sides of the batch must not be its own negative.
        const masks = duplicateMasks(left, right, { sharedSpace: true });
        return trainStep(
          () => {
            const uLeft = model.apply(...inputsOf(left)); // [B, dim]
            const uRight = model.apply(...inputsOf(right)); // [B, dim]
            return symmetricInfoNce(uLeft, uRight, model.logitScale, masks);
          },
          { dense: [model.params] },
        );
      },
      earlyStop: heldOut
        ? {
            patience: config.patience,
            score: () => recallAtK(unionEmbedAll(model, items.count, inputsOf), arch.dim, items.domain, heldOut, [10]).recall['recall@10'],
            save: () => {
              best = model.params.toWeights(false);
            },
            restore: () => model.params.fromWeights(best as NonNullable<typeof best>),
          }
        : undefined,
    });
    const vectors = encodeWithProgress(onProgress, () => unionEmbedAll(model, items.count, inputsOf));
    const recall = evalRecall(opts.evalPairs, vectors, arch.dim, items, config.evalMaxPairs, rng.fork('eval'));
    const resolved = { ...config, epochs_run: epochs, best_epoch: bestEpoch, minAttention: Number.isFinite(config.minAttention) ? config.minAttention : null, data: opts.data, content: opts.content ?? null, behavior: opts.behavior ?? null, pairs: opts.pairs };
    let itemsInPairs = 0;
    for (const x of inPairs) itemsInPairs += x;
    return await writeTrainedEncoder(
      {
        command: 'train-union',
        out: path.resolve(opts.out),
        data: opts.data,
        seed: opts.seed,
        backend: opts.backend,
        table: { file: 'joint.arrow', key: 'joint' },
        vectors,
        dim: arch.dim,
        items: items.count,
        resolved,
        meta: outputMeta('train-union', opts.seed, resolved, { view: arch.view, gate: String(arch.gate), cross: String(arch.cross), dim: arch.dim, pairs_used: n, ...datasetIdentity(opts.data) }),
        curve,
        epochs,
        temperature: round6(temperatureOf(model.logitScale)),
        recall,
        t0,
        saveModel: (dir) => saveUnion(dir, model),
      },
      { view: arch.view, gate: arch.gate, cross: arch.cross, pairs_used: n, holdout_pairs: heldOut?.query.length ?? 0, best_epoch: bestEpoch, items_in_pairs: itemsInPairs },
    );
  } finally {
    model.dispose();
  }
}

/** u for rows 0..count−1, in chunks; `inputsOf` builds the model's ct/bh input tensors for a set of rows. */
export function unionEmbedAll(model: UnionModel, count: number, inputsOf: (rows: ArrayLike<number>) => [tf.Tensor2D | null, tf.Tensor2D | null], chunk = 4096): Float32Array {
  const out = new Float32Array(count * model.arch.dim);
  for (let s = 0; s < count; s += chunk) {
    const rows = Int32Array.from({ length: Math.min(chunk, count - s) }, (_, i) => s + i);
    const u = tf.tidy(() => model.apply(...inputsOf(rows)));
    out.set(u.dataSync() as Float32Array, s * model.arch.dim);
    u.dispose();
  }
  return out;
}
