/** train-ctr flag values → model / train config overrides (undefined = not given: the default or the --config record). */
import { parseTower, type AsiMode, type CtrModelConfig, type CtrTrainConfig, type CtrVariant } from '../core/ctr/config.js';
import type { SimDistNorm } from '../core/ctr/asi.js';
import type { Domain } from '../core/schemas.js';

/** `given(flag, value)`: the value when the user typed the flag (or no --config is in play), else undefined. */
type Given = <V>(flag: string, value: V) => V | undefined;

interface CtrFlagValues {
  domain: string;
  variant: string;
  asi?: string;
  'embedding-dim': number;
  attention: string;
  'attention-hidden': number;
  tower: string;
  'max-history'?: number;
  'max-search': number;
  m1: number;
  m2: number;
  'simdist-norm': string;
  'sim-score-dim': number;
  'eval-batch-size': number;
  epochs: number;
  'batch-size': number;
  patience: number;
  'max-train-samples': number;
  'bucket-batches': number;
}

export function ctrModelOverrides(flags: CtrFlagValues, given: Given): Partial<CtrModelConfig> {
  return {
    domain: given('domain', flags.domain as Domain),
    variant: given('variant', flags.variant as CtrVariant),
    asi: flags.asi as AsiMode | undefined,
    embeddingDim: given('embedding-dim', flags['embedding-dim']),
    attention: given('attention', flags.attention as 'mlp' | 'dot'),
    attentionHidden: given('attention-hidden', flags['attention-hidden']),
    tower: given('tower', parseTower(flags.tower)),
    maxHistory: flags['max-history'],
    maxSearch: given('max-search', flags['max-search']),
    m1: given('m1', flags.m1),
    m2: given('m2', flags.m2),
    simDistNorm: given('simdist-norm', flags['simdist-norm'] as SimDistNorm),
    simScoreDim: given('sim-score-dim', flags['sim-score-dim']),
  };
}

export function ctrTrainOverrides(flags: CtrFlagValues, given: Given, lr: number): Partial<CtrTrainConfig> {
  return {
    epochs: given('epochs', flags.epochs),
    batchSize: given('batch-size', flags['batch-size']),
    lr: given('lr', lr),
    patience: given('patience', flags.patience),
    maxTrainSamples: given('max-train-samples', flags['max-train-samples']),
    bucketBatches: given('bucket-batches', flags['bucket-batches']),
    evalBatchSize: given('eval-batch-size', flags['eval-batch-size']),
  };
}
