import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, initBackend } from '../../src/core/engine/backend.js';
import { isKernelFixed } from '../../src/core/engine/kernels.js';
import { maxAbsDiff, randArray, randInts } from './_util.js';

describe('initBackend', () => {
  it('selects wasm by default, registers fixes and gradients, and is idempotent', async () => {
    assert.deepEqual(await initBackend(), { name: 'wasm', version: '4.22.0' });
    assert.deepEqual(await initBackend('wasm'), { name: 'wasm', version: '4.22.0' });
    assert.equal(tf.getBackend(), 'wasm');
    assert.ok(isKernelFixed('GatherV2', 'wasm'));
    assert.ok(tf.getGradient('GatherV2') !== undefined);
    const g = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => tf.sum(tf.gather(x, tf.tensor1d([1, 1], 'int32'))))(tf.ones([3, 2])).dataSync()));
    assert.deepEqual(g, [0, 0, 2, 2, 0, 0]);
  });

  for (const [name, pkg, hint] of [
    ['tensorflow', '@tensorflow/tfjs-node', /npm install @tensorflow\/tfjs-node`/],
    ['tensorflow-gpu', '@tensorflow/tfjs-node-gpu', /CUDA 11\.x/],
  ] as const) {
    it(`"${name}" without ${pkg} fails with an install hint and keeps the current backend`, async () => {
      await initBackend('wasm');
      await assert.rejects(initBackend(name), (err: unknown) => {
        assert.ok(err instanceof BackendUnavailableError);
        assert.equal(err.exitCode, 1);
        assert.match(err.message, new RegExp(`backend "${name}" needs ${pkg.replace(/[/@-]/g, '\\$&')}`));
        assert.match(err.message, hint);
        assert.ok(!err.message.includes('\n'));
        return true;
      });
      assert.equal(tf.getBackend(), 'wasm');
    });
  }

  it('cpu: the O(rows) UnsortedSegmentSum fix matches the stock cpu kernel', async () => {
    await tf.setBackend('cpu');
    const x = randArray(200 * 3, 1);
    const ids = randInts(200, 17, 2);
    ids[5] = -1;
    const run = () => tf.tidy(() => Float32Array.from(tf.unsortedSegmentSum(tf.tensor2d(x, [200, 3]), tf.tensor1d(ids, 'int32'), 17).dataSync()));
    const stock = run();
    assert.ok(!isKernelFixed('UnsortedSegmentSum', 'cpu'));
    assert.equal((await initBackend('cpu')).name, 'cpu');
    assert.ok(isKernelFixed('UnsortedSegmentSum', 'cpu'));
    assert.ok(maxAbsDiff(run(), stock) <= 1e-5);
    await initBackend('wasm');
    assert.equal(tf.getBackend(), 'wasm');
  });
});
