/**
 * Recall@K with i2i pairs as ground truth (paper §5.1.3, Table 3): for each pair (target_item, related_item),
 * retrieve the top-K nearest candidates of target_item by cosine (exact search, excluding target_item itself);
 * Recall@K = fraction of pairs whose related_item is in that top-K. Also exact top-K search for any set of
 * queries, which build-index uses as ground truth for the HNSW index.
 */
import { InputDataError } from '../errors.js';
import { noProgress, type OnProgress } from '../output.js';
import { hasVector, scoreSpaceByItem, type EmbeddingTable } from './embeddings.js';
import { KERNEL_ROWS, QUERY_BLOCK, ScoreKernel, roundUp, type ScoreSpace } from './score-kernel.js';
import { TopKCollector, scoreTopK } from './topk.js';
import { nativeKernels, type NativeKernels } from './native.js';

export interface PairsTruth {
  targetItem: Int32Array;
  relatedItem: Int32Array;
}

export interface RecallResult {
  /** Recall@K keyed by K ("10", "100", ...). */
  recall: Record<string, number>;
  pairs: number;
  /** Distinct target items searched. */
  queries: number;
  candidates: number;
  /** Pairs whose related item is not a candidate (they count as misses). */
  unreachable: number;
}

/** Candidate items: those in `candidateItems` (or every item) that have a vector, ascending. */
function candidateList(emb: EmbeddingTable, candidateItems: ArrayLike<number> | null): Int32Array {
  const ids = candidateItems ?? emb.ids;
  const seen = new Uint8Array(emb.rowOf.length);
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const it = ids[i];
    if (hasVector(emb, it) && !seen[it]) {
      seen[it] = 1;
      out.push(it);
    }
  }
  return Int32Array.from(out).sort();
}

/**
 * Exact cosine top-k of each query item among the candidate items (excluding the query item itself when
 * `excludeSelf`), best first: ties by item id ascending. Returns item ids, row-major [queries × k] (−1 pads
 * when there are fewer than k candidates).
 */
export function exactTopK(
  emb: EmbeddingTable,
  queryItems: Int32Array,
  k: number,
  candidateItems: ArrayLike<number> | null,
  opts: { excludeSelf?: boolean; space?: ScoreSpace; onProgress?: OnProgress; native?: NativeKernels | null } = {},
): { items: Int32Array; scores: Float32Array; candidates: number } {
  const cand = candidateList(emb, candidateItems);
  const space = opts.space ?? scoreSpaceByItem(emb, emb.rowOf.length, 1);
  const native = opts.native === undefined ? nativeKernels() : opts.native;
  if (native) return nativeTopK(native, emb, space, queryItems, k, cand, opts.excludeSelf ?? false, opts.onProgress ?? noProgress);
  const kernel = new ScoreKernel(space, 0);
  const collector = new TopKCollector(k);
  const colOf = new Int32Array(emb.rowOf.length).fill(-1);
  for (let j = 0; j < cand.length; j++) colOf[cand[j]] = j;
  const colLimit = new Int32Array(QUERY_BLOCK).fill(cand.length);
  const items = new Int32Array(queryItems.length * k).fill(-1);
  const scores = new Float32Array(queryItems.length * k);
  const cols = new Int32Array(k);
  const onProgress = opts.onProgress ?? noProgress;
  for (let q0 = 0; q0 < queryItems.length; q0 += QUERY_BLOCK) {
    const nq = Math.min(QUERY_BLOCK, queryItems.length - q0);
    collector.reset({ item: cand, recency: null });
    for (let i = 0; i < nq; i++) {
      const it = queryItems[q0 + i];
      if (!hasVector(emb, it)) throw new InputDataError(`no vector for query item ${it}`, emb.file, 'item_id');
      kernel.setQueryRow(i, it);
      if (opts.excludeSelf) collector.exclude[i] = colOf[it];
    }
    kernel.clearQueries(nq, roundUp(nq, KERNEL_ROWS));
    scoreTopK(kernel, nq, cand, colLimit, collector);
    for (let i = 0; i < nq; i++) {
      const at = (q0 + i) * k;
      const got = collector.drain(i, cols, 0, scores, at);
      for (let t = 0; t < got; t++) items[at + t] = cand[cols[t]];
    }
    onProgress({ phase: 'exact search', done: q0 + nq, total: queryItems.length });
  }
  return { items, scores, candidates: cand.length };
}

/**
 * exactTopK through the native GSU kernel (native/gsu_topk.h: the same order of results — score, then smaller
 * item id — with scores summed as one fused chain, so near-ties can differ from the WebAssembly kernel's in the
 * last bit, as search-gsu's do). The query item is dropped from its own list by asking for one more.
 */
