import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { dataFlag, outFlag } from '../cli/flags.js';
import type { EncoderTrainConfig } from '../core/cbjt/common.js';
import { VIEW_CHOICES, type ViewChoice } from '../core/cbjt/encoder.js';
import { DEFAULT_TRAIN_CONTENT_CONFIG as D, trainContent, type TrainContentResult } from '../core/cbjt/train-content.js';
import { formatRecall } from '../core/cbjt/recall.js';
import type { BackendName } from '../core/engine/backend.js';
import { UsageError } from '../core/errors.js';

/** A floating-point flag (oclif has integers only). */
export const numberFlag = Flags.custom<number>({
  parse: async (s: string) => {
    const x = Number(s);
    if (s.trim() === '' || !Number.isFinite(x)) throw new UsageError(`expected a number, got "${s}"`);
    return x;
  },
});

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

export default class TrainContent extends BaseCommand<typeof TrainContent> {
  static override summary = 'Train the content encoder (eq. 1, 4): two views of each item aligned by symmetric InfoNCE; writes content.arrow for every item.';
  static override description =
    'Text views: lower-cased words plus character n-grams, FNV-1a-hashed into buckets, mean embedding bag, MLP. A dense content vector (items.arrow "content") is a view through its own MLP. ct_i = L2-normalised mean of the L2-normalised views. Writes content.arrow, model/, loss_curve.json, config.json.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --data work/demo/data --out work/demo/content',
    '<%= config.bin %> <%= command.id %> --data work/fk/data --out work/fk/content --epochs 5 --eval-pairs work/fk/pairs-esu/pairs.arrow --json',
  ];
  static override flags = {
    data: dataFlag,
    out: outFlag,
    dim: Flags.integer({ description: `embedding size d [default: ${D.dim}]`, min: 1 }),
    'token-dropout': numberFlag({ description: `token dropout of each augmentation in dropout mode [default: ${D.tokenDropout}]` }),
    ...encoderFlags,
    epochs: Flags.integer({ description: `training epochs [default: ${D.epochs}]`, min: 0 }),
  };

  async run(): Promise<TrainContentResult> {
    const { flags } = this;
    const result = await trainContent({
      data: flags.data,
      out: flags.out,
      seed: flags.seed,
      backend: flags.backend as BackendName,
      evalPairs: flags['eval-pairs'],
      onProgress: this.progress(),
      config: { ...encoderOverrides(flags), dim: flags.dim, tokenDropout: flags['token-dropout'] },
    });
    this.say(`${result.outputs.content}: ${result.items} items × ${result.dim} (views ${result.view_mode}, ${result.trained_items} trained)`);
    this.say(`  final loss ${result.final_loss ?? 'n/a'}, temperature ${result.temperature}, ${result.seconds.toFixed(1)} s`);
    if (result.recall) this.say(`  ${formatRecall(result.recall)}`);
    return result;
  }
}
