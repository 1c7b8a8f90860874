/**
 * `gist train-ctr`: train a CTR model (source DIN teacher, or a target variant of Table 1 / Table 6), score
 * the valid and test splits, and write model/, predictions.arrow, curve.json, config.json and, for the
 * source domain, the learned item ID embeddings that `train-behavior` aligns to.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DictColumn } from '../arrow-io.js';
import { DATASET_FILES, datasetIdentity, eventsBeforeInFile, loadDataset, samplesInSplit, type Dataset, type Samples } from '../dataset.js';
import { initBackend, type BackendName } from '../engine/backend.js';
import { modelKernelName } from '../retrieval/native.js';
import { saveWeights } from '../engine/model-io.js';
import { UsageError } from '../errors.js';
import { auc, gauc, logloss } from '../metrics.js';
import { configHash, noProgress, outputMeta, OutputStage, type OnProgress } from '../output.js';
import { makeRng } from '../rng.js';
import { DOMAINS, EMBEDDINGS, PREDICTIONS, SPLITS, type Domain } from '../schemas.js';
import { CtrBatcher, searchedEventsOf } from './batcher.js';
import { hasCheckpoint } from './checkpoint.js';
import { resolveModelConfig, resolveTrainConfig, variantNeeds, type AsiMode, type CtrModelConfig, type CtrTrainConfig, type CtrVariant } from './config.js';
import { loadGsu, loadJoint, type GsuIndex, type JointTable } from './inputs.js';
import { CtrModel } from './model.js';
import { popularityScores } from './popularity.js';
import { scoreSamples, trainLoop } from './trainer.js';

export const CTR_OUTPUTS = {
  model: 'model',
  predictions: 'predictions.arrow',
  curve: 'curve.json',
  config: 'config.json',
  checkpoint: 'checkpoint',
  idEmbeddings: 'id_embeddings.arrow',
} as const;

/** Architecture flags a user may set (the rest of CtrModelConfig comes from the data). */
export type CtrModelFlags = Partial<Pick<CtrModelConfig, 'embeddingDim' | 'attention' | 'attentionHidden' | 'tower' | 'maxHistory' | 'maxSearch' | 'm1' | 'm2' | 'simDistNorm' | 'simScoreDim'>>;

export interface TrainCtrOptions {
  dataDir: string;
  outDir: string;
  domain: Domain;
  variant: CtrVariant;
  asi: AsiMode;
  /** gsu.arrow (every variant but din). */
  gsuFile?: string;
  /** joint.arrow (gist with asi simscore/simscore+simdist/embedding). */
  jointFile?: string;
  model: CtrModelFlags;
  train: Partial<CtrTrainConfig>;
  seed: number;
  backend: BackendName;
  resume: boolean;
  /** Polled before every training step (SIGINT): true → checkpoint, then InterruptedError. */
  shouldStop?: () => boolean;
  onProgress?: OnProgress;
}

export interface SplitMetrics {
  auc: number;
  gauc: number;
  logloss: number;
  n: number;
}

export interface TrainCtrResult {
  domain: Domain;
  variant: CtrVariant;
  asi: AsiMode;
  best_epoch: number;
  valid: SplitMetrics;
  test: SplitMetrics;
  popularity_baseline_test_auc: number;
  samples_per_s: number;
  /** The model kernels that ran: "native-avx512" / "native-avx2" / "native-scalar" (native/ addon) or "tfjs" (GIST_NATIVE=0, other backends). They round differently. */
  kernels: string;
  epochs: number;
  stopped_early: boolean;
  train_samples: number;
  /** ASI bins actually used (gist only). */
  m1?: number;
  m2?: number;
  outputs: { model: string; predictions: string; curve: string; config: string; checkpoint: string; id_embeddings?: string };
}

function metricsOf(samples: Samples, idx: Int32Array, scores: Float32Array): SplitMetrics {
  const labels = new Int8Array(idx.length);
  const users = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    labels[i] = samples.label[idx[i]];
    users[i] = samples.userId[idx[i]];
  }
  return { auc: auc(labels, scores), gauc: gauc(users, labels, scores), logloss: logloss(labels, scores), n: idx.length };
}

