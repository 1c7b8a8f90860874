import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { renderEvaluate } from '../cli/render-evaluate.js';
import { shardFlag } from '../cli/flags.js';
import { evaluate, EVAL_SPLITS, type EvaluateOptions, type EvaluateShardResult } from '../core/evaluate/evaluate.js';
import { assertGatePassed } from '../core/evaluate/gate.js';
import type { EvaluateResult } from '../core/evaluate/result.js';
import { toMarkdown } from '../core/evaluate/tables.js';
import { UsageError } from '../core/errors.js';

const named = (description: string) => Flags.string({ description, multiple: true, multipleNonGreedy: true });

export default class Evaluate extends BaseCommand<typeof Evaluate> {
  static override summary = 'Score CTR runs (AUC, gAUC, logloss, AUC gain, popularity groups) and embeddings (Recall@K); HTML report; CI gate.';
  static override description =
    'Prediction files are NAME=path or plain paths (name = parent folder). With --baseline, exits 5 when any tracked metric (AUC, gAUC, logloss, Recall@K) is worse than the saved metrics.json by more than --max-drop.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> work/demo/ctr-din/predictions.arrow work/demo/ctr-gist/predictions.arrow --data work/demo/data',
    '<%= config.bin %> <%= command.id %> work/demo/ctr-*/predictions.arrow --data work/demo/data --embeddings work/demo/union/joint.arrow --pairs work/demo/pairs-esu/pairs.arrow --gsu work/demo/gsu-joint/gsu.arrow --html work/demo/eval/report.html --save-metrics work/demo/eval/metrics.json',
    '<%= config.bin %> <%= command.id %> work/demo/ctr-*/predictions.arrow --data work/demo/data --embeddings work/demo/union/joint.arrow --pairs work/demo/pairs-esu/pairs.arrow --baseline work/demo/eval/metrics.json --max-drop 0.002',
    '<%= config.bin %> <%= command.id %> din=work/demo/ctr-din/predictions.arrow gist=work/demo/ctr-gist/predictions.arrow --markdown',
    '<%= config.bin %> <%= command.id %> work/demo/ctr-*/predictions.arrow --baseline-run ctr-gist',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --embeddings joint=work/demo/union/joint.arrow --pairs work/demo/pairs-esu/pairs.arrow --shard 0/2 --out work/demo/ranks-0',
  ];
  static override args = { predictions: Args.string({ description: 'predictions.arrow files (NAME=path or path)', multiple: true, required: false, ignoreStdin: true }) };
  static override flags = {
    split: Flags.string({ description: 'split of the predictions to score', options: [...EVAL_SPLITS], default: 'test' }),
    'baseline-run': Flags.string({ description: 'run the AUC gains and the paired AUC tests (DeLong) are relative to [default: din, ctr-din, else the first run]' }),
    data: Flags.directory({ char: 'd', description: 'prepared dataset folder: item popularity groups and item domains for Recall@K' }),
    'popularity-threshold': Flags.string({ description: 'low-interaction = items with fewer target-domain interactions than this [default: median over target items with any]' }),
    gsu: named('GSU file NAME=gsu.arrow (or path) whose scores are histogrammed; repeatable'),
    embeddings: named('embeddings NAME=file.arrow (or path) scored by Recall@K; repeatable'),
    pairs: Flags.file({ description: 'pairs.arrow: Recall@K truth (valid/test pairs when it has a split column, less its train-split pairs)' }),
    'train-pairs': Flags.file({ description: 'PAIRS file the embeddings trained on: truth pairs also found there (train split, either orientation) are dropped; repeatable', multiple: true }),
    ks: Flags.string({ description: 'comma-separated K values for Recall@K', default: '10,100,1000' }),
    baseline: Flags.file({ description: 'metrics.json to gate against (from --save-metrics or --json); exit 5 on a regression' }),
    'max-drop': Flags.string({ description: 'largest allowed drop of any tracked metric (absolute)', default: '0.002' }),
    html: Flags.file({ description: 'write the self-contained HTML report here (- = stdout)' }),
    'save-metrics': Flags.file({ description: 'write the JSON result (the metrics.json format) here (- = stdout)' }),
    markdown: Flags.boolean({ description: 'print GitHub markdown tables instead of the terminal table', default: false }),
    shard: shardFlag('score only the Recall@K truth pairs with index mod n = i, into --out DIR/ranks.arrow (join with `gist merge`)'),
    out: Flags.directory({ char: 'o', description: 'with --shard: the folder its ranks.arrow goes to', helpGroup: 'SHARDING' }),
    ranks: Flags.directory({ description: 'merged ranks of `evaluate --shard` runs: Recall@K from them, not scored again', helpGroup: 'SHARDING' }),
  };

  async run(): Promise<EvaluateResult | EvaluateShardResult> {
    const { args, flags } = await this.parse(Evaluate);
    const num = (name: string, v: string): number => {
      const x = Number(v);
      if (v.trim() === '' || !Number.isFinite(x)) throw new UsageError(`--${name} must be a number, got "${v}"`);
      return x;
    };
    this.claimStdout({ '--html': flags.html, '--save-metrics': flags['save-metrics'] });
    const options: EvaluateOptions = {
      predictions: args.predictions ?? [],
      split: flags.split as EvaluateOptions['split'],
      baselineRun: flags['baseline-run'],
      data: flags.data,
      popularityThreshold: flags['popularity-threshold'] === undefined ? undefined : num('popularity-threshold', flags['popularity-threshold']),
      gsu: flags.gsu ?? [],
      embeddings: flags.embeddings ?? [],
      pairs: flags.pairs,
      trainPairs: flags['train-pairs'] ?? [],
      ks: flags.ks.split(',').map((k) => num('ks', k)),
      baselineMetrics: flags.baseline,
      maxDrop: num('max-drop', flags['max-drop']),
      html: flags.html,
      saveMetrics: flags['save-metrics'],
      shard: flags.shard,
      out: flags.out,
      ranks: flags.ranks,
    };
    const result = await evaluate(options, this.progress());
    if (flags.shard) {
      const part = result as unknown as EvaluateShardResult;
      this.say(`shard ${part.shard}: ranks of ${part.pairs} truth pairs → ${part.outputs.ranks} (join the shards with gist merge, then evaluate --ranks)`);
      return part;
    }
    this.say(flags.markdown ? toMarkdown(result) : renderEvaluate(result));
    assertGatePassed(result.gate);
    return result;
  }
}
