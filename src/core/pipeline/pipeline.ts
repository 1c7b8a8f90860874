/**
 * `gist pipeline`: the whole GIST study in one run — data → source ranking model → ESU/Swing pairs →
 * content, behavior and union encoders (+ ablations) → HNSW index → GSU search → every CTR variant →
 * evaluation. Steps whose config and inputs did not change are skipped (see runner.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../arrow-io.js';
import { resolveConfig, readJsonFile } from '../config.js';
import { UsageError } from '../errors.js';
import { noProgress, type OnProgress } from '../output.js';
import type { BackendName } from '../engine/backend.js';
import { DATASET_FILES, loadItems } from '../dataset.js';
import { resolveSynthConfig, synthesize } from '../synth.js';
import { prepareDataset, PREPARE_FORMATS } from '../prepare/index.js';
import { trainCtr, type CtrModelFlags } from '../ctr/train.js';
import { BEHAVIOR_FLAGS, CONTENT_FLAGS, CTR_MODEL_FLAGS, CTR_TRAIN_FLAGS, configFlags, pairs, SWING_FLAGS, synthFlags, UNION_FLAGS } from './argv.js';
import { DEFAULT_CTR_MODEL_CONFIG, DEFAULT_CTR_TRAIN_CONFIG, resolveModelConfig, resolveTrainConfig, variantNeeds, type CtrModelConfig, type CtrTrainConfig, type CtrVariant, type AsiMode } from '../ctr/config.js';
import { DEFAULT_ESU_CANDIDATES, extractEsuPairs, type EsuResult } from '../pairs/esu.js';
import { extractSwingPairs } from '../pairs/swing.js';
import { DEFAULT_SWING_CONFIG, type SwingConfig } from '../pairs/swing.js';
import { trainContent, DEFAULT_TRAIN_CONTENT_CONFIG } from '../cbjt/train-content.js';
import { trainBehavior, DEFAULT_TRAIN_BEHAVIOR_CONFIG } from '../cbjt/train-behavior.js';
import { trainUnion, DEFAULT_TRAIN_UNION_CONFIG, resolveTrainUnionConfig, type TrainUnionConfig } from '../cbjt/train-union.js';
import { buildIndex } from '../retrieval/hnsw.js';
import { searchGsu } from '../retrieval/gsu.js';
import { modelKernelName, nativeKernels, scorerName } from '../retrieval/native.js';
import { kernelUsesFma } from '../retrieval/score-kernel.js';
import { DOMAINS, type Domain } from '../schemas.js';
import { evaluate, DEFAULT_EVALUATE_OPTIONS, type EvaluateOptions } from '../evaluate/evaluate.js';
import type { EvaluateResult, PlantedMetrics } from '../evaluate/result.js';
import { runGistCommand } from './child.js';
import { inputFingerprint, runSteps, type StepDef, type StepOutcome } from './runner.js';
import { camelKeys } from '../keys.js';

/** One CTR run of the comparison table: a Table 1 variant, or `gist` under a Table 6 ASI setting. */
export interface CtrRunSpec {
  name: string;
  variant: CtrVariant;
  asi: AsiMode;
  /**
   * gist only: which union model's u the GSU searches and ASI scores (default `union`, the joint model; the
   * single-view and Swing-trained unions give the paper's Table 2 and Table 4 rows).
   */
  union?: UnionStep;
}

/** Union encoder runs: the joint model, then the ablations of Tables 2, 3 and 5 (with `unionAblations`). */
const UNION_RUNS = [
  { name: 'union', pairs: 'esu', over: {} },
  { name: 'union-no-gate', pairs: 'esu', over: { gate: false } },
  { name: 'union-no-cross', pairs: 'esu', over: { cross: false } },
  // Swing pairs: their held-out Recall@10 falls from the first epoch while the union's planted precision still
  // rises (synthetic valid), so this union trains its scheduled epochs (README, "Choices made on valid").
  { name: 'union-swing', pairs: 'swing', over: { holdout: 0 } },
  { name: 'union-content', pairs: 'esu', over: { view: 'content' } },
  { name: 'union-behavior', pairs: 'esu', over: { view: 'behavior' } },
] as const satisfies readonly { name: string; pairs: 'esu' | 'swing'; over: Partial<TrainUnionConfig> }[];

/** Union steps a gist run can search with. */
export const UNION_STEPS = UNION_RUNS.map((u) => u.name);
export type UnionStep = (typeof UNION_RUNS)[number]['name'];

/** The GSU step that searches with a union's u (`gsu-joint` for the joint model). */
const gsuStepOf = (union: UnionStep): string => (union === 'union' ? 'gsu-joint' : `gsu-${union}`);

export interface PipelineConfig {
  /** `--data synthetic`: preset and field overrides for `gist synth`. */
  synth: { preset: string; overrides: Record<string, unknown> };
  /** `--data DIR --format F`: importer options (negatives per positive, movielens target genres). */
  prepare: { negatives: number; targetGenres: string[] };
  /** Source ranking model (the ESU teacher). */
  source: { model: CtrModelFlags; train: Partial<CtrTrainConfig> };
  /** Every target CTR run shares these. */
  target: { model: CtrModelFlags; train: Partial<CtrTrainConfig> };
  /** θ of eq. 8. */
  theta: number;
  /** R: size of the candidate set S_A the ESU attends over (0 = the source model's recent-history window). */
  esuCandidates: number;
  /**
   * What ranks S_A: 'id' the source model's ID embeddings (its own GSU), 'content' the content encoder's vectors
   * (a source GSU that searches with content / multi-modal vectors). A tie on synthetic valid (README, "Which
   * embedding ranks S_A"); it decides which single-view embedding Recall@K favours.
   */
  esuCandidateScorer: 'id' | 'content';
  /**
   * θ for the Recall@K ground truth (ESU pairs of valid/test samples); null = `theta`. Long histories spread
   * attention (MovieLens: 2 held-out pairs at 0.4), so a lower truth θ keeps the recall table meaningful
   * without changing the pairs the union encoder trains on.
   */
  recallTheta: number | null;
  swing: SwingConfig;
  content: Record<string, unknown>;
  behavior: Record<string, unknown>;
  union: Partial<TrainUnionConfig>;
  /** Also train the Table 2/3/5 union ablations (no-gate, no-cross, Swing pairs, single views). */
  unionAblations: boolean;
  index: { m: number; efConstruction: number; ef: number };
  /** GSU top-K. */
  k: number;
  /** Target CTR runs (Table 1 variants; add gist ASI ablations for Table 6). */
  runs: CtrRunSpec[];
  /** Recall@K cut-offs. */
  ks: number[];
}

