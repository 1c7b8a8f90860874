/**
 * Typed configuration of the CTR models (paper §3.2, §5.1.2): the DIN baseline, the SIM variants and GIST
 * with the Asymmetric Similarity Integration (ASI). Defaults are tuned for small datasets on one wasm thread.
 */
import { requireRange, resolveConfig } from '../config.js';
import { UsageError } from '../errors.js';
import type { Domain } from '../schemas.js';
import { SIMDIST_NORMS, type SimDistNorm } from './asi.js';

export const CTR_VARIANTS = ['din', 'sim-hard', 'sim-soft-pooling', 'sim-soft-attention', 'gist'] as const;
/** Table 1's rows: `din` uses the target history only; the others add the GSU's searched source items. */
export type CtrVariant = (typeof CTR_VARIANTS)[number];

export const ASI_MODES = ['none', 'embedding', 'simscore', 'simscore+simdist'] as const;
/** Table 6's rows: how joint embeddings enter the `gist` model (`none` = searched items only). */
export type AsiMode = (typeof ASI_MODES)[number];

export const ATTENTION_KINDS = ['mlp', 'dot'] as const;
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

/** How the searched (GSU) items enter the model. */
export type SearchUse = 'none' | 'attention' | 'pooling';

/** Model architecture; stored in model/config.json so a saved model can be rebuilt. */
export interface CtrModelConfig {
  /** Which samples and sequences the model ranks: `source` (ESU teacher) or `target`. */
  domain: Domain;
  variant: CtrVariant;
  /** ASI ablation (only for variant `gist`; `none` otherwise). */
  asi: AsiMode;
  /** Width of the item-ID and category embeddings (an item is item ⊕ category, 2·dim wide when categories exist). */
  embeddingDim: number;
  /** Target-attention scorer: DIN MLP on (h, t, h−t, h·t), or a scaled dot product h·t/√d. */
  attention: AttentionKind;
  /** Hidden width of the DIN attention MLP. */
  attentionHidden: number;
  /** Hidden widths of the prediction tower (ReLU), then a sigmoid output. */
  tower: number[];
  /** Most recent in-domain events before the sample's time that form its history. */
  maxHistory: number;
  /** Searched (GSU) source items per sample, top-K of gsu.arrow. */
  maxSearch: number;
  /** M1: SimScore bins over [−1, 1] (ASI, eq. 11). One extra row embeds "no score" (no joint vector). */
  m1: number;
  /** M2: SimDist histogram bins over [−1, 1]. */
  m2: number;
  /** SimDist features: 'history-fraction' (searched counts over the whole source history), 'fraction' of the scores per bin, or 'log-count'; chosen on valid. */
  simDistNorm: SimDistNorm;
  /** Width of a SimScore bin embedding. */
  simScoreDim: number;
  /** Filled from the data: item count, category count (0 = none), joint vector width (0 = unused). */
  numItems: number;
  numCategories: number;
  jointDim: number;
}

/** Optimisation and early stopping. */
export interface CtrTrainConfig {
  epochs: number;
  batchSize: number;
  /** Adam learning rate (dense weights and row-sparse embedding tables alike). */
  lr: number;
  /** Stop after this many epochs in a row without a better validation AUC (the best epoch's weights are kept). */
  patience: number;
  /** Use at most this many training samples (seeded subset; 0 = all). */
  maxTrainSamples: number;
  /** Batch size for scoring valid/test/ESU samples (no gradients, so larger). */
  evalBatchSize: number;
  /**
   * Length bucketing: within each run of this many batches of the shuffled order, samples are sorted by history
   * length so batches pad less (a batch is as long as its longest history). 1 = plain shuffle.
   */
  bucketBatches: number;
}

export const DEFAULT_CTR_MODEL_CONFIG: CtrModelConfig = {
  domain: 'target',
  variant: 'din',
  asi: 'none',
  embeddingDim: 18,
  attention: 'mlp',
  attentionHidden: 64,
  tower: [200, 80],
  maxHistory: 0, // 0 = the domain default below
  maxSearch: 100,
  m1: 20,
  m2: 10,
  simDistNorm: 'history-fraction',
  simScoreDim: 8,
  numItems: 0,
  numCategories: 0,
  jointDim: 0,
};

/** Paper §5.1.1 keeps 200 ad-domain events; the source (teacher) model uses 100. */
export const DEFAULT_MAX_HISTORY: Record<Domain, number> = { source: 100, target: 200 };

export const DEFAULT_CTR_TRAIN_CONFIG: CtrTrainConfig = {
  epochs: 10,
  batchSize: 256,
  lr: 0.005,
  patience: 2,
  maxTrainSamples: 0,
  evalBatchSize: 2048,
  bucketBatches: 16,
};

