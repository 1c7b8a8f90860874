/**
 * Dense building blocks of the CBJT models: seeded Dense/MLP parameters held as tf.Variables under stable
 * logical names (the names weights are saved under), L2 normalisation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { glorotUniform, type Rng } from '../rng.js';

let variableCounter = 0;

/** tfjs registers variables globally by name: give each a unique one so several models can coexist. */
function uniqueVariableName(logical: string): string {
  variableCounter += 1;
  return `cbjt_${variableCounter}/${logical}`;
}

/** A model's trainable parameters by logical name ("text_a/mlp/0/w"), in creation order. */
export class ParamSet {
  readonly vars = new Map<string, tf.Variable>();

  add(name: string, init: tf.Tensor): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter ${name} defined twice`);
    const v = tf.variable(init, true, uniqueVariableName(name));
    init.dispose();
    this.vars.set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  list(): tf.Variable[] {
    return [...this.vars.values()];
  }

  /** Logical name → values, for saving (values copied out of the backend). */
  snapshot(): Map<string, { shape: number[]; values: Float32Array }> {
    const out = new Map<string, { shape: number[]; values: Float32Array }>();
    for (const [name, v] of this.vars) out.set(name, { shape: v.shape.slice(), values: v.dataSync() as Float32Array });
    return out;
  }

  /** Overwrite parameters from saved values; every parameter must be present with its shape. */
  restore(get: (name: string) => { shape: readonly number[]; values: Float32Array } | undefined, where: string): void {
    for (const [name, v] of this.vars) {
      const w = get(name);
      if (!w) throw new Error(`${where}: missing weight ${name}`);
      if (w.shape.length !== v.shape.length || w.shape.some((d, i) => d !== v.shape[i])) {
        throw new Error(`${where}: weight ${name} has shape [${w.shape.join(', ')}], expected [${v.shape.join(', ')}]`);
      }
      tf.tidy(() => v.assign(tf.tensor(w.values, v.shape)));
    }
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

/** A fully connected layer y = act(x·W + b), W Glorot-uniform from the rng, b zero. */
export class Dense {
  readonly w: tf.Variable;
  readonly b: tf.Variable;

  constructor(params: ParamSet, name: string, readonly inDim: number, readonly outDim: number, readonly activation: 'relu' | 'linear', rng: Rng) {
    this.w = params.add(`${name}/w`, tf.tensor2d(glorotUniform(rng, inDim, outDim, inDim * outDim), [inDim, outDim]));
    this.b = params.add(`${name}/b`, tf.zeros([outDim]));
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.fused.matMul({ a: x, b: this.w, bias: this.b, activation: this.activation }) as tf.Tensor2D;
  }
}

/** An MLP: ReLU between layers, linear output. `dims` = [in, hidden..., out]. */
export class Mlp {
  readonly layers: Dense[];

  constructor(params: ParamSet, name: string, dims: readonly number[], rng: Rng) {
    if (dims.length < 2) throw new Error(`MLP ${name} needs at least an input and an output size`);
    this.layers = [];
    for (let i = 0; i + 1 < dims.length; i++) {
      const last = i + 2 === dims.length;
      this.layers.push(new Dense(params, `${name}/${i}`, dims[i], dims[i + 1], last ? 'linear' : 'relu', rng.fork(`${name}/${i}`)));
    }
  }

  get outDim(): number {
    return this.layers[this.layers.length - 1].outDim;
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h = x;
    for (const layer of this.layers) h = layer.apply(h);
    return h;
  }
}

/** Row-wise L2 normalisation x / max(‖x‖, ε). */
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
