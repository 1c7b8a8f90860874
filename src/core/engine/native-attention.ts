/**
 * DIN's MLP attention scorer (ctr/attention.ts, paper eq. 8's Attention(v_i, s_j)) as two tfjs kernels backed by
 * the native addon (native/mlp_attention.h): one pass over the [B, L] positions forward, one backward, instead of
 * ~30 tfjs kernels that each materialise an [B·L, A] tensor (profiled: the scorer was ~¾ of a GIST training step
 * on wasm). Registered on the wasm and cpu backends, whose tensors the addon reads and writes in place.
 *
 * Results: the native kernel sums in its own fixed order (the same on every ISA and thread count), tfjs's
 * kernels in theirs, so the two agree up to float rounding; which one ran is part of every training step's
 * pipeline key (`modelKernelName`). GIST_NATIVE=0 selects tfjs's; GIST_THREADS sets the kernel's threads.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeKernels, type NativeKernels } from '../retrieval/native.js';

export const MLP_ATTENTION = 'GistMlpAttention';
export const MLP_ATTENTION_GRAD = 'GistMlpAttentionGrad';

type KernelArgs = Parameters<tf.KernelFunc>[0];

const BACKENDS = ['wasm', 'cpu'] as const;
type Backend = (typeof BACKENDS)[number];

/** The cpu backend's data store; only the parts we touch (it is not exported as a type). */
interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

/** Reads inputs and allocates outputs on one backend; views are taken after every output exists (a wasm allocation may move the heap). */
interface Io {
  outputs(shapes: number[][]): tf.TensorInfo[];
  view(t: tf.TensorInfo): Float32Array;
}

function io(args: KernelArgs, backendName: Backend): Io {
  if (backendName === 'wasm') {
    const backend = args.backend as BackendWasm;
    return { outputs: (shapes) => shapes.map((s) => backend.makeOutput(s, 'float32')), view: (t) => backend.typedArrayFromHeap(t) as Float32Array };
  }
  const backend = args.backend as CpuBackendLike;
  return {
    outputs: (shapes) => shapes.map((s) => backend.makeTensorInfo(s, 'float32', new Float32Array(tf.util.sizeFromShape(s)))),
    view: (t) => backend.data.get(t.dataId).values as Float32Array,
  };
}

function input(args: KernelArgs, name: string): tf.TensorInfo {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`${MLP_ATTENTION}: input "${name}" is missing`);
  if (t.dtype !== 'float32') throw new Error(`${MLP_ATTENTION}: input "${name}" must be float32, got ${t.dtype}`);
  return t;
}

function optional(args: KernelArgs, name: string): tf.TensorInfo | null {
  return args.inputs[name] === undefined ? null : input(args, name);
}

/** [B, L, d, S, A, threads] from h [B, L, d], wh [d, A], side [B, L, S]?. */
function dims(h: tf.TensorInfo, wh: tf.TensorInfo, side: tf.TensorInfo | null, threads: unknown): Int32Array {
  const [B, L, d] = h.shape;
  const t = typeof threads === 'number' && threads >= 1 ? threads : 1;
  return Int32Array.from([B, L, d, side ? side.shape[2] : 0, wh.shape[1], t]);
}

function forwardKernel(native: NativeKernels, backendName: Backend): tf.KernelFunc {
  return (args) => {
    const [h, t, wh, wt, wp, b1, w2] = ['h', 't', 'wh', 'wt', 'wp', 'b1', 'w2'].map((n) => input(args, n));
    const side = optional(args, 'side');
    const ws = optional(args, 'ws');
    const D = dims(h, wh, side, args.attrs?.threads);
    const N = D[0] * D[1];
    const backend = io(args, backendName);
    const outs = backend.outputs([[D[0], D[1]], [N, D[4]]]); // scores [B, L], z [B·L, A]
    const v = (x: tf.TensorInfo | null): Float32Array | null => (x ? backend.view(x) : null);
    native.mlpAttentionForward(D, backend.view(h), backend.view(t), v(side), backend.view(wh), backend.view(wt), backend.view(wp), v(ws), backend.view(b1), backend.view(w2), backend.view(outs[0]), backend.view(outs[1]));
    return outs;
  };
}

function backwardKernel(native: NativeKernels, backendName: Backend): tf.KernelFunc {
  return (args) => {
    const [dy, h, t, z, wh, wt, wp, w2] = ['dy', 'h', 't', 'z', 'wh', 'wt', 'wp', 'w2'].map((n) => input(args, n));
    const side = optional(args, 'side');
    const ws = optional(args, 'ws');
    const D = dims(h, wh, side, args.attrs?.threads);
    const [, , d, S, A] = D;
    const backend = io(args, backendName);
    // dh, dt, dwh, dwt, dwp, db1, dw2, then dside, dws with side features
    const shapes = [h.shape, t.shape, [d, A], [d, A], [d, A], [A], [A, 1], ...(side ? [side.shape, [S, A]] : [])];
    const outs = backend.outputs(shapes);
    const o = outs.map((x) => backend.view(x));
    const v = (x: tf.TensorInfo | null): Float32Array | null => (x ? backend.view(x) : null);
    native.mlpAttentionBackward(D, backend.view(dy), backend.view(z), backend.view(h), backend.view(t), v(side), backend.view(wh), backend.view(wt), backend.view(wp), v(ws), backend.view(w2), o[0], o[1], side ? o[7] : null, o[2], o[3], o[4], side ? o[8] : null, o[5], o[6]);
    return outs;
  };
}

/** Registers both kernels on the wasm and cpu backends when the addon is loaded. Idempotent. */
export function registerNativeAttention(): void {
  const native = nativeKernels();
  if (!native) return;
  for (const backendName of BACKENDS) {
    for (const [kernelName, kernelFunc] of [
      [MLP_ATTENTION, forwardKernel(native, backendName)],
      [MLP_ATTENTION_GRAD, backwardKernel(native, backendName)],
    ] as const) {
      if (tf.getKernel(kernelName, backendName) === undefined) tf.registerKernel({ kernelName, backendName, kernelFunc });
    }
  }
}

/** Whether the current backend runs the scorer natively. */
export function nativeAttentionActive(): boolean {
  return nativeKernels() !== null && tf.getKernel(MLP_ATTENTION, tf.getBackend()) !== undefined;
}

/** Removes both kernels (tests and benchmarks compare against tfjs's scorer); registerNativeAttention restores them. */
export function unregisterNativeAttention(): void {
  for (const backendName of BACKENDS) for (const kernelName of [MLP_ATTENTION, MLP_ATTENTION_GRAD]) if (tf.getKernel(kernelName, backendName) !== undefined) tf.unregisterKernel(kernelName, backendName);
}
