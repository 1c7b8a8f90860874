/**
 * One shard of a gist HNSW index (hnswlib-node): building or extending it from a block of vectors, and
 * searching a set of shards. Runs on the main thread or in a worker (hnsw-worker.ts); hnswlib-node has no
 * threads of its own, so gist builds S shards in parallel and searches them all per query.
 *
 * Vectors arrive L2-normalised (loadEmbeddings), so cosine distance 1 − cos is hnswlib's inner-product
 * space 'ip' (1 − x·y); its 'cosine' space would only normalise every vector again (1.6× slower inserts).
 */
import hnswlib from 'hnswlib-node';
import { nativeKernels } from './native.js';

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

export const HNSW_SPACE = 'ip';

/**
 * Build (or extend) a shard and write it to task.file. Insertion order is the task's order: same input, same file.
 * The native add-on runs hnswlib's insertion itself (30–40% sooner, no per-value conversion of every vector) and
 * writes the bytes hnswlib-node would; without it, hnswlib-node builds the shard.
 */
export function buildShard(task: ShardBuildTask): ShardBuildResult {
  const t0 = performance.now();
  const native = nativeKernels();
  const count = native
    ? native.hnswBuild(task.vectors, task.labels, Int32Array.of(task.dim, task.m, task.efConstruction, task.seed), task.from, task.file)
    : buildShardWithHnswlibNode(task);
  return { count, seconds: (performance.now() - t0) / 1000 };
}

/** buildShard on hnswlib-node (no add-on, or GIST_NATIVE=0); returns the element count. */
export function buildShardWithHnswlibNode(task: ShardBuildTask): number {
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
  return index.getCurrentCount();
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

/** A search result in ascending distance (then label) order, sorting only when hnswlib's is not already. */
function ascending(r: { distances: number[]; neighbors: number[] }): { distances: number[]; neighbors: number[] } {
  const { distances: dist, neighbors: lab } = r;
  let sorted = true;
  for (let t = 1; t < dist.length && sorted; t++) sorted = dist[t - 1] < dist[t] || (dist[t - 1] === dist[t] && lab[t - 1] <= lab[t]);
  if (sorted) return r;
  const order = Array.from(dist.keys()).sort((a, b) => dist[a] - dist[b] || lab[a] - lab[b]);
  return { distances: order.map((o) => dist[o]), neighbors: order.map((o) => lab[o]) };
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
    const hits: { distances: number[]; neighbors: number[] }[] = [];
    const pos = new Int32Array(this.shards.length);
    for (let i = 0; i < n; i++) {
      let ss = 0;
      for (let x = 0; x < d; x++) ss += queries[i * d + x] * queries[i * d + x];
      const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0; // queries are compared by cosine: unit length
      for (let x = 0; x < d; x++) q[x] = queries[i * d + x] * inv;
      hits.length = 0;
      for (const s of this.shards) {
        const kk = Math.min(k, s.getCurrentCount());
        if (kk > 0) hits.push(ascending(s.searchKnn(q, kk)));
      }
      // k-way merge of the shards' ascending lists: distance, then label
      pos.fill(0);
      for (let t = 0; t < k; t++) {
        let best = -1;
        for (let h = 0; h < hits.length; h++) {
          if (pos[h] >= hits[h].neighbors.length) continue;
          if (best < 0) best = h;
          else {
            const a = hits[h].distances[pos[h]];
            const b = hits[best].distances[pos[best]];
            if (a < b || (a === b && hits[h].neighbors[pos[h]] < hits[best].neighbors[pos[best]])) best = h;
          }
        }
        if (best < 0) break;
        labels[i * k + t] = hits[best].neighbors[pos[best]];
        distances[i * k + t] = hits[best].distances[pos[best]];
        pos[best]++;
      }
    }
    return { labels, distances };
  }
}
