/**
 * One shard of a gist HNSW index (hnswlib-node): building or extending it from a block of vectors, and
 * searching a set of shards. Runs on the main thread or in a worker (hnsw-worker.ts); hnswlib-node has no
 * threads of its own, so gist builds S shards in parallel and searches them all per query.
 *
 * Vectors arrive L2-normalised (loadEmbeddings), so cosine distance 1 − cos is hnswlib's inner-product
 * space 'ip' (1 − x·y); its 'cosine' space would only normalise every vector again (1.6× slower inserts).
 */
import hnswlib from 'hnswlib-node';

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

export interface ShardBuildTask {
  type: 'build';
  dim: number;
  m: number;
  efConstruction: number;
  /** hnswlib's level-generator seed for this shard. */
  seed: number;
  /** Row-major [n × dim] vectors and their labels (item ids), inserted in this order. */
  vectors: Float32Array;
  labels: Int32Array;
  /** Existing shard file to extend (null: a new shard). */
  from: string | null;
  /** Where to write the shard. */
  file: string;
}

export interface ShardBuildResult {
  count: number;
  seconds: number;
}

/** Build (or extend) a shard and write it to task.file. Insertion order is the task's order: same input, same file. */
export const HNSW_SPACE = 'ip';

export function buildShard(task: ShardBuildTask): ShardBuildResult {
  const t0 = performance.now();
  const index: Hnsw = new HierarchicalNSW(HNSW_SPACE, task.dim);
  const n = task.labels.length;
  if (task.from) {
    index.readIndexSync(task.from);
    const need = index.getCurrentCount() + n;
    if (need > index.getMaxElements()) index.resizeIndex(need);
  } else {
    index.initIndex(Math.max(1, n), task.m, task.efConstruction, task.seed);
  }
  const d = task.dim;
  const row = new Array<number>(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) row[k] = task.vectors[i * d + k];
    index.addPoint(row, task.labels[i]);
  }
  index.writeIndexSync(task.file);
  return { count: index.getCurrentCount(), seconds: (performance.now() - t0) / 1000 };
}

export interface ShardSearchTask {
  type: 'search';
  /** Row-major [n × dim] query vectors. */
  queries: Float32Array;
  k: number;
}

export interface ShardSearchResult {
  /** Row-major [n × k] labels (−1 pads) and cosine distances (1 − cos). */
  labels: Int32Array;
  distances: Float32Array;
}

/** All shards of an index, loaded once, searched together (results merged by distance, then label). */
export class ShardSet {
  private readonly shards: Hnsw[] = [];

  constructor(
    files: readonly string[],
    readonly dim: number,
    ef: number,
  ) {
    for (const f of files) {
      const index: Hnsw = new HierarchicalNSW(HNSW_SPACE, dim);
      index.readIndexSync(f);
      index.setEf(ef); // hnswlib does not save ef: re-applied on every load
      this.shards.push(index);
    }
  }

  get ef(): number {
    return this.shards[0]?.getEf() ?? 0;
  }

  search(task: ShardSearchTask): ShardSearchResult {
    const { k, queries } = task;
    const d = this.dim;
    const n = queries.length / d;
    const labels = new Int32Array(n * k).fill(-1);
    const distances = new Float32Array(n * k).fill(Infinity);
    const q = new Array<number>(d);
    const cand: { dist: number; label: number }[] = [];
    for (let i = 0; i < n; i++) {
      let ss = 0;
      for (let x = 0; x < d; x++) ss += queries[i * d + x] * queries[i * d + x];
      const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0; // queries are compared by cosine: unit length
      for (let x = 0; x < d; x++) q[x] = queries[i * d + x] * inv;
      cand.length = 0;
      for (const s of this.shards) {
        const kk = Math.min(k, s.getCurrentCount());
        if (kk === 0) continue;
        const r = s.searchKnn(q, kk);
        for (let t = 0; t < r.neighbors.length; t++) cand.push({ dist: r.distances[t], label: r.neighbors[t] });
      }
      cand.sort((a, b) => a.dist - b.dist || a.label - b.label);
      for (let t = 0; t < Math.min(k, cand.length); t++) {
        labels[i * k + t] = cand[t].label;
        distances[i * k + t] = cand[t].dist;
      }
    }
    return { labels, distances };
  }
}
