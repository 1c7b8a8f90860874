/** Configuration, validation and output helpers shared by the CBJT trainers. */
import * as path from 'node:path';
import { requireRange } from '../config.js';
import { DATASET_FILES, loadItems, type Items } from '../dataset.js';
import type { BackendName } from '../engine/backend.js';
import { UsageError } from '../errors.js';
import { OutputStage, type OnProgress } from '../output.js';
import { makeRng, type Rng } from '../rng.js';
import { EMBEDDINGS } from '../schemas.js';
import { readArrow, type OutputMeta, type VectorColumn } from '../arrow-io.js';
import { InputDataError } from '../errors.js';
import { chooseViewMode, viewCoverage, VIEW_CHOICES, type EncoderArchitecture, type ViewChoice, type ViewCoverage, type ViewMode } from './encoder.js';
import { contentItemsOf, type ContentItems } from './items.js';
import { readEvalPairs, recallAtK, DEFAULT_RECALL_KS, type RecallReport } from './recall.js';
import type { LossCurve, LossPoint } from './training.js';

/** Options every CBJT trainer takes besides its config. */
export interface TrainerRun {
  /** Output folder. */
  out: string;
  seed: number;
  backend: BackendName;
  /** PAIRS file whose valid/test rows are the ground truth for Recall@K (optional). */
  evalPairs?: string;
  onProgress?: OnProgress;
}

/** Encoder settings shared by train-content and train-behavior. */
export interface EncoderTrainConfig {
  /** Output size d of the encoder. */
  dim: number;
  /** Width of the token vectors of the embedding bag. */
  bagDim: number;
  /** Hidden width of each tower's MLP. */
  hidden: number;
  /** Hash buckets of the text featurizer (rows of each bag table). */
  buckets: number;
  /** Character n-gram length (0: word tokens only). */
  ngram: number;
  /** At most this many tokens per text field. */
  maxTokens: number;
  /** View mode: auto (from the data), title-text, text-content or dropout. */
  views: ViewChoice;
  /** Token dropout probability of each augmentation (dropout mode) / of training feeds (behavior). */
  tokenDropout: number;
  epochs: number;
  /** Train at least this many steps (more epochs on small catalogues); 0 = exactly `epochs`. */
  minSteps: number;
  /** Items per in-batch contrastive batch. */
  batchSize: number;
  /** Adam learning rate (dense layers and the row-sparse bag tables). */
  lr: number;
  /** At most this many held-out pairs for --eval-pairs recall (a seeded sample beyond that). */
  evalMaxPairs: number;
}

export function validateEncoderConfig(c: EncoderTrainConfig, dimMayBeZero = false): void {
  requireRange('--dim', c.dim, dimMayBeZero ? 0 : 1, 4096);
  requireRange('--bag-dim', c.bagDim, 1, 4096);
  requireRange('--hidden', c.hidden, 1, 16384);
  requireRange('--buckets', c.buckets, 16, 1 << 24);
  requireRange('--ngram', c.ngram, 0, 10);
  requireRange('--max-tokens', c.maxTokens, 1, 100_000);
  requireRange('--token-dropout', c.tokenDropout, 0, 1, false, true);
  requireRange('--epochs', c.epochs, 0, 100_000);
  requireRange('--min-steps', c.minSteps, 0, 1e9);
  requireRange('--batch-size', c.batchSize, 2, 1 << 20);
  requireRange('--lr', c.lr, 0, 10, true);
  requireRange('--eval-max-pairs', c.evalMaxPairs, 1, 1e9);
  for (const k of ['dim', 'bagDim', 'hidden', 'buckets', 'ngram', 'maxTokens', 'epochs', 'minSteps', 'batchSize', 'evalMaxPairs'] as const) {
    if (!Number.isInteger(c[k])) throw new UsageError(`${k} must be an integer, got ${c[k]}`);
  }
  if (!(c.views in VIEW_CHOICES)) throw new UsageError(`--views must be one of ${Object.keys(VIEW_CHOICES).join(', ')}, got ${String(c.views)}`);
}

export function encoderArchitecture(c: EncoderTrainConfig, viewMode: ViewMode, dim: number, contentDim: number): EncoderArchitecture {
  return {
    viewMode,
    featurizer: { buckets: c.buckets, ngram: c.ngram, maxTokens: c.maxTokens },
    bagDim: c.bagDim,
    hidden: c.hidden,
    dim,
    contentDim: viewMode === 'text|content' ? contentDim : 0,
  };
}

export function loadDatasetItems(dataDir: string): Items {
  return loadItems(path.join(dataDir, DATASET_FILES.items));
}

/** Recall@K of `vectors` on the held-out pairs of `file` (undefined when no file was given). */
export function evalRecall(file: string | undefined, vectors: Float32Array, dim: number, items: Items, maxPairs: number, rng: Rng): RecallReport | undefined {
  if (!file) return undefined;
  const pairs = readEvalPairs(file, items.count, maxPairs, rng);
  return recallAtK(vectors, dim, items.domain, pairs, DEFAULT_RECALL_KS);
}