export const TABLE1_RUNS: CtrRunSpec[] = [
  { name: 'din', variant: 'din', asi: 'none' },
  { name: 'sim-hard', variant: 'sim-hard', asi: 'none' },
  { name: 'sim-soft-pooling', variant: 'sim-soft-pooling', asi: 'none' },
  { name: 'sim-soft-attention', variant: 'sim-soft-attention', asi: 'none' },
  { name: 'gist', variant: 'gist', asi: 'simscore+simdist' },
];

/** Table 2: GIST searching with single-encoder embeddings; Table 4: union trained on Swing pairs. */
export const TABLE2_RUNS: CtrRunSpec[] = [
  { name: 'gist-content-only', variant: 'gist', asi: 'simscore+simdist', union: 'union-content' },
  { name: 'gist-behavior-only', variant: 'gist', asi: 'simscore+simdist', union: 'union-behavior' },
];
export const TABLE4_RUNS: CtrRunSpec[] = [{ name: 'gist-swing-pairs', variant: 'gist', asi: 'simscore+simdist', union: 'union-swing' }];

export const TABLE6_RUNS: CtrRunSpec[] = [
  { name: 'gist-asi-none', variant: 'gist', asi: 'none' },
  { name: 'gist-asi-embedding', variant: 'gist', asi: 'embedding' },
  { name: 'gist-asi-simscore', variant: 'gist', asi: 'simscore' },
];

export const DEFAULT_PIPELINE_CONFIG: PipelineConfig = {
  synth: { preset: 'small', overrides: {} },
  prepare: { negatives: 4, targetGenres: ['Animation', 'Children'] },
  source: { model: {}, train: { epochs: 3, maxTrainSamples: 300_000 } },
  // lr 0.002 chosen on the synthetic valid split over {0.005, 0.002} for every variant (README, "Choices made on valid").
  target: { model: {}, train: { epochs: 8, lr: 0.002 } },
  // Chosen on the synthetic valid split with R = 10 (README, "Choices made on valid"); the paper's 0.4 is for its model.
  theta: 0.2,
  esuCandidates: DEFAULT_ESU_CANDIDATES,
  esuCandidateScorer: 'id',
  recallTheta: null,
  swing: DEFAULT_SWING_CONFIG,
  content: {},
  behavior: {},
  union: {},
  unionAblations: true,
  index: { m: 16, efConstruction: 200, ef: 100 },
  k: 100,
  runs: TABLE1_RUNS,
  ks: [10, 100, 1000],
};

export interface PipelineOptions {
  /** 'synthetic', a prepared dataset folder, or a raw folder with `format`. */
  data: string;
  format?: string;
  work: string;
  /** Overrides (a `--config FILE` JSON object); unknown keys are usage errors. */
  config?: Record<string, unknown>;
  configFile?: string;
  from?: string;
  seed: number;
  backend: BackendName;
  onProgress?: OnProgress;
  onStep?: (name: string, status: 'start' | 'ran' | 'skipped' | 'disabled', seconds?: number) => void;
  /**
   * Steps run at once (default `defaultPipelineJobs()`). 1: one after another in this process; above 1 each step
   * is its own gist process (the command line `--plan` writes), with the same outputs byte for byte.
   */
  jobs?: number;
  /** How to start gist for a step's process (default: this package's bin/run.js under this Node). */
  gistCommand?: readonly string[];
}

/** The file (in the work folder, while a `--jobs` > 1 run lasts) that holds each step process's share of the cores now. */
export const THREAD_SHARE_FILE = '.thread-share';

/** Threads of a step process while `concurrent` steps (itself included) run: its share of the cores. */
export function stepThreads(concurrent: number, cores = os.availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, concurrent)));
}

/** Steps a run does at once by default: one per core, at most 4 (few more are ever ready at the same time). */
export function defaultPipelineJobs(): number {
  return Math.max(1, Math.min(os.availableParallelism(), 4));
}

/**
 * Steps that fit in memory at once: each process holds about 4× the dataset's files (the paper-shaped run: 0.9 GB
 * of data, 3.4 GiB peak) plus 0.5 GiB, within 3/4 of the machine's memory. Before the data exists: no limit.
 */
export function memoryJobs(dataBytes: number | null, totalMem = os.totalmem()): number {
  if (dataBytes === null) return Number.POSITIVE_INFINITY;
  return Math.max(1, Math.floor((0.75 * totalMem) / (4 * dataBytes + 2 ** 29)));
}

/** Bytes of a prepared dataset's files, or null while it does not exist yet. */
function datasetBytes(dataDir: string): number | null {
  try {
    return datasetFiles(dataDir).reduce((sum, f) => sum + fs.statSync(f).size, 0);
  } catch {
    return null;
  }
}

/** This package's own CLI under the running Node (src/core/pipeline and dist/core/pipeline sit alike under the root). */
const OWN_GIST: readonly string[] = [process.execPath, fileURLToPath(new URL('../../../bin/run.js', import.meta.url))];

export interface PipelineTableRow {
  variant: string;
  auc: number | null;
  gauc: number | null;
  logloss: number | null;
  auc_gain_pct: number | null;
  auc_low_popularity: number | null;
  auc_high_popularity: number | null;
}

export interface PipelineResult {
  work: string;
  data: string;
  seed: number;
  steps: { name: string; status: string; seconds: number }[];
  /** The evaluation at the end of the run (in this process, after every step). */
  evaluate_seconds: number;
  table: PipelineTableRow[];
  recall: { name: string; recall: Record<string, number | null> }[];
  /** AUC of the stored true click probability (synthetic data only): the best any model can do. */
  oracle_test_auc: number | null;
  /** Synthetic data: GSU shares and embedding neighbours against the planted sub-topics (see `gist evaluate`). */
  planted: PlantedMetrics | null;
  esu_pairs: number | null;
  /** Held-out ESU pairs used as Recall@K truth, and the θ they were kept at. */
  recall_truth_pairs: number;
  recall_theta: number;
  warnings: string[];
  outputs: { report: string; metrics: string; state: string };
  seconds: number;
}

interface Ctx {
  work: string;
  dataDir: string;
  dataSource: string;
  format?: string;
  cfg: PipelineConfig;
  seed: number;
  backend: BackendName;
  onProgress: OnProgress;
  hasCategories: () => boolean;
}

const w = (ctx: Ctx, ...parts: string[]): string => path.join(ctx.work, ...parts);

/** Recall truth comes from its own extraction when `recallTheta` differs from `theta`. */
const separateTruth = (cfg: PipelineConfig): boolean => cfg.recallTheta !== null && cfg.recallTheta !== cfg.theta;
const truthPairs = (ctx: Ctx): string => w(ctx, separateTruth(ctx.cfg) ? 'pairs-truth' : 'pairs-esu', 'pairs.arrow');

