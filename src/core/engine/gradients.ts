/**
 * Gradient definitions for the kernels gist models use.
 *
 * Why this exists: the Node bundle of @tensorflow/tfjs-core (what `import '@tensorflow/tfjs-core'`
 * loads) registers NO gradients — tfjs ships them only in the `@tensorflow/tfjs` umbrella (286 MB,
 * not a dependency) and the per-file ESM build, which plain Node cannot load (extensionless
 * imports). Without this module every `tf.grad` / `tf.variableGrads` fails with "gradient function
 * not found". Each definition follows the math of the corresponding TensorFlow gradient and is
 * checked against tfjs's own reference gradients in test/engine/gradients.test.ts.
 *
 * Covered: elementwise arithmetic with broadcasting, the usual activations, reductions
 * (Sum/Mean/Max/Min), shape ops (Reshape/ExpandDims/Transpose/Concat/Slice/Pack/Unpack/SplitV/
 * Tile/PadV2/Reverse), GatherV2 (embedding lookups), UnsortedSegmentSum, BatchMatMul, Softmax,
 * Select, Cumsum, TopK and zero gradients for non-differentiable ops. Not covered (throws
 * "gradient function not found"): convolutions/pooling, FusedBatchNorm (write norms with plain ops),
 * StridedSlice (use tf.slice), Prod, Einsum.
 */
import * as tf from '@tensorflow/tfjs-core';

type Grads = Record<string, () => tf.Tensor>;
type GradBody = (dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) => Grads;
type MultiGradBody = (dys: tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => Grads;

interface Save {
  inputs?: string[];
  outputs?: boolean[];
  all?: boolean;
}

function single(dy: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(dy) ? dy[0] : dy;
}

function def(kernelName: string, save: Save, body: GradBody): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: save.inputs,
    outputsToSave: save.outputs,
    saveAllInputs: save.all,
    gradFunc: (dy, saved, attrs) => body(single(dy), saved, attrs),
  };
}

function defMulti(kernelName: string, save: Save, body: MultiGradBody): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: save.inputs,
    outputsToSave: save.outputs,
    saveAllInputs: save.all,
    gradFunc: (dy, saved, attrs) => body(Array.isArray(dy) ? dy : [dy], saved, attrs),
  };
}

/** Keys '0', '1', ... as the tape expects for variadic inputs (Concat, AddN, Pack). */
function indexed(fns: (() => tf.Tensor)[]): Grads {
  const out: Grads = {};
  fns.forEach((f, i) => {
    out[String(i)] = f;
  });
  return out;
}

const f32 = (t: tf.Tensor): tf.Tensor => (t.dtype === 'float32' ? t : tf.cast(t, 'float32'));

/** Sums a gradient computed at the broadcast shape back down to an input's shape. */
function unbroadcast(g: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.broadcast_util.getReductionAxes(shape, g.shape);
  const r = axes.length > 0 ? tf.sum(g, axes) : g;
  return tf.reshape(r, shape);
}

function axesOf(attr: tf.NamedAttrMap[string] | undefined, shape: number[]): number[] {
  return tf.util.parseAxisParam(attr as number | number[], shape);
}

function num(attr: tf.NamedAttrMap[string] | undefined, fallback?: number): number {
  if (typeof attr === 'number') return attr;
  if (fallback !== undefined) return fallback;
  throw new Error(`expected a numeric attribute, got ${String(attr)}`);
}

