import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { dataFlag, outFlag, shardFlag, splitFlag, splitsOf } from '../cli/flags.js';
import type { BackendName } from '../core/engine/backend.js';
import { UsageError } from '../core/errors.js';
import { DEFAULT_ESU_CANDIDATES, extractEsuPairs, extractEsuShard, type EsuOptions, type EsuResult, type EsuShardResult } from '../core/pairs/esu.js';
import { DEFAULT_SWING_CONFIG, extractSwingPairs, type SwingResult } from '../core/pairs/swing.js';
import { SPLITS, type Split } from '../core/schemas.js';

export default class ExtractPairs extends BaseCommand<typeof ExtractPairs> {
  static override summary = "Extract item-to-item guidance pairs: the source model's ESU attention (eq. 8) or Swing co-occurrence.";
  static override description =
    'Both methods write pairs.arrow (target_item, related_item, attention, count, split) and stats.json. ESU: for each source sample (clicks by default) the source model attention runs over S_A, the --candidates (R) history items its GSU retrieves (cosine with the target item by the source model ID embeddings, or by --candidate-embeddings; samples with fewer distinct history items are skipped), and (target, most-attended item k) is kept when a_k >= --theta; duplicates merge per (pair, split). stats.json reports pairs by theta and by history length. Swing: top-N neighbours per item from training-period source co-occurrence.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --data work/demo/data --method esu --model work/demo/source --theta 0.4 --out work/demo/pairs-esu',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --method swing --alpha 1 --top-n 20 --out work/demo/pairs-swing --json',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --method esu --model work/demo/source --theta 0.4 --shard 0/2 --out work/demo/pairs-esu-0',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --method esu --model work/demo/source --candidate-embeddings work/demo/content/content.arrow --out work/demo/pairs-esu-content',
  ];
  static override flags = {
    data: dataFlag,
    out: outFlag,
    method: Flags.string({ description: 'pair source', options: ['esu', 'swing'], required: true }),
    model: Flags.directory({ description: 'esu: output folder of `gist train-ctr --domain source`', exists: true }),
    theta: Flags.string({ description: 'esu: keep pairs whose maximum attention a_k >= theta', default: '0.4' }),
    'include-negatives': Flags.boolean({ description: 'esu: also run unclicked samples', default: false }),
    split: splitFlag('esu: splits whose samples produce pairs'),
    buckets: Flags.integer({ description: 'esu: time buckets for the max-attention report', min: 1, default: 10 }),
    candidates: Flags.integer({ description: "esu: R, the size of S_A — the source GSU's top-R distinct history items by ID-embedding cosine that the attention runs over (0 = the model's recent-history window)", min: 0, default: DEFAULT_ESU_CANDIDATES }),
    'candidate-embeddings': Flags.file({ description: "esu: EMBEDDINGS file whose cosine ranks S_A instead of the source model's ID embeddings, for a source GSU that searches with other vectors (e.g. CONTENT_OUT/content.arrow); needs --candidates > 0", exists: true }),
    'batch-size': Flags.integer({ description: 'esu: source samples per attention batch (each block of this many chosen samples is one batch; the pipeline uses 2048)', min: 1, default: 2048 }),
    shard: shardFlag('esu: run the source samples of users with user_id mod n = i only, for `gist merge` (Swing does not shard: its user pairs span every user)'),
    'min-history': Flags.integer({ description: 'esu: skip samples with fewer history events (1 keeps all; a 1-event history always has a_k = 1)', min: 1, default: 1 }),
    alpha: Flags.string({ description: 'swing: smoothing alpha in 1 / (alpha + |I_u ∩ I_v|)', default: String(DEFAULT_SWING_CONFIG.alpha) }),
    'top-n': Flags.integer({ description: 'swing: neighbours kept per item', min: 1, default: DEFAULT_SWING_CONFIG.topN }),
    'max-items-per-user': Flags.integer({ description: 'swing: most recent distinct items per user', min: 1, default: DEFAULT_SWING_CONFIG.maxItemsPerUser }),
    'max-users-per-item': Flags.integer({ description: 'swing: users per item at most (a seeded sample beyond)', min: 1, default: DEFAULT_SWING_CONFIG.maxUsersPerItem }),
  };

  async run(): Promise<EsuResult | EsuShardResult | SwingResult> {
    const { flags } = this;
    const num = (name: string, v: string): number => {
      const x = Number(v);
      if (v.trim() === '' || !Number.isFinite(x)) throw new UsageError(`--${name} must be a number, got "${v}"`);
      return x;
    };
    if (flags.method === 'swing') {
      if (flags.shard) throw new UsageError('--shard is for --method esu: Swing scores user pairs across every user (run it whole)');
      const config = { alpha: num('alpha', flags.alpha), topN: flags['top-n'], maxItemsPerUser: flags['max-items-per-user'], maxUsersPerItem: flags['max-users-per-item'] };
      const r = await extractSwingPairs({ dataDir: flags.data, outDir: flags.out, config, seed: flags.seed, onProgress: this.progress() });
      this.say(`${r.pairs} Swing pairs for ${r.items_with_pairs} items (${r.user_pairs} user pairs, alpha ${r.alpha}, top ${r.top_n}) → ${r.outputs.pairs}`);
      return r;
    }
    if (!flags.model) throw new UsageError('--method esu needs --model (the output folder of `gist train-ctr --domain source`)');
    const splits = splitsOf(flags.split) ?? [...SPLITS];
    for (const s of splits) if (!(SPLITS as readonly string[]).includes(s)) throw new UsageError(`--split: unknown split "${s}" (train, valid, test)`);
    const options: EsuOptions = {
      dataDir: flags.data,
      modelDir: flags.model,
      outDir: flags.out,
      theta: num('theta', flags.theta),
      includeNegatives: flags['include-negatives'],
      splits: splits as Split[],
      buckets: flags.buckets,
      minHistory: flags['min-history'],
      candidates: flags.candidates,
      candidateEmbeddings: flags['candidate-embeddings'],
      batchSize: flags['batch-size'],
      seed: flags.seed,
      backend: flags.backend as BackendName,
      onProgress: this.progress(),
    };
    if (flags.shard) {
      const part = await extractEsuShard({ ...options, shard: flags.shard });
      this.say(`shard ${part.shard}: ${part.samples} source samples attended → ${part.outputs.samples} (join the shards with gist merge)`);
      return part;
    }
    const r = await extractEsuPairs(options);
    const m = r.max_attention;
    this.say(`${r.pairs} ESU pairs at theta ${r.theta} (${r.unique_pairs} distinct; train ${r.pairs_by_split.train}, valid ${r.pairs_by_split.valid}, test ${r.pairs_by_split.test}) from ${r.samples_with_history} samples → ${r.outputs.pairs}`);
    this.say(`  max attention: mean ${m.mean.toFixed(4)}, p10 ${m.quantiles.p10.toFixed(3)}, p50 ${m.quantiles.p50.toFixed(3)}, p90 ${m.quantiles.p90.toFixed(3)}`);
    this.say(`  pairs by theta: ${Object.entries(r.by_theta).map(([t, n]) => `${t}: ${n}`).join(', ')}; S_A of ${r.candidates ? `${r.candidates} by ${r.candidate_scorer === 'source-id' ? 'ID-embedding' : r.candidate_scorer} cosine` : 'the recent window'}; ${r.samples_short_history} samples with shorter histories skipped`);
    return r;
  }
}
