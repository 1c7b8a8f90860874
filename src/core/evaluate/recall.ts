/**
 * Exact cosine Recall@K of item embeddings with i2i pairs as truth (paper §5.1.3, Tables 3 and 5):
 * Recall@K = |{(t, r) : r ∈ topK_{c ∈ C \ {t}} cos(v_t, v_c)}| / |pairs|.
 *
 * Ranks are computed exactly (no index): every query's cosine against every candidate, blocked eight
 * queries at a time so each candidate row is read once per block — or by native/pair_ranks.h on nativeThreads()
 * threads, which does the same double operations in the same order (the same ranks bit for bit). Ties are broken at random in
 * expectation: with g candidates scoring higher and e others scoring the same (within 1e-6), a pair counts
 * min(1, max(0, (K − g) / (e + 1))) — so a collapsed embedding scores like chance, not like a perfect one
 * (same rule as AUC's half-counted ties and src/core/cbjt/recall.ts).
 */
import type { OnProgress } from '../output.js';
import { nativeKernels, nativeThreads, type NativeKernels } from '../retrieval/native.js';

/** Dense vectors by item id: row i is item i (rows of items without a vector are ignored via `candidates`). */
export interface ItemVectors {
  dim: number;
  values: Float32Array;
}

/** Guidance pairs: the query (target) item and the item that should be retrieved for it. */
export interface TruthPairs {
  target: Int32Array;
  related: Int32Array;
}

/** Cosines closer than this are ties (float32 rounding of proportional vectors is far smaller). */
const TIE_EPS = 1e-6;

/** Queries scored together: each candidate row is loaded once per block. */
const QUERY_BLOCK = 8;

function normalizedRow(src: Float32Array, dim: number, row: number, out: Float32Array | Float64Array, outOffset: number, stride = 1): void {
  let norm = 0;
  for (let k = 0; k < dim; k++) {
    const x = src[row * dim + k];
    norm += x * x;
  }
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let k = 0; k < dim; k++) out[outOffset + k * stride] = src[row * dim + k] * inv;
}

/** Per pair: candidates scoring strictly higher than the related item, and others scoring exactly the same. */
export interface PairRanks {
  /** −1 when the related item is not a candidate (or is the target itself): it can never be retrieved */
  greater: Int32Array;
  ties: Int32Array;
}

/**
 * Where each pair's related item ranks among the candidates by cosine to the target (the target itself
 * is never a candidate).
 */
export function pairRanks(vectors: ItemVectors, pairs: TruthPairs, candidates: Int32Array, onProgress?: OnProgress, native: NativeKernels | null = nativeKernels()): PairRanks {
  const { dim, values } = vectors;
  const numItems = dim === 0 ? 0 : values.length / dim;
  const nc = candidates.length;
  // Candidate matrix, L2-normalised, row-major [nc × dim].
  const cand = new Float32Array(nc * dim);
  const candIndex = new Int32Array(numItems).fill(-1);
  for (let c = 0; c < nc; c++) {
    const item = candidates[c];
    if (item < 0 || item >= numItems) throw new RangeError(`candidate item ${item} has no vector row (${numItems} rows)`);
    candIndex[item] = c;
    normalizedRow(values, dim, item, cand, c * dim);
  }
  // Group pairs by target so each distinct target is scored once.
  const byTarget = new Map<number, number[]>();
  for (let p = 0; p < pairs.target.length; p++) {
    const t = pairs.target[p];
    if (t < 0 || t >= numItems) throw new RangeError(`target item ${t} has no vector row (${numItems} rows)`);
    let list = byTarget.get(t);
    if (!list) byTarget.set(t, (list = []));
    list.push(p);
  }
  const queries = [...byTarget.keys()];
  const greater = new Int32Array(pairs.target.length).fill(-1);
  const ties = new Int32Array(pairs.target.length);
  if (native && nc > 0 && dim > 0) {
    nativeRanks(native, values, dim, cand, nc, candIndex, queries, byTarget, pairs, greater, ties);
    onProgress?.({ phase: 'recall', done: queries.length, total: queries.length });
    return { greater, ties };
  }
  const scores = new Float64Array(QUERY_BLOCK * nc);
  const qt = new Float64Array(dim * QUERY_BLOCK); // query block transposed: [dim × QUERY_BLOCK]
  for (let q0 = 0; q0 < queries.length; q0 += QUERY_BLOCK) {
    const qb = Math.min(QUERY_BLOCK, queries.length - q0);
    qt.fill(0);
    for (let j = 0; j < qb; j++) normalizedRow(values, dim, queries[q0 + j], qt, j, QUERY_BLOCK);
    for (let c = 0; c < nc; c++) {
      const co = c * dim;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      for (let k = 0, o = 0; k < dim; k++, o += QUERY_BLOCK) {
        const x = cand[co + k];
        s0 += x * qt[o];
        s1 += x * qt[o + 1];
        s2 += x * qt[o + 2];
        s3 += x * qt[o + 3];
        s4 += x * qt[o + 4];
        s5 += x * qt[o + 5];
        s6 += x * qt[o + 6];
        s7 += x * qt[o + 7];
      }
      scores[c] = s0;
      scores[nc + c] = s1;
      scores[2 * nc + c] = s2;
      scores[3 * nc + c] = s3;
      scores[4 * nc + c] = s4;
      scores[5 * nc + c] = s5;
      scores[6 * nc + c] = s6;
      scores[7 * nc + c] = s7;
    }
    for (let j = 0; j < qb; j++) {
      const query = queries[q0 + j];
      const self = candIndex[query];
      const base = j * nc;
      for (const p of byTarget.get(query) ?? []) {
        const r = pairs.related[p];
        const rc = r >= 0 && r < numItems ? candIndex[r] : -1;
        if (rc < 0 || rc === self) continue; // not retrievable
        const sr = scores[base + rc];
        let g = 0;
        let e = 0;
        for (let c = 0; c < nc; c++) {
          if (c === self || c === rc) continue;
          const s = scores[base + c];
          if (s > sr + TIE_EPS) g++;
          else if (s >= sr - TIE_EPS) e++;
        }
        greater[p] = g;
        ties[p] = e;
      }
    }
    onProgress?.({ phase: 'recall', done: Math.min(queries.length, q0 + qb), total: queries.length });
  }
  return { greater, ties };
}

