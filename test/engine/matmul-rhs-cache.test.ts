import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/engine/backend.js';

// The stock wasm matMul caches its packed right operand by tensor id; a buffer reused under another
// shape (reshape) must not be multiplied with stale packed weights.
test('matMul with a reshaped right operand that was used before in another shape is correct', async () => {
  await initBackend('wasm');
  const z = tf.randomUniform([15, 6], -1, 1, 'float32', 1);
  const w = tf.randomUniform([6, 1], -1, 1, 'float32', 2);
  const ds = tf.randomUniform([15, 1], -1, 1, 'float32', 3);
  tf.matMul(z, w).dataSync();
  const got = tf.matMul(ds, tf.reshape(w, [1, 6])).dataSync();
  const fresh = tf.matMul(ds, tf.tensor2d(Array.from(w.dataSync()), [1, 6])).dataSync();
  let maxDiff = 0;
  for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - fresh[i]));
  assert.ok(maxDiff <= 1e-6, `max |diff| ${maxDiff}`);
});
