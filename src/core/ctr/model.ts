/**
 * The CTR model shared by the source (ESU teacher) and target rankers: DIN (target attention over the
 * in-domain history) plus, for the cross-domain variants of Table 1, the GSU's searched source items
 * (SIM hard / soft, pooled or attended) and GIST's ASI (eq. 11: SimScore bins beside each item inside
 * target attention, SimDist histograms added to the target item). An item is its ID embedding plus its
 * category embedding (a sum, so the attention never concatenates); source items in the target model get
 * their own ID embeddings, learned from scratch (decoupled training).
 */
import * as tf from '@tensorflow/tfjs-core';
import { DenseParams, PAD_ID, SparseEmbedding, type EmbeddingBatch } from '../engine/sparse-embedding.js';
import { trainStep, type SparseBinding } from '../engine/train.js';
import type { WeightMap } from '../engine/model-io.js';
import type { Rng } from '../rng.js';
import { maskedMeanPool, targetAttention, type AttentionWeights } from './attention.js';
import type { CtrBatch, SeqBatch } from './batcher.js';
import { variantNeeds, type CtrModelConfig, type VariantNeeds } from './config.js';
import type { JointTable } from './inputs.js';

/** Large negative logit offset for padded positions: their softmax weight underflows to exactly 0. */
const MASK_NEG = -1e9;

/** Embedded inputs of one batch, all [B, …] tensors. */
interface Embedded {
  target: tf.Tensor2D; // [B, d]
  hist: tf.Tensor3D; // [B, L, d]
  histSide: tf.Tensor3D | null; // [B, L, S]
  search: tf.Tensor3D | null; // [B, K, d]
  searchSide: tf.Tensor3D | null; // [B, K, S]
}

/** Plain-array inputs that carry no gradient (masks, histograms, raw joint vectors). */
interface Constants {
  histBias: tf.Tensor2D;
  searchBias: tf.Tensor2D | null;
  searchMean: tf.Tensor2D | null;
  simDist: tf.Tensor2D | null;
  targetJoint: tf.Tensor2D | null;
  histJoint: tf.Tensor3D | null;
  searchJoint: tf.Tensor3D | null;
}

export interface ForwardOutput {
  logits: tf.Tensor1D;
  histWeights: tf.Tensor2D;
}

export class CtrModel {
  readonly needs: VariantNeeds;
  readonly dense: DenseParams;
  readonly item: SparseEmbedding;
  readonly category: SparseEmbedding | null;
  readonly simScore: SparseEmbedding | null;
  /** Width of an item representation (the ID embedding width). */
  readonly dim: number;
  /** Width of a per-position side feature (SimScore embedding or raw joint vector), 0 without ASI. */
  readonly sideDim: number;
  private categoryOf: Int32Array | null = null;
  private joint: JointTable | null = null;

  constructor(
    readonly cfg: CtrModelConfig,
    rng: Rng,
    lr: number,
  ) {
    this.needs = variantNeeds(cfg.variant, cfg.asi);
    const d = cfg.embeddingDim;
    this.dim = d;
    this.sideDim = this.needs.sideFeature === 'simscore' ? cfg.simScoreDim : this.needs.sideFeature === 'joint' ? cfg.jointDim : 0;
    if (this.needs.sideFeature === 'joint' && cfg.jointDim < 1) throw new Error('asi=embedding needs the joint vector width');
    const opt = { optimizer: 'adam' as const, learningRate: lr };
    this.item = new SparseEmbedding('item', { rows: cfg.numItems, dim: d, ...opt }, rng.fork('item'));
    this.category = cfg.numCategories > 0 ? new SparseEmbedding('category', { rows: cfg.numCategories + 1, dim: d, ...opt }, rng.fork('category')) : null;
    this.simScore = this.needs.sideFeature === 'simscore' ? new SparseEmbedding('simscore', { rows: cfg.m1 + 1, dim: cfg.simScoreDim, ...opt }, rng.fork('simscore')) : null;
    const p = new DenseParams('ctr', rng.fork('dense'), { learningRate: lr });
    this.dense = p;
    const S = this.sideDim;
    const attention = (prefix: string): void => {
      if (cfg.attention === 'mlp') {
        const A = cfg.attentionHidden;
        p.glorot(`${prefix}/wh`, [d, A]);
        p.glorot(`${prefix}/wt`, [d, A]);
        p.glorot(`${prefix}/wp`, [d, A]);
        p.constant(`${prefix}/b1`, [A]);
        p.glorot(`${prefix}/w2`, [A, 1]);
        if (S > 0) p.glorot(`${prefix}/ws`, [S, A]);
      } else if (S > 0) p.glorot(`${prefix}/ws`, [S, 1]);
    };
    attention('att_hist');
    if (this.needs.search === 'attention') attention('att_search');
    // Initialised at the embeddings' scale: a larger start drowns the target item's own ID embedding.
    if (this.needs.simDist) p.uniform('simdist/w', [2 * cfg.m2, d], 0.05);
    if (this.needs.sideFeature === 'joint') p.glorot('joint/w', [cfg.jointDim, d]);
    const blocks = this.towerBlocks();
    const [first, ...rest] = cfg.tower;
    for (const [name, width] of blocks) p.glorot(`tower/in_${name}`, [width, first]);
    p.constant('tower/b0', [first]);
    let prev = first;
    rest.forEach((w, i) => {
      p.glorot(`tower/w${i + 1}`, [prev, w]);
      p.constant(`tower/b${i + 1}`, [w]);
      prev = w;
    });
    p.glorot('tower/out_w', [prev, 1]);
    p.constant('tower/out_b', [1]);
  }

