/**
 * gist's optional native kernels (native/, an N-API addon built by `npm install` with node-gyp, as hnswlib-node
 * is). When the addon is missing or GIST_NATIVE=0, callers fall back to the WebAssembly kernel and
 * hnswlib-node: the same HNSW results, and GSU scores equal up to float rounding (the two score kernels sum
 * in different orders; see native/gsu_topk.h), so near-tied GSU candidates may swap places.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export interface NativeKernels {
  /**
   * Exact top-K per query over candidate table rows `cand`, query q seeing columns [0, limit[q]); order: score
   * desc, recency desc, item asc, later column first. Writes outItems/outScores [nq × k] and outCounts [nq].
   */
  gsuTopK(
    table: Float32Array,
    dp: number,
    qrows: Int32Array,
    cand: Int32Array,
    recency: Float64Array | null,
    limit: Int32Array,
    k: number,
    outItems: Int32Array,
    outScores: Float32Array,
    outCounts: Int32Array,
  ): void;
  /** Load HNSW shard files (hnswlib inner-product space) with ef set; an opaque handle. */
  hnswOpen(files: string[], dim: number, ef: number): object;
  /** Top-k per query over all shards, merged by (distance, label); −1 / +∞ pad. Runs on `threads` threads. */
  hnswSearch(handle: object, queries: Float32Array, k: number, threads: number, outLabels: Int32Array, outDistances: Float32Array): void;
  /** Free the shards now (otherwise when the handle is collected). */
  hnswClose(handle: object): void;
  /** Ask Linux for transparent huge pages under the array (before it is first written); returns the bytes advised. */
  adviseHugePages(array: Float32Array): number;
  /**
   * Build (from = null) or extend one HNSW shard and write it to `out`: hnswlib's insertion on this thread, the
   * file hnswlib-node would write byte for byte; dims = [dim, M, efConstruction, seed]. Returns the element count.
   */
  hnswBuild(vectors: Float32Array, labels: Int32Array, dims: Int32Array, from: string | null, out: string): number;
  /** HNSW distance kernel: "avx512" (gist's) or "sse" (hnswlib's: results identical to hnswlib-node's). */
  hnswIsa(): string;
  /** SIMD path of the GSU, attention, GEMM kernels (one detection, native/platform.h): "avx512", "avx2" or "scalar". */
  isa(): string;
  /**
   * DIN's MLP attention scorer forward (native/mlp_attention.h): dims = [B, L, d, S, A, threads]; writes
   * scores [B·L] and the ReLU activations z [B·L, A]. side/ws null without side features (S = 0).
   */
  mlpAttentionForward(
    dims: Int32Array,
    h: Float32Array,
    t: Float32Array,
    side: Float32Array | null,
    wh: Float32Array,
    wt: Float32Array,
    wp: Float32Array,
    ws: Float32Array | null,
    b1: Float32Array,
    w2: Float32Array,
    outScores: Float32Array,
    outZ: Float32Array,
  ): void;
  /** Its backward pass from dL/dscores `dy` and the forward's z: every input's and weight's gradient. */
  mlpAttentionBackward(
    dims: Int32Array,
    dy: Float32Array,
    z: Float32Array,
    h: Float32Array,
    t: Float32Array,
    side: Float32Array | null,
    wh: Float32Array,
    wt: Float32Array,
    wp: Float32Array,
    ws: Float32Array | null,
    w2: Float32Array,
    outDh: Float32Array,
    outDt: Float32Array,
    outDside: Float32Array | null,
    outDwh: Float32Array,
    outDwt: Float32Array,
    outDwp: Float32Array,
    outDws: Float32Array | null,
    outDb1: Float32Array,
    outDw2: Float32Array,
  ): void;
  /** out = act(op(a)·op(b) + bias) (native/gemm.h); dims = [M, N, K, transA, transB, relu, threads]. */
  gemm(dims: Int32Array, a: Float32Array, b: Float32Array, bias: Float32Array | null, out: Float32Array): void;
  /** out[i, :] = x[idx[i], :] over rows of `row` elements (native/rows.h); x and out both Float32Array or both Int32Array. */
  gatherRows(x: Float32Array | Int32Array, idx: Int32Array, row: number, out: Float32Array | Int32Array): void;
  /** out = 0, then out[seg[i], :] += x[i, :] in i order, skipping ids outside [0, segments) (native/rows.h). */
  segmentSum(x: Float32Array, seg: Int32Array, inner: number, segments: number, out: Float32Array): void;
  /** out[i] = x[a[i], :] · x[b[i], :] over rows of `dim`, in double in k order (asi.ts rowDot's bits), rounded to float for a Float32Array out; NaN where a[i] or b[i] < 0 (native/rows.h). */
  rowDots(x: Float32Array, dim: number, a: Int32Array, b: Int32Array, out: Float32Array | Float64Array): void;
  /**
   * Row-sparse Adam over the rows `unique` (native/rows.h): the JS loop of SparseEmbedding.applyGradient, same
   * double arithmetic; stepSizeByT / invSqrtBc2ByT are the bias terms by update count (past every row's next
   * count), hyper = [beta1, beta2, epsilon].
   */
  sparseAdam(table: Float32Array, m: Float32Array, v: Float32Array, step: Int32Array, unique: Int32Array, grad: Float32Array, stepSizeByT: Float64Array, invSqrtBc2ByT: Float64Array, hyper: Float64Array): void;
  /**
   * The ESU's candidate sets S_A (native/esu_candidates.h); dims = [dim, R, threads, stampBase]. Writes, per sample,
   * its distinct-item count and (when ≥ R) the R chosen items' latest event indices, ascending.
   */
  esuCandidates(
    dims: Int32Array,
    unit: Float32Array,
    histItems: Int32Array,
    target: Int32Array,
    lo: Int32Array,
    hi: Int32Array,
    scratch: Int32Array,
    outEvents: Int32Array,
    outDistinct: Int32Array,
  ): void;
  /**
   * Exact Recall@K ranks (native/pair_ranks.h); dims = [nc, dim, nq, threads]. Pairs in CSR order by query
   * (pairStart), related = candidate index; writes greater and ties per pair.
   */
  pairRanks(
    dims: Int32Array,
    cand: Float32Array,
    queries: Float64Array,
    self: Int32Array,
    pairStart: Int32Array,
    related: Int32Array,
    tieEps: number,
    greater: Int32Array,
    ties: Int32Array,
  ): void;
}

