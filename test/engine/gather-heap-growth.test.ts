import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/engine/backend.js';

// A gather whose output forces the wasm heap to grow must still copy every row (a view taken before
// the allocation is detached by the growth and reads as empty).
test('gather is correct when its output allocation grows the wasm heap', async () => {
  await initBackend('wasm');
  const rows = 1000;
  const dim = 64;
  const table = tf.tensor2d(Float32Array.from({ length: rows * dim }, (_, i) => (i % 997) / 997), [rows, dim]);
  // ~200 MB of output: far beyond the heap's current size, so makeOutput must grow it.
  const n = 800_000;
  const idx = tf.tensor1d(Int32Array.from({ length: n }, (_, i) => (i * 7919) % rows), 'int32');
  const out = tf.gather(table, idx);
  const got = out.dataSync();
  const src = table.dataSync();
  let bad = 0;
  for (let i = 0; i < n; i += 997) {
    const r = (i * 7919) % rows;
    for (let k = 0; k < dim; k++) if (got[i * dim + k] !== src[r * dim + k]) bad++;
  }
  assert.equal(bad, 0);
  tf.dispose([table, idx, out]);
});
