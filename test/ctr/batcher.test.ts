import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CtrBatcher } from '../../src/core/ctr/batcher.js';
import { resolveModelConfig } from '../../src/core/ctr/config.js';
import { epochOrder } from '../../src/core/ctr/trainer.js';
import { loadDataset, SequenceStore, type Items, type Samples } from '../../src/core/dataset.js';
import { makeRng } from '../../src/core/rng.js';
import { TINY } from './_data.js';

/** Every history position of every sample: strictly before ts, and exactly the most recent maxHistory such events. */
function checkHistories(store: SequenceStore, samples: Samples, items: Items, maxHistory: number): number {
  const cfg = resolveModelConfig({ domain: samples.domain, variant: 'din', maxHistory, numItems: items.count });
  const batcher = new CtrBatcher(cfg, { items, samples, history: store, gsu: null, joint: null }, 64);
  const order = Int32Array.from({ length: samples.count }, (_, i) => i);
  let checked = 0;
  for (let from = 0; from < samples.count; from += 64) {
    const batch = batcher.fill(order, from, Math.min(samples.count, from + 64));
    const L = batch.hist.len;
    for (let b = 0; b < batch.size; b++) {
      const s = batch.sampleIds[b];
      const [lo, hi] = store.range(samples.userId[s]);
      const before: number[] = [];
      for (let e = lo; e < hi; e++) if (store.ts[e] < samples.ts[s]) before.push(e);
      const expected = before.slice(-maxHistory);
      const n = batch.hist.counts[b];
      assert.equal(n, expected.length, `sample ${s}: history length`);
      for (let j = 0; j < L; j++) {
        if (j < n) {
          assert.equal(batch.hist.items[b * L + j], store.items[expected[j]], `sample ${s} position ${j}`);
          assert.ok(store.ts[expected[j]] < samples.ts[s]);
          assert.equal(batch.hist.mask[b * L + j], 1);
        } else {
          assert.equal(batch.hist.items[b * L + j], -1, 'padding id');
          assert.equal(batch.hist.mask[b * L + j], 0, 'padding mask');
        }
      }
      checked++;
    }
  }
  return checked;
}

describe('CtrBatcher', () => {
  it('never puts an event at or after the sample time into a history (many tied timestamps)', () => {
    // 30 users, integer times 0..19 with many ties; samples at times that coincide with events.
    const rng = makeRng(3);
    const userRow = Int32Array.from({ length: 30 }, (_, u) => u);
    const offsets = new Int32Array(31);
    const evItems: number[] = [];
    const evTs: number[] = [];
    for (let u = 0; u < 30; u++) {
      const n = rng.int(40);
      const ts = Array.from({ length: n }, () => rng.int(20)).sort((a, b) => a - b);
      for (const t of ts) {
        evItems.push(rng.int(50));
        evTs.push(t);
      }
      offsets[u + 1] = evItems.length;
    }
    const store = new SequenceStore('target', userRow, offsets, Int32Array.from(evItems), Float64Array.from(evTs));
    const n = 400;
    const samples: Samples = {
      domain: 'target',
      count: n,
      userId: Int32Array.from({ length: n }, () => rng.int(30)),
      itemId: Int32Array.from({ length: n }, () => rng.int(50)),
      ts: Float64Array.from({ length: n }, () => rng.int(21)),
      label: Int8Array.from({ length: n }, () => rng.int(2)),
      split: new Int8Array(n),
      pTrue: null,
    };
    const items: Items = { count: 50, domain: new Int8Array(50).fill(1), title: [], text: [], category: null, categoryNames: [], content: null, key: null, sourceCount: new Int32Array(50), targetCount: new Int32Array(50) };
    assert.equal(checkHistories(store, samples, items, 7), n);
    assert.equal(checkHistories(store, samples, items, 1000), n);
  });

  it('holds on the tiny fixture for both domains', () => {
    const ds = loadDataset(TINY);
    assert.equal(checkHistories(ds.sequences.target, ds.samples.target, ds.items, 200), ds.samples.target.count);
    assert.equal(checkHistories(ds.sequences.source, ds.samples.source, ds.items, 100), ds.samples.source.count);
  });

  it('length bucketing permutes the epoch deterministically and sorts lengths within each chunk', () => {
    const n = 1000;
    const idx = Int32Array.from({ length: n }, (_, i) => 3 * i);
    const lengths = Int32Array.from({ length: n }, (_, i) => (i * 7919) % 101);
    const a = epochOrder(idx, lengths, 32, 4, makeRng(9).fork('shuffle:0'));
    assert.deepEqual(a, epochOrder(idx, lengths, 32, 4, makeRng(9).fork('shuffle:0')), 'same seed and epoch, same order');
    assert.notDeepEqual(a, epochOrder(idx, lengths, 32, 4, makeRng(9).fork('shuffle:1')));
    assert.deepEqual(Array.from(a).sort((x, y) => x - y), Array.from(idx), 'a permutation of the training samples');
    const len = (s: number): number => lengths[s / 3];
    // Within a chunk of 4 full batches, the batches split the chunk's sorted lengths into non-overlapping runs.
    for (let c = 0; c + 128 <= n; c += 128) {
      const batches = [0, 1, 2, 3].map((b) => Array.from(a.subarray(c + b * 32, c + b * 32 + 32)).map(len));
      batches.sort((x, y) => Math.min(...x) - Math.min(...y));
      for (let b = 1; b < 4; b++) assert.ok(Math.max(...batches[b - 1]) <= Math.min(...batches[b]), `chunk ${c}: batches overlap in length`);
    }
    const plain = epochOrder(idx, lengths, 32, 1, makeRng(9).fork('shuffle:0'));
    assert.deepEqual(Array.from(plain).sort((x, y) => x - y), Array.from(idx));
  });
});
