import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { simDistFeatureInPlace, simDistInto, simScoreBin } from '../../src/core/ctr/asi.js';
import { CtrBatcher, historyLengthsBefore } from '../../src/core/ctr/batcher.js';
import { resolveModelConfig } from '../../src/core/ctr/config.js';
import type { GsuIndex, JointTable } from '../../src/core/ctr/inputs.js';
import { SequenceStore, type Items, type Samples } from '../../src/core/dataset.js';

describe('ASI SimScore bins and SimDist histograms', () => {
  it('bins a cosine into M equal intervals of [-1, 1] (hand-computed)', () => {
    // M = 20: interval width 0.1; k = floor((c + 1) / 2 · 20).
    const cases: [number, number][] = [
      [-1, 0],
      [-0.95, 0],
      [-0.9, 1],
      [-0.05, 9],
      [0, 10],
      [0.05, 10],
      [0.5, 15],
      [0.999, 19],
      [1, 19],
      [1.3, 19], // clamped
      [-7, 0],
    ];
    for (const [c, k] of cases) assert.equal(simScoreBin(c, 20), k, `c = ${c}`);
    assert.equal(simScoreBin(NaN, 20), 20, 'no score → the extra "unknown" bin M');
    assert.equal(simScoreBin(0.2, 4), 2); // M = 4: [-1,-.5) [-.5,0) [0,.5) [.5,1]
    assert.equal(simScoreBin(-0.5, 4), 1);
  });

  it('counts finite scores per bin and feeds the score distribution', () => {
    const out = new Float32Array(8);
    const n = simDistInto([0.9, -0.2, 0.95, NaN, 0.1, -1], 0, 6, 4, out, 4);
    assert.equal(n, 5);
    assert.deepEqual(Array.from(out), [0, 0, 0, 0, 1, 1, 1, 2]);
    simDistFeatureInPlace(out, 0, 8, 4);
    assert.deepEqual(Array.from(out), [0, 0, 0, 0, 0.2, 0.2, 0.2, 0.4].map(Math.fround));
  });

  it('the batcher scores history items against the target (eq. 11) and searched items from gsu.arrow', () => {
    // 5 items; joint vectors in 2-D: item 0 = (1,0), 1 = (0,1), 2 = (−1,0), 3 = (0.6,0.8), item 4 has none.
    const joint: JointTable = { file: 'j', dim: 2, rowOf: Int32Array.from([0, 1, 2, 3, -1]), values: Float32Array.from([1, 0, 0, 1, -1, 0, 0.6, 0.8]), metadata: {} };
    const items: Items = { count: 5, domain: Int8Array.from([1, 1, 1, 0, 0]), title: [], text: [], category: null, categoryNames: [], content: null, key: null, sourceCount: new Int32Array(5), targetCount: new Int32Array(5) };
    // One user whose target history is items 1, 2, 4 at t = 1, 2, 3; the sample (target item 0) is at t = 3.
    const store = new SequenceStore('target', Int32Array.from([0]), Int32Array.from([0, 3]), Int32Array.from([1, 2, 4]), Float64Array.from([1, 2, 3]));
    const samples: Samples = { domain: 'target', count: 1, userId: Int32Array.of(0), itemId: Int32Array.of(0), ts: Float64Array.of(3), label: Int8Array.of(1), split: Int8Array.of(0), pTrue: null };
    const gsu: GsuIndex = { file: 'g', rowOfSample: Int32Array.of(0), offsets: Int32Array.from([0, 2]), items: Int32Array.from([3, 4]), scores: Float32Array.from([0.6, -0.3]), metadata: {} };
    const cfg = resolveModelConfig({ domain: 'target', variant: 'gist', asi: 'simscore+simdist', m1: 4, m2: 2, numItems: 5, simDistNorm: 'fraction' });
    const batch = new CtrBatcher(cfg, { items, samples, history: store, gsu, joint }, 4).fill([0], 0, 1);
    // History before t = 3: items 1, 2 (the event at t = 3 is excluded); cos(0,1) = 0 → bin 2, cos(0,2) = −1 → bin 0.
    assert.deepEqual(Array.from(batch.hist.items), [1, 2]);
    assert.deepEqual(Array.from(batch.hist.bins as Int32Array), [2, 0]);
    // Searched: scores 0.6 → bin 3, −0.3 → bin 1 (M1 = 4).
    assert.deepEqual(Array.from(batch.search?.items ?? []), [3, 4]);
    assert.deepEqual(Array.from(batch.search?.bins as Int32Array), [3, 1]);
    // SimDist, M2 = 2 ([-1,0) and [0,1]): history scores {0, −1} → [1, 1]; searched {0.6, −0.3} → [1, 1].
    assert.deepEqual(Array.from(batch.simDist as Float32Array), [0.5, 0.5, 0.5, 0.5]);

    // 'history-fraction' (the default): the searched counts over the user's source events before t = 3 — five of them (the
    // sixth, at t = 3, is not before the sample) — while the history's histogram stays a fraction.
    const source = new SequenceStore('source', Int32Array.from([0]), Int32Array.from([0, 6]), Int32Array.from([3, 4, 3, 4, 3, 4]), Float64Array.from([0, 0.5, 1, 1.5, 2, 3]));
    const { simDistNorm: _fraction, ...rest } = cfg;
    const byHistory = resolveModelConfig(rest);
    assert.equal(byHistory.simDistNorm, 'history-fraction');
    const batch2 = new CtrBatcher(byHistory, { items, samples, history: store, gsu, joint, searchedEvents: historyLengthsBefore(samples, source, Infinity) }, 4).fill([0], 0, 1);
    assert.deepEqual(Array.from(batch2.simDist as Float32Array), [0.5, 0.5, 0.2, 0.2].map(Math.fround));
    assert.throws(() => new CtrBatcher(byHistory, { items, samples, history: store, gsu, joint }, 4), /searched \(source\) events before each sample/);
  });
});

it("SimDist features: fractions per histogram, the searched share of the whole history, or log(1 + count)", () => {
  const counts = Float32Array.from([2, 0, 2, 0, 0, 0]); // two 3-bin histograms, the second empty
  const frac = Float32Array.from(counts);
  simDistFeatureInPlace(frac, 0, 6, 3);
  assert.deepEqual(Array.from(frac), [0.5, 0, 0.5, 0, 0, 0]);
  const logs = Float32Array.from(counts);
  simDistFeatureInPlace(logs, 0, 6, 3, 'log-count');
  assert.ok(Math.abs(logs[0] - Math.log(3)) < 1e-6 && logs[1] === 0 && logs[5] === 0);
  // Two samples of [history | searched] pairs, 2 bins each: the searched halves over 10 and 3 source events; a
  // length below the count (impossible from one dataset) never makes a share above 1.
  const pairs = Float32Array.from([1, 3, 2, 2, 0, 0, 4, 0]);
  simDistFeatureInPlace(pairs, 0, 8, 2, 'history-fraction', Int32Array.from([10, 3]));
  assert.deepEqual(Array.from(pairs), [0.25, 0.75, 0.2, 0.2, 0, 0, 1, 0].map(Math.fround));
  assert.throws(() => simDistFeatureInPlace(Float32Array.from(counts), 0, 6, 3, 'history-fraction'), /history length/);
});