/** The items' content fields and the two views an encoder trains on (`--views`, or chosen from coverage). */
export function encoderViews(items: Items, choice: ViewChoice, dataFile: string): { content: ContentItems; coverage: ViewCoverage; viewMode: ViewMode } {
  const content = contentItemsOf(items);
  const coverage = viewCoverage(content);
  const viewMode = chooseViewMode(coverage, choice);
  if (viewMode === 'text|content' && !items.content) throw new InputDataError('--views text-content needs a content column in items.arrow', dataFile, 'content');
  return { content, coverage, viewMode };
}

/** `encode()` (all items' vectors) reported as the one-step 'encode' phase. */
export function encodeWithProgress(onProgress: OnProgress, encode: () => Float32Array): Float32Array {
  onProgress({ phase: 'encode', done: 0, total: 1 });
  const vectors = encode();
  onProgress({ phase: 'encode', done: 1, total: 1 });
  return vectors;
}

/** Result fields every CBJT trainer returns. */
export interface TrainerSummary {
  items: number;
  dim: number;
  epochs: number;
  final_loss: number | null;
  temperature: number;
  recall?: RecallReport;
  seconds: number;
}

/** A trained encoder's outputs: OUT/<table> (embeddings of every item), OUT/model, loss curve, config. */
export interface TrainedEncoder<K extends string> {
  command: string;
  out: string;
  data: string;
  seed: number;
  backend: BackendName;
  /** The embeddings table's file name and its key in `outputs`. */
  table: { file: string; key: K };
  vectors: Float32Array;
  dim: number;
  items: number;
  resolved: Record<string, unknown>;
  meta: OutputMeta;
  curve: LossPoint[];
  epochs: number;
  temperature: number;
  recall: RecallReport | undefined;
  /** performance.now() when the command started. */
  t0: number;
  saveModel: (dir: string) => Promise<void>;
}

/** Write a trained encoder's outputs (staged, atomic) and build its result; `extra` fields follow `temperature`. */
export async function writeTrainedEncoder<K extends string, X extends object>(
  t: TrainedEncoder<K>,
  extra: X,
): Promise<TrainerSummary & X & { outputs: Record<K | 'model' | 'loss_curve' | 'config', string> }> {
  return OutputStage.run(t.out, [t.data], async (stage) => {
    const outputs = {
      [t.table.key]: writeEmbeddings(stage, t.table.file, t.vectors, t.dim, denseIds(t.items), t.meta),
      model: stage.final('model'),
      loss_curve: writeLossCurve(stage, { epochs: t.curve }),
      config: stage.writeJson('config.json', { command: t.command, seed: t.seed, backend: t.backend, config: t.resolved }),
    } as Record<K | 'model' | 'loss_curve' | 'config', string>;
    await t.saveModel(modelDir(stage));
    return {
      items: t.items,
      dim: t.dim,
      epochs: t.epochs,
      final_loss: t.curve.length ? t.curve[t.curve.length - 1].loss : null,
      temperature: t.temperature,
      ...extra,
      ...(t.recall ? { recall: t.recall } : {}),
      seconds: round6((performance.now() - t.t0) / 1000),
      outputs,
    };
  });
}

/** Write an EMBEDDINGS table for dense item ids 0..N−1. */
export function writeEmbeddings(stage: OutputStage, name: string, vectors: Float32Array, dim: number, itemIds: Int32Array, meta: OutputMeta): string {
  return stage.writeArrow(name, EMBEDDINGS, { item_id: itemIds, vector: { dim, values: vectors } }, meta);
}

/** The staging path of OUT/model (saveWeights writes the folder's files there). */
export function modelDir(stage: OutputStage): string {
  return path.dirname(stage.file('model/.keep'));
}

export function writeLossCurve(stage: OutputStage, curve: LossCurve): string {
  return stage.writeJson('loss_curve.json', curve);
}

export function denseIds(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** Seeded root rng of a trainer. */
export function trainerRng(seed: number, label: string): Rng {
  return makeRng(seed).fork(label);
}

/** Round for JSON results (losses, temperatures): stable, readable. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** An EMBEDDINGS file as a dense [numItems × dim] matrix indexed by item id; `has[i]` = item i has a row. */
export function readVectorsByItem(file: string, numItems: number): { dim: number; values: Float32Array; has: Uint8Array } {
  const f = readArrow(file, EMBEDDINGS);
  const ids = f.columns.item_id as Int32Array;
  const vec = f.columns.vector as VectorColumn;
  const values = new Float32Array(numItems * vec.dim);
  const has = new Uint8Array(numItems);
  for (let r = 0; r < ids.length; r++) {
    const i = ids[r];
    if (i >= numItems) throw new InputDataError(`item id ${i} out of range (${numItems} items)`, file, 'item_id', r);
    if (has[i]) throw new InputDataError(`duplicate item_id ${i}`, file, 'item_id', r);
    has[i] = 1;
    values.set(vec.values.subarray(r * vec.dim, (r + 1) * vec.dim), i * vec.dim);
  }
  return { dim: vec.dim, values, has };
}
