// The CTR bench's batches (bench/ctr.ts): what `npm run bench` and its PyTorch comparison train on is built by the
// batcher the command uses — a change to the batcher's inputs that the bench misses fails here, not in a bench run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchBatcher, CTR_BENCH_SHAPE, syntheticCtrData, type CtrBenchName } from '../../bench/ctr.js';

test('the CTR bench fills its batches for every model; GIST\'s SimDist divides the searched items by the 2K events searched', () => {
  const B = 64;
  for (const name of ['din_small', 'gist'] as CtrBenchName[]) {
    const data = syntheticCtrData(name, 2 * B, 3);
    const batch = benchBatcher(data, B).fill(Int32Array.from({ length: 2 * B }, (_, i) => i), B, 2 * B);
    assert.equal(batch.size, B);
    if (name !== 'gist') {
      assert.equal(batch.simDist, null);
      continue;
    }
    const m2 = data.cfg.m2;
    const simDist = batch.simDist as Float32Array;
    for (let b = 0; b < B; b++) {
      let searched = 0;
      for (let i = m2; i < 2 * m2; i++) searched += simDist[b * 2 * m2 + i];
      // K = CTR_BENCH_SHAPE.search scores counted of 2K events: half of the sequence
      assert.ok(Math.abs(searched - 0.5) < 1e-6, `sample ${b}: searched share ${searched}`);
    }
    assert.equal(CTR_BENCH_SHAPE.search, data.gsu?.offsets[1]);
  }
});
