/**
 * `gist build-index`: an HNSW index (hnswlib-node; cosine distance 1 − cos, computed as the inner product of
 * the L2-normalised vectors) over an embeddings file, for the
 * global item index (Recall@K, i2i lookups, items arriving online). hnswlib-node inserts one vector per call on
 * one thread, so the index is split into `shards` sub-indexes built in parallel (insertion j goes to shard
 * j mod shards) and a query searches every shard and merges by distance. hnswlib does not save ef: it lives
 * in index.json and is re-applied on every load.
 *
 * Files: OUT/index-<s>.bin (one per shard) and OUT/index.json (IndexManifest).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readArrow } from '../arrow-io.js';
import { requireRange, resolveConfig } from '../config.js';
import { DATASET_FILES, DOMAIN_CODE, loadItems } from '../dataset.js';
import { InputDataError, IoError, UsageError } from '../errors.js';
import { OutputStage, configHash, noProgress, outputMeta, type OnProgress } from '../output.js';
import { makeRng } from '../rng.js';
import { PAIRS, type Domain } from '../schemas.js';
import { VERSION } from '../version.js';
import { loadEmbeddings, type EmbeddingTable } from './embeddings.js';
import { ShardSet, buildShard, type ShardBuildResult, type ShardBuildTask, type ShardSearchResult, type ShardSearchTask } from './hnsw-shard.js';
import { nativeKernels, type NativeKernels } from './native.js';
import { exactTopK, recallAtK, type RecallResult } from './recall.js';
import { WorkerPool, workerUrl } from './worker-pool.js';

/** HNSW parameters; hashed into the index metadata. */
export interface IndexConfig {
  /** Links per node (hnswlib M). */
  m: number;
  /** Candidate list size while building. */
  efConstruction: number;
  /** Candidate list size while searching (stored in index.json, re-applied on load). */
  ef: number;
  /** Sub-indexes built in parallel and searched together; part of the index format (same shards, same files). */
  shards: number;
  /** Seed of hnswlib's level generator (shard s uses seed + s). */
  seed: number;
}

export const DEFAULT_INDEX_CONFIG: IndexConfig = { m: 16, efConstruction: 200, ef: 100, shards: 2, seed: 42 };

/** index.json */
export interface IndexManifest {
  format: 'gist-hnsw';
  version: string;
  space: 'cosine';
  dim: number;
  count: number;
  m: number;
  ef_construction: number;
  ef: number;
  seed: number;
  shards: { file: string; count: number; seed: number }[];
  /** Item ids in insertion order; insertion j lives in shard j mod shards. */
  labels: number[];
  /** Embeddings files inserted, in order (build, then each --add). */
  inputs: { file: string; rows: number; config_hash: string }[];
  meta: Record<string, string | number>;
}

export const INDEX_MANIFEST = 'index.json';

export function readIndexManifest(dir: string): IndexManifest {
  const file = path.join(dir, INDEX_MANIFEST);
  if (!fs.existsSync(file)) throw new IoError(`${dir}: not an index folder (no ${INDEX_MANIFEST}; run \`gist build-index\` first)`);
  let m: IndexManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as IndexManifest;
  } catch (err) {
    throw new InputDataError(`unreadable index manifest (${(err as Error).message})`, file);
  }
  if (m.format !== 'gist-hnsw' || !Array.isArray(m.shards) || !Array.isArray(m.labels)) throw new InputDataError('not a gist HNSW index manifest', file);
  // Indexes written before the snake_case keys said efConstruction.
  const legacy = m as IndexManifest & { efConstruction?: number };
  if (legacy.ef_construction === undefined && legacy.efConstruction !== undefined) {
    m.ef_construction = legacy.efConstruction;
    delete legacy.efConstruction;
  }
  for (const s of m.shards) if (!fs.existsSync(path.join(dir, s.file))) throw new IoError(`${path.join(dir, s.file)}: missing index shard`);
  return m;
}

function resolveIndexConfig(overrides: Partial<IndexConfig>): IndexConfig {
  const c = resolveConfig(DEFAULT_INDEX_CONFIG, overrides, 'build-index');
  requireRange('--m', c.m, 2, 1000);
  requireRange('--ef-construction', c.efConstruction, 1, 100_000);
  requireRange('--ef', c.ef, 1, 100_000);
  requireRange('--shards', c.shards, 1, 256);
  for (const [k, v] of Object.entries(c)) if (!Number.isInteger(v)) throw new UsageError(`build-index: ${k} must be an integer, got ${v}`);
  return c;
}

