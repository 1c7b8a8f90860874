/**
 * Exact-score kernel for retrieval: S = Q · Eᵀ with E stored pre-transposed (Et [d × L], so no transpose per
 * query), written as a hand-assembled WebAssembly SIMD module (no toolchain needed at build time).
 *
 * Layout (all f32):
 *  - Qp: queries packed per row block of R rows, k-major: Qp[rb][k][r] = Q[rb·R + r][k]   // [nrb, d, R]
 *  - Et: candidate vectors transposed, row stride ldE floats: Et[k][j] = E[j][k]          // [d, ldE]
 *  - S:  scores, row stride ldS floats: S[i][j] = Q[i] · E[j]                             // [nrb·R, ldS]
 *  - M:  per-row tile maxima: M[i][t] = max_{j in tile t} S[i][j], tile = 4·V columns      // [nrb·R, ldS / 4V]
 *  - lim: Int32 per row block: how many columns (a multiple of 4·V) to compute for it.
 * The register tile is R rows × V vectors of 4 columns; the inner loop runs over k (d padded to a multiple of 4
 * with zeros). Each score is accumulated in the same order (k ascending) wherever its column sits, so a
 * score does not depend on which other rows or columns share its call.
 * With V8's `--experimental-wasm-relaxed-simd` (Node 20) the kernel uses f32x4.relaxed_madd (FMA);
 * otherwise f32x4.mul + f32x4.add.
 */
import * as v8 from 'node:v8';

/** Register tile: rows of queries × 4-float vectors of columns. 4×2 keeps 11 v128 values live (≤ 15 xmm). */
export const TILE_ROWS = 4;
export const TILE_VECS = 2;
/** Columns per tile (the granularity of `lim` and of the tile maxima). */
export const TILE_COLS = 4 * TILE_VECS;

// ---- a minimal WebAssembly binary writer -------------------------------------------------------------
const I32 = 0x7f;
const V128 = 0x7b;

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
function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}
function str(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

/** Instruction helpers (emit into a byte array). */
class Code {
  readonly b: number[] = [];
  get(i: number): this {
    this.b.push(0x20, ...uleb(i));
    return this;
  }
  set(i: number): this {
    this.b.push(0x21, ...uleb(i));
    return this;
  }
  tee(i: number): this {
    this.b.push(0x22, ...uleb(i));
    return this;
  }
  i32(n: number): this {
    this.b.push(0x41, ...sleb(n));
    return this;
  }
  op(...bytes: number[]): this {
    this.b.push(...bytes);
    return this;
  }
  simd(opcode: number, ...imm: number[]): this {
    this.b.push(0xfd, ...uleb(opcode), ...imm);
    return this;
  }
  /** v128.load with a constant byte offset. */
  vload(offset: number): this {
    return this.simd(0x00, 0, ...uleb(offset));
  }
  vsplat(offset: number): this {
    return this.simd(0x09, 0, ...uleb(offset)); // v128.load32_splat
  }
  vstore(offset: number): this {
    return this.simd(0x0b, 0, ...uleb(offset));
  }
  vzero(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0)); // v128.const 0
  }
  add(): this {
    return this.op(0x6a);
  }
  mul(): this {
    return this.op(0x6c);
  }
}

const OP = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  void: 0x40,
  i32Ne: 0x47,
  i32GeU: 0x4f,
  i32LtU: 0x49,
  i32Eqz: 0x45,
  i32Load: 0x28,
  f32Store: 0x38,
  f32x4Add: 228,
  f32x4Mul: 230,
  f32x4Max: 235,
  f32x4ExtractLane: 0x1f,
  shuffle: 0x0d,
  relaxedMadd: 0x105,
} as const;

/**
 * gemm(qp, et, s, m, lim, nrb, dp, ldE4, ldS4, ldM4): for every row block rb < nrb and every tile of columns
 * j < lim[rb], S[rb·R + r][j..] = Σ_k Qp[rb][k][r] · Et[k][j..] and M[rb·R + r][tile] = max of that tile.
 * Byte strides (ldE4 = ldE·4, ...) and dp (padded d, multiple of 4) are passed in.
 */
