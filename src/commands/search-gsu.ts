import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { dataFlag, outFlag, shardFlag, splitFlag, splitsOf } from '../cli/flags.js';
import { parseSplits, searchGsu, type GsuMode, type GsuResult } from '../core/retrieval/gsu.js';

export default class SearchGsu extends BaseCommand<typeof SearchGsu> {
  static override summary = "Search each target sample's lifelong source sequence (GSU): exact top-K source events before the sample's time.";
  static override description =
    "For every target sample: cosine between the target item's embedding and each of the user's source events strictly before the sample's time, exact top-K sorted by score (ties: more recent first, then item id). --mode hard (SIM hard): the most recent K source events of the target item's category, score 1. Writes OUT/gsu.arrow (sample_id, items, scores; one row per target sample in sample_id order, empty when there is no earlier event) and OUT/config.json. Embeddings never reach the target model. --shard i/n searches the users with user_id mod n = i; `gist merge` joins the shard folders into exactly the single-run file.";
  static override examples = [
    '<%= config.bin %> <%= command.id %> --data work/demo/data --embeddings work/demo/union/joint.arrow --out work/demo/gsu-joint',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --embeddings work/demo/content/content.arrow --k 50 --out work/demo/gsu-content',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --mode hard --out work/demo/gsu-hard --json',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --embeddings work/demo/union/joint.arrow --shard 0/2 --out work/demo/gsu-joint-0',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --embeddings work/demo/union/joint.arrow --shard 1/2 --out work/demo/gsu-joint-1',
  ];
  static override flags = {
    data: dataFlag,
    embeddings: Flags.file({ char: 'e', description: 'EMBEDDINGS file (soft mode): joint for GIST, content for SIM soft', exists: true }),
    out: outFlag,
    k: Flags.integer({ char: 'k', description: 'events kept per sample', default: 100 }),
    mode: Flags.string({ description: 'soft: exact top-K cosine; hard: same category, most recent K (needs a category column)', options: ['soft', 'hard'], default: 'soft' }),
    split: splitFlag('splits of target samples to search'),
    shard: shardFlag('only users with user_id mod n = i (join with `gist merge`)'),
    threads: Flags.integer({ description: 'worker threads (default: available cores; 0 = main thread); results do not depend on it' }),
  };

  async run(): Promise<GsuResult> {
    const f = this.flags;
    const r = await searchGsu({
      data: f.data, embeddings: f.embeddings, out: f.out, shard: f.shard, threads: f.threads, seed: f.seed, onProgress: this.progress(),
      config: { k: f.k, mode: f.mode as GsuMode, splits: parseSplits(splitsOf(f.split)?.join(',')) },
    });
    this.say(`${r.rows} samples searched (${r.mode}, K ${r.k}${r.shard ? `, shard ${r.shard}` : ''}): ${r.mean_results.toFixed(1)} events per row over ${r.mean_history.toFixed(1)} before ts on average, ${r.empty_rows} empty → ${r.file}`);
    this.say(`  ${Math.round(r.samples_per_s)} samples/s on ${r.threads} thread(s)${r.gflops !== null ? `, ${r.gflops.toFixed(1)} GFLOP/s` : ''}`);
    return r;
  }
}
