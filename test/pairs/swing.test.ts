import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readArrow, type DictColumn } from '../../src/core/arrow-io.js';
import { loadDataset } from '../../src/core/dataset.js';
import { DEFAULT_SWING_CONFIG, extractSwingPairs, swingTopN, trainingItemSets } from '../../src/core/pairs/swing.js';
import { PAIRS } from '../../src/core/schemas.js';
import { TINY, tempDir } from '../ctr/_data.js';

function csr(lists: number[][]): { offsets: Int32Array; values: Int32Array } {
  const offsets = new Int32Array(lists.length + 1);
  lists.forEach((l, i) => (offsets[i + 1] = offsets[i] + l.length));
  return { offsets, values: Int32Array.from(lists.flat()) };
}

describe('Swing', () => {
  it('matches hand-computed scores', () => {
    // u0 {0,1,2}, u1 {0,1}, u2 {1,2}, u3 {3}. User pairs sharing ≥ 2 items: (u0,u1) {0,1} and (u0,u2) {1,2}.
    // w_u = |I_u|^(-1/2); sim(0,1) = w0·w1 / (α + 2) = 1 / (√3·√2·3) with α = 1; sim(1,2) the same; sim(0,2) = 0.
    const { rows, userPairs } = swingTopN(csr([[0, 1, 2], [0, 1], [1, 2], [3]]), 4, { ...DEFAULT_SWING_CONFIG, alpha: 1 }, 1);
    assert.equal(userPairs, 2);
    const s = 1 / (Math.sqrt(6) * 3);
    const got = rows.target.map((t, i) => [t, rows.related[i], rows.score[i], rows.count[i]] as const);
    assert.deepEqual(
      got.map(([t, r, , c]) => [t, r, c]),
      [
        [0, 1, 2],
        [1, 0, 2], // ties broken by item id
        [1, 2, 2],
        [2, 1, 2],
      ],
    );
    for (const [, , score] of got) assert.ok(Math.abs(score - s) < 1e-12);
    // α smooths: a larger α lowers every score by the same factor here.
    const alpha3 = swingTopN(csr([[0, 1, 2], [0, 1], [1, 2], [3]]), 4, { ...DEFAULT_SWING_CONFIG, alpha: 3 }, 1).rows;
    assert.ok(Math.abs(alpha3.score[0] - 1 / (Math.sqrt(6) * 5)) < 1e-12);
    // top-N cuts the neighbour lists.
    const top1 = swingTopN(csr([[0, 1, 2], [0, 1], [1, 2], [3]]), 4, { ...DEFAULT_SWING_CONFIG, topN: 1 }, 1).rows;
    assert.deepEqual(top1.target, [0, 1, 2]);
  });

  it('uses only training-period source events and writes the PAIRS schema', async () => {
    const ds = loadDataset(TINY);
    const sets = trainingItemSets(ds, 1000);
    // No user's set contains an item seen only at or after their first valid/test source sample.
    const s = ds.samples.source;
    const cutoff = new Map<number, number>();
    for (let i = 0; i < s.count; i++) if (s.split[i] !== 0) cutoff.set(s.userId[i], Math.min(cutoff.get(s.userId[i]) ?? Infinity, s.ts[i]));
    const store = ds.sequences.source;
    for (const [u, c] of cutoff) {
      const [lo, hi] = store.range(u);
      const allowed = new Set<number>();
      for (let e = lo; e < hi; e++) if (store.ts[e] < c) allowed.add(store.items[e]);
      for (let j = sets.offsets[u]; j < sets.offsets[u + 1]; j++) assert.ok(allowed.has(sets.values[j]), `user ${u} item ${sets.values[j]}`);
    }
    const out = tempDir('swing');
    try {
      const r = await extractSwingPairs({ dataDir: TINY, outDir: out, config: { ...DEFAULT_SWING_CONFIG, topN: 5 }, seed: 1 });
      const f = readArrow(path.join(out, 'pairs.arrow'), PAIRS);
      assert.equal(f.numRows, r.pairs);
      assert.ok(r.pairs > 0);
      const t = f.columns.target_item as Int32Array;
      const rel = f.columns.related_item as Int32Array;
      for (let i = 0; i < f.numRows; i++) {
        assert.equal(ds.items.domain[t[i]], 0, 'source items only');
        assert.equal(ds.items.domain[rel[i]], 0);
        assert.notEqual(t[i], rel[i]);
      }
      const split = f.columns.split as DictColumn;
      assert.ok(Array.from(split.codes).every((c) => split.values[c] === 'train'));
      assert.ok(fs.existsSync(path.join(out, 'stats.json')));
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