/** Where `npm install` leaves the addon (same depth from src/ and dist/). */
export const NATIVE_ADDON = fileURLToPath(new URL('../../../native/build/Release/gist_native.node', import.meta.url));

/** Every function of NativeKernels (the type makes the list complete), checked when the addon loads. */
const ADDON_FUNCTIONS = Object.keys({
  gsuTopK: true,
  hnswOpen: true,
  hnswSearch: true,
  hnswClose: true,
  hnswBuild: true,
  adviseHugePages: true,
  hnswIsa: true,
  isa: true,
  mlpAttentionForward: true,
  mlpAttentionBackward: true,
  gemm: true,
  gatherRows: true,
  segmentSum: true,
  rowDots: true,
  sparseAdam: true,
  esuCandidates: true,
  pairRanks: true,
} satisfies Record<keyof NativeKernels, true>) as (keyof NativeKernels)[];

let loaded: { kernels: NativeKernels | null; reason: string | null } | undefined;

function load(): { kernels: NativeKernels | null; reason: string | null } {
  if (loaded) return loaded;
  if (process.env.GIST_NATIVE === '0') return (loaded = { kernels: null, reason: 'GIST_NATIVE=0' });
  try {
    const kernels = createRequire(import.meta.url)(NATIVE_ADDON) as NativeKernels;
    // An addon built from older sources lacks newer kernels: treat it as absent rather than fail mid-run.
    const missing = ADDON_FUNCTIONS.filter((f) => typeof kernels[f] !== 'function');
    if (missing.length) return (loaded = { kernels: null, reason: `native addon is out of date (no ${missing.join(', ')}); run \`npm run build:native\`` });
    return (loaded = { kernels, reason: null });
  } catch (err) {
    return (loaded = { kernels: null, reason: `native addon not loadable (${(err as Error).message.split('\n')[0]}); run \`npm run build:native\`` });
  }
}

/** The native kernels, or null (then use the wasm ones). */
export function nativeKernels(): NativeKernels | null {
  return load().kernels;
}

/** Which scorer this process uses: "native-avx512", "native-avx2", "native-scalar" or "wasm-simd"; and why not native. */
export function scorerName(): { scorer: string; reason: string | null } {
  const { kernels, reason } = load();
  return kernels ? { scorer: `native-${kernels.isa()}`, reason: null } : { scorer: 'wasm-simd', reason };
}

/**
 * Which kernels train and run the models on `backend`: "native-avx512" / "native-avx2" / "native-scalar" when the
 * addon's attention scorer (wasm and cpu) and GEMM (wasm) replace tfjs's, else "tfjs" (GIST_NATIVE=0, no addon,
 * other backends). Each is deterministic; the two sum in different orders, so their numbers differ by rounding.
 */
export function modelKernelName(backend: string): string {
  const k = load().kernels;
  return k && (backend === 'wasm' || backend === 'cpu') ? `native-${k.isa()}` : 'tfjs';
}

/** How often a step re-reads its share of the cores (GIST_THREAD_SHARE) while it runs. */
export const THREAD_SHARE_REREAD_MS = 200;

let share: { file: string; at: number; threads: number | null } | null = null;

/** A whole number ≥ 1 from text, else null. */
function threadCount(text: string | undefined): number | null {
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 ? n : null;
}

/**
 * Threads of the native model kernels: the share of the cores a `gist pipeline` run gives this step now
 * (GIST_THREAD_SHARE names a file the pipeline rewrites as steps start and finish; re-read at most every
 * THREAD_SHARE_REREAD_MS), else GIST_THREADS, else one per core up to 4. Results do not depend on it.
 */
export function nativeThreads(): number {
  const file = process.env.GIST_THREAD_SHARE;
  if (file) {
    const now = performance.now();
    if (!share || share.file !== file || now - share.at >= THREAD_SHARE_REREAD_MS) {
      let text: string | undefined;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        text = undefined; // the run removed it (finished) or never wrote it: fall back below
      }
      share = { file, at: now, threads: threadCount(text?.trim()) };
    }
    if (share.threads !== null) return share.threads;
  }
  return threadCount(process.env.GIST_THREADS) ?? Math.max(1, Math.min(os.availableParallelism(), 4));
}