function isPrepared(dir: string): boolean {
  return fs.existsSync(path.join(dir, DATASET_FILES.manifest)) && fs.existsSync(path.join(dir, DATASET_FILES.items));
}

/** The files of a prepared dataset that steps read (not planted.arrow: diagnostics only). */
function datasetFiles(dir: string): string[] {
  const names = [DATASET_FILES.manifest, DATASET_FILES.items, ...DOMAINS.flatMap((d) => [DATASET_FILES.sequences(d), DATASET_FILES.samples(d)])];
  return names.map((f) => path.join(dir, f));
}

/** Steps that train or run a tfjs model (by name or name prefix). */
const MODEL_STEPS = ['source', 'pairs-esu', 'pairs-truth', 'content', 'behavior', 'union', 'ctr'];

/**
 * Which kernel a step's numbers rest on beyond its config. GSU soft scores come from the native addon or the
 * wasm kernel (with or without FMA), which round differently, so near-tied candidates may swap; the index
 * step measures recall with the native search or hnswlib-node's (GIST_NATIVE=0, GIST_NATIVE_ISA); the steps
 * that train or run a model rest on the model kernels (native attention scorer and GEMM, or tfjs's), which
 * round differently too.
 */
export function kernelKey(backend: BackendName): (step: string) => unknown {
  return (step) => {
    // hard search only filters by category: no scores, no scorer
    if (step.startsWith('gsu-') && step !== 'gsu-hard') {
      const { scorer } = scorerName();
      return { gsu: scorer === 'wasm-simd' && kernelUsesFma() ? 'wasm-simd-fma' : scorer };
    }
    if (step === 'index') return { hnsw: nativeKernels()?.hnswIsa() ?? 'hnswlib-node' };
    if (MODEL_STEPS.some((prefix) => step === prefix || step.startsWith(`${prefix}-`) || step.startsWith(`${prefix}#`))) return { kernels: modelKernelName(backend) };
    return null;
  };
}

/**
 * ESU extraction shards (`gist extract-pairs --method esu --shard i/n`, joined by `gist merge`): the plan runs
 * pairs-esu and pairs-truth as n shards and a merge, like the GSU steps. Swing does not shard (its user pairs
 * span every user).
 */
export const EXTRACT_PAIRS_SHARDS = true;

/** Time buckets of the ESU max-attention report, and source samples per attention batch. */
const ESU_BUCKETS = 8;
const ESU_BATCH = 2048;

/** Queries the index step samples for its recall report (`build-index --queries`). */
const INDEX_RECALL_QUERIES = 500;

/** Rough step costs relative to a search or pairs step (synthetic `small`: CTR models 20–150 s, encoders 5–60 s). */
const COST = { model: 4, encoder: 2 } as const;

/** Flags every step's command takes: the run's seed and tensor backend. */
const common = (ctx: Ctx): string[] => ['--seed', String(ctx.seed), '--backend', ctx.backend];

/** The vectors that rank S_A besides the source model's own (undefined: its ID embeddings). */
const candidateEmbeddings = (ctx: Ctx): string | undefined => (ctx.cfg.esuCandidateScorer === 'content' ? w(ctx, 'content', 'content.arrow') : undefined);

/** `extract-pairs --method esu` as the pairs steps call extractEsuPairs (every setting explicit: the CLI's defaults differ). */
function esuArgv(ctx: Ctx, theta: number, splits: string[]): string[] {
  const scorer = candidateEmbeddings(ctx);
  return [
    'extract-pairs',
    '--data',
    ctx.dataDir,
    '--method',
    'esu',
    '--model',
    w(ctx, 'source'),
    // the batch size too: a sample's attention rounds with its batch's padding, and ESU shards are blocks of batches
    ...pairs({ '--theta': theta, '--candidates': ctx.cfg.esuCandidates, '--min-history': 1, '--buckets': ESU_BUCKETS, '--batch-size': ESU_BATCH, '--split': splits }),
    ...(scorer ? ['--candidate-embeddings', scorer] : []),
    ...common(ctx),
  ];
}

/** `search-gsu` as the GSU steps call searchGsu: soft search with `embeddings`, hard (category) search with null. */
function gsuArgv(ctx: Ctx, embeddings: string | null): string[] {
  const mode = embeddings === null ? ['--mode', 'hard'] : ['--embeddings', embeddings, '--mode', 'soft'];
  return ['search-gsu', '--data', ctx.dataDir, ...mode, '--k', String(ctx.cfg.k), ...common(ctx)];
}

type CtrFixed = { domain: Domain; variant: CtrVariant; asi: AsiMode };

/** The source (teacher) ranking model: DIN without ASI. */
const SOURCE_MODEL: CtrFixed = { domain: 'source', variant: 'din', asi: 'none' };

/** A pipeline model section with every default filled in: what train-ctr runs with (and so part of the step key). */
function resolvedCtr(section: PipelineConfig['source'], fixed: CtrFixed): { model: CtrModelConfig; train: CtrTrainConfig } {
  return { model: resolveModelConfig({ ...section.model, ...fixed }), train: resolveTrainConfig(section.train) };
}

/**
 * A model step's key: its resolved config with the ASI settings the model does not read (SimScore for all but GIST
 * with SimScore, SimDist for all but GIST with SimDist: DIN, the SIM variants, the source model) pinned to one
 * value, so changing their defaults or setting them for every run reruns only the models that read them. The pinned
 * values are the defaults those keys were first written with, so existing work folders stay valid.
 */
const UNREAD_SIMSCORE_KEY: Pick<CtrModelConfig, 'm1' | 'simScoreDim'> = { m1: 20, simScoreDim: 8 };
const UNREAD_SIMDIST_KEY: Pick<CtrModelConfig, 'm2' | 'simDistNorm'> = { m2: 10, simDistNorm: 'fraction' };

function ctrKey(section: PipelineConfig['source'], fixed: CtrFixed): { model: CtrModelConfig; train: CtrTrainConfig } {
  const { model, train } = resolvedCtr(section, fixed);
  const needs = variantNeeds(fixed.variant, fixed.asi);
  if (needs.sideFeature !== 'simscore') Object.assign(model, UNREAD_SIMSCORE_KEY);
  if (!needs.simDist) Object.assign(model, UNREAD_SIMDIST_KEY);
  return { model, train };
}

