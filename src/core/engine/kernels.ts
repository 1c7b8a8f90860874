/**
 * Kernel fixes for the stock tfjs wasm backend (4.22), registered over the originals with
 * `registerKernel`:
 *
 * - `UnsortedSegmentSum`: missing on wasm, so the gradient of `tf.gather` (every embedding lookup)
 *   throws. JS implementation, one pass over the input rows.
 * - `GatherV2`: the stock kernel is ~10× slower than a row copy. JS row copy for axis 0 /
 *   batchDims 0 (float32, int32); anything else goes to the stock kernel.
 * - `BatchMatMul`: for a single (non-batched) product, `transposeA`/`transposeB` make the stock
 *   kernel 10–40× slower than on pre-transposed operands, and every matMul gradient uses those
 *   flags. We transpose the operand explicitly (wasm Transpose kernel) and call the stock kernel
 *   with the flags off. Batched products are left alone (no gain measured).
 * - `Tile` (also behind `broadcastTo`, and so behind the gradients of sum/mean): the stock kernel
 *   took 155 ms to expand [1024, 1, 32] to [1024, 100, 32]; block copies take a few ms.
 * - `Identity`: shares the buffer instead of copying it (the engine clones every tensor it saves
 *   for backprop through Identity).
 * - `_FusedMatMul`: same pre-transposition (the stock kernel also gives WRONG values with the
 *   flags), plus a workaround for wrong bias placement when batch > 1 (see makeFusedMatMul).
 * - Both matMul kernels first try the native addon's GEMM for 2-D products (native-gemm.ts).
 *
 * The same `UnsortedSegmentSum` is also offered for the cpu backend (`registerCpuKernelFixes`),
 * whose stock kernel loops once per output segment over all input rows.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeMatMul } from './native-gemm.js';
import { nativeKernels } from '../retrieval/native.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type NumericArray = Float32Array | Int32Array;

/** Marker so re-registration is idempotent and the originals are never lost. */
const FIXED = Symbol('gist-kernel-fix');
type MarkedConfig = tf.KernelConfig & { [FIXED]?: tf.KernelConfig };

/** The cpu backend's data store; only the parts we touch (it is not exported as a type). */
interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

function input(args: KernelArgs, name: string): tf.TensorInfo {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`kernel input "${name}" is missing`);
  return t;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * out[seg[i], :] += x[i, :] for every i, skipping ids outside [0, numSegments) as TF does.
 * `out` must be zero-filled by the caller.
 */
function segmentSumInto(x: NumericArray, seg: NumericArray, inner: number, numSegments: number, out: NumericArray): void {
  const native = nativeKernels();
  // The addon's loop does the same float32 adds in the same order (rows.h): the same bits, ~3× faster.
  if (native && x instanceof Float32Array && out instanceof Float32Array && seg instanceof Int32Array) return native.segmentSum(x, seg, inner, numSegments, out);
  const n = seg.length;
  if (inner === 1) {
    for (let i = 0; i < n; i++) {
      const s = seg[i];
      if (s >= 0 && s < numSegments) out[s] += x[i];
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const s = seg[i];
    if (s < 0 || s >= numSegments) continue;
    const o = s * inner;
    const xi = i * inner;
    for (let j = 0; j < inner; j++) out[o + j] += x[xi + j];
  }
}

function segmentOutShape(x: tf.TensorInfo, segmentIds: tf.TensorInfo, numSegments: number): number[] {
  return [numSegments, ...x.shape.slice(segmentIds.shape.length)];
}

function checkNumSegments(attrs: tf.NamedAttrMap | undefined): number {
  const numSegments = attrs?.numSegments;
  if (typeof numSegments !== 'number' || !Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`UnsortedSegmentSum: numSegments must be a non-negative integer, got ${String(numSegments)}`);
  }
  return numSegments;
}

/** Inputs and sizes both UnsortedSegmentSum kernels need, validated once. */
function segmentSumArgs(args: KernelArgs): { x: tf.TensorInfo; segmentIds: tf.TensorInfo; numSegments: number; nIds: number; inner: number } {
  const x = input(args, 'x');
  const segmentIds = input(args, 'segmentIds');
  const numSegments = checkNumSegments(args.attrs);
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`UnsortedSegmentSum: dtype ${x.dtype} not supported`);
  const nIds = sizeOf(segmentIds.shape);
  return { x, segmentIds, numSegments, nIds, inner: nIds === 0 ? 0 : sizeOf(x.shape) / nIds };
}

function wasmUnsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, segmentIds, numSegments, nIds, inner } = segmentSumArgs(args);
  const out = backend.makeOutput(segmentOutShape(x, segmentIds, numSegments), x.dtype);
  // Views are taken after makeOutput: allocating may grow the heap and detach older views.
  const outVals = backend.typedArrayFromHeap(out) as NumericArray;
  outVals.fill(0); // the wasm allocator does not zero memory
  if (nIds > 0) {
    const xVals = backend.typedArrayFromHeap(x) as NumericArray;
    const segVals = backend.typedArrayFromHeap(segmentIds) as NumericArray;
    segmentSumInto(xVals, segVals, inner, numSegments, outVals);
  }
  return out;
}

function cpuUnsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as CpuBackendLike;
  const { x, segmentIds, numSegments, nIds, inner } = segmentSumArgs(args);
  const shape = segmentOutShape(x, segmentIds, numSegments);
  const outVals = x.dtype === 'int32' ? new Int32Array(sizeOf(shape)) : new Float32Array(sizeOf(shape));
  if (nIds > 0) {
    const xVals = backend.data.get(x.dataId).values as NumericArray;
    const segVals = backend.data.get(segmentIds.dataId).values as NumericArray;
    segmentSumInto(xVals, segVals, inner, numSegments, outVals);
  }
  return backend.makeTensorInfo(shape, x.dtype, outVals);
}

/**
 * out[i, :] = x[idx[i], :]: the addon's row copy when it is loaded (rows.h), else JS (subarray() allocates a view
 * per row, so short rows use a plain loop).
 */
export function copyRows(x: NumericArray, idx: Int32Array, rowSize: number, out: NumericArray): void {
  const native = nativeKernels();
  if (native && rowSize > 0 && x.constructor === out.constructor) return native.gatherRows(x, idx, rowSize, out);
  const n = idx.length;
  if (rowSize > 64) {
    for (let i = 0; i < n; i++) {
      const s = idx[i] * rowSize;
      out.set(x.subarray(s, s + rowSize), i * rowSize);
    }
    return;
  }
  for (let i = 0, o = 0; i < n; i++) {
    const s = idx[i] * rowSize;
    for (let j = 0; j < rowSize; j++) out[o++] = x[s + j];
  }
}

/**
 * The stock wasm Identity copies the buffer, and the engine clones (Identity) every tensor it
 * saves for backprop, so each training step copied all saved activations. Tensor data is
 * immutable in tfjs, so sharing the buffer with a reference count is safe (the cpu backend and
 * the wasm Reshape kernel do the same).
 */
function makeWasmIdentity(stock: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const x = input(args, 'x');
    if (x.dtype === 'string') return stock(args);
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

function makeWasmGather(stock: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const backend = args.backend as BackendWasm;
    const x = input(args, 'x');
    const indices = input(args, 'indices');
    const axisAttr = args.attrs?.axis;
    const batchDims = args.attrs?.batchDims ?? 0;
    const axis = typeof axisAttr === 'number' ? (axisAttr < 0 ? axisAttr + x.shape.length : axisAttr) : 0;
    if (axis !== 0 || batchDims !== 0 || (x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') {
      return stock(args);
    }
    const numRows = x.shape[0];
    const rowSize = sizeOf(x.shape.slice(1));
    const checkIdx = backend.typedArrayFromHeap(indices) as Int32Array;
    for (let i = 0; i < checkIdx.length; i++) {
      const r = checkIdx[i];
      if (r < 0 || r >= numRows) throw new Error(`GatherV2: the index value ${r} is not in [0, ${numRows - 1}]`);
    }
    // Counted before makeOutput: growing the heap detaches checkIdx (its length would read 0).
    const numIndices = checkIdx.length;
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    if (numIndices === 0 || rowSize === 0) return out;
    // Fresh views: makeOutput may have grown (and detached) the heap.
    const outVals = backend.typedArrayFromHeap(out) as NumericArray;
    const xVals = backend.typedArrayFromHeap(x) as NumericArray;
    const idx = backend.typedArrayFromHeap(indices) as Int32Array;
    copyRows(xVals, idx, rowSize, outVals);
    return out;
  };
}

type HeapArray = Float32Array | Int32Array | Uint8Array;

/**
 * out = tile(x, reps), filled block by block: the first repetition of each block is built
 * recursively, the others are copyWithin() duplicates (doubling), so the work is one memcpy of
 * the output plus O(blocks) calls.
 */
function tileInto(x: HeapArray, xShape: number[], reps: number[], out: HeapArray): void {
  const r = xShape.length;
  const xStride = new Array<number>(r);
  const oStride = new Array<number>(r);
  let xs = 1;
  let os = 1;
  for (let d = r - 1; d >= 0; d--) {
    xStride[d] = xs;
    oStride[d] = os;
    xs *= xShape[d];
    os *= xShape[d] * reps[d];
  }
  const replicate = (start: number, len: number, times: number): void => {
    let done = len;
    const total = len * times;
    while (done < total) {
      const n = Math.min(done, total - done);
      out.copyWithin(start + done, start, start + n);
      done += n;
    }
  };
  const fill = (d: number, src: number, dst: number): void => {
    const size = xShape[d];
    if (d === r - 1) {
      for (let i = 0; i < size; i++) out[dst + i] = x[src + i];
    } else {
      for (let i = 0; i < size; i++) fill(d + 1, src + i * xStride[d], dst + i * oStride[d]);
    }
    if (reps[d] > 1) replicate(dst, size * oStride[d], reps[d]);
  };
  if (r === 0) {
    out[0] = x[0];
    return;
  }
  fill(0, 0, 0);
}

function makeWasmTile(stock: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const x = input(args, 'x');
    const reps = args.attrs?.reps;
    if (x.dtype === 'string' || !Array.isArray(reps) || reps.length !== x.shape.length) return stock(args);
    const backend = args.backend as BackendWasm;
    const repsN = reps as number[];
    const out = backend.makeOutput(
      x.shape.map((d, i) => d * repsN[i]),
      x.dtype,
    );
    if (sizeOf(out.shape) === 0) return out;
    const outVals = backend.typedArrayFromHeap(out) as HeapArray;
    const xVals = backend.typedArrayFromHeap(x) as HeapArray;
    tileInto(xVals, x.shape, repsN, outVals);
    return out;
  };
}

