/**
 * Dense building blocks of the CBJT models on top of the engine's DenseParams (seeded Glorot init, Adam,
 * save/load by name): Dense, MLP, L2 normalisation.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DenseParams } from '../engine/sparse-embedding.js';

/** A fully connected layer y = act(x·W + b); W Glorot-uniform, b zero. */
export class Dense {
  readonly w: tf.Variable;
  readonly b: tf.Variable;

  constructor(params: DenseParams, name: string, readonly inDim: number, readonly outDim: number, readonly activation: 'relu' | 'linear') {
    this.w = params.glorot(`${name}/w`, [inDim, outDim]);
    this.b = params.constant(`${name}/b`, [outDim], 0);
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.fused.matMul({ a: x, b: this.w, bias: this.b, activation: this.activation }) as tf.Tensor2D;
  }
}

/** An MLP: ReLU between layers, linear output. `dims` = [in, hidden..., out]. */
export class Mlp {
  readonly layers: Dense[];

  constructor(params: DenseParams, name: string, dims: readonly number[]) {
    if (dims.length < 2) throw new Error(`MLP ${name} needs at least an input and an output size`);
    this.layers = [];
    for (let i = 0; i + 1 < dims.length; i++) {
      this.layers.push(new Dense(params, `${name}/${i}`, dims[i], dims[i + 1], i + 2 === dims.length ? 'linear' : 'relu'));
    }
  }

  get outDim(): number {
    return this.layers[this.layers.length - 1].outDim;
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let h = x;
      for (const layer of this.layers) h = layer.apply(h);
      return h;
    });
  }
}

/** Row-wise L2 normalisation x / max(‖x‖, 1e-6). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.maximum(tf.sum(tf.square(x), 1, true), 1e-12));
    return tf.div(x, norm) as tf.Tensor2D;
  });
}

/** Row-wise L2 normalisation of a plain row-major matrix, in place (zero rows stay zero). */
export function l2NormalizeRows(values: Float32Array, dim: number): Float32Array {
  for (let o = 0; o < values.length; o += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += values[o + j] * values[o + j];
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < dim; j++) values[o + j] *= inv;
    }
  }
  return values;
}