  /** Inputs of the tower's first layer (computed as a sum of per-block products, no concat). */
  private towerBlocks(): [string, number][] {
    const d = this.dim;
    const S = this.sideDim;
    const blocks: [string, number][] = [
      ['target', d],
      ['hist', d],
    ];
    if (S > 0) blocks.push(['hist_side', S]);
    if (this.needs.search !== 'none') blocks.push(['search', d]);
    if (this.needs.search === 'attention' && S > 0) blocks.push(['search_side', S]);
    return blocks;
  }

  /** Category of every item (code, −1 unknown) and, for ASI, the joint table. Call before training or scoring. */
  bindData(categoryOf: Int32Array | null, joint: JointTable | null): void {
    this.categoryOf = this.category ? categoryOf : null;
    if (this.needs.sideFeature === 'joint' && !joint) throw new Error('asi=embedding needs joint embeddings');
    this.joint = joint;
  }

  /** Category rows for item ids (PAD stays PAD, unknown → the extra last row). */
  private categoryIds(items: Int32Array): Int32Array {
    const cat = this.categoryOf as Int32Array;
    const unknown = this.cfg.numCategories;
    const out = new Int32Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      out[i] = it < 0 ? PAD_ID : cat[it] >= 0 ? cat[it] : unknown;
    }
    return out;
  }

  private static binsOrPad(seq: SeqBatch): Int32Array {
    const bins = seq.bins as Int32Array;
    const out = new Int32Array(bins.length);
    for (let i = 0; i < bins.length; i++) out[i] = seq.mask[i] > 0 ? bins[i] : PAD_ID;
    return out;
  }

  /** Tensors that carry no gradient; every one is created inside the caller's tidy. */
  private constants(batch: CtrBatch): Constants {
    const B = batch.size;
    // Fresh arrays throughout: the cpu backend keeps a reference to a tensor's source array.
    const bias = (seq: SeqBatch): tf.Tensor2D => {
      const n = B * seq.len;
      const buf = new Float32Array(n);
      for (let i = 0; i < n; i++) buf[i] = seq.mask[i] > 0 ? 0 : MASK_NEG;
      return tf.tensor2d(buf, [B, seq.len]);
    };
    const search = batch.search;
    let searchMean: tf.Tensor2D | null = null;
    if (search && this.needs.search === 'pooling') {
      const K = search.len;
      const w = new Float32Array(B * K);
      for (let b = 0; b < B; b++) {
        const n = search.counts[b];
        for (let j = 0; j < n; j++) w[b * K + j] = 1 / n;
      }
      searchMean = tf.tensor2d(w, [B, K]);
    }
    let targetJoint: tf.Tensor2D | null = null;
    let histJoint: tf.Tensor3D | null = null;
    let searchJoint: tf.Tensor3D | null = null;
    if (this.needs.sideFeature === 'joint') {
      const joint = this.joint as JointTable;
      targetJoint = tf.tensor2d(jointRows(joint, batch.targetItems), [B, joint.dim]);
      histJoint = tf.tensor3d(jointRows(joint, batch.hist.items), [B, batch.hist.len, joint.dim]);
      if (search && this.needs.search === 'attention') searchJoint = tf.tensor3d(jointRows(joint, search.items), [B, search.len, joint.dim]);
    }
    return {
      histBias: bias(batch.hist),
      searchBias: search && this.needs.search === 'attention' ? bias(search) : null,
      searchMean,
      simDist: batch.simDist && this.needs.simDist ? tf.tensor2d(batch.simDist.slice(), [B, 2 * this.cfg.m2]) : null,
      targetJoint,
      histJoint,
      searchJoint,
    };
  }

  private attentionWeights(prefix: string): AttentionWeights {
    const p = this.dense;
    const has = (n: string): boolean => p.names.includes(`${prefix}/${n}`);
    const get = (n: string): tf.Tensor | undefined => (has(n) ? p.get(`${prefix}/${n}`) : undefined);
    return { wh: get('wh'), wt: get('wt'), wp: get('wp'), b1: get('b1'), w2: get('w2'), ws: get('ws') };
  }

  /** The network from embedded inputs to logits (shared by training, scoring and ESU extraction). */
  forward(e: Embedded, c: Constants): ForwardOutput {
    const p = this.dense;
    const B = e.target.shape[0];
    let target: tf.Tensor2D = e.target;
    // SimDist (ASI): the two histograms, embedded, added to the target item's representation.
    if (c.simDist) target = tf.add(target, tf.matMul(c.simDist, p.get('simdist/w') as tf.Tensor2D));
    // asi=embedding: the target's raw joint vector, projected, added to the target.
    if (c.targetJoint) target = tf.add(target, tf.matMul(c.targetJoint, p.get('joint/w') as tf.Tensor2D));
    const hist = targetAttention(this.cfg.attention, e.hist, target, c.histBias, this.attentionWeights('att_hist'), e.histSide);
    const blocks: [string, tf.Tensor2D][] = [
      ['target', target],
      ['hist', hist.pooled],
    ];
    if (hist.pooledSide) blocks.push(['hist_side', hist.pooledSide]);
    if (e.search && this.needs.search === 'attention') {
      const s = targetAttention(this.cfg.attention, e.search, target, c.searchBias as tf.Tensor2D, this.attentionWeights('att_search'), e.searchSide);
      blocks.push(['search', s.pooled]);
      if (s.pooledSide) blocks.push(['search_side', s.pooledSide]);
    } else if (e.search && this.needs.search === 'pooling') {
      blocks.push(['search', maskedMeanPool(e.search, c.searchMean as tf.Tensor2D)]);
    }
    // Tower: first layer as Σ block·W_block (no concat), ReLU, …, one logit.
    const first = blocks.map(([name, t]) => tf.matMul(t, p.get(`tower/in_${name}`) as tf.Tensor2D)).reduce((a, b) => tf.add(a, b));
    let x = tf.relu(tf.add(first, p.get('tower/b0'))) as tf.Tensor2D;
    for (let i = 1; i < this.cfg.tower.length; i++) x = tf.relu(tf.add(tf.matMul(x, p.get(`tower/w${i}`) as tf.Tensor2D), p.get(`tower/b${i}`))) as tf.Tensor2D;
    const logits = tf.reshape(tf.add(tf.matMul(x, p.get('tower/out_w') as tf.Tensor2D), p.get('tower/out_b')), [B]) as tf.Tensor1D;
    return { logits, histWeights: hist.weights };
  }

  /** One Adam step (row-sparse on the tables) on a batch; returns the mean binary cross-entropy. */
  trainBatch(batch: CtrBatch): number {
    const B = batch.size;
    const hist = batch.hist;
    const search = this.needs.search !== 'none' ? batch.search : null;
    const itemParts = [{ ids: batch.targetItems }, { ids: hist.items, shape: [B, hist.len] }];
    if (search) itemParts.push({ ids: search.items, shape: [B, search.len] });
    const sparse: SparseBinding[] = [];
    const itemB = this.item.gatherMany(itemParts);
    sparse.push({ table: this.item, batch: itemB });
    let catB: EmbeddingBatch | null = null;
    let simB: EmbeddingBatch | null = null;
    try {
      if (this.category) {
        catB = this.category.gatherMany(itemParts.map((part) => ({ ids: this.categoryIds(part.ids), shape: part.shape })));
        sparse.push({ table: this.category, batch: catB });
      }
      if (this.simScore) {
        const parts = [{ ids: CtrModel.binsOrPad(hist), shape: [B, hist.len] }];
        if (search && this.needs.search === 'attention') parts.push({ ids: CtrModel.binsOrPad(search), shape: [B, search.len] });
        simB = this.simScore.gatherMany(parts);
        sparse.push({ table: this.simScore, batch: simB });
      }
    } catch (err) {
      for (const s of sparse) s.batch.dispose();
      throw err;
    }
    const labels = tf.tensor1d(Float32Array.from(batch.labels));
    try {
      return trainStep(() => {
        const look = (i: number): tf.Tensor => (catB ? tf.add(itemB.lookup(i), catB.lookup(i)) : itemB.lookup(i));
        const c = this.constants(batch);
        const e: Embedded = {
          target: look(0) as tf.Tensor2D,
          hist: look(1) as tf.Tensor3D,
          histSide: simB ? (simB.lookup(0) as tf.Tensor3D) : c.histJoint,
          search: search ? (look(2) as tf.Tensor3D) : null,
          searchSide: simB && search && this.needs.search === 'attention' ? (simB.lookup(1) as tf.Tensor3D) : c.searchJoint,
        };
        const { logits } = this.forward(e, c);
        return tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar;
      }, { dense: [this.dense], sparse });
    } finally {
      labels.dispose();
    }
  }

  /** Embedded inputs for scoring (no gradient): plain table lookups. */
  private embedForInference(batch: CtrBatch): Embedded {
    const B = batch.size;
    const look = (ids: Int32Array, shape: number[]): tf.Tensor => {
      const t = this.item.lookupTensor(ids, shape);
      return this.category ? tf.add(t, this.category.lookupTensor(this.categoryIds(ids), shape)) : t;
    };
    const hist = batch.hist;
    const search = this.needs.search !== 'none' ? batch.search : null;
    const side = (seq: SeqBatch): tf.Tensor3D | null =>
      this.simScore ? (this.simScore.lookupTensor(CtrModel.binsOrPad(seq), [B, seq.len]) as tf.Tensor3D) : null;
    return {
      target: look(batch.targetItems, [B]) as tf.Tensor2D,
      hist: look(hist.items, [B, hist.len]) as tf.Tensor3D,
      histSide: side(hist),
      search: search ? (look(search.items, [B, search.len]) as tf.Tensor3D) : null,
      searchSide: search && this.needs.search === 'attention' ? side(search) : null,
    };
  }

  /**
   * Click probabilities for a batch written to `out[offset..offset+B)`; with `attention`, the history
   * attention weights [B·L] (row stride batch.hist.len) too.
   */
  score(batch: CtrBatch, out: Float32Array, offset: number, attention?: Float32Array): void {
    const B = batch.size;
    const [probs, weights] = tf.tidy(() => {
      const c = this.constants(batch);
      const e = this.embedForInference(batch);
      if (!e.histSide && c.histJoint) e.histSide = c.histJoint;
      if (!e.searchSide && c.searchJoint) e.searchSide = c.searchJoint;
      const f = this.forward(e, c);
      return [tf.sigmoid(f.logits), f.histWeights];
    });
    try {
      out.set(probs.dataSync().subarray(0, B), offset);
      if (attention) attention.set(weights.dataSync().subarray(0, B * batch.hist.len));
    } finally {
      tf.dispose([probs, weights]);
    }
  }

  /** Every parameter (and, for checkpoints, the optimizer state). */
  toWeights(includeOptimizer: boolean): WeightMap {
    const w: WeightMap = { ...this.dense.toWeights(includeOptimizer), ...this.item.toWeights(includeOptimizer) };
    if (this.category) Object.assign(w, this.category.toWeights(includeOptimizer));
    if (this.simScore) Object.assign(w, this.simScore.toWeights(includeOptimizer));
    if (!includeOptimizer) {
      // Tables are shared, not copied, by SparseEmbedding.toWeights: snapshot them.
      for (const k of Object.keys(w)) w[k] = { shape: w[k].shape, data: w[k].data.slice() };
    }
    return w;
  }

  fromWeights(w: WeightMap): void {
    this.dense.fromWeights(w);
    this.item.fromWeights(w);
    this.category?.fromWeights(w);
    this.simScore?.fromWeights(w);
  }

  /** Learned item-ID vectors (rows × dim, a copy) of the given items. */
  itemVectors(items: Int32Array): Float32Array {
    return this.item.lookupRows(items);
  }

  dispose(): void {
    this.dense.dispose();
  }
}

/** Joint vectors of item ids (zeros for padding or items without one), row-major. */
function jointRows(joint: JointTable, items: Int32Array): Float32Array {
  const dim = joint.dim;
  const out = new Float32Array(items.length * dim);
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const r = it < 0 ? -1 : joint.rowOf[it];
    if (r >= 0) out.set(joint.values.subarray(r * dim, r * dim + dim), i * dim);
  }
  return out;
}
