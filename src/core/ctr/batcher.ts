/**
 * Batches straight from the Arrow samples and the per-user sequence store: a sample's history is sliced at
 * batch time (`historyBefore`: events strictly before the sample's time, most recent `maxHistory`), so no
 * per-sample sequence copy exists beyond the current batch. Buffers are allocated once and reused; the views
 * a `fill` returns are valid until the next `fill`.
 */
import type { SequenceStore, Samples, Items } from '../dataset.js';
import { nativeKernels } from '../retrieval/native.js';
import { rowDot, simDistFeatureInPlace, simDistInto, simScoreBin } from './asi.js';
import type { CtrModelConfig } from './config.js';
import { variantNeeds, type VariantNeeds } from './config.js';
import type { GsuIndex, JointTable } from './inputs.js';

/** One sequence field of a batch, row-major [B, len] with padding at the end of each row. */
export interface SeqBatch {
  /** Positions per row in this batch: the longest row (at least 1). */
  len: number;
  /** Item ids, −1 at padded positions. */
  items: Int32Array;
  /** 1 at real positions, 0 at padding. */
  mask: Float32Array;
  /** Valid positions per row [B]. */
  counts: Int32Array;
  /** SimScore bins (m1 = no score / padding); null unless the model uses SimScore. */
  bins: Int32Array | null;
}

export interface CtrBatch {
  size: number;
  sampleIds: Int32Array;
  labels: Float32Array;
  targetItems: Int32Array;
  /** In-domain history before the sample's time. */
  hist: SeqBatch;
  /** GSU-searched source items (cross-domain variants). */
  search: SeqBatch | null;
  /** SimDist features [B, 2·M2]: the history's score histogram, then the searched items' (`simDistNorm`). */
  simDist: Float32Array | null;
}

export interface BatcherInputs {
  items: Items;
  samples: Samples;
  /** The sequence store of the samples' own domain. */
  history: SequenceStore;
  gsu: GsuIndex | null;
  joint: JointTable | null;
  /**
   * Per sample id, how many source events the GSU searched (those before the sample): SimDist 'history-fraction'
   * divides by it (`historyLengthsBefore` with no cap, or `eventsBeforeInFile`).
   */
  searchedEvents?: Int32Array;
}

/** The per-sample counts SimDist 'history-fraction' divides by (`count()` makes them), undefined where the model has no such feature. */
export function searchedEventsOf(cfg: CtrModelConfig, samples: Samples, count: () => Int32Array): Int32Array | undefined {
  if (!(variantNeeds(cfg.variant, cfg.asi).simDist && cfg.simDistNorm === 'history-fraction')) return undefined;
  const events = count();
  if (events.length !== samples.count) throw new Error('searchedEventsOf: one count per sample');
  return events;
}

class SeqBuffers {
  readonly items: Int32Array;
  readonly mask: Float32Array;
  readonly counts: Int32Array;
  readonly bins: Int32Array | null;
  readonly scores: Float32Array | null;
  constructor(capacity: number, maxLen: number, withBins: boolean) {
    this.items = new Int32Array(capacity * maxLen);
    this.mask = new Float32Array(capacity * maxLen);
    this.counts = new Int32Array(capacity);
    this.bins = withBins ? new Int32Array(capacity * maxLen) : null;
    this.scores = withBins ? new Float32Array(capacity * maxLen) : null;
  }
}

export class CtrBatcher {
  readonly needs: VariantNeeds;
  private readonly hist: SeqBuffers;
  private readonly search: SeqBuffers | null;
  private readonly start: Int32Array;
  private readonly sampleIds: Int32Array;
  private readonly labels: Float32Array;
  private readonly targets: Int32Array;
  private readonly simDist: Float32Array | null;
  private readonly searchedEvents: Int32Array | null;
  /** Joint-table rows of each history position's target and item, for the SimScore dot products (reused). */
  private dotRows: { target: Int32Array; item: Int32Array } | null = null;