/** train-ctr flags of a pipeline model section: every setting explicit (train-ctr has flag defaults of its own). */
function ctrFlags(where: string, fixed: CtrFixed, section: PipelineConfig['source']): string[] {
  const { model, train } = resolvedCtr(section, fixed);
  return [
    ...configFlags(`${where}.model`, { ...model }, { ...DEFAULT_CTR_MODEL_CONFIG }, CTR_MODEL_FLAGS, true),
    ...configFlags(`${where}.train`, { ...train }, { ...DEFAULT_CTR_TRAIN_CONFIG }, CTR_TRAIN_FLAGS, true),
  ];
}

function buildSteps(cfg: PipelineConfig): StepDef<Ctx>[] {
  // S_A ranked by content vectors waits for the content encoder (and reruns when it changes).
  const esuDeps = cfg.esuCandidateScorer === 'content' ? ['source', 'content'] : ['source'];
  const steps: StepDef<Ctx>[] = [
    {
      name: 'data',
      deps: [],
      outDir: 'data',
      scales: true,
      config: (ctx) => (ctx.dataSource === 'synthetic' ? { synth: resolveSynthConfig(ctx.cfg.synth.preset, ctx.cfg.synth.overrides), seed: ctx.seed } : { input: path.resolve(ctx.dataSource), format: ctx.format ?? null, prepare: ctx.cfg.prepare, seed: ctx.seed }),
      argv: (ctx) =>
        ctx.dataSource === 'synthetic'
          ? ['synth', '--preset', ctx.cfg.synth.preset, ...synthFlags(ctx.cfg.synth.overrides), ...common(ctx)]
          : ['prepare', '--format', ctx.format as string, '--input', ctx.dataSource, ...pairs({ '--negatives': ctx.cfg.prepare.negatives, '--target-genres': ctx.format === 'movielens' ? ctx.cfg.prepare.targetGenres : undefined }), ...common(ctx)],
      run: async (ctx) => {
        if (ctx.dataSource === 'synthetic') return synthesize({ preset: ctx.cfg.synth.preset, out: ctx.dataDir, seed: ctx.seed, overrides: ctx.cfg.synth.overrides }, ctx.onProgress);
        return prepareDataset(
          { format: ctx.format as string, input: ctx.dataSource, out: ctx.dataDir, seed: ctx.seed, negatives: ctx.cfg.prepare.negatives, targetGenres: ctx.format === 'movielens' ? ctx.cfg.prepare.targetGenres : undefined },
          ctx.onProgress,
        );
      },
    },
    {
      name: 'source',
      deps: ['data'],
      outDir: 'source',
      cost: COST.model,
      // Keys hold resolved configs, defaults included: a changed default reruns the step (unless the model never reads it).
      config: (ctx) => ctrKey(ctx.cfg.source, SOURCE_MODEL),
      argv: (ctx) => ['train-ctr', '--data', ctx.dataDir, ...ctrFlags('source', SOURCE_MODEL, ctx.cfg.source), ...common(ctx)],
      run: (ctx) =>
        trainCtr({ dataDir: ctx.dataDir, outDir: w(ctx, 'source'), ...SOURCE_MODEL, model: ctx.cfg.source.model, train: ctx.cfg.source.train, seed: ctx.seed, backend: ctx.backend, resume: false, onProgress: ctx.onProgress }),
    },
    {
      name: 'pairs-esu',
      deps: esuDeps,
      outDir: 'pairs-esu',
      scales: true,
      // the source model over every source click (12–18 s of the paper-shaped run), on the path to the union
      cost: COST.encoder,
      config: (ctx) => ({ theta: ctx.cfg.theta, candidates: ctx.cfg.esuCandidates, scorer: ctx.cfg.esuCandidateScorer, minHistory: 1, buckets: ESU_BUCKETS, batchSize: ESU_BATCH }),
      shards: EXTRACT_PAIRS_SHARDS,
      argv: (ctx) => esuArgv(ctx, ctx.cfg.theta, ['train', 'valid', 'test']),
      run: (ctx) =>
        extractEsuPairs({ dataDir: ctx.dataDir, modelDir: w(ctx, 'source'), outDir: w(ctx, 'pairs-esu'), theta: ctx.cfg.theta, includeNegatives: false, minHistory: 1, candidates: ctx.cfg.esuCandidates, candidateEmbeddings: candidateEmbeddings(ctx), splits: ['train', 'valid', 'test'], buckets: ESU_BUCKETS, batchSize: ESU_BATCH, seed: ctx.seed, backend: ctx.backend, onProgress: ctx.onProgress }),
    },
    {
      name: 'pairs-truth',
      deps: esuDeps,
      outDir: 'pairs-truth',
      scales: true,
      enabled: (ctx) => separateTruth(ctx.cfg),
      config: (ctx) => ({ theta: ctx.cfg.recallTheta, candidates: ctx.cfg.esuCandidates, scorer: ctx.cfg.esuCandidateScorer, minHistory: 1, buckets: ESU_BUCKETS, batchSize: ESU_BATCH }),
      shards: EXTRACT_PAIRS_SHARDS,
      argv: (ctx) => esuArgv(ctx, ctx.cfg.recallTheta as number, ['valid', 'test']),
      run: (ctx) =>
        extractEsuPairs({ dataDir: ctx.dataDir, modelDir: w(ctx, 'source'), outDir: w(ctx, 'pairs-truth'), theta: ctx.cfg.recallTheta as number, includeNegatives: false, minHistory: 1, candidates: ctx.cfg.esuCandidates, candidateEmbeddings: candidateEmbeddings(ctx), splits: ['valid', 'test'], buckets: ESU_BUCKETS, batchSize: ESU_BATCH, seed: ctx.seed, backend: ctx.backend, onProgress: ctx.onProgress }),
    },
    {
      name: 'pairs-swing',
      deps: ['data'],
      outDir: 'pairs-swing',
      cost: COST.encoder,
      enabled: (ctx) => ctx.cfg.unionAblations,
      config: (ctx) => ctx.cfg.swing,
      argv: (ctx) => ['extract-pairs', '--data', ctx.dataDir, '--method', 'swing', ...configFlags('swing', { ...ctx.cfg.swing }, { ...DEFAULT_SWING_CONFIG }, SWING_FLAGS, true), ...common(ctx)],
      run: (ctx) => extractSwingPairs({ dataDir: ctx.dataDir, outDir: w(ctx, 'pairs-swing'), config: ctx.cfg.swing, seed: ctx.seed, onProgress: ctx.onProgress }),
    },
    {
      name: 'content',
      deps: ['data'],
      outDir: 'content',
      scales: true,
      cost: COST.encoder,
      config: (ctx) => resolveConfig(DEFAULT_TRAIN_CONTENT_CONFIG, ctx.cfg.content, 'content'),
      argv: (ctx) => ['train-content', '--data', ctx.dataDir, ...configFlags('content', ctx.cfg.content, { ...DEFAULT_TRAIN_CONTENT_CONFIG }, CONTENT_FLAGS), ...common(ctx)],
      run: (ctx) => trainContent({ data: ctx.dataDir, out: w(ctx, 'content'), config: ctx.cfg.content, seed: ctx.seed, backend: ctx.backend, onProgress: ctx.onProgress }),
    },
    {
      name: 'behavior',
      deps: ['source', 'content'],
      outDir: 'behavior',
      scales: true,
      cost: COST.encoder,
      config: (ctx) => resolveConfig(DEFAULT_TRAIN_BEHAVIOR_CONFIG, ctx.cfg.behavior, 'behavior'),
      argv: (ctx) => [
        'train-behavior',
        '--data',
        ctx.dataDir,
        '--id-embeddings',
        w(ctx, 'source', 'id_embeddings.arrow'),
        '--content-model',
        w(ctx, 'content', 'model'),
        ...configFlags('behavior', ctx.cfg.behavior, { ...DEFAULT_TRAIN_BEHAVIOR_CONFIG }, BEHAVIOR_FLAGS),
        ...common(ctx),
      ],
      run: (ctx) =>
        trainBehavior({ data: ctx.dataDir, idEmbeddings: w(ctx, 'source', 'id_embeddings.arrow'), contentModel: w(ctx, 'content', 'model'), out: w(ctx, 'behavior'), config: ctx.cfg.behavior, seed: ctx.seed, backend: ctx.backend, onProgress: ctx.onProgress }),
    },
  ];
  for (const u of cfg.unionAblations ? UNION_RUNS : UNION_RUNS.slice(0, 1)) {
    steps.push({
      name: u.name,
      deps: ['content', 'behavior', u.pairs === 'esu' ? 'pairs-esu' : 'pairs-swing'],
      outDir: u.name,
      scales: true,
      cost: COST.encoder,
      config: (ctx) => resolveTrainUnionConfig({ ...ctx.cfg.union, ...u.over }),
      argv: (ctx) => [
        'train-union',
        '--data',
        ctx.dataDir,
        '--content',
        w(ctx, 'content', 'content.arrow'),
        '--behavior',
        w(ctx, 'behavior', 'behavior.arrow'),
        '--pairs',
        w(ctx, `pairs-${u.pairs}`, 'pairs.arrow'),
        ...configFlags('union', { ...ctx.cfg.union, ...u.over }, { ...DEFAULT_TRAIN_UNION_CONFIG }, UNION_FLAGS),
        ...common(ctx),
      ],
      run: (ctx) =>
        trainUnion({
          data: ctx.dataDir,
          content: w(ctx, 'content', 'content.arrow'),
          behavior: w(ctx, 'behavior', 'behavior.arrow'),
          pairs: w(ctx, `pairs-${u.pairs}`, 'pairs.arrow'),
          out: w(ctx, u.name),
          config: { ...ctx.cfg.union, ...u.over },
          seed: ctx.seed,
          backend: ctx.backend,
          onProgress: ctx.onProgress,
        }),
    });
  }
  steps.push(
    {
      name: 'index',
      deps: ['union', 'pairs-esu', 'pairs-truth'],
      outDir: 'index',
      scales: true,
      config: (ctx) => ctx.cfg.index,
      argv: (ctx) => [
        'build-index',
        '--embeddings',
        w(ctx, 'union', 'joint.arrow'),
        ...pairs({ '--m': ctx.cfg.index.m, '--ef-construction': ctx.cfg.index.efConstruction, '--ef': ctx.cfg.index.ef, '--queries': INDEX_RECALL_QUERIES }),
        '--recall',
        '--pairs',
        truthPairs(ctx),
        ...common(ctx),
      ],
      run: (ctx) =>
        buildIndex({ embeddings: w(ctx, 'union', 'joint.arrow'), out: w(ctx, 'index'), config: ctx.cfg.index, seed: ctx.seed, recall: { queries: INDEX_RECALL_QUERIES, pairs: truthPairs(ctx) }, onProgress: ctx.onProgress }),
    },
    {
      name: 'gsu-joint',
      deps: ['union'],
      outDir: 'gsu-joint',
      scales: true,
      config: (ctx) => ({ k: ctx.cfg.k }),
      shards: true,
      argv: (ctx) => gsuArgv(ctx, w(ctx, 'union', 'joint.arrow')),
      run: (ctx) => searchGsu({ data: ctx.dataDir, embeddings: w(ctx, 'union', 'joint.arrow'), out: w(ctx, 'gsu-joint'), config: { mode: 'soft', k: ctx.cfg.k }, seed: ctx.seed, onProgress: ctx.onProgress }),
    },
    // GSU over the other unions' u, for gist runs that ask for them (Tables 2 and 4).
    ...[...new Set(cfg.runs.filter((r) => r.variant === 'gist' && r.union && r.union !== 'union').map((r) => r.union as UnionStep))].map(
      (union): StepDef<Ctx> => ({
        name: gsuStepOf(union),
        deps: [union],
        outDir: gsuStepOf(union),
        scales: true,
        config: (ctx) => ({ k: ctx.cfg.k }),
        shards: true,
        argv: (ctx) => gsuArgv(ctx, w(ctx, union, 'joint.arrow')),
        run: (ctx) => searchGsu({ data: ctx.dataDir, embeddings: w(ctx, union, 'joint.arrow'), out: w(ctx, gsuStepOf(union)), config: { mode: 'soft', k: ctx.cfg.k }, seed: ctx.seed, onProgress: ctx.onProgress }),
      }),
    ),
    {
      name: 'gsu-content',
      deps: ['content'],
      outDir: 'gsu-content',
      scales: true,
      config: (ctx) => ({ k: ctx.cfg.k }),
      shards: true,
      argv: (ctx) => gsuArgv(ctx, w(ctx, 'content', 'content.arrow')),
      run: (ctx) => searchGsu({ data: ctx.dataDir, embeddings: w(ctx, 'content', 'content.arrow'), out: w(ctx, 'gsu-content'), config: { mode: 'soft', k: ctx.cfg.k }, seed: ctx.seed, onProgress: ctx.onProgress }),
    },
    {
      name: 'gsu-hard',
      deps: ['data'],
      outDir: 'gsu-hard',
      scales: true,
      enabled: (ctx) => ctx.hasCategories(),
      config: (ctx) => ({ k: ctx.cfg.k }),
      shards: true,
      argv: (ctx) => gsuArgv(ctx, null),
      run: (ctx) => searchGsu({ data: ctx.dataDir, out: w(ctx, 'gsu-hard'), config: { mode: 'hard', k: ctx.cfg.k }, seed: ctx.seed, onProgress: ctx.onProgress }),
    },
  );
  for (const r of cfg.runs) {
    const union: UnionStep = r.union ?? 'union';
    const gsuStep = r.variant === 'din' ? null : r.variant === 'sim-hard' ? 'gsu-hard' : r.variant === 'gist' ? gsuStepOf(union) : 'gsu-content';
    const deps = ['data', ...(gsuStep ? [gsuStep] : []), ...(r.variant === 'gist' ? [union] : [])];
    steps.push({
      name: `ctr-${r.name}`,
      deps,
      outDir: `ctr-${r.name}`,
      cost: COST.model,
      enabled: (ctx) => r.variant !== 'sim-hard' || ctx.hasCategories(),
      config: (ctx) => ({ run: r, target: ctrKey(ctx.cfg.target, { domain: 'target', variant: r.variant, asi: r.asi }) }),
      argv: (ctx) => [
        'train-ctr',
        '--data',
        ctx.dataDir,
        ...(gsuStep && variantNeeds(r.variant, r.asi).gsu ? ['--gsu', w(ctx, gsuStep, 'gsu.arrow')] : []),
        ...(variantNeeds(r.variant, r.asi).joint ? ['--embeddings', w(ctx, union, 'joint.arrow')] : []),
        ...ctrFlags(`target (run ${r.name})`, { domain: 'target', variant: r.variant, asi: r.asi }, ctx.cfg.target),
        ...common(ctx),
      ],
      run: (ctx) =>
        trainCtr({
          dataDir: ctx.dataDir,
          outDir: w(ctx, `ctr-${r.name}`),
          domain: 'target',
          variant: r.variant,
          asi: r.asi,
          gsuFile: gsuStep && variantNeeds(r.variant, r.asi).gsu ? w(ctx, gsuStep, 'gsu.arrow') : undefined,
          jointFile: variantNeeds(r.variant, r.asi).joint ? w(ctx, union, 'joint.arrow') : undefined,
          model: ctx.cfg.target.model,
          train: ctx.cfg.target.train,
          seed: ctx.seed,
          backend: ctx.backend,
          resume: false,
          onProgress: ctx.onProgress,
        }),
    });
  }
  if (cfg.esuCandidateScorer === 'content') {
    // Steps are declared after their dependencies: the content encoder moves ahead of the ESU steps.
    const content = steps.splice(steps.findIndex((s) => s.name === 'content'), 1)[0];
    steps.splice(steps.findIndex((s) => s.name === 'pairs-esu'), 0, content);
  }
  return steps;
}