/** Swaps the last two axes with the stock wasm Transpose kernel; the caller disposes the result. */
function transposeLast2(x: tf.TensorInfo, backend: BackendWasm, transpose: tf.KernelFunc): tf.TensorInfo {
  const r = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return transpose({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}

/** Runs `run` on a and b with any transposeA/transposeB applied explicitly, freeing the copies. */
function callPreTransposed(
  args: KernelArgs,
  transpose: tf.KernelFunc,
  run: (a: tf.TensorInfo, b: tf.TensorInfo) => tf.TensorInfo,
): tf.TensorInfo {
  const attrs = args.attrs ?? {};
  const ta = attrs.transposeA === true;
  const tb = attrs.transposeB === true;
  const backend = args.backend as BackendWasm;
  const a = input(args, 'a');
  const b = input(args, 'b');
  if (!ta && !tb) return run(a, b);
  const at = ta ? transposeLast2(a, backend, transpose) : a;
  const bt = tb ? transposeLast2(b, backend, transpose) : b;
  try {
    return run(at, bt);
  } finally {
    if (ta) backend.disposeData(at.dataId);
    if (tb) backend.disposeData(bt.dataId);
  }
}

/**
 * The stock wasm matMul caches its packed right operand by tensor id alone. A tensor whose buffer is
 * reused under another [k, n] shape (a reshape, or our buffer-sharing Identity) would then be
 * multiplied with stale packed weights — silently wrong numbers. So the first [k, n] seen per buffer
 * is remembered, and a buffer met again with another shape is passed as a fresh copy.
 */
const rhsShapes = new WeakMap<object, string>();

function withStableRhs(stock: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const b = args.inputs.b as tf.TensorInfo | undefined;
    if (b === undefined) return stock(args);
    const key = b.shape.slice(-2).join('x');
    const seen = rhsShapes.get(b.dataId);
    if (seen === undefined) rhsShapes.set(b.dataId, key);
    if (seen === undefined || seen === key) return stock(args);
    const backend = args.backend as BackendWasm;
    const copy = backend.makeOutput([...b.shape], b.dtype);
    (backend.typedArrayFromHeap(copy) as NumericArray).set(backend.typedArrayFromHeap(b) as NumericArray);
    try {
      return stock({ ...args, inputs: { ...args.inputs, b: copy } });
    } finally {
      backend.disposeData(copy.dataId);
    }
  };
}

function makeBatchMatMul(stockKernelFunc: tf.KernelFunc, transpose: tf.KernelFunc): tf.KernelFunc {
  const stock = withStableRhs(stockKernelFunc);
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const native = nativeMatMul(args, false);
    if (native) return native;
    const attrs = args.attrs ?? {};
    if (attrs.transposeA !== true && attrs.transposeB !== true) return stock(args);
    // Only the single-matrix (XNNPACK) path is slow with the flags; the batched path handles them
    // by strides and measured no faster (sometimes slower) with an explicit transpose.
    const a = input(args, 'a');
    const b = input(args, 'b');
    if (sizeOf(a.shape.slice(0, -2)) > 1 || sizeOf(b.shape.slice(0, -2)) > 1) return stock(args);
    return callPreTransposed(args, transpose, (a, b) =>
      stock({ inputs: { a, b }, backend: args.backend, attrs: { ...attrs, transposeA: false, transposeB: false } }) as tf.TensorInfo,
    );
  };
}