export function buildGemmModule(R: number, V: number, fma: boolean): Uint8Array {
  // params
  const P = { qp: 0, et: 1, s: 2, m: 3, lim: 4, nrb: 5, dp: 6, ldE4: 7, ldS4: 8, ldM4: 9 };
  const nParams = 10;
  // i32 locals
  let next = nParams;
  const L = { rb: next++, j: next++, jEnd: next++, qk: next++, qEnd: next++, ek: next++, sRow: next++, mRow: next++, qBlock: next++ };
  const nI32Locals = next - nParams;
  // v128 locals: acc[r][v], b[v], a, t
  const acc: number[][] = [];
  for (let r = 0; r < R; r++) {
    acc.push([]);
    for (let v = 0; v < V; v++) acc[r].push(next++);
  }
  const bv: number[] = [];
  for (let v = 0; v < V; v++) bv.push(next++);
  const a = next++;
  const t = next++;
  const nV128Locals = next - nParams - nI32Locals;
  const U = 4; // k unroll (dp is a multiple of 4)

  const c = new Code();
  // qBlock = qp; rb = 0; if nrb == 0 return
  c.get(P.qp).set(L.qBlock);
  c.i32(0).set(L.rb);
  c.op(OP.block, OP.void); // exit
  c.get(P.nrb).op(OP.i32Eqz).op(OP.brIf, 0);
  c.op(OP.loop, OP.void); // row blocks
  {
    // jEnd = lim[rb] * 4 (bytes)
    c.get(P.lim).get(L.rb).i32(2).op(0x74).add().op(OP.i32Load, 2, 0).i32(2).op(0x74).set(L.jEnd);
    c.i32(0).set(L.j);
    c.op(OP.block, OP.void); // skip tiles when jEnd == 0
    c.get(L.jEnd).op(OP.i32Eqz).op(OP.brIf, 0);
    c.op(OP.loop, OP.void); // column tiles
    {
      for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) c.vzero().set(acc[r][v]);
      c.get(L.qBlock).tee(L.qk).get(P.dp).i32(R * 4).mul().add().set(L.qEnd);
      c.get(P.et).get(L.j).add().set(L.ek);
      c.op(OP.loop, OP.void); // k, unrolled by U
      for (let u = 0; u < U; u++) {
        for (let v = 0; v < V; v++) c.get(L.ek).vload(v * 16).set(bv[v]);
        for (let r = 0; r < R; r++) {
          c.get(L.qk).vsplat((u * R + r) * 4).set(a);
          for (let v = 0; v < V; v++) {
            if (fma) c.get(a).get(bv[v]).get(acc[r][v]).simd(OP.relaxedMadd).set(acc[r][v]);
            else c.get(acc[r][v]).get(a).get(bv[v]).simd(OP.f32x4Mul).simd(OP.f32x4Add).set(acc[r][v]);
          }
        }
        c.get(L.ek).get(P.ldE4).add().set(L.ek);
      }
      c.get(L.qk).i32(U * R * 4).add().tee(L.qk).get(L.qEnd).op(OP.i32Ne).op(OP.brIf, 0);
      c.op(OP.end);
      // store scores and tile maxima, row by row
      // sRow = s + rb*R*ldS4 + j ; mRow = m + rb*R*ldM4 + (j / (4V*4))*4
      c.get(P.s).get(L.rb).i32(R).mul().get(P.ldS4).mul().add().get(L.j).add().set(L.sRow);
      c.get(P.m).get(L.rb).i32(R).mul().get(P.ldM4).mul().add().get(L.j).i32(Math.log2(V * 4)).op(0x76).add().set(L.mRow); // j bytes / (4V) floats → bytes
      for (let r = 0; r < R; r++) {
        for (let v = 0; v < V; v++) c.get(L.sRow).get(acc[r][v]).vstore(v * 16);
        c.get(acc[r][0]).set(t);
        for (let v = 1; v < V; v++) c.get(t).get(acc[r][v]).simd(OP.f32x4Max).set(t);
        c.get(t).get(t).simd(OP.shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7).get(t).simd(OP.f32x4Max).set(t);
        c.get(t).get(t).simd(OP.shuffle, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11).get(t).simd(OP.f32x4Max).set(t);
        c.get(L.mRow).get(t).simd(OP.f32x4ExtractLane, 0).op(OP.f32Store, 2, 0);
        if (r < R - 1) {
          c.get(L.sRow).get(P.ldS4).add().set(L.sRow);
          c.get(L.mRow).get(P.ldM4).add().set(L.mRow);
        }
      }
      c.get(L.j).i32(V * 16).add().tee(L.j).get(L.jEnd).op(OP.i32LtU).op(OP.brIf, 0);
    }
    c.op(OP.end); // tiles loop
    c.op(OP.end); // skip block
    c.get(L.qBlock).get(P.dp).i32(R * 4).mul().add().set(L.qBlock);
    c.get(L.rb).i32(1).add().tee(L.rb).get(P.nrb).op(OP.i32LtU).op(OP.brIf, 0);
  }
  c.op(OP.end); // row blocks loop
  c.op(OP.end); // exit block
  c.op(OP.end); // function

  const locals = [...uleb(2), ...uleb(nI32Locals), I32, ...uleb(nV128Locals), V128];
  const body = [...locals, ...c.b];
  const type = section(1, [1, 0x60, ...uleb(nParams), ...new Array<number>(nParams).fill(I32), 0]);
  const imports = section(2, [1, ...str('env'), ...str('memory'), 0x02, 0x00, 1]);
  const funcs = section(3, [1, 0]);
  const exports = section(7, [1, ...str('gemm'), 0x00, 0]);
  const code = section(10, [1, ...uleb(body.length), ...body]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imports, ...funcs, ...exports, ...code]);
}

