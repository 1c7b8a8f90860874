import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/engine/backend.js';
import { nativeAttentionActive, registerNativeAttention, unregisterNativeAttention } from '../../src/core/engine/native-attention.js';
import { modelKernelName } from '../../src/core/retrieval/native.js';
import { nativeKernels } from '../../src/core/retrieval/native.js';
import { attentionOutputs, digest, digestsByThreads, DIGEST_CASE, gemmOutputs, rowsOutputs, type AttentionCase } from './_native-digest.js';
import { maxAbsDiff } from './_util.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** max |a − b| ÷ max |b| over each output: the native and tfjs kernels sum in different orders. */
function relativeDiffs(a: Float32Array[], b: Float32Array[]): number[] {
  return a.map((x, i) => maxAbsDiff(x, b[i]) / Math.max(1e-6, ...Array.from(b[i], Math.abs)));
}

/** Outputs with the native scorer, then with tfjs's (kernels removed for the call). */
function nativeAndTfjs(c: AttentionCase): { names: string[]; native: Float32Array[]; tfjs: Float32Array[] } {
  assert.ok(nativeAttentionActive(), 'native attention is not active');
  const { names, values: native } = attentionOutputs(c);
  unregisterNativeAttention();
  try {
    assert.ok(!nativeAttentionActive());
    return { names, native, tfjs: attentionOutputs(c).values };
  } finally {
    registerNativeAttention();
  }
}

const CASES: [string, AttentionCase][] = [
  ['ASI side features; B, L, A not multiples of the chunk, group or vector width', DIGEST_CASE],
  ['no side features, exact multiples', { B: 32, L: 8, d: 16, A: 32, S: 0 }],
  ['one sample, two positions', { B: 1, L: 2, d: 3, A: 5, S: 2 }],
];

for (const backend of ['wasm', 'cpu'] as const) {
  for (const [what, c] of CASES) {
    test(`native MLP attention on ${backend} = tfjs's scorer up to rounding, values and every gradient (${what})`, async () => {
      await initBackend(backend);
      assert.match(modelKernelName(backend), /^native-(avx512|avx2|scalar)$/);
      const { names, native, tfjs } = nativeAndTfjs(c);
      const rel = relativeDiffs(native, tfjs);
      names.forEach((n, i) => assert.ok(rel[i] < 1e-5, `${n}: relative difference ${rel[i]}`));
      // the gradients are not trivially zero
      names.slice(1).forEach((n, i) => assert.ok(native[i + 1].some((v) => v !== 0), `${n} is all zero`));
    });
  }
}

test('native MLP attention gives the same bits on 1, 2 and 3 threads', async () => {
  await initBackend('wasm');
  const digests = digestsByThreads(() => attentionOutputs({ B: 70, L: 9, d: 8, A: 20, S: 3 }).values);
  assert.equal(new Set(digests).size, 1, digests.join(' '));
});

test('every ISA path of the native attention and GEMM gives the same bits; GIST_NATIVE=0 runs tfjs\'s kernels, and the JS row loops give the native rows\' bits', async () => {
  await initBackend('wasm');
  const here = digest(attentionOutputs(DIGEST_CASE).values);
  const hereGemm = digest(gemmOutputs());
  const hereRows = digest(rowsOutputs());
  const run = (env: Record<string, string>): { kernel: string; attention: string; gemm: string; rows: string } => {
    const p = spawnSync(process.execPath, ['--import', 'tsx', 'test/engine/_native-digest.ts'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(p.status, 0, p.stderr);
    return JSON.parse(p.stdout.trim().split('\n').pop() as string) as { kernel: string; attention: string; gemm: string; rows: string };
  };
  for (const isa of ['avx2', 'scalar']) {
    const r = run({ GIST_NATIVE_ISA: isa });
    assert.equal(r.kernel, `native-${isa}`);
    assert.equal(r.attention, here, `${isa} attention differs from ${modelKernelName('wasm')}`);
    assert.equal(r.gemm, hereGemm, `${isa} GEMM differs from ${modelKernelName('wasm')}`);
  }
  const off = run({ GIST_NATIVE: '0' });
  assert.equal(off.kernel, 'tfjs');
  assert.notEqual(off.attention, here);
  assert.notEqual(off.gemm, hereGemm);
  assert.equal(off.rows, hereRows, 'the JS gather / segment-sum loops and native/rows.h give the same bits');
});

test('native MLP attention does not leak tensors', async () => {
  await initBackend('wasm');
  attentionOutputs(DIGEST_CASE);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) attentionOutputs(DIGEST_CASE, i + 2);
  assert.equal(tf.memory().numTensors, before);
});

test('the native kernels reject arrays of the wrong size', () => {
  const k = nativeKernels();
  assert.ok(k);
  const f = (n: number): Float32Array => new Float32Array(n);
  const dims = Int32Array.from([2, 3, 4, 0, 5, 1]);
  assert.throws(() => k.mlpAttentionForward(dims, f(2 * 3 * 4), f(8), null, f(20), f(20), f(20), null, f(5), f(5), f(6), f(6 * 5 - 1)), /outZ: expected 30 floats, got 29/);
  assert.throws(() => k.mlpAttentionForward(Int32Array.from([2, 3, 4, 2, 5, 1]), f(24), f(8), null, f(20), f(20), f(20), null, f(5), f(5), f(6), f(30)), /side: expected a typed array|side and ws/);
});
