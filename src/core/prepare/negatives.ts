/**
 * Sampled negatives: for each positive, k distinct items of the same domain drawn with probability
 * P(i) ∝ training interactions of i, never one of the user's own items. Popularity is counted on training data
 * only: counting valid/test interactions too makes "was sampled as a negative" reveal the split.
 */
import type { Rng } from '../rng.js';
import type { SamplesPart } from '../dataset-writer.js';

/** Draws items of one domain by popularity in O(1) per draw (Walker's alias method). */
export class PopularitySampler {
  readonly candidates: Int32Array;
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;

  /** `weights[i]` is item i's weight; only `candidates` can be drawn. All-zero weights fall back to uniform. */
  constructor(candidates: Int32Array, weights: ArrayLike<number>) {
    this.candidates = candidates;
    const n = candidates.length;
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    let total = 0;
    for (let k = 0; k < n; k++) total += weights[candidates[k]];
    const scaled = new Float64Array(n);
    for (let k = 0; k < n; k++) scaled[k] = total > 0 ? (weights[candidates[k]] * n) / total : 1;
    const small: number[] = [];
    const large: number[] = [];
    for (let k = n - 1; k >= 0; k--) (scaled[k] < 1 ? small : large).push(k);
    while (small.length && large.length) {
      const s = small.pop()!;
      const l = large[large.length - 1];
      this.prob[s] = scaled[s];
      this.alias[s] = l;
      scaled[l] -= 1 - scaled[s];
      if (scaled[l] < 1) small.push(large.pop()!);
    }
    for (const k of large) this.prob[k] = 1;
    for (const k of small) this.prob[k] = 1; // rounding leftovers
  }

  /** One item by popularity. */
  drawOne(rng: Rng): number {
    const k = Math.floor(rng.next() * this.prob.length);
    return this.candidates[rng.next() < this.prob[k] ? k : this.alias[k]];
  }

  /**
   * Append up to k distinct items to `out`, skipping items marked in `excluded` (indexed by item id). Gives up
   * after a bounded number of rejections, so a user who owns nearly every drawable item gets fewer negatives.
   */
  draw(rng: Rng, k: number, excluded: Uint8Array, out: number[]): void {
    if (this.prob.length === 0) return;
    const start = out.length;
    let tries = 0;
    const maxTries = 50 * k + 100;
    while (out.length - start < k && tries++ < maxTries) {
      const item = this.drawOne(rng);
      if (excluded[item]) continue;
      let dup = false;
      for (let j = start; j < out.length; j++) if (out[j] === item) dup = true;
      if (!dup) out.push(item);
    }
  }
}

/** Real labelled samples of one domain (any order), before negatives are added. */
export interface LabelledSamples {
  userId: Int32Array;
  itemId: Int32Array;
  ts: Float64Array;
  label: Int8Array;
  split: Int8Array;
}

/** Per-user item lists in CSR form (the items a user must never get as a sampled negative). */
export interface UserItems {
  offsets: Int32Array;
  items: Int32Array;
}

/** Build a UserItems index from (user, item) pairs given as parallel arrays (several sources may be combined). */
export function userItemIndex(numUsers: number, sources: readonly { user: ArrayLike<number>; item: ArrayLike<number> }[]): UserItems {
  const offsets = new Int32Array(numUsers + 1);
  for (const s of sources) for (let i = 0; i < s.user.length; i++) offsets[s.user[i] + 1]++;
  for (let u = 0; u < numUsers; u++) offsets[u + 1] += offsets[u];
  const fill = offsets.slice(0, numUsers);
  const items = new Int32Array(offsets[numUsers]);
  for (const s of sources) for (let i = 0; i < s.user.length; i++) items[fill[s.user[i]]++] = s.item[i];
  return { offsets, items };
}

/** Indices 0..n−1 sorted by (user, ts, index): a stable, deterministic order. */
export function orderByUserTime(userId: ArrayLike<number>, ts: ArrayLike<number>): Int32Array {
  const n = userId.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => userId[a] - userId[b] || ts[a] - ts[b] || a - b);
  return order;
}

/**
 * Sorted samples (by user, time) with `negatives` sampled negatives after every positive: same user, ts and
 * split, label 0. Real negatives (label 0 in the input) are kept as they are.
 */
export function addSampledNegatives(
  real: LabelledSamples,
  negatives: number,
  sampler: PopularitySampler,
  own: UserItems,
  numItems: number,
  rng: Rng,
): SamplesPart {
  const order = orderByUserTime(real.userId, real.ts);
  const n = order.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += real.label[i];
  const cap = n + positives * negatives;
  const userId = new Int32Array(cap);
  const itemId = new Int32Array(cap);
  const ts = new Float64Array(cap);
  const label = new Int8Array(cap);
  const split = new Int8Array(cap);
  const excluded = new Uint8Array(numItems);
  const drawn: number[] = [];
  let o = 0;
  let currentUser = -1;
  const mark = (u: number, v: number): void => {
    for (let j = own.offsets[u]; j < own.offsets[u + 1]; j++) excluded[own.items[j]] = v;
  };
  for (let k = 0; k < n; k++) {
    const i = order[k];
    const u = real.userId[i];
    if (u !== currentUser) {
      if (currentUser >= 0) mark(currentUser, 0);
      mark(u, 1);
      currentUser = u;
    }
    userId[o] = u;
    itemId[o] = real.itemId[i];
    ts[o] = real.ts[i];
    label[o] = real.label[i];
    split[o] = real.split[i];
    o++;
    if (real.label[i] !== 1 || negatives <= 0) continue;
    drawn.length = 0;
    sampler.draw(rng, negatives, excluded, drawn);
    for (const item of drawn) {
      userId[o] = u;
      itemId[o] = item;
      ts[o] = real.ts[i];
      label[o] = 0;
      split[o] = real.split[i];
      o++;
    }
  }
  return { userId: userId.slice(0, o), itemId: itemId.slice(0, o), ts: ts.slice(0, o), label: label.slice(0, o), split: split.slice(0, o), pTrue: null };
}
