/**
 * Content encoder F_C (eq. 4) and, as a separate copy with its own weights, the behavior encoder F_B (eq. 7).
 * One or two towers ("views") per item:
 *  - text tower: hashed word + character n-gram tokens → embedding bag (mean of token vectors, a row-sparse
 *    SparseEmbedding table) → MLP → d;
 *  - content tower: the item's dense content vector (L2-normalised) → MLP → d.
 * The item embedding is the fusion of its views: mean of the available views' L2-normalised outputs,
 * L2-normalised again. Views by mode: "title|text" (a title tower and a text tower), "text|content" (a text
 * tower over title + text and a content tower), "dropout-augmented" (one text tower over title + text;
 * training contrasts two token-dropout augmentations of it, as SimCLR does).
 */
import * as tf from '@tensorflow/tfjs-core';
import { DenseParams, SparseEmbedding, type EmbeddingBatch, type RandomSource } from '../engine/sparse-embedding.js';
import type { SparseBinding } from '../engine/train.js';
import type { WeightMap } from '../engine/model-io.js';
import { InputDataError } from '../errors.js';
import type { Rng } from '../rng.js';
import { batchBags, featurizeTexts, joinFields, type TextFeaturizerConfig, type TokenBags } from './featurize.js';
import { contentPresent, type ContentItems } from './items.js';
import { l2Normalize, l2NormalizeRows, Mlp } from './layers.js';

export const VIEW_MODES = ['title|text', 'text|content', 'dropout-augmented'] as const;
export type ViewMode = (typeof VIEW_MODES)[number];

/** `--views` choices and the mode each names ('auto' picks from the data, see `chooseViewMode`). */
export const VIEW_CHOICES = { auto: null, 'title-text': 'title|text', 'text-content': 'text|content', dropout: 'dropout-augmented' } as const;
export type ViewChoice = keyof typeof VIEW_CHOICES;

/** The `--views` choice that names a view mode (to rebuild an encoder's views from its saved architecture). */
export function viewChoiceOf(mode: ViewMode): ViewChoice {
  return (Object.keys(VIEW_CHOICES) as ViewChoice[]).find((c) => VIEW_CHOICES[c] === mode) as ViewChoice;
}

/** Auto mode picks a two-field view only when at least this share of items has the second view. */
export const MIN_VIEW_COVERAGE = 0.5;

export interface EncoderArchitecture {
  viewMode: ViewMode;
  featurizer: TextFeaturizerConfig;
  /** Width of the token vectors of the embedding bag. */
  bagDim: number;
  /** Hidden width of each tower's MLP. */
  hidden: number;
  /** Output size d. */
  dim: number;
  /** Size of the dense content vector ("text|content" only; else 0). */
  contentDim: number;
}

type TextField = 'title' | 'text' | 'title+text';

interface TextTower {
  kind: 'text';
  field: TextField;
  table: SparseEmbedding;
  mlp: Mlp;
}

interface ContentTower {
  kind: 'content';
  mlp: Mlp;
}

type Tower = TextTower | ContentTower;

/** Per-item tower inputs, prepared once for a set of items. */
export interface EncoderInputs {
  count: number;
  /** Token bags per tower (null for the content tower). */
  bags: (TokenBags | null)[];
  /** L2-normalised content vectors [count × contentDim], or null. */
  content: Float32Array | null;
  /** 1 where the item has the tower's view (non-empty text, non-zero content vector). */
  available: Uint8Array[];
}

/** What the auto view mode sees in the items. */
export interface ViewCoverage {
  items: number;
  withTitle: number;
  withText: number;
  withContent: number;
}

export function viewCoverage(items: ContentItems): ViewCoverage {
  let withTitle = 0;
  let withText = 0;
  for (let i = 0; i < items.count; i++) {
    if (/[\p{L}\p{N}]/u.test(items.title[i])) withTitle++;
    if (/[\p{L}\p{N}]/u.test(items.text[i])) withText++;
  }
  let withContent = 0;
  if (items.content) for (const p of contentPresent(items.content, items.count)) withContent += p;
  return { items: items.count, withTitle, withText, withContent };
}

