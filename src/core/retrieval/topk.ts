/**
 * Exact top-K over scored candidates with a fixed, documented order: score descending, then more recent first
 * (a larger recency key, e.g. event time), then smaller item id, then later candidate position.
 *
 * Per query, the kernel lists the candidates scoring at least the current threshold; they are appended to a
 * buffer, and when the buffer is full it is cut back to the candidates scoring ≥ the K-th best score (a
 * quickselect), which raises the threshold for the next block. At the end the survivors are sorted by score
 * through one numeric sort of packed keys; only runs of equal scores go through the full tie-break comparator. Everything that can reach the top K (every candidate tying the K-th score)
 * is kept until then, so the result is exact.
 */
import { COL_BLOCK, LIST_STRIDE, QUERY_BLOCK, type ScoreKernel } from './score-kernel.js';

/** Per-candidate tie-break keys, indexed by candidate column. */
export interface CandidateKeys {
  /** Item id of each candidate column (smaller wins a tie). */
  item: Int32Array;
  /** Recency of each candidate column (larger wins a tie); null: no recency tie-break. */
  recency: Float64Array | null;
}

/** Buffer entries packed into sort keys below this count (2^20): key = sortable(score)·2^20 + index < 2^52. */
const PACK = 1 << 20;
const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** A float32's bits mapped to an unsigned integer that sorts in the same order as the float. */
function sortableBits(s: number): number {
  f32Scratch[0] = s;
  const b = u32Scratch[0];
  return b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
}

/** k-th largest (1-based) of a[0..n) by quickselect; reorders a. */
function kthLargest(a: Float32Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target];
}