function defaultThreads(threads: number | undefined): number {
  const t = threads ?? Math.min(os.availableParallelism(), 16);
  if (!Number.isInteger(t) || t < 0) throw new UsageError(`--threads must be a non-negative integer, got ${t}`);
  return t;
}

/** Run shard builds on `threads` workers (0: on this thread); seconds exclude starting the workers. */
async function runBuilds(tasks: ShardBuildTask[], threads: number): Promise<{ built: ShardBuildResult[]; seconds: number }> {
  if (threads === 0 || tasks.length === 0) {
    const t0 = performance.now();
    const built = tasks.map(buildShard);
    return { built, seconds: (performance.now() - t0) / 1000 };
  }
  const pool = new WorkerPool<ShardBuildTask, ShardBuildResult>(workerUrl('hnsw-worker'), Array.from({ length: Math.min(threads, tasks.length) }, () => ({ mode: 'build' })));
  try {
    await pool.ready;
    const t0 = performance.now();
    const built = await Promise.all(tasks.map((t) => pool.run(t, [t.vectors.buffer, t.labels.buffer] as ArrayBuffer[])));
    return { built, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await pool.close();
  }
}

/** Rows of an embeddings table restricted to a dataset domain (or all). */
function selectRows(emb: EmbeddingTable, data: string | undefined, domain: Domain | 'all'): Int32Array {
  if (domain === 'all' || !data) return Int32Array.from(emb.ids.keys());
  const items = loadItems(path.join(data, DATASET_FILES.items));
  const code = DOMAIN_CODE[domain];
  const rows: number[] = [];
  for (let r = 0; r < emb.ids.length; r++) {
    const it = emb.ids[r];
    if (it < items.count && items.domain[it] === code) rows.push(r);
  }
  return Int32Array.from(rows);
}

/** Shard tasks for inserting `rows` of `emb` as insertions first, first+1, ... */
function shardTasks(emb: EmbeddingTable, rows: Int32Array, first: number, cfg: IndexConfig, files: (s: number) => { from: string | null; file: string }): ShardBuildTask[] {
  const tasks: ShardBuildTask[] = [];
  const d = emb.dim;
  for (let s = 0; s < cfg.shards; s++) {
    const mine: number[] = [];
    for (let j = 0; j < rows.length; j++) if ((first + j) % cfg.shards === s) mine.push(rows[j]);
    if (mine.length === 0 && first > 0) continue; // an existing shard with nothing new stays as it is
    const vectors = new Float32Array(mine.length * d);
    mine.forEach((r, i) => vectors.set(emb.vectors.subarray(r * d, (r + 1) * d), i * d));
    tasks.push({ type: 'build', dim: d, m: cfg.m, efConstruction: cfg.efConstruction, seed: cfg.seed + s, vectors, labels: Int32Array.from(mine, (r) => emb.ids[r]), ...files(s) });
  }
  return tasks;
}

export interface IndexRecallOptions {
  /** Query items sampled from the index for recall vs exact search. */
  queries: number;
  /** PAIRS file: also report Recall@K with pairs as ground truth (exact search and the index). */
  pairs?: string;
  /** Embeddings for query vectors and exact search (default: the file just inserted). */
  embeddings?: string;
}

export interface IndexRecall {
  queries: number;
  ef: number;
  /** Mean |index top-K ∩ exact top-K| / K. */
  recall_vs_exact: Record<string, number>;
  /** Index queries per second on `threads` threads. */
  qps: number;
  pairs: { file: string; exact: RecallResult; index: Record<string, number> } | null;
}

export interface IndexResult {
  out: string;
  dim: number;
  count: number;
  /** Items inserted by this run. */
  inserted: number;
  shards: number;
  threads: number;
  m: number;
  ef_construction: number;
  ef: number;
  seconds: number;
  inserts_per_s: number;
  recall: IndexRecall | null;
}

export interface BuildIndexOptions {
  embeddings: string;
  out: string;
  config?: Partial<Omit<IndexConfig, 'seed'>>;
  seed: number;
  /** With `domain`: index only that domain's items (needs the dataset's items.arrow). */
  data?: string;
  domain?: Domain | 'all';
  threads?: number;
  recall?: IndexRecallOptions | null;
  onProgress?: OnProgress;
}

/** Build a new index from an embeddings file. */
export async function buildIndex(opts: BuildIndexOptions): Promise<IndexResult> {
  const cfg = resolveIndexConfig({ ...opts.config, seed: opts.seed });
  const threads = defaultThreads(opts.threads);
  const domain = opts.domain ?? 'all';
  if (domain !== 'all' && !opts.data) throw new UsageError(`--domain ${domain} needs --data DIR (the dataset that says which items are ${domain})`);
  const emb = loadEmbeddings(opts.embeddings);
  const rows = selectRows(emb, opts.data, domain);
  if (rows.length === 0) throw new InputDataError(`no vectors to index${domain !== 'all' ? ` in domain ${domain}` : ''}`, opts.embeddings);
  const onProgress = opts.onProgress ?? noProgress;
  return OutputStage.run(opts.out, opts.data ? [opts.data] : [], async (stage) => {
    onProgress({ phase: 'build-index', done: 0, total: rows.length });
    const tasks = shardTasks(emb, rows, 0, cfg, (s) => ({ from: null, file: stage.file(`index-${s}.bin`) }));
    const { built, seconds } = await runBuilds(tasks, threads);
    onProgress({ phase: 'build-index', done: rows.length, total: rows.length });
    const manifest: IndexManifest = {
      format: 'gist-hnsw',
      version: VERSION,
      space: 'cosine',
      dim: emb.dim,
      count: rows.length,
      m: cfg.m,
      ef_construction: cfg.efConstruction,
      ef: cfg.ef,
      seed: cfg.seed,
      shards: built.map((b, s) => ({ file: `index-${s}.bin`, count: b.count, seed: cfg.seed + s })),
      labels: Array.from(rows, (r) => emb.ids[r]),
      inputs: [{ file: opts.embeddings, rows: rows.length, config_hash: emb.metadata.config_hash ?? 'none' }],
      meta: outputMeta('build-index', cfg.seed, cfg, { embeddings_config_hash: emb.metadata.config_hash ?? 'none', domain }),
    };
    stage.writeJson(INDEX_MANIFEST, manifest);
    stage.writeJson('config.json', { ...cfg, embeddings: opts.embeddings, data: opts.data ?? null, domain });
    const recall = opts.recall ? await evaluateIndexFiles(stage.staging, manifest, opts.recall.embeddings ? loadEmbeddings(opts.recall.embeddings, emb.dim) : emb, opts.recall, threads, cfg.seed, onProgress) : null;
    if (recall) stage.writeJson('recall.json', recall);
    return { out: path.resolve(opts.out), dim: emb.dim, count: rows.length, inserted: rows.length, shards: cfg.shards, threads, m: cfg.m, ef_construction: cfg.efConstruction, ef: cfg.ef, seconds, inserts_per_s: rows.length / seconds, recall };
  });
}

export interface AddIndexOptions {
  index: string;
  /** EMBEDDINGS file of the new items. */
  add: string;
  /** Write the extended index here (default: update `index` in place, file by file atomically). */
  out?: string;
  /** With `domain`: insert only that domain's items of `add` (needs the dataset's items.arrow). */
  data?: string;
  domain?: Domain | 'all';
  threads?: number;
  recall?: IndexRecallOptions | null;
  onProgress?: OnProgress;
}

/** Insert new items into an existing index (items arriving online); resizes shards as needed. */
export async function addToIndex(opts: AddIndexOptions): Promise<IndexResult> {
  const manifest = readIndexManifest(opts.index);
  const threads = defaultThreads(opts.threads);
  const emb = loadEmbeddings(opts.add, manifest.dim);
  const domain = opts.domain ?? 'all';
  if (domain !== 'all' && !opts.data) throw new UsageError(`--domain ${domain} needs --data DIR (the dataset that says which items are ${domain})`);
  const rows = selectRows(emb, opts.data, domain);
  if (rows.length === 0) throw new InputDataError(`no vectors to add${domain !== 'all' ? ` in domain ${domain}` : ''}`, opts.add);
  const present = new Set(manifest.labels);
  for (const r of rows) if (present.has(emb.ids[r])) throw new InputDataError(`item ${emb.ids[r]} is already in the index ${opts.index}`, opts.add, 'item_id', r);
  const cfg: IndexConfig = { m: manifest.m, efConstruction: manifest.ef_construction, ef: manifest.ef, shards: manifest.shards.length, seed: manifest.seed };
  const out = opts.out ?? opts.index;
  return OutputStage.run(out, opts.out ? [opts.index] : [], async (stage) => {
    const tasks = shardTasks(emb, rows, manifest.count, cfg, (s) => ({ from: path.join(opts.index, manifest.shards[s].file), file: stage.file(manifest.shards[s].file) }));
    const { built, seconds } = await runBuilds(tasks, threads);
    const next: IndexManifest = { ...manifest, shards: manifest.shards.map((s) => ({ ...s })), labels: [...manifest.labels, ...Array.from(rows, (r) => emb.ids[r])], count: manifest.count + rows.length };
    tasks.forEach((t, i) => {
      const s = next.shards.findIndex((x) => t.file.endsWith(path.sep + x.file));
      next.shards[s].count = built[i].count;
    });
    next.inputs = [...manifest.inputs, { file: opts.add, rows: rows.length, config_hash: emb.metadata.config_hash ?? 'none' }];
    next.meta = { ...manifest.meta, inputs_hash: configHash(next.inputs.map((x) => x.config_hash)) };
    // shards without new items, when writing to a new folder
    if (opts.out) {
      for (const s of next.shards) if (!fs.existsSync(stage.file(s.file))) fs.copyFileSync(path.join(opts.index, s.file), stage.file(s.file));
      const cfgFile = path.join(opts.index, 'config.json');
      if (fs.existsSync(cfgFile)) fs.copyFileSync(cfgFile, stage.file('config.json'));
    }
    stage.writeJson(INDEX_MANIFEST, next);
    let recall: IndexRecall | null = null;
    if (opts.recall) {
      // evaluate what was just written: staged shards plus untouched ones
      const files = next.shards.map((s) => (fs.existsSync(stage.file(s.file)) ? stage.file(s.file) : path.join(opts.index, s.file)));
      const evalEmb = opts.recall.embeddings ? loadEmbeddings(opts.recall.embeddings, manifest.dim) : emb;
      recall = await evaluateIndexFiles(files, next, evalEmb, opts.recall, threads, manifest.seed, opts.onProgress ?? noProgress);
      stage.writeJson('recall.json', recall);
    }
    return { out, dim: manifest.dim, count: next.count, inserted: rows.length, shards: cfg.shards, threads, m: cfg.m, ef_construction: cfg.efConstruction, ef: cfg.ef, seconds, inserts_per_s: rows.length / Math.max(seconds, 1e-9), recall };
  });
}

/** An opened index: every shard loaded on `threads` workers (or this thread), ef re-applied. */
export class HnswIndex {
  private readonly pool: WorkerPool<ShardSearchTask, ShardSearchResult> | null = null;
  private readonly inline: ShardSet | null = null;
  /** The native addon's batched, threaded search (same results as hnswlib-node's, query by query). */
  private native: { kernels: NativeKernels; handle: object } | null = null;
  private closed = false;

  private constructor(
    readonly files: string[],
    readonly dim: number,
    readonly ef: number,
    private readonly threads: number,
  ) {
    const kernels = nativeKernels();
    if (kernels) this.native = { kernels, handle: kernels.hnswOpen(files, dim, ef) };
    else if (threads === 0) this.inline = new ShardSet(files, dim, ef);
    else this.pool = new WorkerPool(workerUrl('hnsw-worker'), Array.from({ length: threads }, () => ({ mode: 'search', files, dim, ef })));
  }

  /** Open an index folder (ef from index.json unless overridden). */
  static async open(dir: string, opts: { threads?: number; ef?: number } = {}): Promise<HnswIndex> {
    const m = readIndexManifest(dir);
    return HnswIndex.openFiles(m.shards.map((s) => path.join(dir, s.file)), m.dim, opts.ef ?? m.ef, defaultThreads(opts.threads));
  }

  static async openFiles(files: string[], dim: number, ef: number, threads: number): Promise<HnswIndex> {
    const idx = new HnswIndex(files, dim, ef, threads);
    await idx.pool?.ready;
    return idx;
  }

  /** The ef every shard searches with (read back from hnswlib on the JS path). */
  get appliedEf(): number {
    return this.inline ? this.inline.ef : this.ef;
  }

  /** Top-k labels and distances (1 − cos) of each query, row-major [n × k]; batches spread over the threads. */
  async search(queries: Float32Array, k: number): Promise<ShardSearchResult> {
    if (this.closed) throw new Error('HNSW index closed');
    const d = this.dim;
    const n = queries.length / d;
    if (this.native) {
      const labels = new Int32Array(n * k);
      const distances = new Float32Array(n * k);
      this.native.kernels.hnswSearch(this.native.handle, queries, k, Math.max(1, this.threads), labels, distances);
      return { labels, distances };
    }
    if (this.inline) return this.inline.search({ type: 'search', queries, k });
    const batch = 64;
    const parts: Promise<ShardSearchResult>[] = [];
    for (let i = 0; i < n; i += batch) {
      const q = queries.slice(i * d, Math.min(n, i + batch) * d);
      parts.push((this.pool as WorkerPool<ShardSearchTask, ShardSearchResult>).run({ type: 'search', queries: q, k }, [q.buffer]));
    }
    const done = await Promise.all(parts);
    const labels = new Int32Array(n * k);
    const distances = new Float32Array(n * k);
    done.forEach((r, b) => {
      labels.set(r.labels, b * batch * k);
      distances.set(r.distances, b * batch * k);
    });
    return { labels, distances };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.native) this.native.kernels.hnswClose(this.native.handle);
    this.native = null;
    await this.pool?.close();
  }
}

