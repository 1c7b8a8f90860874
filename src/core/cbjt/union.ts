/**
 * Union Training Model (eq. 9–10): gates x̂ = 2·sigmoid(MLP(x))·x on the content (ct) and behavior (bh)
 * embeddings, cross network u = MLP_cs([ct̂; 1] ⊗ [bĥ; 1]) over the flattened outer product, u L2-normalised.
 * The appended 1s (tensor fusion) keep ct̂ and bĥ themselves among the products, so the cross network can
 * still use either view alone; without them u is purely bilinear (measured: below content-only u on synthetic data).
 * Ablations: no gate (x̂ = x), no cross (MLP_cs over the concatenation [ct̂, bĥ]), and a single view
 * (an MLP on ct or on bh alone, the paper's Content-only / Behavior-only rows of Tables 2–3).
 */
import * as tf from '@tensorflow/tfjs-core';
import { DenseParams, type RandomSource } from '../engine/sparse-embedding.js';
import { addLogitScale } from './infonce.js';
import { l2Normalize, Mlp } from './layers.js';

export type UnionView = 'joint' | 'content' | 'behavior';

export interface UnionArchitecture {
  /** 'joint' fuses ct and bh; 'content'/'behavior' is an MLP on that view alone. */
  view: UnionView;
  /** Gate network of eq. 9 (joint only). */
  gate: boolean;
  /** Outer-product cross network of eq. 10; false = concatenation (joint only). */
  cross: boolean;
  /** Size of ct (0 when not used). */
  contentDim: number;
  /** Size of bh (0 when not used). */
  behaviorDim: number;
  /** Hidden width of each gate MLP. */
  gateHidden: number;
  /** Hidden width of MLP_cs. */
  hidden: number;
  /** Size of u. */
  dim: number;
}

export class UnionModel {
  readonly params: DenseParams;
  readonly gateCt: Mlp | null = null;
  readonly gateBh: Mlp | null = null;
  readonly head: Mlp;
  readonly logitScale: tf.Variable;

  constructor(
    readonly arch: UnionArchitecture,
    rng: RandomSource,
    learningRate = 1e-3,
  ) {
    this.params = new DenseParams('union', rng, { learningRate });
    const { view, contentDim: dc, behaviorDim: db } = arch;
    let inDim: number;
    if (view === 'content') inDim = dc;
    else if (view === 'behavior') inDim = db;
    else {
      if (arch.gate) {
        this.gateCt = new Mlp(this.params, 'gate_ct', [dc, arch.gateHidden, dc]);
        this.gateBh = new Mlp(this.params, 'gate_bh', [db, arch.gateHidden, db]);
      }
      inDim = arch.cross ? (dc + 1) * (db + 1) : dc + db;
    }
    if (!(inDim > 0)) throw new Error(`union model: input size ${inDim} for view ${view}`);
    this.head = new Mlp(this.params, 'mlp_cs', [inDim, arch.hidden, arch.dim]);
    this.logitScale = addLogitScale(this.params);
  }

  /** u for a batch: ct [B, dc] and/or bh [B, db] (the unused one may be null) → [B, dim], L2-normalised. */
  apply(ct: tf.Tensor2D | null, bh: tf.Tensor2D | null): tf.Tensor2D {
    return tf.tidy(() => {
      const { view } = this.arch;
      if (view === 'content') return l2Normalize(this.head.apply(need(ct, 'ct')));
      if (view === 'behavior') return l2Normalize(this.head.apply(need(bh, 'bh')));
      let c = need(ct, 'ct');
      let b = need(bh, 'bh');
      if (this.gateCt && this.gateBh) {
        // eq. 9: x̂ = 2·sigmoid(MLP(x))·x
        c = tf.mul(tf.mul(tf.sigmoid(this.gateCt.apply(c)), 2), c) as tf.Tensor2D;
        b = tf.mul(tf.mul(tf.sigmoid(this.gateBh.apply(b)), 2), b) as tf.Tensor2D;
      }
      const batch = c.shape[0];
      let fused: tf.Tensor2D;
      if (this.arch.cross) {
        // eq. 10: [ct̂; 1] ⊗ [bĥ; 1], flattened
        const one = tf.ones([batch, 1]);
        const outer = tf.mul(tf.expandDims(tf.concat([c, one], 1), 2), tf.expandDims(tf.concat([b, one], 1), 1)); // [B, dc+1, db+1]
        fused = tf.reshape(outer, [batch, (this.arch.contentDim + 1) * (this.arch.behaviorDim + 1)]); // [B, (dc+1)·(db+1)]
      } else {
        fused = tf.concat([c, b], 1); // [B, dc + db]
      }
      return l2Normalize(this.head.apply(fused));
    });
  }

  dispose(): void {
    this.params.dispose();
  }
}

function need(t: tf.Tensor2D | null, name: string): tf.Tensor2D {
  if (!t) throw new Error(`union model: ${name} input missing`);
  return t;
}