  constructor(
    private readonly cfg: CtrModelConfig,
    private readonly inputs: BatcherInputs,
    readonly capacity: number,
  ) {
    this.needs = variantNeeds(cfg.variant, cfg.asi);
    if (this.needs.gsu && !inputs.gsu) throw new Error(`variant ${cfg.variant} needs GSU results`);
    if (this.needs.joint && !inputs.joint) throw new Error(`asi ${cfg.asi} needs joint embeddings`);
    const withBins = this.needs.sideFeature === 'simscore';
    this.hist = new SeqBuffers(capacity, cfg.maxHistory, withBins);
    this.search = this.needs.gsu ? new SeqBuffers(capacity, cfg.maxSearch, withBins) : null;
    this.start = new Int32Array(capacity);
    this.sampleIds = new Int32Array(capacity);
    this.labels = new Float32Array(capacity);
    this.targets = new Int32Array(capacity);
    this.simDist = this.needs.simDist ? new Float32Array(capacity * 2 * cfg.m2) : null;
    const byHistory = this.needs.simDist && cfg.simDistNorm === 'history-fraction';
    if (byHistory && !inputs.searchedEvents) throw new Error("SimDist 'history-fraction' needs the searched (source) events before each sample");
    this.searchedEvents = byHistory ? new Int32Array(capacity) : null;
  }

  /** History length (after the maxHistory cut) of each of the given samples. */
  historyLengths(idx: Int32Array): Int32Array {
    return historyLengthsBefore(this.inputs.samples, this.inputs.history, this.cfg.maxHistory, idx);
  }

  /** Assemble the batch of samples `order[from..to)`. */
  fill(order: ArrayLike<number>, from: number, to: number): CtrBatch {
    const B = to - from;
    if (B < 1 || B > this.capacity) throw new Error(`batch of ${B} samples exceeds capacity ${this.capacity}`);
    const { samples, history, gsu } = this.inputs;
    const { maxHistory, maxSearch } = this.cfg;
    // Pass 1: sample fields and history ranges (binary search: nothing at or after ts).
    let L = 1;
    for (let b = 0; b < B; b++) {
      const s = order[from + b];
      this.sampleIds[b] = s;
      this.labels[b] = samples.label[s];
      this.targets[b] = samples.itemId[s];
      const [lo, hi] = history.historyBefore(samples.userId[s], samples.ts[s], maxHistory);
      this.start[b] = lo;
      this.hist.counts[b] = hi - lo;
      if (hi - lo > L) L = hi - lo;
    }
    const hb = this.hist;
    for (let b = 0; b < B; b++) {
      const n = hb.counts[b];
      const o = b * L;
      hb.items.set(history.items.subarray(this.start[b], this.start[b] + n), o);
      hb.items.fill(-1, o + n, o + L);
      hb.mask.fill(1, o, o + n);
      hb.mask.fill(0, o + n, o + L);
    }
    let K = 0;
    if (this.search && gsu) {
      const sb = this.search;
      K = 1;
      for (let b = 0; b < B; b++) {
        const row = gsu.rowOfSample[this.sampleIds[b]];
        const n = row < 0 ? 0 : Math.min(maxSearch, gsu.offsets[row + 1] - gsu.offsets[row]);
        sb.counts[b] = n;
        if (n > K) K = n;
      }
      for (let b = 0; b < B; b++) {
        const row = gsu.rowOfSample[this.sampleIds[b]];
        const n = sb.counts[b];
        const o = b * K;
        if (n > 0) sb.items.set(gsu.items.subarray(gsu.offsets[row], gsu.offsets[row] + n), o);
        sb.items.fill(-1, o + n, o + K);
        sb.mask.fill(1, o, o + n);
        sb.mask.fill(0, o + n, o + K);
        if (sb.scores) {
          if (n > 0) sb.scores.set(gsu.scores.subarray(gsu.offsets[row], gsu.offsets[row] + n), o);
          sb.scores.fill(NaN, o + n, o + K);
        }
      }
    }
    if (this.needs.sideFeature === 'simscore') this.scoreSequences(B, L, K);
    const view = (buf: SeqBuffers, len: number): SeqBatch => ({
      len,
      items: buf.items.subarray(0, B * len),
      mask: buf.mask.subarray(0, B * len),
      counts: buf.counts.subarray(0, B),
      bins: buf.bins ? buf.bins.subarray(0, B * len) : null,
    });
    return {
      size: B,
      sampleIds: this.sampleIds.subarray(0, B),
      labels: this.labels.subarray(0, B),
      targetItems: this.targets.subarray(0, B),
      hist: view(this.hist, L),
      search: this.search ? view(this.search, K) : null,
      simDist: this.simDist ? this.simDist.subarray(0, B * 2 * this.cfg.m2) : null,
    };
  }

