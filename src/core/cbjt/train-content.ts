/**
 * `gist train-content` (eq. 1, 4): the content encoder F_C trained by aligning two views of each item with
 * symmetric in-batch InfoNCE and a learnable temperature; ct_i = F_C(v_i) for every item.
 */
import { datasetIdentity } from '../dataset.js';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveConfig } from '../config.js';
import { initBackend } from '../engine/backend.js';
import { trainStep } from '../engine/train.js';
import { InputDataError } from '../errors.js';
import { noProgress, outputMeta, OutputStage } from '../output.js';
import {
  encoderArchitecture,
  evalRecall,
  loadDatasetItems,
  round6,
  trainerRng,
  validateEncoderConfig,
  type EncoderTrainConfig,
  type TrainerRun,
  encodeWithProgress,
  encoderViews,
  writeTrainedEncoder,
} from './common.js';
import { ContentEncoder, type TowerFeed, type ViewMode } from './encoder.js';
import { addLogitScale, symmetricInfoNce, temperatureOf } from './infonce.js';
import { saveEncoder } from './model-files.js';
import type { RecallReport } from './recall.js';
import { runEpochs } from './training.js';

export type TrainContentConfig = EncoderTrainConfig;

/** Defaults sized for a ~36k-item catalogue on 2 cores (tens of seconds with the wasm backend). */
export const DEFAULT_TRAIN_CONTENT_CONFIG: TrainContentConfig = {
  dim: 64,
  bagDim: 64,
  hidden: 256,
  buckets: 65_536,
  ngram: 3,
  maxTokens: 256,
  views: 'auto',
  tokenDropout: 0.3,
  epochs: 3,
  minSteps: 200,
  batchSize: 512,
  lr: 0.002,
  evalMaxPairs: 5_000,
};

export interface TrainContentOptions extends TrainerRun {
  /** Prepared dataset folder. */
  data: string;
  config?: Partial<TrainContentConfig>;
}

export interface TrainContentResult {
  items: number;
  dim: number;
  epochs: number;
  final_loss: number | null;
  temperature: number;
  view_mode: ViewMode;
  /** Items that have both views (the ones the contrastive loss trains on). */
  trained_items: number;
  recall?: RecallReport;
  seconds: number;
  outputs: { content: string; model: string; loss_curve: string; config: string };
}

export async function trainContent(opts: TrainContentOptions): Promise<TrainContentResult> {
  const t0 = performance.now();
  const config = resolveConfig(DEFAULT_TRAIN_CONTENT_CONFIG, opts.config ?? {}, 'train-content');
  validateEncoderConfig(config);
  OutputStage.preflight(opts.out, [opts.data]);
  const onProgress = opts.onProgress ?? noProgress;
  await initBackend(opts.backend);
  const items = loadDatasetItems(opts.data);
  const { content, coverage, viewMode } = encoderViews(items, config.views, opts.data);
  const rng = trainerRng(opts.seed, 'train-content');
  const arch = encoderArchitecture(config, viewMode, config.dim, items.content?.dim ?? 0);
  const encoder = new ContentEncoder(arch, rng.fork('init'), config.lr);
  try {
    const logitScale = addLogitScale(encoder.params);
    const inputs = encoder.prepare(content);
    // Items with both views (dropout mode: a non-empty text field) are the contrastive training set.
    const both: number[] = [];
    for (let i = 0; i < items.count; i++) if (inputs.available.every((a) => a[i] === 1)) both.push(i);
    const train = Int32Array.from(both);
    if (config.epochs > 0 && train.length < 2) throw new InputDataError(`only ${train.length} item(s) have both views (${viewMode}); need at least 2 to train`, opts.data);
    const towerOf: [number, number] = viewMode === 'dropout-augmented' ? [0, 0] : [0, 1];
    const dropout = viewMode === 'dropout-augmented' ? config.tokenDropout : 0;
    const { curve, epochs } = runEpochs({
      n: train.length,
      schedule: config,
      rng,
      logitScale,
      phase: 'train-content',
      onProgress,
      step: (batch, epochRng) => {
        const rows = Int32Array.from(batch, (b) => train[b]);
        const feeds: TowerFeed[] = [
          { tower: towerOf[0], rows, dropout },
          { tower: towerOf[1], rows, dropout },
        ];
        const step = encoder.step(inputs, feeds, epochRng);
        return trainStep(
          () => {
            const [a, b] = step.forward();
            return symmetricInfoNce(a, b, logitScale);
          },
          { dense: [encoder.params], sparse: step.sparse },
        );
      },
    });
    const vectors = encodeWithProgress(onProgress, () => encoder.encodeAll(inputs));
    const recall = evalRecall(opts.evalPairs, vectors, arch.dim, items, config.evalMaxPairs, rng.fork('eval'));
    const resolved = { ...config, epochs_run: epochs, view_mode: viewMode, data: opts.data, coverage };
    return await writeTrainedEncoder(
      {
        command: 'train-content',
        out: path.resolve(opts.out),
        data: opts.data,
        seed: opts.seed,
        backend: opts.backend,
        table: { file: 'content.arrow', key: 'content' },
        vectors,
        dim: arch.dim,
        items: items.count,
        resolved,
        meta: outputMeta('train-content', opts.seed, resolved, { view_mode: viewMode, dim: arch.dim, ...datasetIdentity(opts.data) }),
        curve,
        epochs,
        temperature: round6(temperatureOf(logitScale)),
        recall,
        t0,
        saveModel: (dir) => saveEncoder(dir, encoder, 'content'),
      },
      { view_mode: viewMode, trained_items: train.length },
    );
  } finally {
    encoder.dispose();
  }
}