function keepDimsShape(shape: number[], axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

const zeros =
  (x: tf.Tensor) =>
  (): tf.Tensor =>
    tf.zeros(x.shape, 'float32');

function binary(kernelName: string, da: (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor, db: (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor): tf.GradConfig {
  return def(kernelName, { inputs: ['a', 'b'] }, (dy, [a, b]) => ({
    a: () => unbroadcast(da(dy, a, b), a.shape),
    b: () => unbroadcast(db(dy, a, b), b.shape),
  }));
}

function unaryX(kernelName: string, dx: (dy: tf.Tensor, x: tf.Tensor, attrs: tf.NamedAttrMap) => tf.Tensor): tf.GradConfig {
  return def(kernelName, { inputs: ['x'] }, (dy, [x], attrs) => ({ x: () => dx(dy, f32(x), attrs) }));
}

function unaryY(kernelName: string, dx: (dy: tf.Tensor, y: tf.Tensor) => tf.Tensor): tf.GradConfig {
  return def(kernelName, { outputs: [true] }, (dy, [y]) => ({ x: () => dx(dy, y) }));
}

function zeroGrad(kernelName: string, inputs: string[]): tf.GradConfig {
  return def(kernelName, { inputs }, (_dy, saved) => {
    const out: Grads = {};
    inputs.forEach((name, i) => {
      out[name] = zeros(saved[i]);
    });
    return out;
  });
}

function minMaxGrad(kernelName: string): tf.GradConfig {
  return def(kernelName, { inputs: ['x'], outputs: [true] }, (dy, [x, y], attrs) => ({
    x: () => {
      const axes = axesOf(attrs.reductionIndices ?? attrs.axis, x.shape);
      const shape = keepDimsShape(x.shape, axes);
      const mask = f32(tf.equal(x, tf.reshape(y, shape)));
      return tf.mul(mask, tf.reshape(dy, shape));
    },
  }));
}

/** dA, dB of C = op(A)·op(B), computed at the broadcast batch shape. */
function matMulGrads(dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): [() => tf.Tensor, () => tf.Tensor] {
  let da: () => tf.Tensor;
  let db: () => tf.Tensor;
  if (!ta && !tb) {
    da = () => tf.matMul(dy, b, false, true);
    db = () => tf.matMul(a, dy, true, false);
  } else if (!ta && tb) {
    da = () => tf.matMul(dy, b, false, false);
    db = () => tf.matMul(dy, a, true, false);
  } else if (ta && !tb) {
    da = () => tf.matMul(b, dy, false, true);
    db = () => tf.matMul(a, dy, false, false);
  } else {
    da = () => tf.matMul(b, dy, true, true);
    db = () => tf.matMul(dy, a, true, true);
  }
  return [() => unbroadcast(da(), a.shape), () => unbroadcast(db(), b.shape)];
}

function gatherGrad(dy: tf.Tensor, x: tf.Tensor, indices: tf.Tensor, axisAttr: number, batchDims: number): tf.Tensor {
  if (batchDims !== 0) throw new Error('GatherV2 gradient: batchDims > 0 is not supported');
  const axis = tf.util.parseAxisParam(axisAttr, x.shape)[0];
  const n = indices.size;
  const flatIdx = tf.reshape(indices, [n]) as tf.Tensor1D;
  const outer = x.shape.slice(0, axis);
  const inner = x.shape.slice(axis + 1);
  const values = tf.reshape(dy, [...outer, n, ...inner]);
  if (axis === 0) return tf.unsortedSegmentSum(values, flatIdx, x.shape[0]);
  // Move the gathered axis to the front, segment-sum, and move it back.
  const perm = [axis, ...outer.map((_, i) => i), ...inner.map((_, i) => axis + 1 + i)];
  const summed = tf.unsortedSegmentSum(tf.transpose(values, perm), flatIdx, x.shape[axis]);
  const undo = perm.map((_, i) => perm.indexOf(i));
  return tf.transpose(summed, undo);
}

function buildGradients(): tf.GradConfig[] {
  const SELU_SCALE = 1.0507009873554804934193349852946;
  const SELU_SCALEALPHA = 1.7580993408473768599402175208123;
  return [
    // Elementwise binary (broadcasting).
    binary('Add', (dy) => dy, (dy) => dy),
    binary('Sub', (dy) => dy, (dy) => tf.neg(dy)),
    binary('Multiply', (dy, _a, b) => tf.mul(dy, f32(b)), (dy, a) => tf.mul(dy, f32(a))),
    binary(
      'RealDiv',
      (dy, _a, b) => tf.div(dy, f32(b)),
      (dy, a, b) => tf.neg(tf.div(tf.mul(dy, f32(a)), tf.square(f32(b)))),
    ),
    binary('Maximum', (dy, a, b) => tf.mul(dy, f32(tf.greaterEqual(a, b))), (dy, a, b) => tf.mul(dy, f32(tf.less(a, b)))),
    binary('Minimum', (dy, a, b) => tf.mul(dy, f32(tf.lessEqual(a, b))), (dy, a, b) => tf.mul(dy, f32(tf.greater(a, b)))),
    binary(
      'SquaredDifference',
      (dy, a, b) => tf.mul(dy, tf.mul(2, tf.sub(a, b))),
      (dy, a, b) => tf.mul(dy, tf.mul(2, tf.sub(b, a))),
    ),
    def('Pow', { inputs: ['a', 'b'], outputs: [true] }, (dy, [a, b, y]) => ({
      a: () => {
        const e = f32(b);
        return unbroadcast(tf.mul(dy, tf.mul(e, tf.pow(a, tf.sub(e, 1)))), a.shape);
      },
      b: () => {
        const logA = tf.where(tf.greater(a, 0), tf.log(a), tf.zerosLike(a));
        return unbroadcast(tf.mul(dy, tf.mul(y, logA)), b.shape);
      },
    })),
    def('AddN', { all: true }, (dy, saved) => indexed(saved.map(() => () => tf.clone(dy)))),

    // Elementwise unary.
    unaryX('Neg', (dy) => tf.neg(dy)),
    unaryY('Exp', (dy, y) => tf.mul(dy, y)),
    unaryX('Expm1', (dy, x) => tf.mul(dy, tf.exp(x))),
    unaryX('Log', (dy, x) => tf.div(dy, x)),
    unaryX('Log1p', (dy, x) => tf.div(dy, tf.add(x, 1))),
    unaryX('Sqrt', (dy, x) => tf.div(dy, tf.mul(tf.sqrt(x), 2))),
    unaryX('Rsqrt', (dy, x) => tf.div(dy, tf.neg(tf.mul(tf.pow(x, 1.5), 2)))),
    unaryX('Square', (dy, x) => tf.mul(dy, tf.mul(x, 2))),
    unaryX('Reciprocal', (dy, x) => tf.neg(tf.div(dy, tf.square(x)))),
    unaryX('Abs', (dy, x) => tf.mul(dy, tf.sign(x))),
    unaryY('Sigmoid', (dy, y) => tf.mul(dy, tf.mul(y, tf.sub(1, y)))),
    unaryY('Tanh', (dy, y) => tf.mul(dy, tf.sub(1, tf.square(y)))),
    unaryX('Softplus', (dy, x) => tf.mul(dy, tf.sigmoid(x))),
    unaryX('Relu', (dy, x) => tf.mul(dy, f32(tf.greater(x, 0)))),
    unaryX('Relu6', (dy, x) => tf.mul(dy, f32(tf.logicalAnd(tf.greater(x, 0), tf.lessEqual(x, 6))))),
    unaryX('LeakyRelu', (dy, x, attrs) => tf.where(tf.greater(x, 0), dy, tf.mul(dy, num(attrs.alpha, 0.2)))),
    unaryY('Elu', (dy, y) => tf.where(tf.greaterEqual(y, 0), dy, tf.mul(dy, tf.add(y, 1)))),
    unaryX('Selu', (dy, x) => tf.where(tf.greater(x, 0), tf.mul(dy, SELU_SCALE), tf.mul(tf.mul(dy, SELU_SCALEALPHA), tf.exp(x)))),
    unaryX('Erf', (dy, x) => tf.mul(dy, tf.mul(2 / Math.sqrt(Math.PI), tf.exp(tf.neg(tf.square(x)))))),
    unaryX('Sin', (dy, x) => tf.mul(dy, tf.cos(x))),
    unaryX('Cos', (dy, x) => tf.neg(tf.mul(dy, tf.sin(x)))),
    unaryX('ClipByValue', (dy, x, attrs) =>
      tf.where(tf.logicalAnd(tf.greaterEqual(x, num(attrs.clipValueMin)), tf.lessEqual(x, num(attrs.clipValueMax))), dy, tf.zerosLike(dy)),
    ),
    def('Prelu', { inputs: ['x', 'alpha'] }, (dy, [x, alpha]) => {
      const pos = () => tf.greater(x, 0);
      return {
        x: () => tf.where(pos(), dy, tf.mul(dy, alpha)),
        alpha: () => unbroadcast(tf.where(pos(), tf.zerosLike(dy), tf.mul(dy, x)), alpha.shape),
      };
    }),
    def('Identity', {}, (dy) => ({ x: () => tf.clone(dy) })),
    def('Cast', {}, (dy) => ({ x: () => tf.clone(dy) })),

    // Reductions.
    def('Sum', { inputs: ['x'] }, (dy, [x], attrs) => ({
      x: () => tf.broadcastTo(tf.reshape(dy, keepDimsShape(x.shape, axesOf(attrs.axis, x.shape))), x.shape),
    })),
    def('Mean', { inputs: ['x'] }, (dy, [x], attrs) => ({
      x: () => {
        const axes = axesOf(attrs.axis, x.shape);
        const count = axes.reduce((n, a) => n * x.shape[a], 1);
        // Divide before broadcasting: same values, far fewer elements.
        return tf.broadcastTo(tf.div(tf.reshape(dy, keepDimsShape(x.shape, axes)), count), x.shape);
      },
    })),
    minMaxGrad('Max'),
    minMaxGrad('Min'),
    def('Softmax', { outputs: [true] }, (dy, [y], attrs) => ({
      logits: () => {
        const dyY = tf.mul(dy, y);
        return tf.sub(dyY, tf.mul(tf.sum(dyY, [num(attrs.dim, -1)], true), y));
      },
    })),
    def('Cumsum', {}, (dy, _saved, attrs) => ({
      x: () => tf.cumsum(dy, num(attrs.axis), attrs.exclusive === true, attrs.reverse !== true),
    })),

    // Shape ops.
    def('Reshape', { inputs: ['x'] }, (dy, [x]) => ({ x: () => tf.reshape(dy, x.shape) })),
    def('ExpandDims', { inputs: ['input'] }, (dy, [x]) => ({ input: () => tf.reshape(dy, x.shape) })),
    def('Transpose', {}, (dy, _saved, attrs) => {
      const perm = attrs.perm as number[];
      return { x: () => tf.transpose(dy, perm.map((_, i) => perm.indexOf(i))) };
    }),
    def('Concat', { all: true }, (dy, saved, attrs) => {
      const axis = tf.util.parseAxisParam(num(attrs.axis), saved[0].shape)[0];
      const parts = tf.split(dy, saved.map((t) => t.shape[axis]), axis);
      return indexed(parts.map((p) => () => p));
    }),
    def('Slice', { inputs: ['x'] }, (dy, [x], attrs) => ({
      x: () => {
        const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin as number | number[], attrs.size as number | number[]);
        return tf.pad(dy, x.shape.map((d, i): [number, number] => [begin[i], d - begin[i] - size[i]]));
      },
    })),
    def('PadV2', { inputs: ['x'] }, (dy, [x], attrs) => ({
      x: () => tf.slice(dy, (attrs.paddings as [number, number][]).map((p) => p[0]), x.shape),
    })),
    def('Pack', { all: true }, (dy, _saved, attrs) => indexed(tf.unstack(dy, num(attrs.axis, 0)).map((p) => () => p))),
    defMulti('Unpack', {}, (dys, _saved, attrs) => ({ value: () => tf.stack(dys, num(attrs.axis, 0)) })),
    defMulti('SplitV', {}, (dys, _saved, attrs) => ({ x: () => tf.concat(dys, num(attrs.axis, 0)) })),
    def('Tile', { inputs: ['x'] }, (dy, [x], attrs) => ({
      x: () => {
        // Output dim i of size reps[i]·s[i] is laid out as [reps[i], s[i]]: sum the reps axes.
        const reps = attrs.reps as number[];
        const split: number[] = [];
        x.shape.forEach((s, i) => split.push(reps[i], s));
        return tf.reshape(tf.sum(tf.reshape(dy, split), x.shape.map((_, i) => 2 * i)), x.shape);
      },
    })),
    def('Reverse', {}, (dy, _saved, attrs) => ({ x: () => tf.reverse(dy, attrs.dims as number | number[]) })),
    def('Select', { inputs: ['condition'] }, (dy, [cond]) => ({
      condition: () => tf.zeros(cond.shape, 'float32'),
      t: () => tf.mul(dy, f32(cond)),
      e: () => tf.mul(dy, f32(tf.logicalNot(cond))),
    })),

    // Lookups and segment ops.
    def('GatherV2', { inputs: ['x', 'indices'] }, (dy, [x, indices], attrs) => ({
      x: () => gatherGrad(dy, x, indices, num(attrs.axis, 0), num(attrs.batchDims, 0)),
      indices: () => tf.zeros(indices.shape, 'float32'),
    })),
    def('UnsortedSegmentSum', { inputs: ['segmentIds'] }, (dy, [ids]) => ({
      x: () => {
        const zero = tf.scalar(0, 'int32'); // a bare 0 would upcast the ids to float32
        const valid = tf.greaterEqual(ids, zero);
        const rows = tf.gather(dy, tf.maximum(ids, zero));
        const mask = tf.reshape(valid, [...ids.shape, ...new Array<number>(rows.rank - ids.rank).fill(1)]);
        return tf.mul(rows, f32(mask));
      },
      segmentIds: () => tf.zeros(ids.shape, 'float32'),
    })),
    defMulti('TopK', { inputs: ['x'], outputs: [false, true] }, ([dValues], [x, indices]) => ({
      x: () => {
        const n = x.shape[x.rank - 1];
        const k = indices.shape[indices.rank - 1];
        const batch = x.size / n;
        const offsets = tf.reshape(tf.mul(tf.range(0, batch, 1, 'int32'), tf.scalar(n, 'int32')), [batch, 1]);
        const flatIdx = tf.reshape(tf.add(tf.reshape(indices, [batch, k]), offsets), [batch * k]) as tf.Tensor1D;
        return tf.reshape(tf.unsortedSegmentSum(tf.reshape(dValues, [batch * k]), flatIdx, batch * n), x.shape);
      },
    })),

    // Linear algebra.
    def('BatchMatMul', { inputs: ['a', 'b'] }, (dy, [a, b], attrs) => {
      const [da, db] = matMulGrads(dy, a, b, attrs.transposeA === true, attrs.transposeB === true);
      return { a: da, b: db };
    }),

    // Non-differentiable ops that can still sit on a gradient path (masks, casts of indices).
    ...['Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal', 'NotEqual', 'LogicalAnd', 'LogicalOr', 'FloorDiv', 'Mod'].map((k) =>
      zeroGrad(k, ['a', 'b']),
    ),
    ...['LogicalNot', 'Floor', 'Ceil', 'Round', 'Sign', 'Step', 'IsNan', 'IsInf', 'IsFinite', 'ZerosLike', 'OnesLike'].map((k) =>
      zeroGrad(k, ['x']),
    ),
    ...['ArgMax', 'ArgMin'].map((k) => zeroGrad(k, ['x'])),
    zeroGrad('OneHot', ['indices']),
  ];
}

/** Names of the kernels this module provides gradients for. */
export const GRADIENT_KERNELS: readonly string[] = buildGradients().map((g) => g.kernelName);

/**
 * Registers our gradients. By default only where none is registered (so a full tfjs, e.g. the one
 * tfjs-node brings, keeps its own); `override: true` replaces existing ones. Idempotent.
 */
export function registerGradients(opts: { override?: boolean } = {}): void {
  for (const g of buildGradients()) {
    const existing = tf.getGradient(g.kernelName) as tf.GradConfig | undefined;
    if (existing !== undefined && !opts.override) continue;
    if (existing !== undefined) tf.unregisterGradient(g.kernelName);
    tf.registerGradient(g);
  }
}
