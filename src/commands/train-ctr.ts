import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { ctrModelOverrides, ctrTrainOverrides } from '../cli/ctr-flags.js';
import { dataFlag, outFlag, recordFlag } from '../cli/flags.js';
import { ASI_MODES, ATTENTION_KINDS, CTR_VARIANTS, DEFAULT_CTR_MODEL_CONFIG, DEFAULT_CTR_TRAIN_CONFIG, type AsiMode, type CtrVariant } from '../core/ctr/config.js';
import { SIMDIST_NORMS } from '../core/ctr/asi.js';
import { trainCtr, type TrainCtrOptions, type TrainCtrResult } from '../core/ctr/train.js';
import type { BackendName } from '../core/engine/backend.js';
import { UsageError } from '../core/errors.js';
import type { Domain } from '../core/schemas.js';

export default class TrainCtr extends BaseCommand<typeof TrainCtr> {
  static override summary = 'Train a CTR model: the source DIN (ESU teacher) or a target variant of Table 1 / Table 6 (DIN, SIM hard/soft, GIST + ASI).';
  static override description =
    'Writes model/ (weights + config.json), predictions.arrow (valid + test), curve.json, config.json and checkpoint/ (for --resume; Ctrl-C saves one and exits 130); --domain source also writes id_embeddings.arrow. Early stopping on validation AUC keeps the best epoch.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --data work/demo/data --domain source --out work/demo/source',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --domain target --variant din --out work/demo/ctr-din --json',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --domain target --variant gist --gsu work/demo/gsu-joint/gsu.arrow --embeddings work/demo/union/joint.arrow --asi simscore+simdist --out work/demo/ctr-gist',
    '<%= config.bin %> <%= command.id %> --config work/demo/ctr-gist/config.json --data work/demo/data --gsu work/demo/gsu-joint/gsu.arrow --embeddings work/demo/union/joint.arrow --out work/demo/ctr-gist-again',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --domain target --config work/demo/ctr-sim-hard/config.json --gsu work/demo/gsu-hard/gsu.arrow --out work/demo/ctr-sim-hard --resume',
  ];
  static override flags = {
    data: dataFlag,
    out: outFlag,
    domain: Flags.string({ description: 'which samples to rank', options: ['source', 'target'], default: 'target' }),
    variant: Flags.string({ description: 'model variant (all but din need --gsu)', options: [...CTR_VARIANTS], default: 'din' }),
    gsu: Flags.file({ description: "gsu.arrow: the GSU's searched source items per target sample", exists: true }),
    embeddings: Flags.file({ description: 'joint.arrow: joint embeddings for ASI (gist: SimScore of target-history items, asi=embedding)', exists: true, aliases: ['joint'], deprecateAliases: true }),
    asi: Flags.string({ description: 'ASI integration for --variant gist [default: simscore+simdist]', options: [...ASI_MODES] }),
    m1: Flags.integer({ description: 'SimScore bins over [-1, 1] (M1)', min: 2, default: 20 }),
    m2: Flags.integer({ description: 'SimDist histogram bins over [-1, 1] (M2)', min: 2, default: 10 }),
    'sim-score-dim': Flags.integer({ description: 'size of the SimScore bin embedding (ASI)', min: 1, default: 8 }),
    'simdist-norm': Flags.string({ description: "SimDist features: the searched items' counts as a share of the user's whole source history (history-fraction), fractions of the scores counted, or log(1 + count)", options: [...SIMDIST_NORMS], default: DEFAULT_CTR_MODEL_CONFIG.simDistNorm }),
    epochs: Flags.integer({ description: 'most epochs', min: 1, default: 10 }),
    'batch-size': Flags.integer({ description: 'training batch size', min: 1, default: 256 }),
    lr: Flags.string({ description: 'Adam learning rate', default: '0.005' }),
    'embedding-dim': Flags.integer({ description: 'item / category embedding width', min: 1, default: 18 }),
    'max-history': Flags.integer({ description: 'most recent in-domain events per sample [default: 100 source, 200 target]', min: 1 }),
    'max-search': Flags.integer({ description: 'searched items per sample taken from gsu.arrow', min: 1, default: 100 }),
    attention: Flags.string({ description: 'target-attention scorer', options: [...ATTENTION_KINDS], default: 'mlp' }),
    'attention-hidden': Flags.integer({ description: 'attention MLP width', min: 1, default: 64 }),
    tower: Flags.string({ description: 'prediction tower widths', default: '200,80' }),
    patience: Flags.integer({ description: 'epochs without a better validation AUC before stopping', min: 1, default: 2 }),
    'eval-batch-size': Flags.integer({ description: 'samples per batch when scoring valid/test', min: 1, default: 2048 }),
    'bucket-batches': Flags.integer({ description: 'sort each run of this many batches by history length (less padding); 1 = plain shuffle', min: 1, default: 16 }),
    'max-train-samples': Flags.integer({ description: 'train on a seeded subset of at most this many samples (0 = all)', min: 0, default: 0 }),
    resume: Flags.boolean({ description: 'continue from OUT/checkpoint', default: false }),
    config: recordFlag,
  };

  async run(): Promise<TrainCtrResult> {
    const { flags } = this;
    const lr = Number(flags.lr);
    if (flags.lr.trim() === '' || !Number.isFinite(lr)) throw new UsageError(`--lr must be a number, got "${flags.lr}"`);
    // With --config, only flags given here override the record (oclif fills the others from defaults).
    const given = <V>(flag: string, value: V): V | undefined => (!flags.config || this.given(flag) ? value : undefined);
    const model = this.fromRecord('train-ctr', 'model', DEFAULT_CTR_MODEL_CONFIG, ctrModelOverrides(flags, given));
    const train = this.fromRecord('train-ctr', 'train', DEFAULT_CTR_TRAIN_CONFIG, ctrTrainOverrides(flags, given, lr));
    const variant = (model.config.variant ?? flags.variant) as CtrVariant;
    let interrupted = false;
    const onSigint = (): void => {
      if (interrupted) process.exit(130); // a second Ctrl-C does not wait for the checkpoint
      interrupted = true;
    };
    const options: TrainCtrOptions = {
      dataDir: flags.data,
      outDir: flags.out,
      domain: (model.config.domain ?? flags.domain) as Domain,
      variant,
      asi: (model.config.asi ?? (variant === 'gist' ? 'simscore+simdist' : 'none')) as AsiMode,
      gsuFile: flags.gsu,
      jointFile: flags.embeddings,
      model: model.config,
      train: train.config,
      seed: model.seed,
      backend: flags.backend as BackendName,
      resume: flags.resume,
      shouldStop: () => interrupted,
      onProgress: this.progress(),
    };
    process.on('SIGINT', onSigint);
    let result: TrainCtrResult;
    try {
      result = await trainCtr(options);
    } finally {
      process.off('SIGINT', onSigint);
    }
    const f = (x: number): string => x.toFixed(4);
    this.say(`${result.domain} ${result.variant}${result.variant === 'gist' ? ` (asi ${result.asi})` : ''}: best epoch ${result.best_epoch} of ${result.epochs}, ${Math.round(result.samples_per_s)} samples/s (kernels: ${result.kernels})`);
    this.say(`  valid AUC ${f(result.valid.auc)}  gAUC ${f(result.valid.gauc)}  logloss ${f(result.valid.logloss)}`);
    this.say(`  test  AUC ${f(result.test.auc)}  gAUC ${f(result.test.gauc)}  logloss ${f(result.test.logloss)}  (item popularity ${f(result.popularity_baseline_test_auc)})`);
    this.say(`  outputs in ${flags.out}`);
    return result;
  }
}
