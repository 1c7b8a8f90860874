/**
 * Exact cosine scoring for retrieval: S = Q · E_candᵀ, where E is one row-major table of unit vectors shared
 * by all threads (a shared WebAssembly.Memory) and the candidates are given as row indices, so a user's
 * sequence is scored straight from the table: no gather, no transpose per query.
 *
 * The kernel is a hand-assembled WebAssembly SIMD function (no build toolchain): a register tile of
 * KERNEL_ROWS queries × 4 candidates, 4 lanes of d at a time, reduced by shuffles at the end. Every score is
 * accumulated in the same order wherever its row and column sit in a call, so results do not depend on how
 * work is grouped, sharded or threaded. With V8's relaxed SIMD (Node 20: `--experimental-wasm-relaxed-simd`,
 * turned on here) it uses f32x4.relaxed_madd; otherwise f32x4.mul + f32x4.add.
 *
 * The kernel also does the first cut of the top-K selection: given a threshold per query (the score the
 * K-th best candidate so far is known to reach), it appends only the candidates at or above it to a per-query
 * list, branch-free, so JavaScript never scans the full score matrix.
 */
import * as v8 from 'node:v8';
import { nativeKernels } from './native.js';

/** Query rows per register tile. */
export const KERNEL_ROWS = 2;
/** Candidate columns per register tile. */
export const TILE_COLS = 4;
/** Query rows per kernel call (a multiple of KERNEL_ROWS). */
export const QUERY_BLOCK = 64;
/** Candidate columns per kernel call: the rows they touch (COL_BLOCK × d floats) stay in L2 for all query rows. */
export const COL_BLOCK = 512;
/** Largest wasm32 memory (64 Ki pages). */
const MAX_PAGES = 65536;

// ---- a minimal WebAssembly binary writer -------------------------------------------------------------
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

const OP = {
  block: 0x02, loop: 0x03, brIf: 0x0d, end: 0x0b, void: 0x40, localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Const: 0x41, i32Eqz: 0x45, i32Ne: 0x47, i32LtU: 0x49, i32Add: 0x6a, i32Mul: 0x6c, i32Shl: 0x74, i32ShrU: 0x76,
  i32Sub: 0x6b, i32Popcnt: 0x69, i32Load: 0x28, i32Store: 0x36,
} as const;
const SIMD = {
  load: 0x00, load32Splat: 0x09, store: 0x0b, const: 0x0c, shuffle: 0x0d, swizzle: 0x0e, i32Splat: 0x11, f32x4Ge: 0x46,
  i32x4Bitmask: 0xa4, i32x4Add: 0xae, add: 228, mul: 230, relaxedMadd: 0x105,
} as const;