/** Fused activations as separate wasm kernels (for the decomposed path below). */
function applyActivation(x: tf.TensorInfo, args: KernelArgs): tf.TensorInfo {
  const activation = args.attrs?.activation ?? 'linear';
  const kernels: Record<string, string> = { relu: 'Relu', relu6: 'Relu6', elu: 'Elu', sigmoid: 'Sigmoid', leakyrelu: 'LeakyRelu', prelu: 'Prelu' };
  if (activation === 'linear') return x;
  const name = kernels[String(activation)];
  const k = name === undefined ? undefined : tf.getKernel(name, 'wasm');
  if (k === undefined) throw new Error(`_FusedMatMul: activation ${String(activation)} not supported on wasm`);
  const inputs: tf.NamedTensorInfoMap = { x };
  if (name === 'Prelu') inputs.alpha = input(args, 'preluActivationWeights');
  return k.kernelFunc({ inputs, backend: args.backend, attrs: { alpha: args.attrs?.leakyreluAlpha ?? 0.2 } }) as tf.TensorInfo;
}

/**
 * _FusedMatMul: pre-transposes like BatchMatMul, and works around a stock bug: with a bias, a
 * batch > 1 and more than one row per batch, the stock kernel adds the bias to the wrong
 * elements. When b is shared across the batch we fold the batch into the rows (one big 2-D
 * product, also faster); otherwise we run matMul, Add and the activation as separate kernels.
 */
function makeFusedMatMul(stockKernelFunc: tf.KernelFunc, transpose: tf.KernelFunc): tf.KernelFunc {
  const stock = withStableRhs(stockKernelFunc);
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const native = nativeMatMul(args, true);
    if (native) return native;
    const attrs = args.attrs ?? {};
    const backend = args.backend as BackendWasm;
    const bias = args.inputs.bias;
    const prelu = args.inputs.preluActivationWeights;
    const flagsOff = { ...attrs, transposeA: false, transposeB: false };
    return callPreTransposed(args, transpose, (a, b) => {
      const batchA = sizeOf(a.shape.slice(0, -2));
      const batchB = sizeOf(b.shape.slice(0, -2));
      const m = a.shape[a.shape.length - 2];
      const buggy = (bias != null || prelu != null) && Math.max(batchA, batchB) > 1 && m > 1;
      if (!buggy) return stock({ inputs: { ...args.inputs, a, b }, backend, attrs: flagsOff }) as tf.TensorInfo;
      if (batchB === 1 && (prelu == null || prelu.shape.length <= 1)) {
        const k = a.shape[a.shape.length - 1];
        const n = b.shape[b.shape.length - 1];
        // Same data, viewed as one [batchA·m, k] matrix: no copy, no refcount change needed.
        const a2: tf.TensorInfo = { dataId: a.dataId, shape: [1, batchA * m, k], dtype: a.dtype };
        const b2: tf.TensorInfo = { dataId: b.dataId, shape: [1, b.shape[b.shape.length - 2], n], dtype: b.dtype };
        const out = stock({ inputs: { ...args.inputs, a: a2, b: b2 }, backend, attrs: flagsOff }) as tf.TensorInfo;
        out.shape = [...a.shape.slice(0, -2), m, n];
        return out;
      }
      const add = tf.getKernel('Add', 'wasm');
      const product = stock({ inputs: { a, b }, backend, attrs: { ...flagsOff, activation: 'linear' } }) as tf.TensorInfo;
      let out = product;
      if (bias != null) {
        out = add.kernelFunc({ inputs: { a: product, b: bias }, backend }) as tf.TensorInfo;
        backend.disposeData(product.dataId);
      }
      const activated = applyActivation(out, args);
      if (activated !== out) backend.disposeData(out.dataId);
      return activated;
    });
  };
}

