/**
 * Trainable parameters for gist models.
 *
 * `SparseEmbedding`: an embedding table kept in a JS Float32Array (not a tf.Variable), trained
 * with row-sparse ("lazy") Adam or Adagrad that touches only the rows present in a batch, like
 * PyTorch SparseAdam / TF LazyAdam. Dense Adam over a 100k-row table costs tens of ms per step;
 * this costs O(rows in the batch).
 *
 * `DenseParams`: the model's dense tf.Variables (glorot-initialised from a seeded Rng) with a
 * dense Adam whose full state saves and restores for an exact resume.
 *
 * Both save to / load from the `WeightMap` that model-io.ts writes.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../rng.js';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeKernels } from '../retrieval/native.js';
import { copyRows } from './kernels.js';
import { ModelFormatError, WEIGHTS_JSON, type WeightMap } from './model-io.js';

/**
 * A tensor's values without a copy where the backend allows: on wasm a view of its heap (valid until the next
 * tensor allocation, so read it at once), elsewhere dataSync(). A fresh copy of a multi-MB gradient each step cost
 * ~4 ms per MB in first-touch page faults on our VMs.
 */
function readValues(t: tf.Tensor): Float32Array {
  if (t.dtype !== 'float32') throw new TypeError(`expected a float32 tensor, got ${t.dtype}`);
  if (tf.getBackend() === 'wasm') return (tf.backend() as BackendWasm).typedArrayFromHeap(t) as Float32Array;
  return t.dataSync() as Float32Array;
}

/** Only `next()` is needed, so a plain `{ next: () => number }` works too. */
export type RandomSource = Pick<Rng, 'next'>;

/**
 * Padding id. Item ids are dense 0..rows-1, so there is no reserved padding row in the table:
 * a -1 in the ids of a batch maps to an extra all-zero row appended to the batch's `rows`
 * variable, whose gradient is dropped. The table never changes because of padding.
 */
export const PAD_ID = -1;

export interface EmbeddingConfig {
  rows: number;
  dim: number;
  /** Initial values are uniform in [-initScale, initScale). Default 0.05. */
  initScale?: number;
  optimizer: 'adam' | 'adagrad';
  learningRate: number;
  /** Adam. Defaults 0.9 / 0.999. */
  beta1?: number;
  beta2?: number;
  /** Default 1e-7 (tfjs' default; Adam adds it to √v̂, Adagrad adds it inside the square root as tfjs does). */
  epsilon?: number;
  /** Adagrad starting accumulator. Default 0.1 (as tf.train.adagrad). */
  initialAccumulator?: number;
}

/**
 * The rows of one training batch. `rows` is a fresh trainable variable [U (+1 pad row), dim]
 * holding copies of the table rows `unique`; `local` indexes into it. Single use: pass it to
 * `SparseEmbedding.applyGradient` (or `trainStep`) and then `dispose()` it.
 */
export class EmbeddingBatch {
  constructor(
    readonly rows: tf.Variable,
    /** Local indices (int32) for each part passed to `gatherMany`, in order. */
    readonly locals: tf.Tensor[],
    /** Table row ids of rows[0..unique.length). */
    readonly unique: Int32Array,
    /** Index of the all-zero padding row in `rows`, or -1 when the batch had no padding. */
    readonly padRow: number,
  ) {}

  /** Local indices of the first (or only) part. */
  get local(): tf.Tensor {
    return this.locals[0];
  }

  /** The embeddings of part `i`: gather(rows, locals[i]) → [...shape, dim]. Differentiable. */
  lookup(i = 0): tf.Tensor {
    return tf.gather(this.rows, this.locals[i]);
  }

  dispose(): void {
    this.rows.dispose();
    tf.dispose(this.locals);
  }
}

function checkPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
}

/**
 * An embedding table with row-sparse Adam / Adagrad updates.
 *
 * Lazy Adam semantics: a row's moments and bias correction advance only in steps whose batch
 * contains it (per-row step count, each row treated as its own parameter). For a row present in
 * every step this is exactly dense Adam; dense Adam would also keep moving absent rows by their
 * momentum, and would bias-correct a row first seen at step t with t instead of 1. Lazy Adagrad
 * equals dense Adagrad exactly (an absent row's gradient is 0, so nothing changes for it).
 */
