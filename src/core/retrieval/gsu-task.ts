/**
 * The GSU search step for a set of user groups, run on the main thread or in a worker (gsu-worker.ts).
 * Soft (GIST, SIM soft): r_j = cos(e_target, e_j) over the user's source events j with ts_j < ts_sample, exact
 * top-K. Hard (SIM hard): source events with the target item's category, most recent K, score 1.0.
 * Order of a result: score desc, then more recent first, then item id asc (then later position first).
 */
import { nativeKernels, type NativeKernels } from './native.js';
import { KERNEL_ROWS, QUERY_BLOCK, ScoreKernel, roundUp, type ScoreSpace } from './score-kernel.js';
import { TopKCollector, scoreTopK } from './topk.js';

export type GsuMode = 'soft' | 'hard';

/** Shared, read-only inputs of a search (typed arrays may sit on SharedArrayBuffers for workers). */
export interface GsuContextData {
  mode: GsuMode;
  k: number;
  /** Source sequence store (CSR, time-ascending per user). */
  userRow: Int32Array;
  seqOffsets: Int32Array;
  seqItems: Int32Array;
  seqTs: Float64Array;
  /** Target samples. */
  sampleUser: Int32Array;
  sampleItem: Int32Array;
  sampleTs: Float64Array;
  /** Item category codes (−1 unknown); hard mode only. */
  category: Int32Array | null;
  /** Score table of unit vectors by item id; soft mode only. */
  space: ScoreSpace | null;
  /** Scratch slot of this thread in `space`. */
  slot: number;
}

/** Samples of several users: samples[groupStart[g] .. groupStart[g+1]) belong to one user, sorted by (ts, id). */
export interface GsuTask {
  samples: Int32Array;
  groupStart: Int32Array;
  /** Result buffers of an earlier, already written task to fill again (bounded memory: no fresh buffers per window). */
  scratch?: GsuScratch;
}

/** Reusable result buffers; used when large enough for the task, else fresh ones are allocated. */
export interface GsuScratch {
  counts: Int32Array;
  items: Int32Array;
  scores: Float32Array;
}

export interface GsuTaskResult {
  /** Same order as the task's samples. */
  samples: Int32Array;
  counts: Int32Array;
  /** Row i's entries are at [i·k, i·k + counts[i]). */
  items: Int32Array;
  scores: Float32Array;
  /** Useful multiply-adds ×2 (Σ history length × 2d), soft mode. */
  flops: number;
}

export class GsuSearcher {
  /** Native scorer (faster; scores equal the wasm kernel's up to float rounding), with the whole score table as one view. */
  private readonly native: { kernels: NativeKernels; table: Float32Array } | null = null;
  private readonly kernel: ScoreKernel | null = null;
  private readonly collector: TopKCollector;
  private colLimit = new Int32Array(QUERY_BLOCK);
  private queryRows = new Int32Array(QUERY_BLOCK);
  private readonly drainCols: Int32Array;

  constructor(readonly ctx: GsuContextData) {
    const kernels = nativeKernels();
    if (ctx.mode === 'soft' && ctx.space && kernels) {
      this.native = { kernels, table: new Float32Array(ctx.space.memory.buffer, 0, (ctx.space.rows + 1) * ctx.space.dp) };
    } else if (ctx.mode === 'soft' && ctx.space) this.kernel = new ScoreKernel(ctx.space, ctx.slot);
    this.collector = new TopKCollector(ctx.k);
    this.drainCols = new Int32Array(ctx.k);
  }