/**
 * The view mode: a dense content vector when most items have one ("text|content"), else title vs text when
 * most items have a non-empty text field ("title|text"), else two token-dropout augmentations of the
 * single text field ("dropout-augmented").
 */
export function chooseViewMode(cov: ViewCoverage, choice: ViewChoice): ViewMode {
  const requested = VIEW_CHOICES[choice];
  if (requested !== null) return requested;
  if (cov.withContent >= MIN_VIEW_COVERAGE * cov.items && cov.withContent > 0) return 'text|content';
  if (cov.withText >= MIN_VIEW_COVERAGE * cov.items && cov.withText > 0) return 'title|text';
  return 'dropout-augmented';
}

function towerFields(mode: ViewMode): (TextField | 'content')[] {
  switch (mode) {
    case 'title|text':
      return ['title', 'text'];
    case 'text|content':
      return ['title+text', 'content'];
    case 'dropout-augmented':
      return ['title+text'];
  }
}

/** A tower's batch feed for one training step: rows of EncoderInputs, with token dropout for text towers. */
export interface TowerFeed {
  tower: number;
  rows: Int32Array;
  dropout: number;
}

/** The sparse rows of one training step and the forward pass that reads them. */
export interface EncoderStep {
  sparse: SparseBinding[];
  /** One L2-normalised output [B, d] per feed, in order. Call inside the loss function. */
  forward(): tf.Tensor2D[];
}

export class ContentEncoder {
  readonly params: DenseParams;
  readonly towers: Tower[];

  constructor(
    readonly arch: EncoderArchitecture,
    rng: Rng,
    learningRate = 1e-3,
    scope = 'encoder',
  ) {
    this.params = new DenseParams(scope, rng.fork('dense'), { learningRate });
    const { bagDim, hidden, dim, featurizer } = arch;
    this.towers = towerFields(arch.viewMode).map((field, k): Tower => {
      if (field === 'content') {
        if (!(arch.contentDim > 0)) throw new Error('content tower needs contentDim > 0');
        return { kind: 'content', mlp: new Mlp(this.params, `tower${k}/mlp`, [arch.contentDim, hidden, dim]) };
      }
      const table = new SparseEmbedding(`${scope}/tower${k}/bag`, { rows: featurizer.buckets, dim: bagDim, optimizer: 'adam', learningRate }, rng.fork(`bag${k}`) as RandomSource);
      return { kind: 'text', field, table, mlp: new Mlp(this.params, `tower${k}/mlp`, [bagDim, hidden, dim]) };
    });
  }

  get dim(): number {
    return this.arch.dim;
  }

  /** Featurize items for this encoder's towers. */
  prepare(items: ContentItems): EncoderInputs {
    const bags: (TokenBags | null)[] = [];
    const available: Uint8Array[] = [];
    let content: Float32Array | null = null;
    for (const tower of this.towers) {
      if (tower.kind === 'content') {
        if (items.content && items.content.dim !== this.arch.contentDim) throw new InputDataError(`content vectors have ${items.content.dim} dims, the encoder expects ${this.arch.contentDim}`, undefined, 'content');
        // Items without content vectors (no column, or all-zero rows) are encoded from their text view alone.
        content = items.content ? l2NormalizeRows(Float32Array.from(items.content.values), items.content.dim) : new Float32Array(items.count * this.arch.contentDim);
        available.push(items.content ? contentPresent(items.content, items.count) : new Uint8Array(items.count));
        bags.push(null);
        continue;
      }
      const texts = tower.field === 'title' ? items.title : tower.field === 'text' ? items.text : joinFields(items.title, items.text);
      const b = featurizeTexts(texts, this.arch.featurizer);
      bags.push(b);
      available.push(b.empty.map((e) => 1 - e));
    }
    return { count: items.count, bags, content, available };
  }

