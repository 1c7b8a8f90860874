import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { runBuildIndex, type BuildIndexCommandResult, type IndexRecall } from '../core/retrieval/hnsw.js';
import type { Domain } from '../core/schemas.js';

export default class BuildIndex extends BaseCommand<typeof BuildIndex> {
  static override summary = 'Build an HNSW index (cosine) of an embeddings file, add new items to one, or measure its recall.';
  static override description =
    'Writes OUT/index-<s>.bin (one hnswlib index per shard; shards are built in parallel and searched together) and OUT/index.json (dim, count, m, ef_construction, ef, seed, labels = item ids, inputs). hnswlib does not save ef: it is kept in index.json and re-applied on load. --add inserts new items (resizing as needed) and rewrites the index atomically. --recall reports recall@10/100 against exact search and the index QPS; --pairs adds Recall@K with pairs as ground truth (paper Table 3), by exact search and through the index.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --embeddings work/demo/union/joint.arrow --out work/demo/index',
    '<%= config.bin %> <%= command.id %> --embeddings work/demo/union/joint.arrow --data work/demo/data --domain source --m 32 --ef 200 --out work/demo/index-source --recall',
    '<%= config.bin %> <%= command.id %> --index work/demo/index-source --add work/demo/union/joint.arrow --data work/demo/data --domain target --out work/demo/index-all',
    '<%= config.bin %> <%= command.id %> --index work/demo/index --embeddings work/demo/union/joint.arrow --recall --pairs work/demo/pairs-esu/pairs.arrow --json',
  ];
  static override flags = {
    embeddings: Flags.file({ char: 'e', description: 'EMBEDDINGS file to index (or, with --index, the query vectors for --recall)', exists: true }),
    out: Flags.directory({ char: 'o', description: 'output folder (with --add: default is to update --index in place)' }),
    index: Flags.directory({ description: 'existing index folder (for --add, or to evaluate it)', exists: true }),
    add: Flags.file({ description: 'EMBEDDINGS file of new items to insert into --index', exists: true }),
    data: Flags.directory({ char: 'd', description: 'prepared dataset (with --domain)', exists: true }),
    domain: Flags.string({ description: 'index (or, with --add, insert) only this domain\'s items (needs --data)', options: ['source', 'target', 'all'], default: 'all' }),
    m: Flags.integer({ description: 'HNSW links per node (default 16)' }),
    'ef-construction': Flags.integer({ description: 'candidate list while building (default 200)' }),
    ef: Flags.integer({ description: 'candidate list while searching, stored and re-applied on load (default 100)' }),
    shards: Flags.integer({ description: 'sub-indexes built in parallel and searched together (default 2)' }),
    threads: Flags.integer({ description: 'worker threads (default: available cores; 0 = main thread)' }),
    recall: Flags.boolean({ description: 'report recall@10/100 vs exact search and QPS', default: false }),
    pairs: Flags.file({ description: 'PAIRS file: also report Recall@K with pairs as ground truth', exists: true }),
    queries: Flags.integer({ description: 'query items sampled for --recall', default: 1000 }),
  };

  async run(): Promise<BuildIndexCommandResult> {
    const f = this.flags;
    const r = await runBuildIndex({
      embeddings: f.embeddings, out: f.out, index: f.index, add: f.add, data: f.data, domain: f.domain as Domain | 'all',
      config: { m: f.m, efConstruction: f['ef-construction'], ef: f.ef, shards: f.shards },
      seed: f.seed, threads: f.threads, recall: f.recall, pairs: f.pairs, queries: f.queries, onProgress: this.progress(),
    });
    if (r.mode === 'evaluate') this.say(`index ${r.index}: ${r.count} items, dim ${r.dim}, ${r.shards} shard(s), ef ${r.ef}`);
    else this.say(`${r.mode === 'add' ? 'added' : 'indexed'} ${r.inserted} items (${r.count} in all, dim ${r.dim}, ${r.shards} shard(s), M ${r.m}, efC ${r.ef_construction}, ef ${r.ef}) in ${r.seconds.toFixed(1)} s, ${Math.round(r.inserts_per_s)} inserts/s → ${r.out}`);
    if (r.recall) this.sayRecall(r.recall);
    return r;
  }

  private sayRecall(r: IndexRecall): void {
    const fmt = (o: Record<string, number>): string => Object.entries(o).map(([k, v]) => `@${k} ${v.toFixed(4)}`).join(', ');
    this.say(`  recall vs exact (${r.queries} queries, ef ${r.ef}): ${fmt(r.recall_vs_exact)}; ${Math.round(r.qps)} QPS`);
    if (r.pairs) this.say(`  Recall@K with pairs (${r.pairs.exact.pairs} pairs): exact ${fmt(r.pairs.exact.recall)}; index ${fmt(r.pairs.index)}`);
  }
}
