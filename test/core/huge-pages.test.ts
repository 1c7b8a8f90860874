import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hugeArray } from '../../src/core/huge-pages.js';
import { GrowableFloat64, GrowableInt32 } from '../../src/core/dataset-writer.js';

test('hugeArray gives zeroed arrays of the asked type and length, on a SharedArrayBuffer when asked, small or large', () => {
  for (const length of [0, 5, (9 << 20) / 4 + 3]) {
    const a = hugeArray(Int32Array, length);
    assert.ok(a instanceof Int32Array);
    assert.equal(a.length, length);
    assert.ok(a.buffer instanceof ArrayBuffer);
    assert.ok(a.every((x) => x === 0));
    const s = hugeArray(Float64Array, length, true);
    assert.ok(s instanceof Float64Array);
    assert.equal(s.length, length);
    assert.ok(s.buffer instanceof SharedArrayBuffer);
    if (length > 0) {
      s[length - 1] = 1.5;
      a[length - 1] = -7;
      assert.deepEqual([s[length - 1], a[length - 1]], [1.5, -7]);
    }
  }
});

test('growable arrays past the huge-page size keep every value, and toArray is an exact-length copy', () => {
  const ints = new GrowableInt32();
  const floats = new GrowableFloat64();
  const n = (3 << 20) + 17; // 12 MB of int32, 24 MB of float64: both grow onto advised arrays
  for (let i = 0; i < n; i++) {
    ints.push(i ^ 0x5a5a);
    floats.push(i / 3);
  }
  const a = ints.toArray();
  const b = floats.toArray();
  assert.equal(a.length, n);
  assert.equal(b.length, n);
  for (const i of [0, 1, 1023, 1024, n >> 1, n - 1]) {
    assert.equal(a[i], i ^ 0x5a5a);
    assert.equal(b[i], i / 3);
  }
  ints.push(1);
  assert.equal(a.length, n, 'a later push does not reach the returned copy');
});
