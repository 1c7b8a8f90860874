import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { dataFlag, outFlag, recordFlag } from '../cli/flags.js';
import { formatRecall } from '../core/cbjt/recall.js';
import { DEFAULT_TRAIN_BEHAVIOR_CONFIG as D, trainBehavior, type TrainBehaviorResult } from '../core/cbjt/train-behavior.js';
import type { BackendName } from '../core/engine/backend.js';
import { encoderFlags, encoderOverrides } from '../cli/encoder-flags.js';
import { numberFlag } from '../cli/flags.js';

export default class TrainBehavior extends BaseCommand<typeof TrainBehavior> {
  static override summary = "Train the behavior encoder (eq. 5–7): a copy of the content encoder aligned to the source model's item ID embeddings; writes behavior.arrow for every item.";
  static override description =
    'Aligns bh_i = F_B(content of i) to id_i by symmetric InfoNCE on items with an id embedding and source_count ≥ --min-count (default: the median source_count of source items with count > 0; recorded in the output). Inference uses content only, so cold-start items get bh too. Writes behavior.arrow, model/, loss_curve.json, config.json.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --data work/demo/data --id-embeddings work/demo/source/id_embeddings.arrow --content-model work/demo/content/model --out work/demo/behavior',
    '<%= config.bin %> <%= command.id %> --data work/fk/data --id-embeddings work/fk/source/id_embeddings.arrow --out work/fk/behavior --min-count 20 --json',
  ];
  static override flags = {
    data: dataFlag,
    'id-embeddings': Flags.file({ description: 'EMBEDDINGS file of the source model item ID embeddings (SOURCE_OUT/id_embeddings.arrow)', required: true }),
    out: outFlag,
    'content-model': Flags.directory({ description: 'model/ folder of `gist train-content`: F_B starts as a copy of F_C (its architecture and weights), as in the paper', exists: true }),
    init: Flags.string({ description: 'F_B initialisation: content (needs --content-model), random, or auto (content when --content-model is given)', options: ['auto', 'content', 'random'] }),
    dim: Flags.integer({ description: 'embedding size of bh (0 = the id embeddings\' size) [default: 0]', min: 0 }),
    'min-count': Flags.integer({ description: 'align items with source_count ≥ this [default: quantile --min-count-quantile]', min: 0 }),
    'min-count-quantile': numberFlag({ description: `quantile of source_count (source items with count > 0) used as --min-count when not given [default: ${D.minCountQuantile}]` }),
    'token-dropout': numberFlag({ description: `token dropout while training (regularisation) [default: ${D.tokenDropout}]` }),
    ...encoderFlags,
    epochs: Flags.integer({ description: `training epochs [default: ${D.epochs}]`, min: 0 }),
    config: recordFlag,
  };

  async run(): Promise<TrainBehaviorResult> {
    const { flags } = this;
    const { config, seed } = this.fromRecord('train-behavior', 'config', D, {
      ...encoderOverrides(flags),
      dim: flags.dim,
      minCount: flags['min-count'],
      minCountQuantile: flags['min-count-quantile'],
      tokenDropout: flags['token-dropout'],
      init: flags.init as 'auto' | 'content' | 'random' | undefined,
    });
    const result = await trainBehavior({
      data: flags.data,
      idEmbeddings: flags['id-embeddings'],
      contentModel: flags['content-model'],
      out: flags.out,
      seed,
      backend: flags.backend as BackendName,
      evalPairs: flags['eval-pairs'],
      onProgress: this.progress(),
      config,
    });
    this.say(`${result.outputs.behavior}: ${result.items} items × ${result.dim} (views ${result.view_mode}; F_B initialised ${result.init === 'content' ? 'from F_C' : 'at random'})`);
    this.say(`  aligned ${result.aligned_items} items with source_count ≥ ${result.min_count} (${result.min_count_rule})`);
    this.say(`  final loss ${result.final_loss ?? 'n/a'}, temperature ${result.temperature}, ${result.seconds.toFixed(1)} s`);
    if (result.recall) this.say(`  ${formatRecall(result.recall)}`);
    return result;
  }
}