/** Vectors of `items` from an embeddings table, row-major (InputDataError naming the first item without one). */
export function vectorsOf(emb: EmbeddingTable, items: ArrayLike<number>): Float32Array {
  const d = emb.dim;
  const out = new Float32Array(items.length * d);
  for (let i = 0; i < items.length; i++) {
    const r = items[i] < emb.rowOf.length ? emb.rowOf[items[i]] : -1;
    if (r < 0) throw new InputDataError(`no vector for item ${items[i]}`, emb.file, 'item_id');
    out.set(emb.vectors.subarray(r * d, (r + 1) * d), i * d);
  }
  return out;
}

/** Mean |found ∩ truth| / k over queries, for the first k of each row (row strides kFound and kTruth). */
export function overlapRecall(found: Int32Array, kFound: number, truth: Int32Array, kTruth: number, k: number): number {
  const n = truth.length / kTruth;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const want = new Set<number>();
    for (let t = 0; t < k; t++) if (truth[i * kTruth + t] >= 0) want.add(truth[i * kTruth + t]);
    if (want.size === 0) continue;
    let hit = 0;
    for (let t = 0; t < k; t++) if (want.has(found[i * kFound + t])) hit++;
    sum += hit / want.size;
  }
  return n ? sum / n : 0;
}

/** Recall of the index (shard files `dirOrFiles`) vs exact search, QPS, and optionally Recall@K with pairs. */
async function evaluateIndexFiles(
  dirOrFiles: string | string[],
  manifest: IndexManifest,
  emb: EmbeddingTable,
  opts: IndexRecallOptions,
  threads: number,
  seed: number,
  onProgress: OnProgress,
): Promise<IndexRecall> {
  const files = typeof dirOrFiles === 'string' ? manifest.shards.map((s) => path.join(dirOrFiles, s.file)) : dirOrFiles;
  requireRange('--queries', opts.queries, 1, 10_000_000);
  const labels = Int32Array.from(manifest.labels);
  // queries: a seeded sample of indexed items that have a vector in `emb`
  const pool = Array.from(labels).filter((it) => it < emb.rowOf.length && emb.rowOf[it] >= 0);
  makeRng(seed).fork('recall-queries').shuffle(pool);
  const queryItems = Int32Array.from(pool.slice(0, Math.min(opts.queries, pool.length)));
  const ks = [10, 100].filter((k) => k <= labels.length);
  const kMax = ks[ks.length - 1] ?? Math.min(10, labels.length);
  const truth = exactTopK(emb, queryItems, kMax, labels, { onProgress });
  const index = await HnswIndex.openFiles(files, manifest.dim, manifest.ef, threads);
  try {
    const qv = vectorsOf(emb, queryItems);
    const t0 = performance.now();
    const found = await index.search(qv, kMax);
    const qps = queryItems.length / ((performance.now() - t0) / 1000);
    const recallVsExact: Record<string, number> = {};
    for (const k of ks) recallVsExact[String(k)] = overlapRecall(found.labels, kMax, truth.items, kMax, k);
    let pairs: IndexRecall['pairs'] = null;
    if (opts.pairs) {
      const p = readArrow(opts.pairs, PAIRS);
      const truthPairs = { targetItem: p.columns.target_item as Int32Array, relatedItem: p.columns.related_item as Int32Array };
      const pairKs = [10, 100, 1000];
      const exact = recallAtK(emb, truthPairs, pairKs, labels, onProgress);
      // the same metric through the index (query item itself excluded)
      const targets = Array.from(new Set(truthPairs.targetItem));
      const kk = Math.min(1000 + 1, labels.length);
      const viaIndex = await index.search(vectorsOf(emb, targets), kk);
      const rank = new Map<number, Map<number, number>>();
      targets.forEach((t, i) => {
        const m = new Map<number, number>();
        let r = 0;
        for (let x = 0; x < kk; x++) {
          const it = viaIndex.labels[i * kk + x];
          if (it < 0 || it === t) continue;
          if (!m.has(it)) m.set(it, r);
          r++;
        }
        rank.set(t, m);
      });
      const index2: Record<string, number> = {};
      for (const k of pairKs) {
        let hit = 0;
        for (let i = 0; i < truthPairs.targetItem.length; i++) {
          const r = rank.get(truthPairs.targetItem[i])?.get(truthPairs.relatedItem[i]);
          if (r !== undefined && r < k) hit++;
        }
        index2[String(k)] = truthPairs.targetItem.length ? hit / truthPairs.targetItem.length : 0;
      }
      pairs = { file: opts.pairs, exact, index: index2 };
    }
    return { queries: queryItems.length, ef: manifest.ef, recall_vs_exact: recallVsExact, qps, pairs };
  } finally {
    await index.close();
  }
}

