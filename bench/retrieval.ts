/**
 * Retrieval benchmark: `gist search-gsu` samples/s on synthetic lifelong sequences (L = 1,000 and 10,000,
 * K = 100, d = 64) against this machine's peak float32 matmul rate measured in the same run with numpy on
 * the best BLAS it finds (bench/peak_matmul.py), and `gist build-index` inserts/s, QPS and recall@10 vs exact
 * at ef = 100, 200 beside Debian's python3-hnswlib on the same vectors (bench/hnswlib_peer.py).
 *
 * `npm run bench` calls runRetrievalBench(); `node --import tsx bench/retrieval.ts` runs it alone and prints JSON.
 * Sizes can be scaled down with GIST_BENCH_SCALE (e.g. 0.1) for a quick check.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeArrow } from '../src/core/arrow-io.js';
import { loadEmbeddings } from '../src/core/retrieval/embeddings.js';
import { searchGsu } from '../src/core/retrieval/gsu.js';
import { HnswIndex, buildIndex, overlapRecall, readIndexManifest } from '../src/core/retrieval/hnsw.js';
import { nativeKernels } from '../src/core/retrieval/native.js';
import { exactTopK } from '../src/core/retrieval/recall.js';
import { randomUnitVectors, writeSyntheticRetrievalData } from '../src/core/retrieval/synthetic.js';
import { EMBEDDINGS } from '../src/core/schemas.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';

interface PythonResult {
  json: Record<string, unknown> | null;
  reason: string | null;
}

export function runPython(script: string, args: string[], env: Record<string, string> = {}): PythonResult {
  if (!fs.existsSync(PYTHON)) return { json: null, reason: `${PYTHON} not found` };
  const r = spawnSync(PYTHON, [path.join(HERE, script), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  if (r.status !== 0) return { json: null, reason: `${script} exited ${r.status}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
  try {
    const json = JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
    return { json, reason: typeof json.reason === 'string' ? json.reason : null };
  } catch {
    return { json: null, reason: `${script}: unreadable output` };
  }
}

export interface GsuBenchRow {
  L: number;
  users: number;
  samples_per_user: number;
  samples: number;
  k: number;
  d: number;
  threads: number;
  fma: boolean;
  /** native-avx512 / native-avx2 / native-scalar (native/ addon) or wasm-simd. */
  scorer: string | null;
  /** The run with the median GFLOP/s of GSU_BENCH_RUNS searches of the same data (each a fresh output folder). */
  samples_per_s: number;
  gflops: number;
  /** GFLOP/s of every run, in order: one search at L = 10^4 lasts ~0.1 s, so a single run swung by ±20%. */
  gflops_runs: number[];
  /** gflops / peak matmul GFLOP/s of this run. */
  peak_ratio: number | null;
}

/** Searches per GSU row; the median is reported. */
const GSU_BENCH_RUNS = 5;

async function benchGsu(work: string, L: number, users: number, samplesPerUser: number, threads: number, peak: number | null): Promise<GsuBenchRow> {
  const dir = path.join(work, `gsu-${L}`);
  const { data, embeddings } = writeSyntheticRetrievalData(dir, {
    users,
    sourceLength: L,
    samplesPerUser,
    sourceItems: 50_000,
    targetItems: 5_000,
    categories: 20,
    dim: 64,
    seed: 11,
    sampleTime: 'after', // every sample searches the user's whole sequence of L events
  });
  const runs: { gflops: number; samples_per_s: number; rows: number; fma: boolean; scorer: string | null }[] = [];
  for (let i = 0; i < GSU_BENCH_RUNS; i++) {
    const r = await searchGsu({ data, embeddings, out: path.join(dir, `out-${i}`), config: { k: 100 }, threads, seed: 42 });
    runs.push({ gflops: r.gflops ?? 0, samples_per_s: r.samples_per_s, rows: r.rows, fma: r.fma, scorer: r.scorer });
  }
  const r = [...runs].sort((x, y) => x.gflops - y.gflops)[GSU_BENCH_RUNS >> 1];
  const gflops = r.gflops;
  return {
    L,
    users,
    samples_per_user: samplesPerUser,
    samples: r.rows,
    k: 100,
    d: 64,
    threads,
    fma: r.fma,
    scorer: r.scorer,
    samples_per_s: r.samples_per_s,
    gflops,
    gflops_runs: runs.map((x) => x.gflops),
    peak_ratio: peak ? gflops / peak : null,
  };
}