class Code {
  readonly bytes: number[] = [];
  get(i: number): this {
    this.bytes.push(OP.localGet, ...uleb(i));
    return this;
  }
  set(i: number): this {
    this.bytes.push(OP.localSet, ...uleb(i));
    return this;
  }
  tee(i: number): this {
    this.bytes.push(OP.localTee, ...uleb(i));
    return this;
  }
  i32(n: number): this {
    this.bytes.push(OP.i32Const, ...sleb(n));
    return this;
  }
  op(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  simd(opcode: number, ...imm: number[]): this {
    this.bytes.push(0xfd, ...uleb(opcode), ...imm);
    return this;
  }
  vload(offset: number): this {
    return this.simd(SIMD.load, 0, ...uleb(offset));
  }
  vstore(offset: number): this {
    return this.simd(SIMD.store, 0, ...uleb(offset));
  }
  /** i8x16.shuffle of two f32x4 locals by float lanes (0–3 from x, 4–7 from y). */
  shuffle(x: number, y: number, lanes: readonly number[]): this {
    return this.get(x).get(y).simd(SIMD.shuffle, ...lanes.flatMap((l) => [l * 4, l * 4 + 1, l * 4 + 2, l * 4 + 3]));
  }
}

/**
 * score(q, table, idx, outCols, outVals, cnt, thr, lim, nrb, dp4, col0, ld4, shuf):
 * for row block rb < nrb (KERNEL_ROWS query rows, row stride dp4 bytes from q) and column tiles j < lim[rb]
 * (4 columns each, candidate row = idx[j]), the score s = Σ_k Q[row][k] · T[idx[j]][k] of every column with
 * s ≥ thr[row] is appended, branch-free, to the row's candidate list: column col0 + j at outCols and s at
 * outVals (row stride ld4 bytes; each list needs 4 entries of slack), and cnt[row] = how many.
 * A tile's passing lanes are packed with i8x16.swizzle through a 16-entry table at `shuf`.
 * dp (padded dimension) is a multiple of 8; table rows have stride dp4 bytes.
 */
function buildScoreModule(fma: boolean): Uint8Array<ArrayBuffer> {
  const R = KERNEL_ROWS;
  const U = 2; // k unroll: 2 × 4 lanes per iteration
  const P = { q: 0, table: 1, idx: 2, outCols: 3, outVals: 4, cnt: 5, thr: 6, lim: 7, nrb: 8, dp4: 9, col0: 10, ld4: 11, shuf: 12 };
  const nParams = 13;
  let next = nParams;
  const L = { rb: next++, j: next++, jEnd: next++, qEnd: next++, qBlock: next++, bits: next++, row0: next++ };
  const ep = [next++, next++, next++, next++];
  const qp: number[] = [];
  const outC: number[] = [];
  const outV: number[] = [];
  for (let r = 0; r < R; r++) qp.push(next++);
  for (let r = 0; r < R; r++) outC.push(next++);
  for (let r = 0; r < R; r++) outV.push(next++);
  const nI32 = next - nParams;
  const acc: number[][] = [];
  for (let r = 0; r < R; r++) acc.push([next++, next++, next++, next++]);
  const ev = [next++, next++, next++, next++];
  const a = next++;
  const t0 = next++;
  const t1 = next++;
  const sh = next++;
  const colv = next++;
  const thrv: number[] = [];
  for (let r = 0; r < R; r++) thrv.push(next++);
  const nV128 = next - nParams - nI32;

  const c = new Code();
  c.get(P.q).set(L.qBlock).i32(0).set(L.rb);
  c.op(OP.block, OP.void).get(P.nrb).op(OP.i32Eqz, OP.brIf, 0);
  c.op(OP.loop, OP.void); // ---- row blocks
  // row0 = rb·R; per row: thresholds, list pointers
  c.get(L.rb).i32(R).op(OP.i32Mul).set(L.row0);
  for (let r = 0; r < R; r++) {
    c.get(P.thr).get(L.row0).i32(r).op(OP.i32Add).i32(2).op(OP.i32Shl, OP.i32Add).simd(SIMD.load32Splat, 2, 0).set(thrv[r]);
    c.get(L.row0).i32(r).op(OP.i32Add).get(P.ld4).op(OP.i32Mul).tee(outC[r]).get(P.outVals).op(OP.i32Add).set(outV[r]);
    c.get(outC[r]).get(P.outCols).op(OP.i32Add).set(outC[r]);
  }
  // colv = [col0, col0+1, col0+2, col0+3]
  c.get(P.col0).simd(SIMD.i32Splat).simd(SIMD.const, ...[0, 1, 2, 3].flatMap((x) => [x, 0, 0, 0])).simd(SIMD.i32x4Add).set(colv);
  c.get(P.lim).get(L.rb).i32(2).op(OP.i32Shl, OP.i32Add).op(OP.i32Load, 2, 0).i32(2).op(OP.i32Shl).set(L.jEnd); // bytes of idx to cover
  c.i32(0).set(L.j);
  c.op(OP.block, OP.void).get(L.jEnd).op(OP.i32Eqz, OP.brIf, 0);
  c.op(OP.loop, OP.void); // ---- column tiles
  for (let r = 0; r < R; r++) for (const x of acc[r]) c.simd(SIMD.const, ...new Array<number>(16).fill(0)).set(x);
  for (let cc = 0; cc < 4; cc++) c.get(P.table).get(P.idx).get(L.j).op(OP.i32Add).op(OP.i32Load, 2, ...uleb(cc * 4)).get(P.dp4).op(OP.i32Mul, OP.i32Add).set(ep[cc]);
  for (let r = 0; r < R; r++) {
    c.get(L.qBlock);
    if (r > 0) c.get(P.dp4).i32(r).op(OP.i32Mul, OP.i32Add);
    c.set(qp[r]);
  }
  c.get(L.qBlock).get(P.dp4).op(OP.i32Add).set(L.qEnd);
  c.op(OP.loop, OP.void); // ---- k
  for (let u = 0; u < U; u++) {
    for (let cc = 0; cc < 4; cc++) c.get(ep[cc]).vload(u * 16).set(ev[cc]);
    for (let r = 0; r < R; r++) {
      c.get(qp[r]).vload(u * 16).set(a);
      for (let cc = 0; cc < 4; cc++) {
        if (fma) c.get(a).get(ev[cc]).get(acc[r][cc]).simd(SIMD.relaxedMadd).set(acc[r][cc]);
        else c.get(acc[r][cc]).get(a).get(ev[cc]).simd(SIMD.mul).simd(SIMD.add).set(acc[r][cc]);
      }
    }
  }
  for (const e of ep) c.get(e).i32(U * 16).op(OP.i32Add).set(e);
  for (let r = 1; r < R; r++) c.get(qp[r]).i32(U * 16).op(OP.i32Add).set(qp[r]);
  c.get(qp[0]).i32(U * 16).op(OP.i32Add).tee(qp[0]).get(L.qEnd).op(OP.i32Ne, OP.brIf, 0);
  c.op(OP.end);
  // ---- reduce lanes to 4 scores per row; append those ≥ the row's threshold
  for (let r = 0; r < R; r++) {
    const [x0, x1, x2, x3] = acc[r];
    c.shuffle(x0, x1, [0, 1, 4, 5]).shuffle(x0, x1, [2, 3, 6, 7]).simd(SIMD.add).set(t0); // [x0₀+x0₂, x0₁+x0₃, x1₀+x1₂, x1₁+x1₃]
    c.shuffle(x2, x3, [0, 1, 4, 5]).shuffle(x2, x3, [2, 3, 6, 7]).simd(SIMD.add).set(t1);
    c.shuffle(t0, t1, [0, 2, 4, 6]).shuffle(t0, t1, [1, 3, 5, 7]).simd(SIMD.add).set(t0); // [s0, s1, s2, s3]
    c.get(t0).get(thrv[r]).simd(SIMD.f32x4Ge).simd(SIMD.i32x4Bitmask).set(L.bits);
    c.get(P.shuf).get(L.bits).i32(4).op(OP.i32Shl, OP.i32Add).vload(0).set(sh);
    c.get(outV[r]).get(t0).get(sh).simd(SIMD.swizzle).vstore(0);
    c.get(outC[r]).get(colv).get(sh).simd(SIMD.swizzle).vstore(0);
    c.get(L.bits).op(OP.i32Popcnt).i32(2).op(OP.i32Shl).set(L.bits);
    c.get(outV[r]).get(L.bits).op(OP.i32Add).set(outV[r]);
    c.get(outC[r]).get(L.bits).op(OP.i32Add).set(outC[r]);
  }
  c.get(colv).simd(SIMD.const, ...[4, 4, 4, 4].flatMap((x) => [x, 0, 0, 0])).simd(SIMD.i32x4Add).set(colv);
  c.get(L.j).i32(16).op(OP.i32Add).tee(L.j).get(L.jEnd).op(OP.i32LtU, OP.brIf, 0);
  c.op(OP.end, OP.end); // tiles loop, skip block
  // cnt[row] = entries appended
  for (let r = 0; r < R; r++) {
    c.get(P.cnt).get(L.row0).i32(r).op(OP.i32Add).i32(2).op(OP.i32Shl, OP.i32Add);
    c.get(outC[r]).get(P.outCols).op(OP.i32Sub).get(L.row0).i32(r).op(OP.i32Add).get(P.ld4).op(OP.i32Mul, OP.i32Sub).i32(2).op(OP.i32ShrU);
    c.op(OP.i32Store, 2, 0);
  }
  c.get(L.qBlock).get(P.dp4).i32(R).op(OP.i32Mul, OP.i32Add).set(L.qBlock);
  c.get(L.rb).i32(1).op(OP.i32Add).tee(L.rb).get(P.nrb).op(OP.i32LtU, OP.brIf, 0);
  c.op(OP.end, OP.end, OP.end); // row blocks loop, exit block, function

  const body = [...uleb(2), ...uleb(nI32), 0x7f, ...uleb(nV128), 0x7b, ...c.bytes];
  const I32 = 0x7f;
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, ...uleb(nParams), ...new Array<number>(nParams).fill(I32), 0]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(1), ...uleb(MAX_PAGES)]), // shared memory
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('score'), 0x00, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/** i8x16.swizzle patterns that pack the lanes set in a 4-bit mask to the front (byte 0x80 → 0). */
function shuffleTable(): Uint8Array {
  const out = new Uint8Array(16 * 16).fill(0x80);
  for (let bits = 0; bits < 16; bits++) {
    let o = 0;
    for (let lane = 0; lane < 4; lane++) {
      if (!(bits & (1 << lane))) continue;
      for (let b = 0; b < 4; b++) out[bits * 16 + o * 4 + b] = lane * 4 + b;
      o++;
    }
  }
  return out;
}