/** What the variant reads: searched items and how, joint vectors, ASI pieces. */
export interface VariantNeeds {
  search: SearchUse;
  /** SimScore bins (or raw joint vectors for asi=embedding) beside each history / searched item. */
  sideFeature: 'none' | 'simscore' | 'joint';
  /** SimDist histograms added to the target item. */
  simDist: boolean;
  /** joint.arrow is read (target-history SimScore, or raw vectors). */
  joint: boolean;
  /** gsu.arrow is read. */
  gsu: boolean;
}

export function variantNeeds(variant: CtrVariant, asi: AsiMode): VariantNeeds {
  const search: SearchUse = variant === 'din' ? 'none' : variant === 'sim-soft-pooling' ? 'pooling' : 'attention';
  const gistAsi = variant === 'gist' ? asi : 'none';
  const sideFeature = gistAsi === 'embedding' ? 'joint' : gistAsi === 'simscore' || gistAsi === 'simscore+simdist' ? 'simscore' : 'none';
  return { search, sideFeature, simDist: gistAsi === 'simscore+simdist', joint: sideFeature !== 'none', gsu: search !== 'none' };
}

/** Validate and complete a model config (domain defaults, consistency rules). */
export function resolveModelConfig(overrides: Partial<CtrModelConfig>): CtrModelConfig {
  const c = resolveConfig(DEFAULT_CTR_MODEL_CONFIG, overrides, 'ctr model config');
  if (c.maxHistory === 0) c.maxHistory = DEFAULT_MAX_HISTORY[c.domain];
  if (!(CTR_VARIANTS as readonly string[]).includes(c.variant)) throw new UsageError(`--variant must be one of ${CTR_VARIANTS.join(', ')}, got ${c.variant}`);
  if (!(ASI_MODES as readonly string[]).includes(c.asi)) throw new UsageError(`--asi must be one of ${ASI_MODES.join(', ')}, got ${c.asi}`);
  if (!(ATTENTION_KINDS as readonly string[]).includes(c.attention)) throw new UsageError(`--attention must be mlp or dot, got ${c.attention}`);
  if (c.domain === 'source' && c.variant !== 'din') throw new UsageError(`--domain source trains the DIN source ranking model; --variant ${c.variant} is for --domain target`);
  if (c.variant !== 'gist' && c.asi !== 'none') throw new UsageError(`--asi ${c.asi} needs --variant gist (ASI is GIST's integration of joint embeddings)`);
  requireRange('--embedding-dim', c.embeddingDim, 1, 1024);
  requireRange('--attention-hidden', c.attentionHidden, 1, 4096);
  requireRange('--max-history', c.maxHistory, 1, 100_000);
  requireRange('--max-search', c.maxSearch, 1, 100_000);
  requireRange('--m1', c.m1, 2, 10_000);
  requireRange('--m2', c.m2, 2, 10_000);
  requireRange('--sim-score-dim', c.simScoreDim, 1, 1024);
  if (!(SIMDIST_NORMS as readonly string[]).includes(c.simDistNorm)) throw new UsageError(`--simdist-norm must be one of ${SIMDIST_NORMS.join(', ')}, got ${c.simDistNorm}`);
  if (c.tower.length === 0 || c.tower.some((w) => !Number.isInteger(w) || w < 1 || w > 65_536)) {
    throw new UsageError(`--tower must be comma-separated positive widths (e.g. 200,80), got ${c.tower.join(',')}`);
  }
  for (const k of ['embeddingDim', 'attentionHidden', 'maxHistory', 'maxSearch', 'm1', 'm2', 'simScoreDim'] as const) {
    if (!Number.isInteger(c[k])) throw new UsageError(`${k} must be an integer, got ${c[k]}`);
  }
  return c;
}

export function resolveTrainConfig(overrides: Partial<CtrTrainConfig>): CtrTrainConfig {
  const c = resolveConfig(DEFAULT_CTR_TRAIN_CONFIG, overrides, 'ctr train config');
  requireRange('--epochs', c.epochs, 1, 10_000);
  requireRange('--batch-size', c.batchSize, 1, 1 << 20);
  requireRange('--lr', c.lr, 0, 10, true);
  requireRange('--patience', c.patience, 1, 10_000);
  requireRange('--max-train-samples', c.maxTrainSamples, 0, 2 ** 31 - 1);
  requireRange('eval batch size', c.evalBatchSize, 1, 1 << 20);
  requireRange('--bucket-batches', c.bucketBatches, 1, 1 << 20);
  for (const k of ['epochs', 'batchSize', 'patience', 'maxTrainSamples', 'evalBatchSize', 'bucketBatches'] as const) {
    if (!Number.isInteger(c[k])) throw new UsageError(`${k} must be an integer, got ${c[k]}`);
  }
  return c;
}

/** Parse "200,80" into widths. */
export function parseTower(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const widths = parts.map(Number);
  if (parts.some((p) => p === '') || widths.some((w) => !Number.isInteger(w) || w < 1)) throw new UsageError(`--tower must be comma-separated positive integers (e.g. 200,80), got "${text}"`);
  return widths;
}
