/**
 * Pipeline settings → gist command-line flags, for `gist pipeline --plan`: each step then runs as the gist
 * command that does the same work as the in-process call, with the same outputs (byte for byte). A setting the
 * command has no flag for cannot be planned: that is a usage error, never silently dropped.
 */
import { UsageError } from '../errors.js';
import { camelKey as camel, snakeKey as snake } from '../keys.js';

/** config key → its flag (`--bag-dim`), or null when the command has none. */
export type FlagTable = Readonly<Record<string, string | null>>;


/** A flag value as the CLI parses it back: numbers in JS's shortest round-trip form, lists comma-separated. */
export function flagValue(v: unknown): string {
  if (Array.isArray(v)) return v.map(flagValue).join(',');
  if (typeof v === 'number' || typeof v === 'string') return String(v);
  throw new Error(`no flag spelling for ${JSON.stringify(v)}`);
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Flags for `values` (a config section, keys in either spelling). `all`: every key that has a flag, for commands
 * whose own flag defaults stand in for the core's; otherwise only keys whose value differs from `defaults` (the
 * command passes absent flags on as undefined, so the core default applies either way). A non-default value
 * without a flag is a usage error naming the setting (`where`).
 */
export function configFlags(where: string, values: Record<string, unknown>, defaults: Record<string, unknown>, table: FlagTable, all = false): string[] {
  const resolved: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(values)) if (v !== undefined) resolved[camel(k)] = v;
  const out: string[] = [];
  for (const [key, value] of Object.entries(resolved)) {
    if (!(key in table)) throw new Error(`plan: no flag table entry for ${where}.${key}`);
    const flag = table[key];
    const isDefault = key in defaults && same(value, defaults[key]);
    if (flag === null) {
      if (!isDefault) throw new UsageError(`${where}.${snake(key)} = ${JSON.stringify(value)}: the gist command this step runs has no flag for it, so --plan cannot express it (leave it at its default to plan)`);
      continue;
    }
    if (!all && isDefault) continue;
    if (typeof value === 'boolean') out.push(value ? flag : flag.replace(/^--/, '--no-'));
    else out.push(flag, flagValue(value));
  }
  return out;
}

/** `--flag value` pairs for the values that are set. */
export function pairs(flags: Record<string, unknown>): string[] {
  return Object.entries(flags).flatMap(([flag, v]) => (v === undefined || v === null ? [] : [flag, flagValue(v)]));
}

// Flag tables of the commands the pipeline runs (keys as in the core configs).

export const CTR_MODEL_FLAGS: FlagTable = {
  domain: '--domain',
  variant: '--variant',
  asi: '--asi',
  embeddingDim: '--embedding-dim',
  attention: '--attention',
  attentionHidden: '--attention-hidden',
  tower: '--tower',
  maxHistory: '--max-history',
  maxSearch: '--max-search',
  m1: '--m1',
  m2: '--m2',
  simDistNorm: '--simdist-norm',
  simScoreDim: '--sim-score-dim',
  // filled from the data, never set by the pipeline
  numItems: null,
  numCategories: null,
  jointDim: null,
};

export const CTR_TRAIN_FLAGS: FlagTable = {
  epochs: '--epochs',
  batchSize: '--batch-size',
  lr: '--lr',
  patience: '--patience',
  maxTrainSamples: '--max-train-samples',
  evalBatchSize: '--eval-batch-size',
  bucketBatches: '--bucket-batches',
};

const ENCODER_FLAGS = {
  dim: '--dim',
  bagDim: '--bag-dim',
  hidden: '--hidden',
  buckets: '--buckets',
  ngram: '--ngram',
  maxTokens: '--max-tokens',
  views: '--views',
  tokenDropout: '--token-dropout',
  epochs: '--epochs',
  minSteps: '--min-steps',
  batchSize: '--batch-size',
  lr: '--lr',
  evalMaxPairs: '--eval-max-pairs',
};

export const CONTENT_FLAGS: FlagTable = ENCODER_FLAGS;
export const BEHAVIOR_FLAGS: FlagTable = { ...ENCODER_FLAGS, minCount: '--min-count', minCountQuantile: '--min-count-quantile', init: '--init' };
export const UNION_FLAGS: FlagTable = {
  view: '--view',
  gate: '--gate',
  cross: '--cross',
  dim: '--dim',
  hidden: '--hidden',
  gateHidden: '--gate-hidden',
  epochs: '--epochs',
  minSteps: '--min-steps',
  batchSize: '--batch-size',
  lr: '--lr',
  minAttention: '--min-attention',
  evalMaxPairs: '--eval-max-pairs',
  pairWeighting: '--pair-weighting',
  holdout: '--holdout',
  patience: '--patience',
};
export const SWING_FLAGS: FlagTable = { alpha: '--alpha', topN: '--top-n', maxItemsPerUser: '--max-items-per-user', maxUsersPerItem: '--max-users-per-item' };

/** `gist synth` flags for SynthConfig overrides (the rest only through its --config file, which a plan does not carry). */
export const SYNTH_FLAGS: Readonly<Record<string, string>> = {
  users: '--users',
  sourceItems: '--source-items',
  targetItems: '--target-items',
  topics: '--topics',
  subtopics: '--subtopics',
  sourceLen: '--source-len',
  targetSamples: '--target-samples',
  targetHistory: '--target-history',
  coldShare: '--cold-share',
  contentDim: '--content-dim',
};

/** Flags for synth overrides: a field's own flag where gist synth has one, `--set key=value` otherwise. */
export function synthFlags(overrides: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    const flag = SYNTH_FLAGS[camel(k)];
    if (flag) out.push(flag, flagValue(v));
    else out.push('--set', `${snake(camel(k))}=${flagValue(v)}`);
  }
  return out;
}

/** POSIX shell word for `s`: as is when only safe characters, else single-quoted. */
export function shellQuote(s: string): string {
  if (s !== '' && /^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