export interface IndexBenchResult {
  n: number;
  queries: number;
  d: number;
  m: number;
  ef_construction: number;
  /** Search path: the native addon's batched threaded search (with its distance kernel), or hnswlib-node per query in worker threads. */
  search_impl: string;
  /** Build path: the native addon's shard build (hnswlib's insertion, hnswlib-node's files) or hnswlib-node itself. */
  build_impl: string;
  /** One entry per shard count: S = cores (parallel build) and S = 1 (one graph). */
  gist: { shards: number; threads: number; inserts_per_s: number; search: { ef: number; qps: number; recall_at_10: number }[] }[];
  python_hnswlib: { threads: number; inserts_per_s: number | null; search: { ef: number; qps: number; recall_at_10: number }[]; reason: string | null };
  /** For each gist variant and python ef: our smallest swept ef whose recall@10 ≥ python's, and both QPS there. */
  equal_recall: {
    gist_shards: number;
    python_ef: number;
    python_recall: number;
    python_qps: number;
    gist_ef: number | null;
    gist_recall: number | null;
    gist_qps: number | null;
    /** Our QPS at exactly python's recall, linear between the bracketing swept ef. */
    gist_qps_interpolated: number | null;
  }[];
}

function searchImpl(): string {
  const native = nativeKernels();
  return native ? `native-batch-${native.hnswIsa()}` : 'hnswlib-node-workers';
}

async function benchIndex(work: string, n: number, nq: number, threads: number): Promise<IndexBenchResult> {
  const d = 64;
  const k = 10;
  const m = 16;
  const efc = 200;
  const seed = 42;
  const dir = path.join(work, 'index');
  fs.mkdirSync(dir, { recursive: true });
  // base vectors (ids 0..n−1) and held-out queries (ids n..n+nq−1) in one embeddings file
  const all = randomUnitVectors(n + nq, d, 5);
  const embFile = path.join(dir, 'vectors.arrow');
  writeArrow(embFile, EMBEDDINGS, { item_id: Int32Array.from({ length: n + nq }, (_, i) => i), vector: { dim: d, values: all } }, { config_hash: 'bench' });
  const baseFile = path.join(dir, 'base.arrow');
  writeArrow(baseFile, EMBEDDINGS, { item_id: Int32Array.from({ length: n }, (_, i) => i), vector: { dim: d, values: all.subarray(0, n * d) } }, { config_hash: 'bench' });
  const emb = loadEmbeddings(embFile);
  const queryItems = Int32Array.from({ length: nq }, (_, i) => n + i);
  const truth = exactTopK(emb, queryItems, k, Int32Array.from({ length: n }, (_, i) => i));
  const queries = all.slice(n * d);

  // gist: S shards built in parallel (default: one per core), and one shard (a single graph, the best QPS)
  const variants: IndexBenchResult['gist'] = [];
  for (const shards of [...new Set([threads, 1])]) {
    const out = path.join(dir, `gist-${shards}`);
    const built = await buildIndex({ embeddings: baseFile, out, config: { m, efConstruction: efc, ef: 100, shards }, seed, threads });
    const manifest = readIndexManifest(out);
    const files = manifest.shards.map((s) => path.join(out, s.file));
    const search: { ef: number; qps: number; recall_at_10: number }[] = [];
    for (const ef of [40, 60, 80, 100, 150, 200, 300]) {
      const index = await HnswIndex.openFiles(files, d, ef, threads);
      await index.search(queries.slice(0, Math.min(nq, 200) * d), k); // warm up
      const t0 = performance.now();
      const found = await index.search(queries, k);
      const qps = nq / ((performance.now() - t0) / 1000);
      await index.close();
      search.push({ ef, qps, recall_at_10: overlapRecall(found.labels, k, truth.items, k, k) });
    }
    variants.push({ shards, threads, inserts_per_s: built.inserts_per_s, search });
  }

  // the python peer on the same vectors and the same exact truth
  fs.writeFileSync(path.join(dir, 'base.f32'), all.subarray(0, n * d));
  fs.writeFileSync(path.join(dir, 'queries.f32'), queries);
  fs.writeFileSync(path.join(dir, 'truth.i32'), truth.items);
  const py = runPython('hnswlib_peer.py', [dir, String(n), String(nq), String(d), String(m), String(efc), String(seed), String(threads), String(k), '100,200']);
  const pyJson = py.json as { inserts_per_s?: number | null; search?: { ef: number; qps: number; recall_at_10: number }[] } | null;
  const pySearch = pyJson?.search ?? [];
  const equal_recall = variants.flatMap((v) =>
    pySearch.map((p) => {
      const match = v.search.find((s) => s.recall_at_10 >= p.recall_at_10) ?? null;
      // QPS at exactly python's recall, interpolated between the two swept ef that bracket it
      const i = v.search.findIndex((s) => s.recall_at_10 >= p.recall_at_10);
      let interpolated: number | null = null;
      if (i === 0) interpolated = v.search[0].qps;
      else if (i > 0) {
        const a = v.search[i - 1];
        const b = v.search[i];
        const f = (p.recall_at_10 - a.recall_at_10) / Math.max(1e-12, b.recall_at_10 - a.recall_at_10);
        interpolated = a.qps + f * (b.qps - a.qps);
      }
      return {
        gist_shards: v.shards,
        python_ef: p.ef,
        python_recall: p.recall_at_10,
        python_qps: p.qps,
        gist_ef: match?.ef ?? null,
        gist_recall: match?.recall_at_10 ?? null,
        gist_qps: match?.qps ?? null,
        gist_qps_interpolated: interpolated,
      };
    }),
  );
  return {
    n,
    queries: nq,
    d,
    m,
    ef_construction: efc,
    search_impl: searchImpl(),
    build_impl: nativeKernels() ? 'native (hnswlib insertion, hnswlib-node bytes)' : 'hnswlib-node',
    gist: variants,
    python_hnswlib: { threads, inserts_per_s: pyJson?.inserts_per_s ?? null, search: pySearch, reason: py.reason },
    equal_recall,
  };
}

