/**
 * `gist train-behavior` (eq. 5–7): a separate copy of the content encoder, F_B, whose output bh_i is aligned
 * by symmetric InfoNCE to the source model's item ID embedding id_i, on items whose source interaction count
 * is at least `minCount`; bh_i = F_B(v_i) is then inferred from content alone for every item. F_B starts from
 * the trained F_C's weights when a content model is given (so alignment refines which content features matter).
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { readArrow, type VectorColumn } from '../arrow-io.js';
import { requireRange, resolveConfig } from '../config.js';
import { datasetIdentity, type Items } from '../dataset.js';
import { initBackend } from '../engine/backend.js';
import { trainStep } from '../engine/train.js';
import { InputDataError, UsageError } from '../errors.js';
import { noProgress, outputMeta, OutputStage } from '../output.js';
import { EMBEDDINGS } from '../schemas.js';
import {
  encoderArchitecture,
  evalRecall,
  loadDatasetItems,
  readVectorsByItem,
  round6,
  trainerRng,
  validateEncoderConfig,
  type EncoderTrainConfig,
  type TrainerRun,
  encodeWithProgress,
  encoderViews,
  writeTrainedEncoder,
} from './common.js';
import { ContentEncoder, gatherRows, viewChoiceOf, type TowerFeed, type ViewMode } from './encoder.js';
import { addLogitScale, symmetricInfoNce, temperatureOf } from './infonce.js';
import { Dense, l2Normalize, l2NormalizeRows } from './layers.js';
import { loadEncoder, saveEncoder } from './model-files.js';
import type { RecallReport } from './recall.js';
import { runEpochs } from './training.js';

export interface TrainBehaviorConfig extends EncoderTrainConfig {
  /** Items with source_count ≥ minCount are aligned; −1 = the `minCountQuantile` quantile (see `defaultMinCount`). */
  minCount: number;
  /** Quantile of source_count, over source items with count > 0, used when minCount is −1. */
  minCountQuantile: number;
  /**
   * Where F_B starts: 'content' = a copy of the trained content encoder F_C (the paper's "separate copy"; its
   * architecture and weights, so dim/bagDim/hidden/featurizer come from it), 'random' = fresh weights,
   * 'auto' = 'content' when a content model is given, else 'random'.
   */
  init: 'auto' | 'content' | 'random';
}

/**
 * Defaults for a ~36k-item catalogue. dim 0 = the id embeddings' size (so bh_i and id_i are compared
 * directly, as in eq. 5); another dim adds a learned linear map of id_i to that size, used in training only.
 */
export const DEFAULT_TRAIN_BEHAVIOR_CONFIG: TrainBehaviorConfig = {
  dim: 0,
  bagDim: 64,
  hidden: 256,
  buckets: 65_536,
  ngram: 3,
  maxTokens: 256,
  views: 'auto',
  tokenDropout: 0.1,
  epochs: 10,
  minSteps: 200,
  batchSize: 512,
  lr: 0.002,
  evalMaxPairs: 5_000,
  minCount: -1,
  minCountQuantile: 0.5,
  init: 'auto',
};

export interface TrainBehaviorOptions extends TrainerRun {
  data: string;
  /** EMBEDDINGS file of the source model's item ID embeddings (`SOURCE_OUT/id_embeddings.arrow`). */
  idEmbeddings: string;
  /** Model folder of `gist train-content` (CONTENT_OUT/model) that F_B starts from (init content/auto). */
  contentModel?: string;
  config?: Partial<TrainBehaviorConfig>;
}

export interface TrainBehaviorResult {
  items: number;
  dim: number;
  epochs: number;
  final_loss: number | null;
  temperature: number;
  view_mode: ViewMode;
  min_count: number;
  /** How min_count was chosen: "flag" or "quantile q of source_count over source items with count > 0". */
  min_count_rule: string;
  aligned_items: number;
  id_dim: number;
  /** 'content' (a copy of F_C) or 'random'. */
  init: 'content' | 'random';
  recall?: RecallReport;
  seconds: number;
  outputs: { behavior: string; model: string; loss_curve: string; config: string };
}

/**
 * Default threshold: the q-quantile (nearest rank, lower) of source_count over source-domain items with
 * count > 0, at least 1. The paper used 200,000 interactions at its scale; a quantile adapts to any data.
 */
export function defaultMinCount(items: Items, q: number): number {
  const counts: number[] = [];
  for (let i = 0; i < items.count; i++) if (items.domain[i] === 0 && items.sourceCount[i] > 0) counts.push(items.sourceCount[i]);
  if (counts.length === 0) return 1;
  counts.sort((a, b) => a - b);
  return Math.max(1, counts[Math.floor(q * (counts.length - 1))]);
}

/** id_i per item (row-major [N × k], L2-normalised) and whether the item has one. */
function readIdEmbeddings(file: string, numItems: number): { dim: number; vectors: Float32Array; has: Uint8Array } {
  const { dim, values, has } = readVectorsByItem(file, numItems);
  if (dim < 1) throw new InputDataError('vectors have no dimensions', file, 'vector');
  return { dim, vectors: l2NormalizeRows(values, dim), has };
}

