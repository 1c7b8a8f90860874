import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/engine/backend.js';
import { isKernelFixed, registerWasmKernelFixes, unregisterWasmKernelFixes } from '../../src/core/engine/kernels.js';
import { maxAbsDiff, onBackend, randArray, randInts } from './_util.js';

const TOL = 1e-5;

/** Runs the same computation on wasm (fixed kernels) and on stock cpu; asserts every output matches. */
async function sameOnBoth(label: string, f: () => tf.Tensor[]): Promise<void> {
  const cpu = await onBackend('cpu', f);
  const wasm = await onBackend('wasm', f);
  assert.equal(cpu.length, wasm.length);
  cpu.forEach((c, i) => {
    const d = maxAbsDiff(c, wasm[i]);
    assert.ok(d <= TOL, `${label} output ${i}: max |diff| ${d}`);
  });
}

describe('wasm kernel fixes', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('are installed, idempotently, and can be removed', () => {
    for (const k of ['UnsortedSegmentSum', 'GatherV2', 'Tile', 'Identity', 'BatchMatMul', '_FusedMatMul']) assert.ok(isKernelFixed(k, 'wasm'), k);
    registerWasmKernelFixes();
    unregisterWasmKernelFixes();
    assert.ok(!isKernelFixed('GatherV2', 'wasm'));
    assert.equal(tf.getKernel('UnsortedSegmentSum', 'wasm'), undefined);
    registerWasmKernelFixes();
    registerWasmKernelFixes();
    assert.ok(isKernelFixed('GatherV2', 'wasm') && isKernelFixed('UnsortedSegmentSum', 'wasm'));
    assert.ok(!isKernelFixed('UnsortedSegmentSum', 'cpu'));
  });

  it('GatherV2 matches cpu (float/int, 1-D..3-D tables, 2-D indices, axis 1 fallback)', async () => {
    const table = randArray(50 * 20, 1);
    const idx = randInts(37, 50, 2);
    idx[3] = idx[5] = 49; // duplicates and the last row
    idx[4] = 0;
    await sameOnBoth('gather', () => {
      const t = tf.tensor2d(table, [50, 20]);
      const i = tf.tensor1d(idx, 'int32');
      return [
        tf.gather(t, i),
        tf.gather(tf.tensor1d(table.subarray(0, 50)), i),
        tf.gather(tf.tensor3d(table.subarray(0, 50 * 12), [50, 3, 4]), tf.tensor2d(idx.subarray(0, 30), [5, 6], 'int32')),
        tf.cast(tf.gather(tf.tensor2d(randInts(50 * 20, 1000, 3), [50, 20], 'int32'), i), 'float32'),
        tf.gather(tf.tensor2d(table.subarray(0, 200), [10, 20]), tf.tensor1d([19, 0, 3, 3], 'int32'), 1),
        tf.gather(t, tf.tensor1d([], 'int32')),
      ];
    });
  });

  it('GatherV2 rejects out-of-range indices', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    assert.throws(() => tf.tidy(() => tf.gather(tf.ones([4, 16]), tf.tensor1d([0, 4], 'int32'))), /index value 4/);
    assert.equal(tf.memory().numTensors, before);
  });

  it('Tile matches cpu (ranks 1-5, float/int/bool, broadcastTo)', async () => {
    const x = randArray(2 * 3 * 4 * 2, 16);
    await sameOnBoth('tile', () => [
      tf.tile(tf.tensor1d(x.subarray(0, 5)), [3]),
      tf.tile(tf.tensor2d(x.subarray(0, 6), [2, 3]), [3, 2]),
      tf.tile(tf.tensor3d(x.subarray(0, 24), [2, 3, 4]), [1, 2, 1]),
      tf.tile(tf.tensor4d(x, [2, 3, 4, 2]), [2, 1, 3, 2]),
      tf.tile(tf.tensor(x.subarray(0, 12), [1, 2, 3, 2, 1]), [2, 1, 2, 1, 3]),
      tf.broadcastTo(tf.tensor3d(x.subarray(0, 8), [2, 1, 4]), [2, 5, 4]),
      tf.cast(tf.tile(tf.tensor2d([1, -2, 3, 4], [2, 2], 'int32'), [2, 3]), 'float32'),
      tf.cast(tf.tile(tf.tensor2d([1, 0, 0, 1], [2, 2], 'bool'), [3, 1]), 'float32'),
      tf.tile(tf.scalar(2.5), []),
      tf.tile(tf.tensor2d([], [0, 3]), [2, 2]),
    ]);
  });

  it('UnsortedSegmentSum matches cpu and drops out-of-range ids', async () => {
    const x = randArray(12 * 5, 4);
    await sameOnBoth('segsum', () => {
      const ids = tf.tensor1d([0, 2, 2, -1, 3, 0, 7, 1, 1, 2, 3, 3], 'int32');
      return [
        tf.unsortedSegmentSum(tf.tensor2d(x, [12, 5]), ids, 4),
        tf.unsortedSegmentSum(tf.tensor1d(x.subarray(0, 12)), ids, 5),
      ];
    });
  });

  it('gradient of gather (embedding lookup) matches cpu', async () => {
    const table = randArray(64 * 8, 5);
    const idx = randInts(300, 64, 6);
    const w = randArray(300 * 8, 7);
    await sameOnBoth('gather grad', () => {
      const t = tf.tensor2d(table, [64, 8]);
      const i = tf.tensor2d(idx, [30, 10], 'int32');
      const wt = tf.tensor3d(w, [30, 10, 8]);
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.square(tf.gather(x, i)), wt)))(t);
      return [g];
    });
  });

  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`matMul transposeA=${ta} transposeB=${tb}: values and gradients match cpu (2-D, 3-D, broadcast)`, async () => {
      const [m, k, n] = [7, 5, 6];
      const aData = randArray(3 * m * k, 8);
      const bData = randArray(3 * k * n, 9);
      const aShape = (batch: number[]) => [...batch, ...(ta ? [k, m] : [m, k])];
      const bShape = (batch: number[]) => [...batch, ...(tb ? [n, k] : [k, n])];
      await sameOnBoth('matMul', () => {
        const outs: tf.Tensor[] = [];
        for (const [ba, bb] of [
          [[], []],
          [[3], [3]],
          [[3], []],
        ] as number[][][]) {
          const a = tf.tensor(aData.subarray(0, (ba[0] ?? 1) * m * k), aShape(ba));
          const b = tf.tensor(bData.subarray(0, (bb[0] ?? 1) * k * n), bShape(bb));
          outs.push(tf.matMul(a, b, ta, tb));
          const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, ta, tb))))([a, b]);
          outs.push(ga, gb);
          // Fused path (bias + relu), forward and backward.
          if (ba.length === bb.length) {
            const bias = tf.tensor1d(randArray(n, 10));
            outs.push(tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias, activation: 'relu' }));
            const [fa, fb] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
              tf.sum(tf.square(tf.fused.matMul({ a: x, b: y, transposeA: ta, transposeB: tb, bias, activation: 'relu' }))),
            )([a, b]);
            outs.push(fa, fb);
          }
        }
        return outs;
      });
    });
  }

  it('_FusedMatMul with bias matches cpu for every activation and batch layout (stock batched-bias bug)', async () => {
    const [m, k, n] = [4, 3, 5];
    const aData = randArray(3 * m * k, 12);
    const bData = randArray(3 * k * n, 13);
    const biasData = randArray(n, 14);
    const alphaData = randArray(n, 15, 0, 0.5);
    await sameOnBoth('fused', () => {
      const outs: tf.Tensor[] = [];
      for (const bBatch of [[], [1], [3]]) {
        for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const) {
          for (const ta of [false, true]) {
            const a = tf.tensor(aData, ta ? [3, k, m] : [3, m, k]);
            const b = tf.tensor(bData.subarray(0, (bBatch[0] ?? 1) * k * n), [...bBatch, k, n]);
            const bias = tf.tensor1d(biasData);
            const preluActivationWeights = activation === 'prelu' ? tf.tensor1d(alphaData) : undefined;
            outs.push(tf.fused.matMul({ a, b, transposeA: ta, bias, activation, preluActivationWeights, leakyreluAlpha: 0.3 }));
          }
        }
      }
      return outs;
    });
  });

  it('kernels do not leak wasm tensors', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor2d(randArray(64, 11), [8, 8]);
    const idx = tf.tensor1d([1, 2, 2, 7], 'int32');
    const before = tf.memory().numTensors;
    const beforeData = tf.engine().backend.numDataIds();
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        tf.matMul(a, a, true, true);
        tf.fused.matMul({ a, b: a, transposeA: true, transposeB: false, activation: 'relu' });
        tf.grad((x: tf.Tensor) => tf.sum(tf.gather(x, idx)))(a);
      });
    }
    assert.equal(tf.memory().numTensors, before);
    assert.equal(tf.engine().backend.numDataIds(), beforeData);
    tf.dispose([a, idx]);
  });
});