export interface EvaluateIndexOptions extends IndexRecallOptions {
  index: string;
  embeddings: string;
  threads?: number;
  seed: number;
  onProgress?: OnProgress;
}

/** Evaluate an existing index (no writes). */
export async function evaluateIndex(opts: EvaluateIndexOptions): Promise<IndexRecall> {
  const manifest = readIndexManifest(opts.index);
  const emb = loadEmbeddings(opts.embeddings, manifest.dim);
  return evaluateIndexFiles(opts.index, manifest, emb, opts, defaultThreads(opts.threads), opts.seed, opts.onProgress ?? noProgress);
}

/** Everything `gist build-index` can be asked: build (default), --add, or evaluate an existing index. */
export interface BuildIndexCommandOptions {
  embeddings?: string;
  out?: string;
  index?: string;
  add?: string;
  data?: string;
  domain?: Domain | 'all';
  config: Partial<Omit<IndexConfig, 'seed'>>;
  seed: number;
  threads?: number;
  recall: boolean;
  pairs?: string;
  queries: number;
  onProgress?: OnProgress;
}

export type BuildIndexCommandResult = (IndexResult & { mode: 'build' | 'add' }) | { mode: 'evaluate'; index: string; count: number; dim: number; shards: number; ef: number; recall: IndexRecall };

