/**
 * Asymmetric Similarity Integration (paper §3.2, Figure 3): cosine scores c_j = u_i · u_j (eq. 11) between the
 * target item's joint embedding and each behaviour's, discretised into M1 SimScore bins (one embedding per bin,
 * beside the item inside target attention) and tallied into an M2-bin SimDist histogram (added to the target).
 */

/**
 * SimScore bin of a cosine c in [−1, 1]: M equal-width intervals, interval k = [−1 + 2k/M, −1 + 2(k+1)/M),
 * with c = 1 in the last one. Values outside [−1, 1] are clamped; a non-finite c (no joint vector) maps to
 * the extra "unknown" bin M.
 */
export function simScoreBin(c: number, m: number): number {
  if (!Number.isFinite(c)) return m;
  const x = c < -1 ? -1 : c > 1 ? 1 : c;
  // The 1e-9 (in units of bins) puts values that sit on a boundary up to rounding, e.g. −0.9 with M = 20,
  // in the upper interval as the half-open definition says.
  const k = Math.floor(((x + 1) * m) / 2 + 1e-9);
  return k >= m ? m - 1 : k;
}

/**
 * SimDist histogram: counts of the finite scores `scores[from..to)` per bin of `m` over [−1, 1], added into
 * `out[offset .. offset + m)`. Returns how many scores were counted.
 */
export function simDistInto(scores: ArrayLike<number>, from: number, to: number, m: number, out: Float32Array, offset: number): number {
  let n = 0;
  for (let j = from; j < to; j++) {
    const c = scores[j];
    if (!Number.isFinite(c)) continue;
    out[offset + simScoreBin(c, m)] += 1;
    n++;
  }
  return n;
}

/**
 * How a SimDist histogram's counts become features: 'history-fraction' (the searched items' counts as a share of
 * the whole source history the GSU searched), 'fraction' of the scores counted, or log(1 + count).
 */
export const SIMDIST_NORMS = ['history-fraction', 'fraction', 'log-count'] as const;
export type SimDistNorm = (typeof SIMDIST_NORMS)[number];

/**
 * The SimDist features the model sees, in place over the samples' [history | searched] histogram pairs
 * (2·m values per sample) in counts[from..to):
 * - 'fraction': each histogram divided by its own total (all zero when nothing was counted);
 * - 'history-fraction': the history's as 'fraction'; the searched items' divided by `searchedEvents[b]`, the
 *   user's source events before the sample (all of which the GSU scored), so a bin says what share of the
 *   lifelong sequence is that close to the target item. The top-K alone cannot say it: once a user has K close
 *   events its histogram is the same for 100 or 10,000 of them;
 * - 'log-count': log(1 + count), which grows with the history length.
 * The default was chosen on the valid split (README, "Choices made on valid").
 */
export function simDistFeatureInPlace(counts: Float32Array, from: number, to: number, m: number, norm: SimDistNorm = 'fraction', searchedEvents: ArrayLike<number> | null = null): void {
  if (norm === 'log-count') {
    for (let i = from; i < to; i++) counts[i] = Math.log1p(counts[i]);
    return;
  }
  if (norm === 'history-fraction' && !searchedEvents) throw new Error("SimDist 'history-fraction' needs each sample's searched history length");
  for (let h = from; h < to; h += m) {
    let total = 0;
    for (let i = h; i < h + m; i++) total += counts[i];
    const searched = norm === 'history-fraction' && ((h - from) / m) % 2 === 1;
    // [B, 2·M2]: histogram pair b starts at from + 2·m·b; the events it may count are never fewer than it counted.
    const denom = searched ? Math.max(total, (searchedEvents as ArrayLike<number>)[Math.floor((h - from) / (2 * m))]) : total;
    if (denom > 0) for (let i = h; i < h + m; i++) counts[i] /= denom;
  }
}

/** Cosine of two rows of row-major, L2-normalised vectors (a dot product). */
export function rowDot(values: Float32Array, dim: number, a: number, b: number): number {
  let s = 0;
  const oa = a * dim;
  const ob = b * dim;
  for (let k = 0; k < dim; k++) s += values[oa + k] * values[ob + k];
  return s;
}