type ScoreFn = (q: number, table: number, idx: number, outCols: number, outVals: number, cnt: number, thr: number, lim: number, nrb: number, dp4: number, col0: number, ld4: number, shuf: number) => void;

let compiled: { module: WebAssembly.Module; fma: boolean } | undefined;

/** Compile once per thread: FMA when this V8 accepts relaxed SIMD (GIST_WASM_FMA=0 turns it off), else mul+add. */
function scoreModule(): { module: WebAssembly.Module; fma: boolean } {
  if (compiled) return compiled;
  if (process.env.GIST_WASM_FMA !== '0') {
    const bytes = buildScoreModule(true);
    if (!WebAssembly.validate(bytes)) {
      try {
        v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      } catch {
        /* unknown flag: the fallback below */
      }
    }
    if (WebAssembly.validate(bytes)) {
      compiled = { module: new WebAssembly.Module(bytes), fma: true };
      return compiled;
    }
  }
  compiled = { module: new WebAssembly.Module(buildScoreModule(false)), fma: false };
  return compiled;
}

/** Whether this thread's kernel uses fused multiply-add (relaxed SIMD). */
export function kernelUsesFma(): boolean {
  return scoreModule().fma;
}

export function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** Byte offsets of one thread's scratch region. */
export interface ScratchSlot {
  /** Query rows [QUERY_BLOCK × dp] f32. */
  q: number;
  /** Candidate rows of the current column block [COL_BLOCK] i32. */
  idx: number;
  /** Per-query lists of passing columns (i32) and scores (f32), row stride LIST_STRIDE entries. */
  cols: number;
  vals: number;
  /** Per-query list lengths (i32) and thresholds (f32). */
  cnt: number;
  thr: number;
  /** Columns to score per row block (i32). */
  lim: number;
}

