/** Encoder flags shared by train-content and train-behavior (defaults live in the core configs). */
import { Flags } from '@oclif/core';
import type { EncoderTrainConfig } from '../core/cbjt/common.js';
import { VIEW_CHOICES, type ViewChoice } from '../core/cbjt/encoder.js';
import { DEFAULT_TRAIN_CONTENT_CONFIG as D } from '../core/cbjt/train-content.js';
import { numberFlag } from './flags.js';

/** Encoder flags shared with train-behavior (defaults live in the core configs and are shown in brackets). */
export const encoderFlags = {
  'bag-dim': Flags.integer({ description: `token vector size of the embedding bag [default: ${D.bagDim}]`, min: 1 }),
  hidden: Flags.integer({ description: `hidden width of each tower MLP [default: ${D.hidden}]`, min: 1 }),
  buckets: Flags.integer({ description: `hash buckets for word and n-gram tokens [default: ${D.buckets}]`, min: 16 }),
  ngram: Flags.integer({ description: `character n-gram length, 0 = words only [default: ${D.ngram}]`, min: 0 }),
  'max-tokens': Flags.integer({ description: `tokens kept per text field [default: ${D.maxTokens}]`, min: 1 }),
  views: Flags.string({ description: 'views: auto (content vector > second text field > token-dropout augmentations), title-text, text-content, dropout [default: auto]', options: Object.keys(VIEW_CHOICES) }),
  epochs: Flags.integer({ description: 'training epochs', min: 0 }),
  'min-steps': Flags.integer({ description: `train at least this many steps: more epochs on small catalogues, 0 = exactly --epochs [default: ${D.minSteps}]`, min: 0 }),
  'batch-size': Flags.integer({ description: `items per in-batch contrastive batch [default: ${D.batchSize}]`, min: 2 }),
  lr: numberFlag({ description: `Adam learning rate [default: ${D.lr}]` }),
  'eval-pairs': Flags.file({ description: 'PAIRS file (e.g. ESU pairs.arrow): report Recall@10/100/1000 on its valid/test rows' }),
  'eval-max-pairs': Flags.integer({ description: `held-out pairs evaluated at most (seeded sample) [default: ${D.evalMaxPairs}]`, min: 1 }),
};

type EncoderFlagValues = { [K in keyof typeof encoderFlags]?: unknown };

/** Flag values → EncoderTrainConfig overrides (undefined keeps the default). */
export function encoderOverrides(f: EncoderFlagValues): Partial<EncoderTrainConfig> {
  return {
    bagDim: f['bag-dim'] as number | undefined,
    hidden: f.hidden as number | undefined,
    buckets: f.buckets as number | undefined,
    ngram: f.ngram as number | undefined,
    maxTokens: f['max-tokens'] as number | undefined,
    views: f.views as ViewChoice | undefined,
    epochs: f.epochs as number | undefined,
    minSteps: f['min-steps'] as number | undefined,
    batchSize: f['batch-size'] as number | undefined,
    lr: f.lr as number | undefined,
    evalMaxPairs: f['eval-max-pairs'] as number | undefined,
  };
}