  /** End (exclusive, absolute index) of the user's events strictly before ts. */
  private historyEnd(lo: number, hi: number, ts: number): number {
    const seqTs = this.ctx.seqTs;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seqTs[mid] < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  run(task: GsuTask): GsuTaskResult {
    const k = this.ctx.k;
    const n = task.samples.length;
    const s = task.scratch;
    const reuse = s !== undefined && s.counts.length >= n && s.items.length >= n * k && s.scores.length >= n * k;
    const out: GsuTaskResult = reuse
      ? { samples: task.samples, counts: s.counts.subarray(0, n).fill(0), items: s.items.subarray(0, n * k), scores: s.scores.subarray(0, n * k), flops: 0 }
      : { samples: task.samples, counts: new Int32Array(n), items: new Int32Array(n * k), scores: new Float32Array(n * k), flops: 0 };
    for (let g = 0; g + 1 < task.groupStart.length; g++) {
      const a = task.groupStart[g];
      const b = task.groupStart[g + 1];
      if (this.ctx.mode === 'soft') this.soft(task.samples, a, b, out);
      else this.hard(task.samples, a, b, out);
    }
    return out;
  }

  private userRange(user: number): [number, number] {
    const row = user < this.ctx.userRow.length ? this.ctx.userRow[user] : -1;
    return row < 0 ? [0, 0] : [this.ctx.seqOffsets[row], this.ctx.seqOffsets[row + 1]];
  }

  /** Samples [a, b) of one user: the user's sequence is scored against all of them (native: in one call). */
  private soft(samples: Int32Array, a: number, b: number, out: GsuTaskResult): void {
    const { sampleUser, sampleItem, sampleTs, seqItems, seqTs, space } = this.ctx;
    const [lo, hi] = this.userRange(sampleUser[samples[a]]);
    if (hi === lo) return; // no source events: every row stays empty
    const cand = seqItems.subarray(lo, hi); // candidate column j = event lo + j; table row = item id
    const recency = seqTs.subarray(lo, hi);
    const k = this.ctx.k;
    // per sample: its query row (the target item) and how many of the user's events precede it
    const nq = b - a;
    if (this.colLimit.length < nq) {
      this.colLimit = new Int32Array(nq);
      this.queryRows = new Int32Array(nq);
    }
    const dim2 = 2 * (space as ScoreSpace).dim;
    for (let i = 0; i < nq; i++) {
      const s = samples[a + i];
      this.queryRows[i] = sampleItem[s];
      this.colLimit[i] = this.historyEnd(lo, hi, sampleTs[s]) - lo;
      out.flops += this.colLimit[i] * dim2;
    }
    const native = this.native;
    if (native) {
      native.kernels.gsuTopK(native.table, (space as ScoreSpace).dp, this.queryRows.subarray(0, nq), cand, recency, this.colLimit.subarray(0, nq), k,
        out.items.subarray(a * k, b * k), out.scores.subarray(a * k, b * k), out.counts.subarray(a, b));
      return;
    }
    // wasm: QUERY_BLOCK queries per kernel call
    const kernel = this.kernel as ScoreKernel;
    const keys = { item: cand, recency };
    for (let c = 0; c < nq; c += QUERY_BLOCK) {
      const n = Math.min(QUERY_BLOCK, nq - c);
      this.collector.reset(keys);
      for (let i = 0; i < n; i++) kernel.setQueryRow(i, this.queryRows[c + i]);
      kernel.clearQueries(n, roundUp(n, KERNEL_ROWS));
      scoreTopK(kernel, n, cand, this.colLimit.subarray(c, c + n), this.collector);
      for (let i = 0; i < n; i++) {
        const at = (a + c + i) * k;
        const got = this.collector.drain(i, this.drainCols, 0, out.scores, at);
        for (let t = 0; t < got; t++) out.items[at + t] = cand[this.drainCols[t]];
        out.counts[a + c + i] = got;
      }
    }
  }

  /** Hard search: same-category source events before ts, most recent K (ties: item id asc, later position first). */
  private hard(samples: Int32Array, a: number, b: number, out: GsuTaskResult): void {
    const { sampleUser, sampleItem, sampleTs, seqItems, seqTs } = this.ctx;
    const category = this.ctx.category as Int32Array;
    const k = this.ctx.k;
    const [lo, hi] = this.userRange(sampleUser[samples[a]]);
    const picked: number[] = [];
    for (let c = a; c < b; c++) {
      const s = samples[c];
      const cat = category[sampleItem[s]];
      if (cat < 0 || hi === lo) continue;
      picked.length = 0;
      const end = this.historyEnd(lo, hi, sampleTs[s]);
      for (let j = end - 1; j >= lo; j--) {
        // keep collecting while the time still ties with the K-th pick, so the tie-break can choose among them
        if (picked.length >= k && seqTs[j] < seqTs[picked[k - 1]]) break;
        if (category[seqItems[j]] === cat) picked.push(j);
      }
      picked.sort((x, y) => seqTs[y] - seqTs[x] || seqItems[x] - seqItems[y] || y - x);
      const got = Math.min(k, picked.length);
      const at = c * k;
      for (let t = 0; t < got; t++) {
        out.items[at + t] = seqItems[picked[t]];
        out.scores[at + t] = 1;
      }
      out.counts[c] = got;
    }
  }
}