export async function trainBehavior(opts: TrainBehaviorOptions): Promise<TrainBehaviorResult> {
  const t0 = performance.now();
  const config = resolveConfig(DEFAULT_TRAIN_BEHAVIOR_CONFIG, opts.config ?? {}, 'train-behavior');
  validateEncoderConfig(config, true);
  requireRange('--min-count-quantile', config.minCountQuantile, 0, 1);
  if (config.minCount !== -1 && !(Number.isInteger(config.minCount) && config.minCount >= 0)) throw new UsageError(`--min-count must be a non-negative integer, got ${config.minCount}`);
  const onProgress = opts.onProgress ?? noProgress;
  OutputStage.preflight(opts.out, [opts.data]);
  await initBackend(opts.backend);
  const items = loadDatasetItems(opts.data);
  const id = readIdEmbeddings(opts.idEmbeddings, items.count);
  const minCount = config.minCount >= 0 ? config.minCount : defaultMinCount(items, config.minCountQuantile);
  const minCountRule = config.minCount >= 0 ? 'flag' : `quantile ${config.minCountQuantile} of source_count over source items with count > 0`;
  const aligned: number[] = [];
  for (let i = 0; i < items.count; i++) if (id.has[i] && items.sourceCount[i] >= minCount) aligned.push(i);
  const train = Int32Array.from(aligned);
  if (config.epochs > 0 && train.length < 2) throw new InputDataError(`only ${train.length} item(s) have an id embedding and source_count ≥ ${minCount}; need at least 2 (lower --min-count)`, opts.idEmbeddings);

  if (!['auto', 'content', 'random'].includes(config.init)) throw new UsageError(`--init must be auto, content or random, got ${config.init}`);
  const init = config.init === 'auto' ? (opts.contentModel ? 'content' : 'random') : config.init;
  if (init === 'content' && !opts.contentModel) throw new UsageError('--init content needs --content-model (the model/ folder of `gist train-content`)');
  const rng = trainerRng(opts.seed, 'train-behavior');
  let encoder: ContentEncoder;
  let viewMode: ViewMode;
  let content: ReturnType<typeof encoderViews>['content'];
  if (init === 'content') {
    // F_B is a separate copy of F_C: the same architecture and weights, trained on from there.
    encoder = (await loadEncoder(opts.contentModel as string, 'content', config.lr)).encoder;
    ({ content, viewMode } = encoderViews(items, viewChoiceOf(encoder.arch.viewMode), opts.data));
  } else {
    ({ content, viewMode } = encoderViews(items, config.views, opts.data));
    encoder = new ContentEncoder(encoderArchitecture(config, viewMode, config.dim === 0 ? id.dim : config.dim, items.content?.dim ?? 0), rng.fork('init'), config.lr);
  }
  const dim = encoder.arch.dim;
  try {
    const logitScale = addLogitScale(encoder.params);
    // Training-only map of id_i to the encoder's size when they differ (eq. 5 compares them directly otherwise).
    const idProjection = dim === id.dim ? null : new Dense(encoder.params, 'id_projection', id.dim, dim, 'linear');
    const inputs = encoder.prepare(content);
    const { curve, epochs } = runEpochs({
      n: train.length,
      schedule: config,
      rng,
      logitScale,
      phase: 'train-behavior',
      onProgress,
      step: (batch, epochRng) => {
        const rows = Int32Array.from(batch, (b) => train[b]);
        const feeds: TowerFeed[] = encoder.towers.map((_, k) => ({ tower: k, rows, dropout: config.tokenDropout }));
        const masks = encoder.fusionMasks(inputs, rows);
        const idRows = gatherRows(id.vectors, id.dim, rows);
        const step = encoder.step(inputs, feeds, epochRng);
        return trainStep(
          () => {
            const bh = encoder.fuse(step.forward(), masks); // [B, d]
            let target = tf.tensor2d(idRows, [rows.length, id.dim]); // [B, k], L2-normalised id_i
            if (idProjection) target = l2Normalize(idProjection.apply(target));
            return symmetricInfoNce(bh, target, logitScale);
          },
          { dense: [encoder.params], sparse: step.sparse },
        );
      },
    });
    const vectors = encodeWithProgress(onProgress, () => encoder.encodeAll(inputs));
    const recall = evalRecall(opts.evalPairs, vectors, dim, items, config.evalMaxPairs, rng.fork('eval'));
    const resolved = { ...config, init, content_model: opts.contentModel ?? null, epochs_run: epochs, dim, view_mode: viewMode, min_count: minCount, min_count_rule: minCountRule, aligned_items: train.length, data: opts.data, id_embeddings: opts.idEmbeddings };
    return await writeTrainedEncoder(
      {
        command: 'train-behavior',
        out: path.resolve(opts.out),
        data: opts.data,
        seed: opts.seed,
        backend: opts.backend,
        table: { file: 'behavior.arrow', key: 'behavior' },
        vectors,
        dim,
        items: items.count,
        resolved,
        meta: outputMeta('train-behavior', opts.seed, resolved, { view_mode: viewMode, dim, min_count: minCount, aligned_items: train.length, ...datasetIdentity(opts.data) }),
        curve,
        epochs,
        temperature: round6(temperatureOf(logitScale)),
        recall,
        t0,
        saveModel: (dir) => saveEncoder(dir, encoder, 'behavior'),
      },
      { view_mode: viewMode, min_count: minCount, min_count_rule: minCountRule, aligned_items: train.length, id_dim: id.dim, init },
    );
  } finally {
    encoder.dispose();
  }
}