type GemmFn = (qp: number, et: number, s: number, m: number, lim: number, nrb: number, dp: number, ldE4: number, ldS4: number, ldM4: number) => void;

let compiled: { module: WebAssembly.Module; fma: boolean } | undefined;

/** Compile once per thread; FMA when this Node's V8 accepts relaxed SIMD (checked, with a fallback). */
function kernelModule(): { module: WebAssembly.Module; fma: boolean } {
  if (compiled) return compiled;
  const allowFma = process.env.GIST_WASM_FMA !== '0';
  if (allowFma) {
    const fmaBytes = buildGemmModule(TILE_ROWS, TILE_VECS, true);
    if (!WebAssembly.validate(fmaBytes)) {
      try {
        v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      } catch {
        /* flag unknown: fall back below */
      }
    }
    if (WebAssembly.validate(fmaBytes)) {
      compiled = { module: new WebAssembly.Module(fmaBytes), fma: true };
      return compiled;
    }
  }
  compiled = { module: new WebAssembly.Module(buildGemmModule(TILE_ROWS, TILE_VECS, false)), fma: false };
  return compiled;
}

/** Rounds n up to a multiple of m. */
export function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/**
 * One thread's scoring workspace: a wasm memory holding Qp, Et, S, M and lim, grown on demand.
 * Views must be re-read after `reserve` (growing the memory detaches old views).
 */
export class GemmWorkspace {
  readonly fma: boolean;
  private readonly memory: WebAssembly.Memory;
  private readonly gemmFn: GemmFn;
  private layout = { qp: 0, et: 0, s: 0, m: 0, lim: 0, end: 0 };
  private f32!: Float32Array;
  private i32!: Int32Array;

  constructor() {
    const { module, fma } = kernelModule();
    this.fma = fma;
    this.memory = new WebAssembly.Memory({ initial: 16 });
    const inst = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.gemmFn = inst.exports.gemm as GemmFn;
    this.refresh();
  }

  private refresh(): void {
    this.f32 = new Float32Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }

  /** Make room for nRows query rows (padded to TILE_ROWS), Et of dp × ldE and an S/M block of ldS columns. */
  reserve(nRows: number, dp: number, ldE: number, ldS: number): void {
    const rows = roundUp(Math.max(nRows, 1), TILE_ROWS);
    const align = (x: number): number => roundUp(x, 64);
    const qp = 0;
    const et = align(qp + rows * dp * 4);
    const s = align(et + dp * ldE * 4);
    const m = align(s + rows * ldS * 4);
    const lim = align(m + (rows * ldS * 4) / TILE_COLS);
    const end = align(lim + (rows / TILE_ROWS) * 4);
    this.layout = { qp, et, s, m, lim, end };
    const need = end - this.memory.buffer.byteLength;
    if (need > 0) {
      this.memory.grow(Math.ceil(need / 65536));
      this.refresh();
    }
  }

  /** Float32 view of the whole memory and float offsets of each region (valid until the next reserve). */
  views(): { f32: Float32Array; i32: Int32Array; qp: number; et: number; s: number; m: number; lim: number } {
    const { qp, et, s, m, lim } = this.layout;
    return { f32: this.f32, i32: this.i32, qp: qp >> 2, et: et >> 2, s: s >> 2, m: m >> 2, lim: lim >> 2 };
  }

  /**
   * Score row blocks 0..nrb−1 against Et columns [col0, col0 + lim[rb]) into S/M columns [0, lim[rb]).
   * `ldE` is Et's row stride, `ldS` the S row stride (a multiple of TILE_COLS), both in floats.
   */
  gemm(nrb: number, dp: number, ldE: number, col0: number, ldS: number): void {
    const { qp, et, s, m, lim } = this.layout;
    this.gemmFn(qp, et + col0 * 4, s, m, lim, nrb, dp, ldE * 4, ldS * 4, (ldS / TILE_COLS) * 4);
  }
}
