/**
 * Our gradient definitions (src/core/engine/gradients.ts) against tfjs's own reference gradients,
 * loaded from tfjs-core's per-file ESM build (loadable under tsx, not under plain Node — which is
 * why the project needs its own).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/engine/backend.js';
import { GRADIENT_KERNELS, registerGradients } from '../../src/core/engine/gradients.js';
import { maxAbsDiff, randArray } from './_util.js';

type Fn = (...xs: tf.Tensor[]) => tf.Tensor;
interface Case {
  kernel: string;
  label?: string;
  inputs: { shape: number[]; lo?: number; hi?: number }[];
  f: Fn;
}

const U = (shape: number[], lo = -1, hi = 1) => ({ shape, lo, hi });
const pos = (shape: number[]) => U(shape, 0.5, 2);

const CASES: Case[] = [
  { kernel: 'Add', inputs: [U([3, 4]), U([4])], f: (a, b) => tf.add(a, b) },
  { kernel: 'Sub', inputs: [U([3, 1]), U([3, 4])], f: (a, b) => tf.sub(a, b) },
  { kernel: 'Multiply', inputs: [U([3, 4]), U([3, 1])], f: (a, b) => tf.mul(a, b) },
  { kernel: 'RealDiv', inputs: [U([2, 3]), pos([3])], f: (a, b) => tf.div(a, b) },
  { kernel: 'Maximum', inputs: [U([3, 4]), U([3, 4])], f: (a, b) => tf.maximum(a, b) },
  { kernel: 'Minimum', inputs: [U([3, 4]), U([3, 4])], f: (a, b) => tf.minimum(a, b) },
  { kernel: 'SquaredDifference', inputs: [U([3, 4]), U([3, 4])], f: (a, b) => tf.squaredDifference(a, b) },
  { kernel: 'Pow', inputs: [pos([3, 4]), U([4])], f: (a, b) => tf.pow(a, b) },
  { kernel: 'AddN', inputs: [U([2, 3]), U([2, 3]), U([2, 3])], f: (a, b, c) => tf.addN([a, b, c]) },
  { kernel: 'Neg', inputs: [U([5])], f: (x) => tf.neg(x) },
  { kernel: 'Exp', inputs: [U([5])], f: (x) => tf.exp(x) },
  { kernel: 'Expm1', inputs: [U([5])], f: (x) => tf.expm1(x) },
  { kernel: 'Log', inputs: [pos([5])], f: (x) => tf.log(x) },
  { kernel: 'Log1p', inputs: [pos([5])], f: (x) => tf.log1p(x) },
  { kernel: 'Sqrt', inputs: [pos([5])], f: (x) => tf.sqrt(x) },
  { kernel: 'Rsqrt', inputs: [pos([5])], f: (x) => tf.rsqrt(x) },
  { kernel: 'Square', inputs: [U([5])], f: (x) => tf.square(x) },
  { kernel: 'Reciprocal', inputs: [pos([5])], f: (x) => tf.reciprocal(x) },
  { kernel: 'Abs', inputs: [U([6])], f: (x) => tf.abs(x) },
  { kernel: 'Sigmoid', inputs: [U([6], -4, 4)], f: (x) => tf.sigmoid(x) },
  { kernel: 'Tanh', inputs: [U([6], -3, 3)], f: (x) => tf.tanh(x) },
  { kernel: 'Softplus', inputs: [U([6], -3, 3)], f: (x) => tf.softplus(x) },
  { kernel: 'Relu', inputs: [U([8])], f: (x) => tf.relu(x) },
  { kernel: 'Relu6', inputs: [U([8], -2, 8)], f: (x) => tf.relu6(x) },
  { kernel: 'LeakyRelu', inputs: [U([8])], f: (x) => tf.leakyRelu(x, 0.1) },
  { kernel: 'Elu', inputs: [U([8])], f: (x) => tf.elu(x) },
  { kernel: 'Selu', inputs: [U([8])], f: (x) => tf.selu(x) },
  { kernel: 'Erf', inputs: [U([8])], f: (x) => tf.erf(x) },
  { kernel: 'Sin', inputs: [U([8])], f: (x) => tf.sin(x) },
  { kernel: 'Cos', inputs: [U([8])], f: (x) => tf.cos(x) },
  { kernel: 'ClipByValue', inputs: [U([8])], f: (x) => tf.clipByValue(x, -0.5, 0.5) },
  { kernel: 'Prelu', inputs: [U([3, 4]), U([4], 0, 0.5)], f: (x, a) => tf.prelu(x, a) },
  { kernel: 'Identity', inputs: [U([3])], f: (x) => tf.clone(x) },
  { kernel: 'Cast', inputs: [U([3], -5, 5)], f: (x) => tf.cast(tf.cast(x, 'int32'), 'float32') },
  { kernel: 'Sum', inputs: [U([2, 3, 4])], f: (x) => tf.sum(x, 1) },
  { kernel: 'Sum', label: 'Sum keepDims all', inputs: [U([2, 3])], f: (x) => tf.sum(x, undefined, true) },
  { kernel: 'Mean', inputs: [U([2, 3, 4])], f: (x) => tf.mean(x, [0, 2]) },
  { kernel: 'Max', inputs: [U([3, 5])], f: (x) => tf.max(x, 1) },
  { kernel: 'Min', inputs: [U([3, 5])], f: (x) => tf.min(x, -1, true) },
  { kernel: 'Softmax', inputs: [U([3, 5], -2, 2)], f: (x) => tf.softmax(x) },
  { kernel: 'Cumsum', inputs: [U([3, 5])], f: (x) => tf.cumsum(x, 1) },
  { kernel: 'Cumsum', label: 'Cumsum exclusive reverse', inputs: [U([3, 5])], f: (x) => tf.cumsum(x, 1, true, true) },
  { kernel: 'Reshape', inputs: [U([2, 6])], f: (x) => tf.reshape(x, [3, 4]) },
  { kernel: 'ExpandDims', inputs: [U([2, 3])], f: (x) => tf.expandDims(x, 1) },
  { kernel: 'Transpose', inputs: [U([2, 3, 4])], f: (x) => tf.transpose(x, [2, 0, 1]) },
  { kernel: 'Concat', inputs: [U([2, 3]), U([2, 1]), U([2, 2])], f: (a, b, c) => tf.concat([a, b, c], 1) },
  { kernel: 'Slice', inputs: [U([4, 5])], f: (x) => tf.slice(x, [1, 2], [2, -1]) },
  { kernel: 'PadV2', inputs: [U([2, 3])], f: (x) => tf.pad(x, [[1, 0], [2, 1]], 0.5) },
  { kernel: 'Pack', inputs: [U([2, 3]), U([2, 3])], f: (a, b) => tf.stack([a, b], 1) },
  { kernel: 'Unpack', inputs: [U([3, 4])], f: (x) => { const p = tf.unstack(x, 1); return tf.add(tf.mul(p[0], 2), p[3]); } },
  { kernel: 'SplitV', inputs: [U([2, 6])], f: (x) => { const p = tf.split(x, [1, 3, 2], 1); return tf.concat([tf.mul(p[2], 3), p[0]], 1); } },
  { kernel: 'Tile', inputs: [U([2, 3])], f: (x) => tf.tile(x, [2, 3]) },
  { kernel: 'Tile', label: 'Tile via broadcastTo', inputs: [U([1, 3])], f: (x) => tf.broadcastTo(x, [4, 3]) },
  { kernel: 'Reverse', inputs: [U([3, 4])], f: (x) => tf.reverse(x, 1) },
  { kernel: 'Select', inputs: [U([3, 4]), U([3, 4])], f: (a, b) => tf.where(tf.tensor2d([1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1], [3, 4], 'bool'), a, b) },
  { kernel: 'GatherV2', inputs: [U([6, 4])], f: (x) => tf.gather(x, tf.tensor2d([0, 5, 5, 2, 0, 0], [2, 3], 'int32')) },
  { kernel: 'GatherV2', label: 'GatherV2 axis 1', inputs: [U([3, 6, 2])], f: (x) => tf.gather(x, tf.tensor1d([5, 1, 1, 0], 'int32'), 1) },
  { kernel: 'UnsortedSegmentSum', inputs: [U([5, 3])], f: (x) => tf.unsortedSegmentSum(x, tf.tensor1d([2, 0, 2, -1, 1], 'int32'), 3) },
  { kernel: 'BatchMatMul', inputs: [U([3, 4]), U([4, 5])], f: (a, b) => tf.matMul(a, b) },
  { kernel: 'BatchMatMul', label: 'BatchMatMul TN', inputs: [U([4, 3]), U([4, 5])], f: (a, b) => tf.matMul(a, b, true, false) },
  { kernel: 'BatchMatMul', label: 'BatchMatMul NT', inputs: [U([2, 3, 4]), U([2, 5, 4])], f: (a, b) => tf.matMul(a, b, false, true) },
  { kernel: 'BatchMatMul', label: 'BatchMatMul TT', inputs: [U([2, 4, 3]), U([2, 5, 4])], f: (a, b) => tf.matMul(a, b, true, true) },
];

async function referenceGrad(kernel: string): Promise<tf.GradConfig> {
  const mod = (await import(`@tensorflow/tfjs-core/dist/gradients/${kernel}_grad.js`)) as Record<string, unknown>;
  for (const v of Object.values(mod)) {
    const c = v as Partial<tf.GradConfig> | null;
    if (c !== null && typeof c === 'object' && c.kernelName === kernel && typeof c.gradFunc === 'function') return c as tf.GradConfig;
  }
  throw new Error(`no reference gradient for ${kernel}`);
}

function makeInputs(c: Case, seed: number): tf.Tensor[] {
  return c.inputs.map((s, i) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    return tf.tensor(randArray(n, seed + i, s.lo, s.hi), s.shape);
  });
}

/** Gradients of sum(w ⊙ f(xs)) with respect to every input, as plain arrays. */
function gradsOf(c: Case, xs: tf.Tensor[]): Float32Array[] {
  return tf.tidy(() => {
    const y0 = c.f(...xs);
    const w = tf.tensor(randArray(y0.size, 99), y0.shape);
    const gs = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(c.f(...args), w)))(xs);
    return gs.map((g) => Float32Array.from(g.dataSync()));
  });
}