/** pairRanks's scoring and counting in native code: the retrievable pairs in CSR order by query, ranks written back by pair. */
function nativeRanks(
  native: NativeKernels,
  values: Float32Array,
  dim: number,
  cand: Float32Array,
  nc: number,
  candIndex: Int32Array,
  queries: number[],
  byTarget: Map<number, number[]>,
  pairs: TruthPairs,
  greater: Int32Array,
  ties: Int32Array,
): void {
  const numItems = values.length / dim;
  const nq = queries.length;
  const qv = new Float64Array(nq * dim);
  const self = new Int32Array(nq);
  const pairStart = new Int32Array(nq + 1);
  const related: number[] = [];
  const pairOf: number[] = [];
  for (let j = 0; j < nq; j++) {
    const query = queries[j];
    normalizedRow(values, dim, query, qv, j * dim);
    self[j] = candIndex[query];
    for (const p of byTarget.get(query) ?? []) {
      const r = pairs.related[p];
      const rc = r >= 0 && r < numItems ? candIndex[r] : -1;
      if (rc < 0 || rc === self[j]) continue; // not retrievable: stays −1
      related.push(rc);
      pairOf.push(p);
    }
    pairStart[j + 1] = related.length;
  }
  const g = new Int32Array(related.length);
  const e = new Int32Array(related.length);
  native.pairRanks(Int32Array.from([nc, dim, nq, nativeThreads()]), cand, qv, self, pairStart, Int32Array.from(related), TIE_EPS, g, e);
  for (let i = 0; i < pairOf.length; i++) {
    greater[pairOf[i]] = g[i];
    ties[pairOf[i]] = e[i];
  }
}

/** Expected fraction of pairs retrieved in the top K, for each K (NaN when there are no pairs). */
export function recallFromRanks(ranks: PairRanks, ks: readonly number[]): Record<string, number> {
  const { greater, ties } = ranks;
  const out: Record<string, number> = {};
  for (const k of ks) {
    let hit = 0;
    for (let i = 0; i < greater.length; i++) if (greater[i] >= 0) hit += Math.min(1, Math.max(0, (k - greater[i]) / (ties[i] + 1)));
    out[String(k)] = greater.length ? hit / greater.length : NaN;
  }
  return out;
}

/**
 * Recall@K for each K: for each pair, the top-K candidates (the target excluded) by cosine to the target;
 * the fraction of pairs whose related item is among them (ties shared in expectation). Keys are String(K).
 */
export function recallAtK(vectors: ItemVectors, pairs: TruthPairs, ks: readonly number[], candidates: Int32Array, onProgress?: OnProgress): Record<string, number> {
  return recallFromRanks(pairRanks(vectors, pairs, candidates, onProgress), ks);
}