  /**
   * SimScore (eq. 11): history items get cos(u_target, u_item) from the joint table, searched items the GSU's
   * own cosine; then bins (M1) and, when asked, the SimDist histograms (M2).
   */
  private scoreSequences(B: number, L: number, K: number): void {
    const joint = this.inputs.joint as JointTable;
    const { m1, m2 } = this.cfg;
    const hb = this.hist;
    const hs = hb.scores as Float32Array;
    // Joint-table rows of each position's target and item (−1: none, so NaN), then the dot products: on the native
    // rowDots when it is there (the same double sums as rowDot, a tenth of the time: 5% of GIST's training in JS).
    const rows = (this.dotRows ??= { target: new Int32Array(hs.length), item: new Int32Array(hs.length) });
    const n = B * L;
    for (let b = 0; b < B; b++) {
      const tRow = joint.rowOf[this.targets[b]];
      const o = b * L;
      for (let j = 0; j < L; j++) {
        const item = hb.items[o + j];
        rows.target[o + j] = tRow;
        rows.item[o + j] = item < 0 ? -1 : joint.rowOf[item];
      }
    }
    const native = nativeKernels();
    if (native) native.rowDots(joint.values, joint.dim, rows.target.subarray(0, n), rows.item.subarray(0, n), hs);
    else for (let i = 0; i < n; i++) hs[i] = rows.target[i] < 0 || rows.item[i] < 0 ? NaN : rowDot(joint.values, joint.dim, rows.target[i], rows.item[i]);
    const hBins = hb.bins as Int32Array;
    for (let i = 0; i < B * L; i++) hBins[i] = simScoreBin(hs[i], m1);
    const sb = this.search;
    if (sb && K > 0) {
      const sBins = sb.bins as Int32Array;
      const ss = sb.scores as Float32Array;
      for (let i = 0; i < B * K; i++) sBins[i] = simScoreBin(ss[i], m1);
    }
    if (this.simDist) {
      const d = this.simDist;
      d.fill(0, 0, B * 2 * m2);
      for (let b = 0; b < B; b++) {
        simDistInto(hs, b * L, b * L + L, m2, d, b * 2 * m2);
        if (sb && K > 0) simDistInto(sb.scores as Float32Array, b * K, b * K + K, m2, d, b * 2 * m2 + m2);
      }
      const events = this.searchedEvents;
      if (events) {
        const searched = this.inputs.searchedEvents as Int32Array;
        for (let b = 0; b < B; b++) events[b] = searched[this.sampleIds[b]];
      }
      simDistFeatureInPlace(d, 0, B * 2 * m2, m2, this.cfg.simDistNorm, events);
    }
  }
}

/** Seeded subset (sorted) of at most `max` indices; all of them when max is 0 or not smaller. */
export function capIndices(indices: Int32Array, max: number, rng: { shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T }): Int32Array {
  if (max <= 0 || indices.length <= max) return indices;
  const copy = Int32Array.from(indices);
  rng.shuffle(copy);
  return copy.subarray(0, max).sort();
}

/** Events each sample's history holds (before its time, at most `maxHistory`), for the samples `idx` (default: all). */
export function historyLengthsBefore(samples: Samples, history: SequenceStore, maxHistory: number, idx?: Int32Array): Int32Array {
  const n = idx ? idx.length : samples.count;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = idx ? idx[i] : i;
    const [lo, hi] = history.historyBefore(samples.userId[s], samples.ts[s], maxHistory);
    out[i] = hi - lo;
  }
  return out;
}