/** Ascending in-place quicksort of a[lo..hi] (median of three, insertion sort below 16): no comparator calls. */
function sortAscending(a: Float64Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    const x = a[lo];
    const y = a[(lo + hi) >> 1];
    const z = a[hi];
    const p = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < p) i++;
      while (a[j] > p) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    // recurse into the smaller side, loop on the larger
    if (j - lo < hi - i) {
      sortAscending(a, lo, j);
      lo = i;
    } else {
      sortAscending(a, i, hi);
      hi = j;
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

export class TopKCollector {
  /** Candidate column excluded per query (−1: none), e.g. the query item itself. */
  readonly exclude: Int32Array;
  private keys: CandidateKeys = { item: new Int32Array(0), recency: null };
  private readonly cols: Int32Array[] = [];
  private readonly scores: Float32Array[] = [];
  private readonly n = new Int32Array(QUERY_BLOCK);
  private readonly thr = new Float32Array(QUERY_BLOCK);
  private selectScratch: Float32Array;
  private sortKeys: Float64Array;
  private runScratch = new Int32Array(16);

  constructor(readonly k: number) {
    const cap = Math.max(4 * k, 64);
    for (let q = 0; q < QUERY_BLOCK; q++) {
      this.cols.push(new Int32Array(cap));
      this.scores.push(new Float32Array(cap));
    }
    this.exclude = new Int32Array(QUERY_BLOCK).fill(-1);
    this.selectScratch = new Float32Array(cap);
    this.sortKeys = new Float64Array(cap);
  }

  /** Start a new batch of queries over candidates with these keys. */
  reset(keys: CandidateKeys): void {
    this.keys = keys;
    this.n.fill(0);
    this.thr.fill(-Infinity);
    this.exclude.fill(-1);
  }

  /** Candidates of query q scoring below this are rejected. */
  threshold(q: number): number {
    return this.thr[q];
  }

  /**
   * Append query q's listed candidates (columns i32[colsAt + t], scores f32[valsAt + t], t < count, all at or
   * above the threshold the kernel was given) that lie below `limit`. When q holds fewer than K candidates and
   * the list has more than 2K, the list's own K-th best score becomes the threshold first (one quickselect), so
   * early blocks do not flood the buffer.
   */
  addList(q: number, i32: Int32Array, f32: Float32Array, colsAt: number, valsAt: number, count: number, limit: number): void {
    const k = this.k;
    let n = this.n[q];
    let thr = this.thr[q];
    // columns at or past `limit` (the end of a query's history inside this block) may be listed: clip them
    const clip = count > 0 && i32[colsAt + count - 1] >= limit;
    if (n < k && count > 2 * k) {
      if (this.selectScratch.length < count) this.selectScratch = new Float32Array(count);
      const scratch = this.selectScratch;
      let m = 0;
      if (!clip) {
        scratch.set(f32.subarray(valsAt, valsAt + count));
        m = count;
      } else for (let t = 0; t < count; t++) if (i32[colsAt + t] < limit) scratch[m++] = f32[valsAt + t];
      // ≥ K+1 listed candidates score ≥ this: at least K remain if the excluded column is among them
      if (m > k) {
        const kth = kthLargest(scratch, m, k + 1);
        if (kth > thr) thr = kth;
      }
    }
    const excl = this.exclude[q];
    let cols = this.cols[q];
    let scores = this.scores[q];
    let cap = cols.length;
    const checks = clip || excl >= 0;
    for (let t = 0; t < count; t++) {
      const sc = f32[valsAt + t];
      if (sc < thr) continue;
      const col = i32[colsAt + t];
      if (checks && (col >= limit || col === excl)) continue;
      if (n === cap) {
        this.n[q] = n;
        n = this.compact(q);
        cols = this.cols[q];
        scores = this.scores[q];
        cap = cols.length;
        if (this.thr[q] > thr) thr = this.thr[q];
        if (sc < thr) continue;
      }
      cols[n] = col;
      scores[n] = sc;
      n++;
    }
    this.n[q] = n;
    // the threshold may only rise once K candidates are held (the list quickselect guarantees that)
    if (n >= k && thr > this.thr[q]) this.thr[q] = thr;
  }

  /** Keep only candidates scoring ≥ the K-th best score; grow the buffer when ties keep it more than half full. */
  private compact(q: number): number {
    const n = this.n[q];
    const cols = this.cols[q];
    const scores = this.scores[q];
    if (n > this.k) {
      if (this.selectScratch.length < n) this.selectScratch = new Float32Array(n);
      this.selectScratch.set(scores.subarray(0, n));
      const kth = kthLargest(this.selectScratch, n, this.k);
      let m = 0;
      for (let i = 0; i < n; i++) {
        if (scores[i] >= kth) {
          cols[m] = cols[i];
          scores[m] = scores[i];
          m++;
        }
      }
      this.n[q] = m;
      this.thr[q] = kth;
    }
    const m = this.n[q];
    if (m * 2 > cols.length) {
      const c2 = new Int32Array(cols.length * 2);
      c2.set(cols);
      const s2 = new Float32Array(cols.length * 2);
      s2.set(scores);
      this.cols[q] = c2;
      this.scores[q] = s2;
    }
    return m;
  }

  /** True when (colA, sA) ranks strictly before (colB, sB). */
  better(colA: number, sA: number, colB: number, sB: number): boolean {
    if (sA !== sB) return sA > sB;
    const rec = this.keys.recency;
    if (rec !== null && rec[colA] !== rec[colB]) return rec[colA] > rec[colB];
    const item = this.keys.item;
    if (item[colA] !== item[colB]) return item[colA] < item[colB];
    return colA > colB;
  }

  /** Query q's top K, best first, written to outCols from colsAt and outScores from `at`; returns the count (≤ K). */
  drain(q: number, outCols: Int32Array, colsAt: number, outScores: Float32Array, at: number): number {
    let n = this.n[q];
    if (n > this.k) n = this.compact(q);
    const cols = this.cols[q];
    const scores = this.scores[q];
    const got = Math.min(n, this.k);
    if (n >= PACK) {
      // pathological tie counts: plain comparator sort
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (this.better(cols[a], scores[a], cols[b], scores[b]) ? -1 : 1));
      for (let t = 0; t < got; t++) {
        outCols[colsAt + t] = cols[order[t]];
        outScores[at + t] = scores[order[t]];
      }
      this.n[q] = 0;
      return got;
    }
    if (this.sortKeys.length < n) this.sortKeys = new Float64Array(n);
    const keys = this.sortKeys.subarray(0, n);
    for (let i = 0; i < n; i++) keys[i] = sortableBits(scores[i]) * PACK + i;
    sortAscending(keys, 0, n - 1); // best score last
    let t = 0;
    for (let p = n - 1; p >= 0 && t < got; ) {
      // run of equal scores [r, p]
      const bits = Math.floor(keys[p] / PACK);
      let r = p;
      while (r > 0 && Math.floor(keys[r - 1] / PACK) === bits) r--;
      if (r === p) {
        const i = keys[p] - bits * PACK;
        outCols[colsAt + t] = cols[i];
        outScores[at + t] = scores[i];
        t++;
      } else {
        // equal scores: insertion sort of the run by the full tie-break (runs are short)
        const len = p - r + 1;
        if (this.runScratch.length < len) this.runScratch = new Int32Array(len);
        const run = this.runScratch;
        if (len > 64) {
          const order = Array.from({ length: len }, (_, x) => keys[r + x] - bits * PACK).sort((a, b) => (this.better(cols[a], scores[a], cols[b], scores[b]) ? -1 : 1));
          run.set(order);
        } else for (let x = 0; x < len; x++) {
          const idx = keys[r + x] - bits * PACK;
          let y = x - 1;
          while (y >= 0 && this.better(cols[idx], scores[idx], cols[run[y]], scores[run[y]])) {
            run[y + 1] = run[y];
            y--;
          }
          run[y + 1] = idx;
        }
        for (let x = 0; x < len && t < got; x++, t++) {
          outCols[colsAt + t] = cols[run[x]];
          outScores[at + t] = scores[run[x]];
        }
      }
      p = r - 1;
    }
    this.n[q] = 0;
    return got;
  }
}

/**
 * Exact top-K of queries 0..nq−1 (already loaded into the kernel) over candidate rows `cand`, query i seeing
 * only columns [0, colLimit[i]). Results stay in `collector` (call drain per query).
 */
export function scoreTopK(kernel: ScoreKernel, nq: number, cand: Int32Array, colLimit: Int32Array, collector: TopKCollector): void {
  let maxLimit = 0;
  for (let i = 0; i < nq; i++) maxLimit = Math.max(maxLimit, colLimit[i]);
  const { f32, i32, thrOff } = kernel;
  // blocks from the most recent events back: they tend to resemble the target most, so thresholds rise early
  for (let c0 = Math.floor((maxLimit - 1) / COL_BLOCK) * COL_BLOCK; c0 >= 0; c0 -= COL_BLOCK) {
    const width = Math.min(COL_BLOCK, maxLimit - c0);
    for (let i = 0; i < nq; i++) f32[thrOff + i] = collector.threshold(i);
    const lists = kernel.scoreBlock(nq, cand, c0, width, colLimit);
    for (let i = 0; i < nq; i++) {
      const limit = Math.min(colLimit[i], c0 + width);
      if (limit <= c0) continue;
      collector.addList(i, i32, f32, lists.cols + i * LIST_STRIDE, lists.vals + i * LIST_STRIDE, i32[lists.cnt + i], limit);
    }
  }
}