/** Entries per query list: a full column block plus the slack of one unaligned 4-lane store. */
export const LIST_STRIDE = COL_BLOCK + 4;

/** Everything a thread needs to attach to a shared score table (structured-clone friendly). */
export interface ScoreSpace {
  memory: WebAssembly.Memory;
  /** Real dimension and padded row stride (floats, multiple of 8). */
  dim: number;
  dp: number;
  /** Table rows, not counting the zero pad row at index `rows`. */
  rows: number;
  /** Byte offset of the swizzle table. */
  shuf: number;
  slots: ScratchSlot[];
}

/**
 * Allocate the shared table (rows × dp floats plus one zero pad row) and `threads` scratch slots, and fill the
 * table through `fill` (row r at r·dp).
 */
export function createScoreSpace(rows: number, dim: number, threads: number, fill: (table: Float32Array, dp: number) => void): ScoreSpace {
  const dp = roundUp(Math.max(dim, 1), 8);
  const align = (x: number): number => roundUp(x, 64);
  const shuf = align((rows + 1) * dp * 4);
  let at = shuf + 256;
  const slots: ScratchSlot[] = [];
  for (let t = 0; t < Math.max(1, threads); t++) {
    const q = at;
    const idx = align(q + QUERY_BLOCK * dp * 4);
    const cols = align(idx + COL_BLOCK * 4);
    const vals = align(cols + QUERY_BLOCK * LIST_STRIDE * 4);
    const cnt = align(vals + QUERY_BLOCK * LIST_STRIDE * 4);
    const thr = align(cnt + QUERY_BLOCK * 4);
    const lim = align(thr + QUERY_BLOCK * 4);
    at = align(lim + (QUERY_BLOCK / KERNEL_ROWS) * 4);
    slots.push({ q, idx, cols, vals, cnt, thr, lim });
  }
  const pages = Math.ceil(at / 65536);
  if (pages > MAX_PAGES) throw new RangeError(`embedding table too large for the wasm32 scorer (${rows} rows × ${dim} dims needs ${(at / 2 ** 30).toFixed(1)} GiB, limit 4 GiB)`);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  // candidate rows are gathered from all over the table: huge pages spare the TLB (native addon, Linux only)
  nativeKernels()?.adviseHugePages(new Float32Array(memory.buffer));
  fill(new Float32Array(memory.buffer, 0, rows * dp), dp);
  new Uint8Array(memory.buffer, shuf, 256).set(shuffleTable());
  return { memory, dim, dp, rows, shuf, slots };
}