function nativeTopK(native: NativeKernels, emb: EmbeddingTable, space: ScoreSpace, queryItems: Int32Array, k: number, cand: Int32Array, excludeSelf: boolean, onProgress: OnProgress): { items: Int32Array; scores: Float32Array; candidates: number } {
  const table = new Float32Array(space.memory.buffer, 0, (space.rows + 1) * space.dp);
  const kk = excludeSelf ? k + 1 : k;
  const items = new Int32Array(queryItems.length * k).fill(-1);
  const scores = new Float32Array(queryItems.length * k);
  const BLOCK = 256;
  const limit = new Int32Array(BLOCK).fill(cand.length);
  const outItems = new Int32Array(BLOCK * kk);
  const outScores = new Float32Array(BLOCK * kk);
  const outCounts = new Int32Array(BLOCK);
  for (let q0 = 0; q0 < queryItems.length; q0 += BLOCK) {
    const qrows = queryItems.subarray(q0, Math.min(queryItems.length, q0 + BLOCK));
    for (const it of qrows) if (!hasVector(emb, it)) throw new InputDataError(`no vector for query item ${it}`, emb.file, 'item_id');
    if (cand.length > 0) native.gsuTopK(table, space.dp, qrows, cand, null, limit.subarray(0, qrows.length), kk, outItems, outScores, outCounts);
    else outCounts.fill(0);
    for (let i = 0; i < qrows.length; i++) {
      let t = 0;
      for (let r = 0; r < outCounts[i] && t < k; r++) {
        const it = outItems[i * kk + r];
        if (excludeSelf && it === qrows[i]) continue;
        items[(q0 + i) * k + t] = it;
        scores[(q0 + i) * k + t] = outScores[i * kk + r];
        t++;
      }
    }
    onProgress({ phase: 'exact search', done: q0 + qrows.length, total: queryItems.length });
  }
  return { items, scores, candidates: cand.length };
}

/**
 * Recall@K for each K in `ks` with `pairs` as ground truth, by exact search over `candidateItems` (null: all
 * items with a vector). A pair whose target item has no vector is an InputDataError.
 */
export function recallAtK(emb: EmbeddingTable, pairs: PairsTruth, ks: readonly number[], candidateItems: ArrayLike<number> | null, onProgress: OnProgress = noProgress): RecallResult {
  const sortedKs = [...new Set(ks)].sort((a, b) => a - b);
  if (sortedKs.length === 0 || sortedKs[0] < 1) throw new RangeError('recallAtK: ks must be positive');
  for (let p = 0; p < pairs.targetItem.length; p++) {
    if (!hasVector(emb, pairs.targetItem[p])) throw new InputDataError(`no vector for target item ${pairs.targetItem[p]} of pair ${p}`, emb.file, 'item_id');
  }
  // distinct query items, and the pairs of each
  const queryOf = new Map<number, number>();
  const queries: number[] = [];
  for (let p = 0; p < pairs.targetItem.length; p++) {
    const t = pairs.targetItem[p];
    if (!queryOf.has(t)) {
      queryOf.set(t, queries.length);
      queries.push(t);
    }
  }
  const kMax = sortedKs[sortedKs.length - 1];
  const found = exactTopK(emb, Int32Array.from(queries), kMax, candidateItems, { excludeSelf: true, onProgress });
  const candidate = new Uint8Array(emb.rowOf.length);
  for (const it of candidateList(emb, candidateItems)) candidate[it] = 1;
  // rank of each pair's related item in its query's list
  const hits = new Float64Array(sortedKs.length);
  let unreachable = 0;
  const rankOf = new Map<number, number>();
  let lastQuery = -1;
  const order = Array.from(pairs.targetItem.keys()).sort((a, b) => queryOf.get(pairs.targetItem[a])! - queryOf.get(pairs.targetItem[b])!);
  for (const p of order) {
    const q = queryOf.get(pairs.targetItem[p])!;
    if (q !== lastQuery) {
      rankOf.clear();
      for (let t = 0; t < kMax; t++) {
        const it = found.items[q * kMax + t];
        if (it >= 0 && !rankOf.has(it)) rankOf.set(it, t);
      }
      lastQuery = q;
    }
    const rel = pairs.relatedItem[p];
    if (!(rel < candidate.length && candidate[rel])) unreachable++;
    const rank = rankOf.get(rel);
    if (rank === undefined) continue;
    for (let i = 0; i < sortedKs.length; i++) if (rank < sortedKs[i]) hits[i]++;
  }
  const n = pairs.targetItem.length;
  const recall: Record<string, number> = {};
  sortedKs.forEach((k, i) => (recall[String(k)] = n ? hits[i] / n : 0));
  return { recall, pairs: n, queries: queries.length, candidates: found.candidates, unreachable };
}