export class SparseEmbedding {
  readonly table: Float32Array;
  readonly rows: number;
  readonly dim: number;
  private readonly cfg: Required<EmbeddingConfig>;
  /** Adam first/second moments, or the Adagrad accumulator in `m`; `v`/`step` empty for Adagrad. */
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  /** Adam: updates applied to each row so far (each row is bias-corrected by its own count). */
  private readonly step: Int32Array;
  /** Scratch for de-duplicating ids: slot[row] = local index, -1 when unused. Reset after use. */
  private readonly slot: Int32Array;
  /** lookupTensor's reused row buffer (wasm only). */
  private scratch = new Float32Array(0);
  /** Row indices for the native gather of `lookupRowsInto` (reused). */
  private gatherIds = new Int32Array(0);
  /** Adam's bias terms by update count t (entry 0 unused; see growBiasTerms). */
  private stepSizeByT = new Float64Array(0);
  private invSqrtBc2ByT = new Float64Array(0);
  /** [β1, β2, ε] for the native update. */
  private readonly adamHyper: Float64Array;

  constructor(
    readonly name: string,
    cfg: EmbeddingConfig,
    rng: RandomSource,
  ) {
    checkPositiveInt(`${name}: rows`, cfg.rows);
    checkPositiveInt(`${name}: dim`, cfg.dim);
    if (!(cfg.learningRate > 0)) throw new RangeError(`${name}: learningRate must be > 0`);
    this.cfg = {
      rows: cfg.rows,
      dim: cfg.dim,
      optimizer: cfg.optimizer,
      learningRate: cfg.learningRate,
      initScale: cfg.initScale ?? 0.05,
      beta1: cfg.beta1 ?? 0.9,
      beta2: cfg.beta2 ?? 0.999,
      epsilon: cfg.epsilon ?? 1e-7,
      initialAccumulator: cfg.initialAccumulator ?? 0.1,
    };
    if (cfg.optimizer !== 'adam' && cfg.optimizer !== 'adagrad') throw new RangeError(`${name}: unknown optimizer ${String(cfg.optimizer)}`);
    this.rows = cfg.rows;
    this.dim = cfg.dim;
    const n = cfg.rows * cfg.dim;
    this.table = new Float32Array(n);
    const s = this.cfg.initScale;
    for (let i = 0; i < n; i++) this.table[i] = (rng.next() * 2 - 1) * s;
    this.adamHyper = Float64Array.of(this.cfg.beta1, this.cfg.beta2, this.cfg.epsilon);
    this.m = new Float32Array(n);
    this.v = new Float32Array(cfg.optimizer === 'adam' ? n : 0);
    this.step = new Int32Array(cfg.optimizer === 'adam' ? cfg.rows : 0);
    this.slot = new Int32Array(cfg.rows).fill(-1);
    this.resetOptimizer();
  }

  get optimizer(): 'adam' | 'adagrad' {
    return this.cfg.optimizer;
  }

  /** Forgets the optimizer state (moments, step counts, accumulators). */
  resetOptimizer(): void {
    if (this.cfg.optimizer === 'adagrad') {
      this.m.fill(this.cfg.initialAccumulator);
    } else {
      this.m.fill(0);
      this.v.fill(0);
      this.step.fill(0);
    }
  }

  /** The rows of one batch: see `gatherMany`. `shape` (default [ids.length]) shapes `local`. */
  gatherBatch(ids: Int32Array, shape?: number[]): EmbeddingBatch {
    return this.gatherMany([{ ids, shape }]);
  }