/** Load gsu.arrow / joint.arrow: each is required where the variant uses it and refused where it does not. */
export function loadSideInputs(ds: Dataset, cfg: CtrModelConfig, gsuFile: string | undefined, jointFile: string | undefined): { gsu: GsuIndex | null; joint: JointTable | null } {
  const needs = variantNeeds(cfg.variant, cfg.asi);
  if (needs.gsu && !gsuFile) throw new UsageError(`--variant ${cfg.variant} needs --gsu gsu.arrow (the GSU's searched source items)`);
  if (needs.joint && !jointFile) throw new UsageError(`--asi ${cfg.asi} needs --embeddings joint.arrow (the joint embeddings)`);
  // A file the variant would ignore is a mistake in the command line, not something to skip silently.
  if (!needs.gsu && gsuFile) throw new UsageError(`--variant ${cfg.variant} does not read --gsu; drop it`);
  if (!needs.joint && jointFile) throw new UsageError(cfg.variant === 'gist' ? `--asi ${cfg.asi} does not read --embeddings; drop it` : `--variant ${cfg.variant} does not read --embeddings; drop it`);
  const samples = ds.samples[cfg.domain];
  // Same row counts are not the same data: a file from another dataset would train silently on wrong ids.
  const gsu = needs.gsu && gsuFile ? loadGsu(gsuFile, samples.count, ds.items.count, ds.dir) : null;
  const joint = needs.joint && jointFile ? loadJoint(jointFile, ds.items.count, ds.dir) : null;
  return { gsu, joint };
}

