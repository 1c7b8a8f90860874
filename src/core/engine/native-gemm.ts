/**
 * 2-D matMul on the native addon's GEMM (native/gemm.h) for the wasm backend's BatchMatMul and _FusedMatMul
 * (kernels.ts calls `nativeMatMul` first): 90–150 GFLOP/s on one core where XNNPACK's wasm kernel runs at 14–20,
 * with transposed operands read in place. Profiled first: the union model's [B, 4225] × [4225, H] layer was two
 * thirds of a `train-union` run. Every C element is one fused multiply-add chain in k order, on any ISA and thread
 * count (gemm.h); XNNPACK sums in another order, so the two agree up to float rounding (see modelKernelName).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeKernels, nativeThreads } from '../retrieval/native.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Products below this many multiply-adds stay on XNNPACK (the call and B's packing would not pay). */
export const NATIVE_GEMM_MIN_MACS = 16_384;

let enabled = true;
let calls = 0;

/** Products this process has run on the native GEMM (tests and diagnostics). */
export function nativeGemmCalls(): number {
  return calls;
}

/** Turns the native GEMM off or back on (benchmarks and tests compare against XNNPACK's). */
export function setNativeGemm(on: boolean): void {
  enabled = on;
}

/**
 * `op(a)·op(b)` (+ bias, relu when `fused`) on the native GEMM, or null when it does not apply: no addon, switched
 * off, not float32, a batched product, a product too small, or a fused activation other than linear/relu, a
 * bias other than one value per column, or PReLU weights.
 */
export function nativeMatMul(args: KernelArgs, fused: boolean): tf.TensorInfo | null {
  const native = enabled ? nativeKernels() : null;
  if (!native) return null;
  const a = args.inputs.a;
  const b = args.inputs.b;
  if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  if (tf.util.sizeFromShape(a.shape.slice(0, -2)) !== 1 || tf.util.sizeFromShape(b.shape.slice(0, -2)) !== 1) return null;
  const attrs = args.attrs ?? {};
  const ta = attrs.transposeA === true;
  const tb = attrs.transposeB === true;
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = ta ? ac : ar;
  const K = ta ? ar : ac;
  const N = tb ? br : bc;
  if ((tb ? bc : br) !== K || M * N * K < NATIVE_GEMM_MIN_MACS) return null;
  let relu = false;
  let bias: tf.TensorInfo | null = null;
  if (fused) {
    const activation = attrs.activation ?? 'linear';
    if (activation !== 'linear' && activation !== 'relu') return null;
    relu = activation === 'relu';
    if (args.inputs.preluActivationWeights) return null;
    bias = args.inputs.bias ?? null;
    if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== N || bias.shape[bias.shape.length - 1] !== N)) return null;
  }
  const backend = args.backend as BackendWasm;
  const rank = Math.max(a.shape.length, b.shape.length);
  const out = backend.makeOutput([...new Array<number>(rank - 2).fill(1), M, N], 'float32');
  // Views after makeOutput: an allocation may grow the heap and detach older views.
  const view = (t: tf.TensorInfo): Float32Array => backend.typedArrayFromHeap(t) as Float32Array;
  calls++;
  native.gemm(Int32Array.from([M, N, K, ta ? 1 : 0, tb ? 1 : 0, relu ? 1 : 0, nativeThreads()]), view(a), view(b), bias ? view(bias) : null, view(out));
  return out;
}