  /**
   * One variable for several id lists of the same table (e.g. target item and history items),
   * so a row used by several lists gets one summed gradient and one optimizer step. Call it once
   * per table per training step.
   */
  gatherMany(parts: readonly { ids: Int32Array; shape?: number[] }[]): EmbeddingBatch {
    const { dim, rows, slot } = this;
    // Pass 1: validate and mark the rows present (slot ≥ 0 means present).
    const seen: number[] = [];
    let hasPad = false;
    let total = 0;
    for (const { ids } of parts) {
      total += ids.length;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (id === PAD_ID) {
          hasPad = true;
        } else if (id >= 0 && id < rows) {
          if (slot[id] < 0) {
            slot[id] = 0;
            seen.push(id);
          }
        } else {
          for (const r of seen) slot[r] = -1;
          throw new RangeError(`${this.name}: id ${id} is outside [0, ${rows}) (use ${PAD_ID} for padding)`);
        }
      }
    }
    // Unique rows in ascending order, so the row copies below and the optimizer update walk the
    // table, moments and step counts sequentially (random row order was cache-miss bound).
    const unique = new Int32Array(seen.length);
    if (rows <= 8 * total) {
      for (let r = 0, k = 0; r < rows; r++) if (slot[r] >= 0) unique[k++] = r;
    } else {
      unique.set(seen);
      unique.sort();
    }
    for (let k = 0; k < unique.length; k++) slot[unique[k]] = k;
    const u = unique.length;
    const padRow = hasPad ? u : -1;
    // Pass 2: local indices; padding points at the extra zero row u.
    const locals = parts.map(({ ids, shape }) => {
      const local = new Int32Array(ids.length);
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        local[i] = id === PAD_ID ? u : slot[id];
      }
      // keep(): the batch owns these until dispose(), even if created inside a tf.tidy.
      return tf.keep(tf.tensor(local, shape ?? [ids.length], 'int32'));
    });
    for (let k = 0; k < u; k++) slot[unique[k]] = -1;
    const data = new Float32Array((u + (hasPad ? 1 : 0)) * dim); // the pad row stays zero
    copyRows(this.table, unique, dim, data);
    const init = tf.tensor2d(data, [u + (hasPad ? 1 : 0), dim]);
    const rowsVar = tf.variable(init, true);
    init.dispose();
    return new EmbeddingBatch(rowsVar, locals, unique, padRow);
  }

  /**
   * Row-sparse optimizer step on the table rows `unique` with `grad` [≥U, dim] (row r belongs to
   * unique[r]; extra rows — the padding row — are ignored). Accepts a tensor (read synchronously)
   * or the values. The tensor is not disposed.
   */
  applyGradient(unique: Int32Array, grad: tf.Tensor | Float32Array): void {
    const { dim } = this;
    const g = grad instanceof Float32Array ? grad : readValues(grad);
    if (g.length < unique.length * dim) throw new RangeError(`${this.name}: gradient has ${g.length} values, need ${unique.length}×${dim}`);
    const { learningRate: lr, beta1: b1, beta2: b2, epsilon: eps } = this.cfg;
    const { table, m, v, step } = this;
    if (this.cfg.optimizer === 'adagrad') {
      for (let r = 0; r < unique.length; r++) {
        const base = unique[r] * dim;
        const gb = r * dim;
        for (let j = 0; j < dim; j++) {
          const gj = g[gb + j];
          const acc = m[base + j] + gj * gj;
          m[base + j] = acc;
          table[base + j] -= (lr * gj) / Math.sqrt(acc + eps);
        }
      }
      return;
    }
    const native = nativeKernels();
    if (native) {
      // the element loop in native code (the same double arithmetic), reading the bias terms (Math.pow's) by count
      let next = 0;
      for (let r = 0; r < unique.length; r++) next = Math.max(next, step[unique[r]] + 1);
      if (next >= this.stepSizeByT.length) this.growBiasTerms(next);
      native.sparseAdam(table, m, v, step, unique, g, this.stepSizeByT, this.invSqrtBc2ByT, this.adamHyper);
      return;
    }
    const c1 = 1 - b1;
    const c2 = 1 - b2;
    for (let r = 0; r < unique.length; r++) {
      const row = unique[r];
      const t = ++step[row];
      // lr·m̂/(√v̂+ε) with m̂ = m/bc1, v̂ = v/bc2, rearranged to one division per element.
      if (t >= this.stepSizeByT.length) this.growBiasTerms(t);
      const stepSize = this.stepSizeByT[t];
      const invSqrtBc2 = this.invSqrtBc2ByT[t];
      const base = row * dim;
      const gb = r * dim;
      for (let j = 0; j < dim; j++) {
        const gj = g[gb + j];
        const mj = b1 * m[base + j] + c1 * gj;
        const vj = b2 * v[base + j] + c2 * gj * gj;
        m[base + j] = mj;
        v[base + j] = vj;
        table[base + j] -= (stepSize * mj) / (Math.sqrt(vj) * invSqrtBc2 + eps);
      }
    }
  }

  /**
   * Extend Adam's bias terms by update count to cover t: stepSizeByT[k] = lr / (1 − β1^k), invSqrtBc2ByT[k] =
   * 1 / √(1 − β2^k) (each row is corrected by its own count, so these are shared by all rows).
   */
  private growBiasTerms(t: number): void {
    const { learningRate: lr, beta1: b1, beta2: b2 } = this.cfg;
    const n = Math.max(2 * t, 1024);
    const from = this.stepSizeByT.length;
    const ss = new Float64Array(n);
    const ib = new Float64Array(n);
    ss.set(this.stepSizeByT);
    ib.set(this.invSqrtBc2ByT);
    for (let k = from; k < n; k++) {
      ss[k] = lr / (1 - Math.pow(b1, k));
      ib[k] = 1 / Math.sqrt(1 - Math.pow(b2, k));
    }
    this.stepSizeByT = ss;
    this.invSqrtBc2ByT = ib;
  }

  /** Inference copy of the rows for `ids` ([ids.length × dim]); PAD_ID gives a zero row. */
  lookupRows(ids: Int32Array): Float32Array {
    return this.lookupRowsInto(ids, new Float32Array(ids.length * this.dim));
  }

  private lookupRowsInto(ids: Int32Array, out: Float32Array): Float32Array {
    const { dim, rows, table } = this;
    const native = nativeKernels();
    if (native && ids.length > 0 && rows > 0) {
      // The same copies on the native row gather (scoring batches: ~4% of a paper-shaped GIST run in this loop):
      // ids checked here, padding gathered as row 0 and zeroed after.
      if (this.gatherIds.length < ids.length) this.gatherIds = new Int32Array(ids.length);
      const idx = this.gatherIds.subarray(0, ids.length);
      let pads = 0;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (id === PAD_ID) {
          idx[i] = 0;
          pads++;
        } else if (!(id >= 0 && id < rows)) throw new RangeError(`${this.name}: id ${id} is outside [0, ${rows})`);
        else idx[i] = id;
      }
      native.gatherRows(table, idx, dim, out);
      if (pads) for (let i = 0; i < ids.length; i++) if (ids[i] === PAD_ID) out.fill(0, i * dim, i * dim + dim);
      return out;
    }
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const o = i * dim;
      if (id === PAD_ID) {
        out.fill(0, o, o + dim);
        continue;
      }
      if (!(id >= 0 && id < rows)) throw new RangeError(`${this.name}: id ${id} is outside [0, ${rows})`);
      for (let j = 0, s = id * dim; j < dim; j++) out[o + j] = table[s + j];
    }
    return out;
  }

  /**
   * `lookupRows` as a tensor of shape [...shape, dim] (default shape [ids.length]). On wasm, which copies a new
   * tensor's values into its heap at once, the rows go through one reused buffer: a fresh multi-MB array per
   * scoring batch cost more in first-touch page faults (~4 ms per MB measured on our VMs) than the copies.
   */
  lookupTensor(ids: Int32Array, shape?: number[]): tf.Tensor {
    const fullShape = [...(shape ?? [ids.length]), this.dim];
    if (tf.getBackend() !== 'wasm') return tf.tensor(this.lookupRows(ids), fullShape, 'float32');
    const n = ids.length * this.dim;
    if (this.scratch.length < n) this.scratch = new Float32Array(n);
    return tf.tensor(this.lookupRowsInto(ids, this.scratch.subarray(0, n)), fullShape, 'float32');
  }

  /**
   * `${name}/table` plus, unless `includeOptimizer` is false, the optimizer slots
   * (`/adam_m`, `/adam_v`, `/adam_step` or `/adagrad_acc`). Arrays are shared, not copied.
   */
  toWeights(includeOptimizer = true): WeightMap {
    const { name, rows, dim } = this;
    const w: WeightMap = { [`${name}/table`]: { shape: [rows, dim], data: this.table } };
    if (!includeOptimizer) return w;
    if (this.cfg.optimizer === 'adagrad') {
      w[`${name}/adagrad_acc`] = { shape: [rows, dim], data: this.m };
    } else {
      w[`${name}/adam_m`] = { shape: [rows, dim], data: this.m };
      w[`${name}/adam_v`] = { shape: [rows, dim], data: this.v };
      w[`${name}/adam_step`] = { shape: [rows], data: this.step };
    }
    return w;
  }

  /** Loads what `toWeights` wrote. Missing optimizer slots reset the optimizer (inference export). */
  fromWeights(w: WeightMap): void {
    const { name, rows, dim } = this;
    copyInto(w, `${name}/table`, [rows, dim], this.table, true);
    const slots: [string, number[], Float32Array | Int32Array][] =
      this.cfg.optimizer === 'adagrad'
        ? [[`${name}/adagrad_acc`, [rows, dim], this.m]]
        : [
            [`${name}/adam_m`, [rows, dim], this.m],
            [`${name}/adam_v`, [rows, dim], this.v],
            [`${name}/adam_step`, [rows], this.step],
          ];
    const present = slots.filter(([k]) => k in w);
    if (present.length === 0) {
      this.resetOptimizer();
      return;
    }
    for (const [k, shape, target] of slots) copyInto(w, k, shape, target, true);
  }
}