function stockKernel(config: tf.KernelConfig | undefined): tf.KernelConfig | undefined {
  if (config === undefined) return undefined;
  return FIXED in config ? (config as MarkedConfig)[FIXED] : config;
}

/** Replaces (or adds) a kernel, remembering the stock config so it can be restored. */
function install(kernelName: string, backendName: string, kernelFunc: tf.KernelFunc, stock: tf.KernelConfig | undefined): void {
  const current = tf.getKernel(kernelName, backendName) as MarkedConfig | undefined;
  if (current !== undefined) tf.unregisterKernel(kernelName, backendName);
  const config: MarkedConfig = {
    kernelName,
    backendName,
    kernelFunc,
    // Stock kernels cache their cwrap'd wasm functions in setup; keep running it if the backend
    // is ever re-initialised with our config in place.
    setupFunc: stock?.setupFunc,
    disposeFunc: stock?.disposeFunc,
  };
  config[FIXED] = stock; // set even when undefined: the key marks the config as ours
  tf.registerKernel(config);
}

function restore(kernelName: string, backendName: string): void {
  const current = tf.getKernel(kernelName, backendName) as MarkedConfig | undefined;
  if (current === undefined || !(FIXED in current)) return;
  const stock = current[FIXED];
  tf.unregisterKernel(kernelName, backendName);
  if (stock !== undefined) tf.registerKernel(stock);
}

const WASM_FIXED = ['UnsortedSegmentSum', 'GatherV2', 'Tile', 'Identity', 'BatchMatMul', '_FusedMatMul'] as const;

/**
 * Installs the wasm fixes. Call after the wasm backend is initialised (`tf.setBackend('wasm')`)
 * so the stock kernels' setup has run. Idempotent.
 */
export function registerWasmKernelFixes(): void {
  const transpose = stockKernel(tf.getKernel('Transpose', 'wasm'));
  if (transpose === undefined) throw new Error('wasm backend kernels are not registered (import @tensorflow/tfjs-backend-wasm first)');
  const segStock = stockKernel(tf.getKernel('UnsortedSegmentSum', 'wasm'));
  install('UnsortedSegmentSum', 'wasm', wasmUnsortedSegmentSum, segStock);
  const gather = stockKernel(tf.getKernel('GatherV2', 'wasm'));
  if (gather !== undefined) install('GatherV2', 'wasm', makeWasmGather(gather.kernelFunc), gather);
  const tile = stockKernel(tf.getKernel('Tile', 'wasm'));
  if (tile !== undefined) install('Tile', 'wasm', makeWasmTile(tile.kernelFunc), tile);
  const identity = stockKernel(tf.getKernel('Identity', 'wasm'));
  if (identity !== undefined) install('Identity', 'wasm', makeWasmIdentity(identity.kernelFunc), identity);
  const bmm = stockKernel(tf.getKernel('BatchMatMul', 'wasm'));
  if (bmm !== undefined) install('BatchMatMul', 'wasm', makeBatchMatMul(bmm.kernelFunc, transpose.kernelFunc), bmm);
  const fused = stockKernel(tf.getKernel('_FusedMatMul', 'wasm'));
  if (fused !== undefined) install('_FusedMatMul', 'wasm', makeFusedMatMul(fused.kernelFunc, transpose.kernelFunc), fused);
}

/** Puts the stock wasm kernels back (benchmarks and tests compare against them). */
export function unregisterWasmKernelFixes(): void {
  for (const name of WASM_FIXED) restore(name, 'wasm');
  // UnsortedSegmentSum had no stock wasm kernel: restore() leaves nothing registered.
}

/** Installs the O(rows) `UnsortedSegmentSum` on the cpu backend. Idempotent. */
export function registerCpuKernelFixes(): void {
  const stock = stockKernel(tf.getKernel('UnsortedSegmentSum', 'cpu'));
  install('UnsortedSegmentSum', 'cpu', cpuUnsortedSegmentSum, stock);
}

/** Puts the stock cpu `UnsortedSegmentSum` back. */
export function unregisterCpuKernelFixes(): void {
  restore('UnsortedSegmentSum', 'cpu');
}

/** Whether `kernelName` on `backendName` is currently one of ours. */
export function isKernelFixed(kernelName: string, backendName: string): boolean {
  const current = tf.getKernel(kernelName, backendName) as MarkedConfig | undefined;
  return current !== undefined && FIXED in current;
}