function embeddingRuns(ctx: Ctx): string[] {
  // Tables 2–3: content-only / behavior-only are single-view union models trained on the same pairs.
  if (!ctx.cfg.unionAblations) return [`joint=${w(ctx, 'union', 'joint.arrow')}`];
  return [
    `content-encoder=${w(ctx, 'content', 'content.arrow')}`,
    `behavior-encoder=${w(ctx, 'behavior', 'behavior.arrow')}`,
    `content-only=${w(ctx, 'union-content', 'joint.arrow')}`,
    `behavior-only=${w(ctx, 'union-behavior', 'joint.arrow')}`,
    `joint=${w(ctx, 'union', 'joint.arrow')}`,
    `no-gate=${w(ctx, 'union-no-gate', 'joint.arrow')}`,
    `no-cross=${w(ctx, 'union-no-cross', 'joint.arrow')}`,
    `swing=${w(ctx, 'union-swing', 'joint.arrow')}`,
  ];
}

/**
 * What `evaluate` gets at the end of a run (`ran`: the steps that were not disabled). `truth`: held-out ESU pairs
 * exist, so embeddings are scored by Recall@K against them; `planted`: the data has planted truth.
 */
function evaluateOptions(ctx: Ctx, ran: ReadonlySet<string>, truth: boolean, planted: boolean): EvaluateOptions {
  const predictions = ctx.cfg.runs.filter((r) => ran.has(`ctr-${r.name}`)).map((r) => `${r.name}=${w(ctx, `ctr-${r.name}`, 'predictions.arrow')}`);
  const gsu = ['gsu-joint', 'gsu-content', 'gsu-hard', ...UNION_STEPS.filter((u) => u !== 'union').map(gsuStepOf)].filter((g) => ran.has(g)).map((g) => `${g}=${w(ctx, g, 'gsu.arrow')}`);
  return {
    ...DEFAULT_EVALUATE_OPTIONS,
    predictions,
    split: 'test',
    // AUC gains are relative to DIN when it ran (evaluate's default otherwise: the first run).
    baselineRun: predictions.some((p) => p.startsWith('din=')) ? 'din' : undefined,
    data: ctx.dataDir,
    gsu,
    embeddings: truth || planted ? embeddingRuns(ctx) : [],
    pairs: truth ? truthPairs(ctx) : undefined,
    // Truth pairs the unions trained on (ESU; Swing for union-swing) would reward memorisation: left out.
    trainPairs: truth ? [w(ctx, 'pairs-esu', 'pairs.arrow'), ...(ran.has('union-swing') ? [w(ctx, 'pairs-swing', 'pairs.arrow')] : [])] : undefined,
    ks: ctx.cfg.ks,
    html: w(ctx, 'eval', 'report.html'),
    saveMetrics: w(ctx, 'eval', 'metrics.json'),
  };
}