function copyInto(w: WeightMap, key: string, shape: number[], target: Float32Array | Int32Array, required: boolean): boolean {
  const e = w[key];
  if (e === undefined) {
    if (required) throw new ModelFormatError(WEIGHTS_JSON, `weight "${key}" is missing`);
    return false;
  }
  if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) {
    throw new ModelFormatError(WEIGHTS_JSON, `weight "${key}" has shape [${e.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  if ((target instanceof Int32Array) !== (e.data instanceof Int32Array)) {
    throw new ModelFormatError(WEIGHTS_JSON, `weight "${key}" has dtype ${e.data instanceof Int32Array ? 'int32' : 'float32'}, expected ${target instanceof Int32Array ? 'int32' : 'float32'}`);
  }
  target.set(e.data);
  return true;
}

export interface AdamConfig {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  /** Default 1e-7, as tf.train.adam. */
  epsilon?: number;
}

interface DenseSlot {
  variable: tf.Variable;
  m: tf.Variable;
  v: tf.Variable;
}

/**
 * A named set of dense tf.Variables with a dense Adam (same arithmetic as tf.train.adam, global
 * step). Own implementation rather than tf.train.adam because tf.train.adam ties its slots to
 * the ORDER of the gradient map and saves its state asynchronously; this one keys by name and
 * saves/restores synchronously through `toWeights`/`fromWeights`.
 */
export class DenseParams {
  private readonly slots = new Map<string, DenseSlot>();
  /** tf variable name → our name (tf names must be unique per process, ours per model). */
  private readonly byTfName = new Map<string, string>();
  private readonly cfg: Required<AdamConfig>;
  /** Adam steps applied so far. */
  step = 0;

  constructor(
    readonly scope: string,
    private readonly rng: RandomSource,
    adam: AdamConfig,
  ) {
    if (!(adam.learningRate > 0)) throw new RangeError(`${scope}: learningRate must be > 0`);
    this.cfg = { learningRate: adam.learningRate, beta1: adam.beta1 ?? 0.9, beta2: adam.beta2 ?? 0.999, epsilon: adam.epsilon ?? 1e-7 };
  }

  private add(name: string, shape: number[], values: Float32Array): tf.Variable {
    if (this.slots.has(name)) throw new Error(`${this.scope}: parameter "${name}" defined twice`);
    const [variable, m, v] = tf.tidy(() => [
      tf.variable(tf.tensor(values, shape, 'float32'), true),
      tf.variable(tf.zeros(shape), false),
      tf.variable(tf.zeros(shape), false),
    ]);
    this.slots.set(name, { variable, m, v });
    this.byTfName.set(variable.name, name);
    return variable;
  }

  /** Glorot-uniform: fanIn = product of all dims but the last, fanOut = the last. */
  glorot(name: string, shape: number[]): tf.Variable {
    const fanOut = shape[shape.length - 1];
    const fanIn = shape.length > 1 ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : fanOut;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return this.uniform(name, shape, limit);
  }

  /** Uniform in [-scale, scale). */
  uniform(name: string, shape: number[], scale: number): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = (this.rng.next() * 2 - 1) * scale;
    return this.add(name, shape, values);
  }

  /** Constant fill (biases: 0; PReLU/Dice alphas: e.g. 0.25). */
  constant(name: string, shape: number[], value = 0): tf.Variable {
    return this.add(name, shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value));
  }

  get(name: string): tf.Variable {
    const s = this.slots.get(name);
    if (s === undefined) throw new Error(`${this.scope}: no parameter "${name}"`);
    return s.variable;
  }

  get variables(): tf.Variable[] {
    return [...this.slots.values()].map((s) => s.variable);
  }

  get names(): string[] {
    return [...this.slots.keys()];
  }

  /** Number of scalar parameters. */
  get size(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.variable.size;
    return n;
  }

  /**
   * One Adam step from gradients keyed by tf variable name (what `tf.variableGrads` returns;
   * entries for other variables are ignored, parameters without a gradient are left alone).
   */
  applyGradients(grads: tf.NamedTensorMap): void {
    this.step += 1;
    const { learningRate: lr, beta1: b1, beta2: b2, epsilon: eps } = this.cfg;
    const bc1 = 1 - Math.pow(b1, this.step);
    const bc2 = 1 - Math.pow(b2, this.step);
    tf.tidy(() => {
      for (const [tfName, g] of Object.entries(grads)) {
        const name = this.byTfName.get(tfName);
        if (name === undefined || g == null) continue;
        const { variable, m, v } = this.slots.get(name) as DenseSlot;
        const m1 = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
        const v1 = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
        const update = tf.div(tf.div(m1, bc1), tf.add(tf.sqrt(tf.div(v1, bc2)), eps));
        variable.assign(tf.sub(variable, tf.mul(update, lr)));
        m.assign(m1);
        v.assign(v1);
      }
    });
  }

  /** `${scope}/${name}` for every parameter, plus Adam slots and step unless excluded. Copies. */
  toWeights(includeOptimizer = true): WeightMap {
    const w: WeightMap = {};
    for (const [name, s] of this.slots) {
      const key = `${this.scope}/${name}`;
      w[key] = { shape: s.variable.shape, data: s.variable.dataSync() as Float32Array };
      if (includeOptimizer) {
        w[`${key}/adam_m`] = { shape: s.m.shape, data: s.m.dataSync() as Float32Array };
        w[`${key}/adam_v`] = { shape: s.v.shape, data: s.v.dataSync() as Float32Array };
      }
    }
    if (includeOptimizer) w[`${this.scope}/adam_step`] = { shape: [1], data: Int32Array.of(this.step) };
    return w;
  }

  /** Loads what `toWeights` wrote; without optimizer entries the optimizer restarts. */
  fromWeights(w: WeightMap): void {
    const stepKey = `${this.scope}/adam_step`;
    const withOptimizer = stepKey in w;
    const buf = (shape: number[]) => new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (const [name, s] of this.slots) {
      const key = `${this.scope}/${name}`;
      const value = buf(s.variable.shape);
      copyInto(w, key, s.variable.shape, value, true);
      tf.tidy(() => s.variable.assign(tf.tensor(value, s.variable.shape)));
      for (const [suffix, slot] of [
        ['adam_m', s.m],
        ['adam_v', s.v],
      ] as const) {
        const vals = buf(slot.shape);
        if (withOptimizer) copyInto(w, `${key}/${suffix}`, slot.shape, vals, true);
        tf.tidy(() => slot.assign(tf.tensor(vals, slot.shape)));
      }
    }
    if (withOptimizer) {
      const stepArr = new Int32Array(1);
      copyInto(w, stepKey, [1], stepArr, true);
      this.step = stepArr[0];
    } else {
      this.step = 0;
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) tf.dispose([s.variable, s.m, s.v]);
    this.slots.clear();
    this.byTfName.clear();
  }
}
