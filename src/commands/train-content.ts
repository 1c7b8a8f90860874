import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { encoderFlags, encoderOverrides } from '../cli/encoder-flags.js';
import { dataFlag, numberFlag, outFlag, recordFlag } from '../cli/flags.js';
import { DEFAULT_TRAIN_CONTENT_CONFIG as D, trainContent, type TrainContentResult } from '../core/cbjt/train-content.js';
import { formatRecall } from '../core/cbjt/recall.js';
import type { BackendName } from '../core/engine/backend.js';
import { UsageError } from '../core/errors.js';

export default class TrainContent extends BaseCommand<typeof TrainContent> {
  static override summary = 'Train the content encoder (eq. 1, 4): two views of each item aligned by symmetric InfoNCE; writes content.arrow for every item.';
  static override description =
    'Text views: lower-cased words plus character n-grams, FNV-1a-hashed into buckets, mean embedding bag, MLP. A dense content vector (items.arrow "content") is a view through its own MLP. ct_i = L2-normalised mean of the L2-normalised views. Writes content.arrow, model/, loss_curve.json, config.json.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --data work/demo/data --out work/demo/content',
    '<%= config.bin %> <%= command.id %> --data work/fk/data --out work/fk/content --epochs 5 --eval-pairs work/fk/pairs-esu/pairs.arrow --json',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --config work/demo/content/config.json --out work/demo/content-again',
  ];
  static override flags = {
    data: dataFlag,
    out: outFlag,
    dim: Flags.integer({ description: `embedding size d [default: ${D.dim}]`, min: 1 }),
    'token-dropout': numberFlag({ description: `token dropout of each augmentation in dropout mode [default: ${D.tokenDropout}]` }),
    ...encoderFlags,
    epochs: Flags.integer({ description: `training epochs [default: ${D.epochs}]`, min: 0 }),
    config: recordFlag,
  };

  async run(): Promise<TrainContentResult> {
    const { flags } = this;
    const { config, seed } = this.fromRecord('train-content', 'config', D, { ...encoderOverrides(flags), dim: flags.dim, tokenDropout: flags['token-dropout'] });
    const result = await trainContent({
      data: flags.data,
      out: flags.out,
      seed,
      backend: flags.backend as BackendName,
      evalPairs: flags['eval-pairs'],
      onProgress: this.progress(),
      config,
    });
    this.say(`${result.outputs.content}: ${result.items} items × ${result.dim} (views ${result.view_mode}, ${result.trained_items} trained)`);
    this.say(`  final loss ${result.final_loss ?? 'n/a'}, temperature ${result.temperature}, ${result.seconds.toFixed(1)} s`);
    if (result.recall) this.say(`  ${formatRecall(result.recall)}`);
    return result;
  }
}