/** `gist evaluate` arguments for evaluate options (predictions first: the repeatable flags take one value each). */
function evaluateArgv(o: EvaluateOptions): string[] {
  const each = (flag: string, values: readonly string[] | undefined): string[] => (values ?? []).flatMap((v) => [flag, v]);
  if (o.maxDrop !== DEFAULT_EVALUATE_OPTIONS.maxDrop || o.baselineMetrics || o.popularityThreshold !== undefined) throw new Error('plan: evaluate options the pipeline does not set');
  return [
    'evaluate',
    ...o.predictions,
    '--split',
    o.split,
    ...pairs({ '--baseline-run': o.baselineRun, '--data': o.data }),
    ...each('--gsu', o.gsu),
    ...each('--embeddings', o.embeddings),
    ...pairs({ '--pairs': o.pairs }),
    ...each('--train-pairs', o.trainPairs),
    '--ks',
    o.ks.join(','),
    ...pairs({ '--html': o.html, '--save-metrics': o.saveMetrics }),
  ];
}

/** Resolve a pipeline config: defaults ⊕ file ⊕ inline overrides; unknown keys are usage errors. */
export function resolvePipelineConfig(file?: string, inline: Record<string, unknown> = {}): PipelineConfig {
  // Keys in snake_case (documented) or camelCase (files written before 0.2) alike.
  const fromFile = file ? camelKeys<Record<string, unknown>>(readJsonFile(file)) : {};
  const merged = resolveConfig(DEFAULT_PIPELINE_CONFIG, fromFile, file ?? 'pipeline config');
  const cfg = resolveConfig(merged, camelKeys<Record<string, unknown>>(inline), 'pipeline config');
  // Validate the open sections now, with their owners' resolvers, rather than minutes into the run.
  const where = file ?? 'pipeline config';
  resolveModelConfig({ ...cfg.source.model, domain: 'source' });
  resolveModelConfig({ ...cfg.target.model, domain: 'target' });
  resolveTrainConfig(cfg.source.train);
  resolveTrainConfig(cfg.target.train);
  resolveConfig(DEFAULT_TRAIN_CONTENT_CONFIG, cfg.content, `${where}: content`);
  resolveConfig(DEFAULT_TRAIN_BEHAVIOR_CONFIG, cfg.behavior, `${where}: behavior`);
  resolveConfig(DEFAULT_TRAIN_UNION_CONFIG, cfg.union, `${where}: union`);
  resolveConfig(DEFAULT_SWING_CONFIG, cfg.swing, `${where}: swing`);
  for (const r of cfg.runs) {
    resolveModelConfig({ domain: 'target', variant: r.variant, asi: r.asi });
    if (r.union !== undefined) {
      if (r.variant !== 'gist') throw new UsageError(`${where}: runs[${r.name}].union is for variant gist`);
      if (!(UNION_STEPS as readonly string[]).includes(r.union)) throw new UsageError(`${where}: runs[${r.name}].union must be one of ${UNION_STEPS.join(', ')}, got ${r.union}`);
      if (r.union !== 'union' && !cfg.unionAblations) throw new UsageError(`${where}: runs[${r.name}] searches with ${r.union}, which needs union_ablations: true`);
    }
  }
  if (!['id', 'content'].includes(cfg.esuCandidateScorer)) throw new UsageError(`${where}: esu_candidate_scorer must be id or content, got ${String(cfg.esuCandidateScorer)}`);
  if (cfg.esuCandidateScorer === 'content' && cfg.esuCandidates === 0) throw new UsageError(`${where}: esu_candidate_scorer content ranks S_A: give esu_candidates > 0`);
  for (const [key, theta] of [['theta', cfg.theta], ['recall_theta', cfg.recallTheta ?? cfg.theta]] as const) {
    if (!(theta > 0 && theta <= 1)) throw new UsageError(`${where}: ${key} must be in (0, 1], got ${theta}`);
  }
  return cfg;
}