  /**
   * Gather the sparse rows for a training step (one EmbeddingBatch per text tower, whatever the number of
   * feeds that use it) and return the forward pass over them.
   */
  step(inputs: EncoderInputs, feeds: readonly TowerFeed[], rng: Rng): EncoderStep {
    const perFeed = feeds.map((f) => {
      const bags = inputs.bags[f.tower];
      return bags ? batchBags(bags, f.rows, f.dropout, rng) : null;
    });
    const batches = new Map<number, { batch: EmbeddingBatch; part: Map<number, number> }>();
    const sparse: SparseBinding[] = [];
    this.towers.forEach((tower, k) => {
      if (tower.kind !== 'text') return;
      const parts: { ids: Int32Array }[] = [];
      const part = new Map<number, number>();
      feeds.forEach((f, i) => {
        if (f.tower !== k) return;
        part.set(i, parts.length);
        parts.push({ ids: (perFeed[i] as { ids: Int32Array }).ids });
      });
      if (parts.length === 0) return;
      const batch = tower.table.gatherMany(parts);
      batches.set(k, { batch, part });
      sparse.push({ table: tower.table, batch });
    });
    const forward = (): tf.Tensor2D[] =>
      feeds.map((f, i) => {
        const tower = this.towers[f.tower];
        const b = f.rows.length;
        if (tower.kind === 'content') {
          const x = gatherRows(inputs.content as Float32Array, this.arch.contentDim, f.rows);
          return l2Normalize(tower.mlp.apply(tf.tensor2d(x, [b, this.arch.contentDim])));
        }
        const feed = perFeed[i] as { segments: Int32Array; counts: Float32Array };
        const { batch, part } = batches.get(f.tower) as { batch: EmbeddingBatch; part: Map<number, number> };
        const local = batch.locals[part.get(i) as number].dataSync() as Int32Array; // token → row of batch.rows
        const bag = embeddingBagMean(batch.rows as tf.Tensor2D, local, feed.segments, feed.counts); // [B, bagDim]
        return l2Normalize(tower.mlp.apply(bag));
      });
    return { sparse, forward };
  }

  /**
   * Per-view masks for fusing rows: each view's availability, and the first view when an item has none
   * (an item with no text and no content still gets the encoder's "empty" embedding).
   */
  fusionMasks(inputs: EncoderInputs, rows: Int32Array): Float32Array[] {
    const masks = this.towers.map((_, k) => Float32Array.from(rows, (r) => inputs.available[k][r]));
    for (let i = 0; i < rows.length; i++) {
      let any = 0;
      for (const m of masks) any += m[i];
      if (any === 0) masks[0][i] = 1;
    }
    return masks;
  }

  /** Fusion of view outputs (each [B, d], L2-normalised): normalise(Σ_v mask_v · out_v). */
  fuse(outputs: readonly tf.Tensor2D[], masks: readonly Float32Array[]): tf.Tensor2D {
    return tf.tidy(() => {
      if (outputs.length === 1) return tf.clone(outputs[0]);
      const weighted = outputs.map((o, k) => tf.mul(o, tf.tensor2d(masks[k], [masks[k].length, 1])) as tf.Tensor2D); // [B, d] each
      return l2Normalize(tf.addN(weighted) as tf.Tensor2D);
    });
  }

