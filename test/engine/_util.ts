/** Shared helpers for the engine tests (not a test file: the glob only runs *.test.ts). */
import * as tf from '@tensorflow/tfjs-core';
import { makeRng } from '../../src/core/rng.js';

/** Deterministic uniform data in [lo, hi). */
export function randArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = makeRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.next();
  return out;
}

export function randInts(n: number, max: number, seed: number): Int32Array {
  const rng = makeRng(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(max);
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

/** Runs f on the given backend and returns every output's values (tensors are disposed). */
export async function onBackend(name: string, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(name);
  const outs = f();
  const vals = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  return vals;
}