/** The dataset folder the steps read, and whether `data` names a prepared folder (used as is: no data step). */
function dataOf(data: string, format: string | undefined, work: string): { dataDir: string; prepared: boolean } {
  if (data === 'synthetic') return { dataDir: path.join(work, 'data'), prepared: false };
  if (isPrepared(data)) return { dataDir: path.resolve(data), prepared: true };
  if (!format) throw new UsageError(`${data} is not a prepared dataset folder: give --format ${PREPARE_FORMATS.join('|')} to prepare it`);
  return { dataDir: path.join(work, 'data'), prepared: false };
}

/** What each step's cache key holds from its config, for a synthetic run of `cfg` (tests: defaults are in it). */
export function stepConfigs(cfg: PipelineConfig, seed = 1): Record<string, unknown> {
  const ctx: Ctx = { work: 'work', dataDir: 'work/data', dataSource: 'synthetic', cfg, seed, backend: 'wasm', onProgress: noProgress, hasCategories: () => true };
  return Object.fromEntries(buildSteps(cfg).map((s) => [s.name, s.config(ctx)]));
}

/** The steps of a run: a prepared folder has no data step, and steps that depended on it depend on nothing. */
function stepsFor(cfg: PipelineConfig, prepared: boolean): StepDef<Ctx>[] {
  const steps = buildSteps(cfg);
  return prepared ? steps.filter((s) => s.name !== 'data').map((s) => ({ ...s, deps: s.deps.filter((d) => d !== 'data') })) : steps;
}

/** Pipeline inputs a plan is made from (as `gist pipeline` takes them). */
export interface PipelinePlanInput {
  data: string;
  format?: string;
  /** The work folder as the machines that run the plan see it. */
  work: string;
  config?: Record<string, unknown>;
  configFile?: string;
  seed: number;
  backend: BackendName;
}

/** One step of a plan: its gist command line (without `gist` and `--out`), its output folder, what it waits for. */
export interface PlannedStep {
  name: string;
  deps: string[];
  argv: string[];
  /** `--out` of the command (null: the command names its outputs itself, as evaluate's --html/--save-metrics). */
  out: string | null;
  /** The command takes --shard i/n and `gist merge` joins the shards into `out`. */
  shards: boolean;
}

/** Whether the dataset's items have categories (SIM hard applies), decided before any step runs. */
function categoriesBeforeRun(data: string, format: string | undefined, dataDir: string, prepared: boolean): boolean {
  if (data === 'synthetic') return true; // synth: category = topic
  if (prepared) return loadItems(path.join(dataDir, DATASET_FILES.items)).category !== null;
  if (format === 'movielens') return true; // first genre
  if (format === 'food-kitchen') return false;
  throw new UsageError(`--plan: whether ${data}'s items have categories (SIM hard) is known only once it is imported: run \`gist prepare --format ${format}\` first and plan on the prepared folder`);
}

/**
 * The whole run as gist commands in dependency order, ending with `evaluate`: what `gist pipeline --plan` hands
 * to a cluster or GNU parallel. Each command writes what the in-process step writes (same files, same bytes, as
 * the pipeline's own test checks); steps the data rules out (SIM hard without categories) are left out.
 * Evaluate is planned as if held-out ESU pairs exist (the in-process run, finding none, skips Recall@K).
 */