function withGradient<T>(config: tf.GradConfig, f: () => T): T {
  const mine = tf.getGradient(config.kernelName);
  tf.unregisterGradient(config.kernelName);
  tf.registerGradient(config);
  try {
    return f();
  } finally {
    tf.unregisterGradient(config.kernelName);
    tf.registerGradient(mine);
  }
}

for (const backend of ['cpu', 'wasm']) {
  describe(`gradients on ${backend} match tfjs reference gradients`, () => {
    before(async () => {
      await initBackend('wasm');
      await tf.setBackend(backend);
    });

    CASES.forEach((c, ci) => {
      it(c.label ?? c.kernel, async () => {
        const ref = await referenceGrad(c.kernel);
        const xs = makeInputs(c, 1000 + ci * 10);
        const mine = gradsOf(c, xs);
        const theirs = withGradient(ref, () => gradsOf(c, xs));
        tf.dispose(xs);
        assert.equal(mine.length, theirs.length);
        mine.forEach((g, i) => {
          const scale = Math.max(1, ...Array.from(theirs[i], Math.abs));
          const d = maxAbsDiff(g, theirs[i]);
          assert.ok(d <= 1e-5 * scale, `input ${i}: max |diff| ${d}`);
        });
      });
    });
  });
}

describe('gradients without a tfjs reference', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('covers every kernel in the case list', () => {
    for (const c of CASES) assert.ok(GRADIENT_KERNELS.includes(c.kernel), c.kernel);
    registerGradients(); // idempotent
  });

  it('matMul with a broadcast batch sums the gradient over the batch', () => {
    tf.tidy(() => {
      const a = tf.tensor3d(randArray(3 * 2 * 4, 1), [3, 2, 4]);
      const b = tf.tensor2d(randArray(4 * 5, 2), [4, 5]);
      const w = tf.tensor3d(randArray(3 * 2 * 5, 3), [3, 2, 5]);
      const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), w)))([a, b]);
      assert.deepEqual(ga.shape, [3, 2, 4]);
      // dB = Σ_i A_iᵀ W_i
      const expected = tf.addN(tf.unstack(a).map((ai, i) => tf.matMul(ai, tf.unstack(w)[i], true, false)));
      assert.ok(maxAbsDiff(gb.dataSync(), expected.dataSync()) <= 1e-5);
    });
  });

  it('SquaredDifference broadcasts its gradient like sub+square', () => {
    tf.tidy(() => {
      const a = tf.tensor2d(randArray(12, 4), [3, 4]);
      const b = tf.tensor2d(randArray(4, 5), [1, 4]);
      const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.squaredDifference(x, y)))([a, b]);
      const [ea, eb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.sub(x, y))))([a, b]);
      assert.deepEqual(gb.shape, [1, 4]);
      assert.ok(maxAbsDiff(ga.dataSync(), ea.dataSync()) <= 1e-6 && maxAbsDiff(gb.dataSync(), eb.dataSync()) <= 1e-6);
    });
  });

  it('topk values scatter their gradient back', () => {
    tf.tidy(() => {
      const x = tf.tensor2d([0.1, 0.9, 0.5, 0.3, 0.2, 0.8, 0.7, 0.4], [2, 4]);
      const w = tf.tensor2d([1, 2, 3, 4], [2, 2]);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.topk(t, 2).values, w)))(x);
      assert.deepEqual(Array.from(g.dataSync()), [0, 1, 2, 0, 0, 3, 4, 0]);
    });
  });

  it('where(greater(x, 0), …) and logSoftmax differentiate', () => {
    tf.tidy(() => {
      const x = tf.tensor1d([-2, -0.5, 0.5, 3]);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.where(tf.greater(t, 0), t, tf.mul(t, 0.1))))(x);
      assert.ok(maxAbsDiff(g.dataSync(), [0.1, 0.1, 1, 1]) <= 1e-6);
      const l = tf.tensor2d([0.2, -1, 3, 0.5, 0.5, 0.1], [2, 3]);
      const w = tf.tensor2d([1, 0, 2, 0, 1, 1], [2, 3]);
      const gl = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(t), w)))(l);
      const expected = tf.sub(w, tf.mul(tf.softmax(l), tf.sum(w, 1, true)));
      assert.ok(maxAbsDiff(gl.dataSync(), expected.dataSync()) <= 1e-5);
    });
  });
});