/** Float offsets (into ScoreKernel.f32 / i32) of one block's per-query candidate lists. */
export interface BlockLists {
  cols: number;
  vals: number;
  cnt: number;
}

/** A thread's handle on a ScoreSpace: its own scratch slot, the shared table, and the compiled kernel. */
export class ScoreKernel {
  readonly fma: boolean;
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  readonly dp: number;
  /** Row index of the zero pad row (pads partial tiles). */
  readonly padRow: number;
  /** Per-query thresholds read by the next scoreBlock (float offset into f32). */
  readonly thrOff: number;
  private readonly fn: ScoreFn;
  private readonly slot: ScratchSlot;

  constructor(readonly space: ScoreSpace, slotIndex: number) {
    const { module, fma } = scoreModule();
    this.fma = fma;
    const inst = new WebAssembly.Instance(module, { env: { memory: space.memory } });
    this.fn = inst.exports.score as ScoreFn;
    this.f32 = new Float32Array(space.memory.buffer);
    this.i32 = new Int32Array(space.memory.buffer);
    this.dp = space.dp;
    this.padRow = space.rows;
    this.slot = space.slots[slotIndex];
    this.thrOff = this.slot.thr >> 2;
  }

  private get qOff(): number {
    return this.slot.q >> 2;
  }

  /** Load table row `row` as query i (0 ≤ i < QUERY_BLOCK). */
  setQueryRow(i: number, row: number): void {
    const dp = this.dp;
    this.f32.copyWithin(this.qOff + i * dp, row * dp, row * dp + dp);
  }

  /** Load a vector as query i (dim floats; the padding stays zero). */
  setQueryVector(i: number, v: ArrayLike<number>, offset = 0, dim = this.space.dim): void {
    const base = this.qOff + i * this.dp;
    for (let k = 0; k < dim; k++) this.f32[base + k] = v[offset + k];
    for (let k = dim; k < this.dp; k++) this.f32[base + k] = 0;
  }

  /** Zero queries [from, to) (padding rows of the last register tile). */
  clearQueries(from: number, to: number): void {
    this.f32.fill(0, this.qOff + from * this.dp, this.qOff + to * this.dp);
  }

  /**
   * Score queries 0..nq−1 against candidate rows cand[c0 .. c0 + width), query i only needing columns below
   * colLimit[i] (a few more, and padding, may come back: callers clip), and list per query the columns
   * (indices into cand) scoring ≥ its threshold f32[thrOff + i].
   */
  scoreBlock(nq: number, cand: Int32Array, c0: number, width: number, colLimit: Int32Array): BlockLists {
    const { idx, lim } = this.slot;
    const i32 = this.i32;
    const idxOff = idx >> 2;
    i32.set(cand.subarray(c0, c0 + width), idxOff);
    const wp = roundUp(width, TILE_COLS);
    for (let j = width; j < wp; j++) i32[idxOff + j] = this.padRow;
    const nrb = Math.ceil(nq / KERNEL_ROWS);
    for (let rb = 0; rb < nrb; rb++) {
      let need = 0;
      for (let r = rb * KERNEL_ROWS; r < Math.min(nq, rb * KERNEL_ROWS + KERNEL_ROWS); r++) need = Math.max(need, colLimit[r] - c0);
      i32[(lim >> 2) + rb] = Math.min(wp, roundUp(Math.max(0, need), TILE_COLS));
    }
    const { cols, vals, cnt, thr } = this.slot;
    this.fn(this.slot.q, 0, idx, cols, vals, cnt, thr, lim, nrb, this.dp * 4, c0, LIST_STRIDE * 4, this.space.shuf);
    return { cols: cols >> 2, vals: vals >> 2, cnt: cnt >> 2 };
  }
}