export async function runBuildIndex(o: BuildIndexCommandOptions): Promise<BuildIndexCommandResult> {
  const recall = o.recall || o.pairs ? { queries: o.queries, pairs: o.pairs } : null;
  if (o.add) {
    if (!o.index) throw new UsageError('--add needs --index DIR (the index to extend)');
    if (Object.values(o.config).some((v) => v !== undefined)) throw new UsageError('--add keeps the index parameters; drop --m/--ef-construction/--ef/--shards');
    const r = await addToIndex({ index: o.index, add: o.add, out: o.out, data: o.data, domain: o.domain, threads: o.threads, recall: recall && { ...recall, embeddings: o.embeddings }, onProgress: o.onProgress });
    return { mode: 'add', ...r };
  }
  if (o.index) {
    if (!recall || !o.embeddings) throw new UsageError('--index without --add evaluates an existing index: give --recall (and/or --pairs) and --embeddings');
    const m = readIndexManifest(o.index);
    const r = await evaluateIndex({ index: o.index, embeddings: o.embeddings, queries: o.queries, pairs: o.pairs, threads: o.threads, seed: o.seed, onProgress: o.onProgress });
    return { mode: 'evaluate', index: o.index, count: m.count, dim: m.dim, shards: m.shards.length, ef: m.ef, recall: r };
  }
  if (!o.embeddings || !o.out) throw new UsageError('build-index needs --embeddings FILE and --out DIR (or --index DIR --add FILE)');
  const r = await buildIndex({ embeddings: o.embeddings, out: o.out, config: o.config, seed: o.seed, data: o.data, domain: o.domain, threads: o.threads, recall, onProgress: o.onProgress });
  return { mode: 'build', ...r };
}
