/**
 * gist's optional native kernels (native/, an N-API addon built by `npm install` with node-gyp, as hnswlib-node
 * is). When the addon is missing or GIST_NATIVE=0, callers fall back to the WebAssembly kernel and
 * hnswlib-node: the same HNSW results, and GSU scores equal up to float rounding (the two score kernels sum
 * in different orders; see native/gsu_topk.h), so near-tied GSU candidates may swap places.
 */
import { createRequire } from 'node:module';
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
  /** HNSW distance kernel: "avx512" (gist's) or "sse" (hnswlib's: results identical to hnswlib-node's). */
  hnswIsa(): string;
  /** SIMD path in use: "avx512", "avx2" or "scalar". */
  isa(): string;
}

/** Where `npm install` leaves the addon (same depth from src/ and dist/). */
export const NATIVE_ADDON = fileURLToPath(new URL('../../../native/build/Release/gist_native.node', import.meta.url));

let loaded: { kernels: NativeKernels | null; reason: string | null } | undefined;

function load(): { kernels: NativeKernels | null; reason: string | null } {
  if (loaded) return loaded;
  if (process.env.GIST_NATIVE === '0') return (loaded = { kernels: null, reason: 'GIST_NATIVE=0' });
  try {
    const kernels = createRequire(import.meta.url)(NATIVE_ADDON) as NativeKernels;
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