export async function trainCtr(o: TrainCtrOptions): Promise<TrainCtrResult> {
  const onProgress = o.onProgress ?? noProgress;
  const trainCfg = resolveTrainConfig(o.train);
  const preliminary = resolveModelConfig({ ...o.model, domain: o.domain, variant: o.variant, asi: o.asi });
  await initBackend(o.backend);
  // A target-domain model reads the source sequences only for SimDist 'history-fraction' (GIST), one count per
  // sample: those come from the file batch by batch, and the sequences (867 MB at the paper's shape) are not loaded.
  const ds = loadDataset(o.dataDir, { sequences: o.domain === 'target' ? ['target'] : DOMAINS });
  const { gsu, joint } = loadSideInputs(ds, preliminary, o.gsuFile, o.jointFile);
  const cfg: CtrModelConfig = {
    ...preliminary,
    numItems: ds.items.count,
    numCategories: ds.items.category ? ds.items.categoryNames.length : 0,
    jointDim: joint && preliminary.asi === 'embedding' ? joint.dim : 0,
  };
  const samples = ds.samples[o.domain];
  const config = {
    command: 'train-ctr',
    seed: o.seed,
    backend: o.backend,
    data: { dir: path.resolve(o.dataDir), name: ds.manifest.name, counts: ds.manifest.counts },
    gsu: gsu ? path.resolve(gsu.file) : null,
    joint: joint ? path.resolve(joint.file) : null,
    model: cfg,
    train: trainCfg,
  };
  const hash = configHash({ ...config, data: { name: ds.manifest.name, counts: ds.manifest.counts } });
  const checkpointDir = path.join(o.outDir, CTR_OUTPUTS.checkpoint);
  if (o.resume && !hasCheckpoint(checkpointDir)) throw new UsageError(`--resume: no checkpoint in ${checkpointDir} (train without --resume first)`);
  return OutputStage.run(o.outDir, [o.dataDir], async (stage) => {
    if (!o.resume) fs.rmSync(checkpointDir, { recursive: true, force: true });
    const searchedEvents = searchedEventsOf(cfg, samples, () => eventsBeforeInFile(path.join(o.dataDir, DATASET_FILES.sequences('source')), 'source', samples));
    const batcher = new CtrBatcher(cfg, { items: ds.items, samples, history: ds.sequences[o.domain], gsu, joint, searchedEvents }, Math.max(trainCfg.batchSize, trainCfg.evalBatchSize));
    const model = new CtrModel(cfg, makeRng(o.seed).fork('init'), trainCfg.lr);
    try {
      model.bindData(ds.items.category, joint);
      const loop = await trainLoop({ model, batcher, samples, train: trainCfg, seed: o.seed, checkpointDir, configHash: hash, resume: o.resume, shouldStop: o.shouldStop, onProgress });
      const validIdx = samplesInSplit(samples, 'valid');
      const testIdx = samplesInSplit(samples, 'test');
      const validScores = scoreSamples(model, batcher, validIdx, trainCfg.evalBatchSize, onProgress, 'scoring valid');
      const testScores = scoreSamples(model, batcher, testIdx, trainCfg.evalBatchSize, onProgress, 'scoring test');
      const valid = metricsOf(samples, validIdx, validScores);
      const test = metricsOf(samples, testIdx, testScores);
      const pop = popularityScores(samples, ds.items.count, testIdx);
      const popAuc = metricsOf(samples, testIdx, pop).auc;
      const meta = outputMeta('train-ctr', o.seed, config, datasetIdentity(o.dataDir));

      const modelDir = path.dirname(stage.file(`${CTR_OUTPUTS.model}/weights.bin`));
      await saveWeights(modelDir, model.toWeights(false), { format: 'gist-ctr', version: 1, model: cfg, train: trainCfg, seed: o.seed, best_epoch: loop.bestEpoch, config_hash: meta.config_hash });
      const both = Int32Array.from([...validIdx, ...testIdx]);
      const scores = new Float32Array(both.length);
      scores.set(validScores, 0);
      scores.set(testScores, validIdx.length);
      const pick = <T extends Int32Array | Int8Array>(arr: T, ctor: new (n: number) => T): T => {
        const out = new ctor(both.length);
        for (let i = 0; i < both.length; i++) out[i] = arr[both[i]];
        return out;
      };
      const split: DictColumn = { codes: Int32Array.from(both, (s) => samples.split[s]), values: [...SPLITS] };
      const outputs: TrainCtrResult['outputs'] = {
        model: stage.final(CTR_OUTPUTS.model),
        predictions: stage.writeArrow(CTR_OUTPUTS.predictions, PREDICTIONS, { sample_id: both, user_id: pick(samples.userId, Int32Array), item_id: pick(samples.itemId, Int32Array), label: pick(samples.label, Int8Array), score: scores, split }, meta),
        curve: stage.writeJson(CTR_OUTPUTS.curve, { epochs: loop.curve, best_epoch: loop.bestEpoch }),
        config: stage.writeJson(CTR_OUTPUTS.config, config),
        checkpoint: checkpointDir,
      };
      if (o.domain === 'source') {
        const srcItems: number[] = [];
        for (let i = 0; i < ds.items.count; i++) if (ds.items.domain[i] === 0) srcItems.push(i);
        const ids = Int32Array.from(srcItems);
        outputs.id_embeddings = stage.writeArrow(CTR_OUTPUTS.idEmbeddings, EMBEDDINGS, { item_id: ids, vector: { dim: cfg.embeddingDim, values: model.itemVectors(ids) } }, { ...meta, counts: 'items.arrow source_count' });
      }
      const result: TrainCtrResult = {
        domain: o.domain,
        variant: cfg.variant,
        asi: cfg.asi,
        best_epoch: loop.bestEpoch,
        valid,
        test,
        popularity_baseline_test_auc: popAuc,
        samples_per_s: loop.samplesPerS,
        kernels: modelKernelName(o.backend),
        epochs: loop.epochsRun,
        stopped_early: loop.stoppedEarly,
        train_samples: loop.trainSamples,
        outputs,
      };
      if (cfg.variant === 'gist' && cfg.asi !== 'none') {
        result.m1 = cfg.m1;
        result.m2 = cfg.m2;
      }
      return result;
    } finally {
      model.dispose();
    }
  });
}