  /** The fused, L2-normalised embedding of every item [count × d] (inference: no dropout). */
  encodeAll(inputs: EncoderInputs, batchSize = 2048): Float32Array {
    const d = this.arch.dim;
    const out = new Float32Array(inputs.count * d);
    for (let s = 0; s < inputs.count; s += batchSize) {
      const rows = Int32Array.from({ length: Math.min(batchSize, inputs.count - s) }, (_, i) => s + i);
      const masks = this.fusionMasks(inputs, rows);
      const fused = tf.tidy(() => {
        const outs = this.towers.map((tower, k) => {
          if (tower.kind === 'content') {
            return tower.mlp.apply(tf.tensor2d(gatherRows(inputs.content as Float32Array, this.arch.contentDim, rows), [rows.length, this.arch.contentDim]));
          }
          const bagMean = meanBags(tower.table, inputs.bags[k] as TokenBags, rows);
          return tower.mlp.apply(tf.tensor2d(bagMean, [rows.length, this.arch.bagDim]));
        });
        return this.fuse(outs.map(l2Normalize), masks);
      });
      out.set(fused.dataSync() as Float32Array, s * d);
      fused.dispose();
    }
    return out;
  }

  /** Inference weights (no optimizer state): dense parameters and every bag table. */
  toWeights(): WeightMap {
    const w: WeightMap = { ...this.params.toWeights(false) };
    for (const t of this.towers) if (t.kind === 'text') Object.assign(w, t.table.toWeights(false));
    return w;
  }

  fromWeights(w: WeightMap): void {
    this.params.fromWeights(w);
    for (const t of this.towers) if (t.kind === 'text') t.table.fromWeights(w);
  }

  dispose(): void {
    this.params.dispose();
  }
}

/**
 * Embedding bag (mean of token vectors) as one custom op over the step's gathered table rows `rows` [U, e]:
 * out[b] = Σ_{t: segment[t] = b} rows[local[t]] / counts[b]; gradient d rows[local[t]] += dy[segment[t]] / counts.
 * Plain JS both ways: on wasm a gather + segment-sum + broadcast divide (and their gradients) cost far more.
 */
export function embeddingBagMean(rows: tf.Tensor2D, local: Int32Array, segments: Int32Array, counts: Float32Array): tf.Tensor2D {
  const batch = counts.length;
  const op = tf.customGrad<tf.Tensor2D>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const [u, e] = x.shape;
    const table = x.dataSync() as Float32Array;
    const out = new Float32Array(batch * e);
    for (let t = 0; t < local.length; t++) {
      const src = local[t] * e;
      const dst = segments[t] * e;
      for (let c = 0; c < e; c++) out[dst + c] += table[src + c];
    }
    for (let b = 0; b < batch; b++) {
      const inv = counts[b] > 0 ? 1 / counts[b] : 0;
      for (let c = 0; c < e; c++) out[b * e + c] *= inv;
    }
    return {
      value: tf.tensor2d(out, [batch, e]),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        const dx = new Float32Array(u * e);
        for (let t = 0; t < local.length; t++) {
          const b = segments[t];
          const w = counts[b] > 0 ? 1 / counts[b] : 0;
          const src = b * e;
          const dst = local[t] * e;
          for (let c = 0; c < e; c++) dx[dst + c] += g[src + c] * w;
        }
        return tf.tensor2d(dx, [u, e]);
      },
    };
  });
  return op(rows) as tf.Tensor2D;
}

/** Rows `rows` of a row-major matrix. */
export function gatherRows(values: Float32Array, dim: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) out.set(values.subarray(rows[i] * dim, rows[i] * dim + dim), i * dim);
  return out;
}

/** Mean of the table rows of each bag (inference, in plain JS: no tensors needed). */
function meanBags(table: SparseEmbedding, bags: TokenBags, rows: Int32Array): Float32Array {
  const dim = table.dim;
  const t = table.table;
  const out = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) {
    const s = bags.offsets[rows[i]];
    const e = bags.offsets[rows[i] + 1];
    const o = i * dim;
    for (let j = s; j < e; j++) {
      const base = bags.ids[j] * dim;
      for (let c = 0; c < dim; c++) out[o + c] += t[base + c];
    }
    const inv = 1 / (e - s);
    for (let c = 0; c < dim; c++) out[o + c] *= inv;
  }
  return out;
}
