import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { dataFlag, outFlag, recordFlag } from '../cli/flags.js';
import { formatRecall } from '../core/cbjt/recall.js';
import { DEFAULT_TRAIN_UNION_CONFIG as D, trainUnion, type TrainUnionConfig, type TrainUnionResult } from '../core/cbjt/train-union.js';
import type { UnionView } from '../core/cbjt/union.js';
import type { BackendName } from '../core/engine/backend.js';
import { numberFlag } from '../cli/flags.js';

export default class TrainUnion extends BaseCommand<typeof TrainUnion> {
  static override summary = 'Train the Union Training Model (eq. 9–10) on guidance pairs; writes joint.arrow (u for every item).';
  static override description =
    'Gates ct and bh (x̂ = 2·sigmoid(MLP(x))·x), fuses them by outer product and MLP_cs into u (L2-normalised), trained by in-batch symmetric InfoNCE between the u of the two items of each pair (split "train" rows when pairs.arrow has a split column). --no-gate / --no-cross give the Table 5 ablations, --view content|behavior the single-encoder rows of Tables 2–3. Items outside every pair get u from their ct/bh (content only).';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --data work/demo/data --content work/demo/content/content.arrow --behavior work/demo/behavior/behavior.arrow --pairs work/demo/pairs-esu/pairs.arrow --out work/demo/union',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --content work/demo/content/content.arrow --behavior work/demo/behavior/behavior.arrow --pairs work/demo/pairs-esu/pairs.arrow --out work/demo/union-no-gate --no-gate --eval-pairs work/demo/pairs-esu/pairs.arrow --json',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --content work/demo/content/content.arrow --pairs work/demo/pairs-esu/pairs.arrow --out work/demo/union-content --view content',
  ];
  static override flags = {
    data: dataFlag,
    content: Flags.file({ description: 'content.arrow from train-content (not needed with --view behavior)' }),
    behavior: Flags.file({ description: 'behavior.arrow from train-behavior (not needed with --view content)' }),
    pairs: Flags.file({ description: 'PAIRS file (ESU or Swing) to train on', required: true }),
    out: outFlag,
    view: Flags.string({ description: 'joint (ct and bh) or one view through an MLP [default: joint]', options: ['joint', 'content', 'behavior'] }),
    gate: Flags.boolean({ description: 'gate network of eq. 9 (--no-gate: ablation)', allowNo: true, default: true }),
    cross: Flags.boolean({ description: 'outer-product cross network of eq. 10 (--no-cross: concatenation + MLP)', allowNo: true, default: true }),
    dim: Flags.integer({ description: `size of u [default: ${D.dim}]`, min: 1 }),
    hidden: Flags.integer({ description: `hidden width of MLP_cs [default: ${D.hidden}]`, min: 1 }),
    'gate-hidden': Flags.integer({ description: `hidden width of each gate MLP [default: ${D.gateHidden}]`, min: 1 }),
    epochs: Flags.integer({ description: `training epochs [default: ${D.epochs}]`, min: 0 }),
    'min-steps': Flags.integer({ description: `train at least this many steps: more epochs when there are few pairs, 0 = exactly --epochs [default: ${D.minSteps}]`, min: 0 }),
    'batch-size': Flags.integer({ description: `pairs per in-batch contrastive batch [default: ${D.batchSize}]`, min: 2 }),
    lr: numberFlag({ description: `Adam learning rate [default: ${D.lr}]` }),
    'pair-weighting': Flags.string({ description: `how often a pair is drawn: none, count, or sqrt-count (∝ √count) [default: ${D.pairWeighting}]`, options: ['none', 'count', 'sqrt-count'] }),
    holdout: numberFlag({ description: `share of the training pairs held out to choose the epoch by their Recall@10 (0: train on all, exactly --epochs; better for Swing pairs) [default: ${D.holdout}]` }),
    patience: Flags.integer({ description: `epochs without a better held-out Recall@10 before training stops [default: ${D.patience}]`, min: 1 }),
    'min-attention': numberFlag({ description: 'train only on pairs with attention ≥ this [default: all pairs]' }),
    'eval-pairs': Flags.file({ description: 'PAIRS file: report Recall@10/100/1000 on its valid/test rows' }),
    'eval-max-pairs': Flags.integer({ description: `held-out pairs evaluated at most [default: ${D.evalMaxPairs}]`, min: 1 }),
    config: recordFlag,
  };

  async run(): Promise<TrainUnionResult> {
    const { flags } = this;
    const { config, seed } = this.fromRecord('train-union', 'config', D, {
      view: flags.view as UnionView | undefined,
      gate: this.given('gate') ? flags.gate : undefined,
      cross: this.given('cross') ? flags.cross : undefined,
      dim: flags.dim,
      hidden: flags.hidden,
      gateHidden: flags['gate-hidden'],
      epochs: flags.epochs,
      minSteps: flags['min-steps'],
      batchSize: flags['batch-size'],
      lr: flags.lr,
      pairWeighting: flags['pair-weighting'] as TrainUnionConfig['pairWeighting'] | undefined,
      holdout: flags.holdout,
      patience: flags.patience,
      minAttention: flags['min-attention'],
      evalMaxPairs: flags['eval-max-pairs'],
    });
    const result = await trainUnion({
      data: flags.data,
      content: flags.content,
      behavior: flags.behavior,
      pairs: flags.pairs,
      out: flags.out,
      seed,
      backend: flags.backend as BackendName,
      evalPairs: flags['eval-pairs'],
      onProgress: this.progress(),
      config,
    });
    this.say(`${result.outputs.joint}: ${result.items} items × ${result.dim} (view ${result.view}, gate ${result.gate}, cross ${result.cross})`);
    this.say(`  ${result.pairs_used} training pairs over ${result.items_in_pairs} items; final loss ${result.final_loss ?? 'n/a'}, temperature ${result.temperature}, ${result.seconds.toFixed(1)} s`);
    if (result.holdout_pairs) this.say(`  kept epoch ${result.best_epoch} of ${result.epochs} (best Recall@10 of ${result.holdout_pairs} held-out pairs)`);
    if (result.recall) this.say(`  ${formatRecall(result.recall)}`);
    return result;
  }
}