export function pipelineCommands(o: PipelinePlanInput): { work: string; dataDir: string; steps: PlannedStep[] } {
  const cfg = resolvePipelineConfig(o.configFile, o.config);
  const work = o.work;
  const { dataDir, prepared } = dataOf(o.data, o.format, work);
  const categories = categoriesBeforeRun(o.data, o.format, dataDir, prepared);
  const ctx: Ctx = {
    work,
    dataDir,
    dataSource: o.data === 'synthetic' ? o.data : path.resolve(o.data),
    format: o.format,
    cfg,
    seed: o.seed,
    backend: o.backend,
    onProgress: noProgress,
    hasCategories: () => categories,
  };
  const enabled = stepsFor(cfg, prepared).filter((s) => !s.enabled || s.enabled(ctx));
  const names = new Set(enabled.map((s) => s.name));
  const steps: PlannedStep[] = enabled.map((s) => {
    if (!s.argv) throw new Error(`pipeline step ${s.name} has no command line`);
    return { name: s.name, deps: s.deps.filter((d) => names.has(d)), argv: s.argv(ctx), out: w(ctx, s.outDir), shards: s.shards ?? false };
  });
  // evaluate reads the last outputs of every branch: it runs after everything, as in the single process
  steps.push({ name: 'eval', deps: [...names], argv: evaluateArgv(evaluateOptions(ctx, names, true, false)), out: null, shards: false });
  return { work, dataDir, steps };
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const t0 = performance.now();
  const cfg = resolvePipelineConfig(o.configFile, o.config);
  const work = path.resolve(o.work);
  const { dataDir, prepared } = dataOf(o.data, o.format, work);
  let categories: boolean | undefined;
  const ctx: Ctx = {
    work,
    dataDir,
    dataSource: o.data,
    format: o.format,
    cfg,
    seed: o.seed,
    backend: o.backend,
    onProgress: o.onProgress ?? noProgress,
    hasCategories: () => (categories ??= loadItems(path.join(dataDir, DATASET_FILES.items)).category !== null),
  };
  const steps = stepsFor(cfg, prepared);
  // Every step's output rests on the seed, the backend and the input data (another folder, or its files
  // rewritten in place: a synthetic data step's own config covers its data).
  const keyBase = { seed: o.seed, backend: o.backend, data: o.data === 'synthetic' ? 'synthetic' : inputFingerprint(prepared ? datasetFiles(dataDir) : [o.data]) };
  const gist = o.gistCommand ?? OWN_GIST;
  const jobs = o.jobs ?? defaultPipelineJobs();
  // Step processes share the cores (the native kernels' threads; results do not depend on them): each starts with
  // its share (GIST_THREADS) and follows the share file while it runs, so a step that ends up alone — the union
  // once the searches beside it finish, GIST's training once the index is built — uses every core. A GIST_THREADS
  // the user set is kept as it is.
  const shareFile = jobs > 1 && process.env.GIST_THREADS === undefined ? path.join(work, THREAD_SHARE_FILE) : null;
  const childEnv = (concurrent: number): NodeJS.ProcessEnv =>
    shareFile ? { ...process.env, GIST_THREADS: String(stepThreads(concurrent)), GIST_THREAD_SHARE: shareFile } : process.env;
  const onRunning = shareFile ? (running: number) => writeFileAtomic(shareFile, `${stepThreads(running)}\n`) : undefined;
  let dataBytes: number | null = null;
  let outcomes: StepOutcome[];
  try {
    outcomes = await runSteps(work, steps, ctx, {
      from: o.from,
      keyBase,
      stepKey: kernelKey(o.backend),
      onStep: o.onStep,
      jobs,
      runCommand: (step, argv, signal, concurrent) => runGistCommand(gist, step, argv, signal, childEnv(concurrent)),
      memoryCap: () => memoryJobs((dataBytes ??= datasetBytes(dataDir))),
      onRunning,
    });
  } finally {
    if (shareFile) fs.rmSync(shareFile, { force: true });
  }

  const ran = new Set(outcomes.filter((x) => x.status !== 'disabled').map((x) => x.name));
  const evalDir = w(ctx, 'eval');
  fs.mkdirSync(evalDir, { recursive: true });
  const esu = outcomes.find((x) => x.name === 'pairs-esu')?.result as Partial<EsuResult> | undefined;
  const truth = separateTruth(cfg) ? (outcomes.find((x) => x.name === 'pairs-truth')?.result as Partial<EsuResult> | undefined) : esu;
  const truthTheta = cfg.recallTheta ?? cfg.theta;
  const heldOutPairs = (truth?.pairs_by_split?.valid ?? 0) + (truth?.pairs_by_split?.test ?? 0);
  const warnings: string[] = [];
  if (heldOutPairs === 0) warnings.push(`no ESU pairs from valid/test samples at θ = ${truthTheta}: Recall@K skipped (lower recallTheta in the config to get some)`);
  const evalOptions = evaluateOptions(ctx, ran, heldOutPairs > 0, fs.existsSync(path.join(dataDir, DATASET_FILES.planted)));
  const report = evalOptions.html as string;
  const metrics = evalOptions.saveMetrics as string;
  const evalStarted = performance.now();
  o.onStep?.('evaluate', 'start');
  const ev: EvaluateResult = await evaluate(evalOptions, ctx.onProgress);
  const evaluateSeconds = (performance.now() - evalStarted) / 1000;
  o.onStep?.('evaluate', 'ran', evaluateSeconds);
  const scoredPairs = ev.recall[0]?.pairs ?? 0;
  if (ev.recall.length && scoredPairs < 30) warnings.push(`Recall@K rests on ${scoredPairs} held-out ESU pairs (θ = ${truthTheta}): too few to rank embeddings; lower recallTheta in the config`);
  const table: PipelineTableRow[] = ev.runs.map((r) => ({
    variant: r.name,
    auc: r.auc,
    gauc: r.gauc,
    logloss: r.logloss,
    auc_gain_pct: r.auc_gain_pct,
    auc_low_popularity: r.popularity?.low.auc ?? null,
    auc_high_popularity: r.popularity?.high.auc ?? null,
  }));
  const dataOutcome = outcomes.find((x) => x.name === 'data');
  const oracle = (dataOutcome?.result as { truth?: { oracle_auc?: { target?: { test?: number } } } } | undefined)?.truth;
  return {
    work,
    data: dataDir,
    seed: o.seed,
    steps: outcomes.map((x) => ({ name: x.name, status: x.status, seconds: Math.round(x.seconds * 10) / 10 })),
    evaluate_seconds: Math.round(evaluateSeconds * 10) / 10,
    table,
    recall: ev.recall.map((r) => ({ name: r.name, recall: r.recall })),
    planted: ev.planted ?? null,
    oracle_test_auc: oracle?.oracle_auc?.target?.test ?? null,
    esu_pairs: esu?.pairs ?? null,
    // Pairs evaluate scored (self-pairs and pairs without vectors are skipped), not the extraction count.
    recall_truth_pairs: scoredPairs,
    recall_theta: truthTheta,
    warnings: [...warnings, ...ev.warnings],
    outputs: { report, metrics, state: path.join(work, 'pipeline-state.json') },
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}