/** The whole retrieval bench; returns one JSON-able object. */
export async function runRetrievalBench(): Promise<Record<string, unknown>> {
  const scale = Number(process.env.GIST_BENCH_SCALE ?? '1') || 1;
  const threads = os.availableParallelism();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-bench-retrieval-'));
  try {
    const peakRun = runPython('peak_matmul.py', []);
    const peak = (peakRun.json?.gflops as number | null | undefined) ?? null;
    const gsu = [
      await benchGsu(work, 1_000, Math.max(8, Math.round(2_000 * scale)), 32, threads, peak),
      await benchGsu(work, 10_000, Math.max(4, Math.round(200 * scale)), 32, threads, peak),
    ];
    const index = await benchIndex(work, Math.max(2_000, Math.round(50_000 * scale)), Math.max(100, Math.round(2_000 * scale)), threads);
    const byL = (L: number): GsuBenchRow => gsu.find((g) => g.L === L) as GsuBenchRow;
    const pyInserts = index.python_hnswlib.inserts_per_s;
    const parallel = index.gist.find((v) => v.shards === threads) ?? index.gist[0];
    // per python ef: our best QPS (any shard count) at python's recall, over python's QPS; the figure is the worst ef
    const qpsRatios = index.python_hnswlib.search.map((p) => {
      const ours = index.equal_recall.filter((e) => e.python_ef === p.ef).map((e) => e.gist_qps_interpolated ?? 0);
      return { python_ef: p.ef, ratio: Math.max(0, ...ours) / p.qps };
    });
    return {
      machine: { cpus: threads, model: os.cpus()[0]?.model ?? 'unknown', node: process.version },
      peak_matmul: peakRun.json ?? { gflops: null, reason: peakRun.reason },
      search_gsu: gsu,
      search_gsu_samples_per_s_L1000: byL(1_000).samples_per_s,
      search_gsu_samples_per_s_L10000: byL(10_000).samples_per_s,
      /** Achieved score GFLOP/s at L = 10,000 over the peak matmul GFLOP/s of the same run. */
      gsu_peak_ratio: byL(10_000).peak_ratio,
      build_index: index,
      /** gist build-index inserts/s (S = cores shards, built in parallel) over python3-hnswlib's (2 threads). */
      inserts_vs_python: pyInserts ? parallel.inserts_per_s / pyInserts : null,
      /** min over python's ef of (our QPS at python's recall@10) / python's QPS; ≥ 1 means the target is met. */
      qps_vs_python_at_equal_recall: qpsRatios.length ? Math.min(...qpsRatios.map((r) => r.ratio)) : null,
      qps_vs_python_by_ef: qpsRatios,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await runRetrievalBench();
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
