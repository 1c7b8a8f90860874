import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readArrow, writeArrow, type DictColumn } from '../../src/core/arrow-io.js';
import { CtrBatcher } from '../../src/core/ctr/batcher.js';
import { trainCtr } from '../../src/core/ctr/train.js';
import { loadDataset, SequenceStore } from '../../src/core/dataset.js';
import { EsuCandidateSelector, extractEsuPairs, gsuCandidateSets, loadSourceModel, maxAttentionStats, type EsuResult } from '../../src/core/pairs/esu.js';
import { quantiles } from '../../src/core/pairs/common.js';
import { EMBEDDINGS, PAIRS, SPLITS } from '../../src/core/schemas.js';
import { TINY, tempDir, writeJoint } from '../ctr/_data.js';
import { nativeKernels } from '../../src/core/retrieval/native.js';
import { makeRng } from '../../src/core/rng.js';

describe('ESU pairs', () => {
  let dir: string;
  let result: EsuResult;

  before(async () => {
    dir = tempDir('esu');
    const model = { embeddingDim: 8, attentionHidden: 16, tower: [32, 16] };
    await trainCtr({ dataDir: TINY, outDir: path.join(dir, 'source'), domain: 'source', variant: 'din', asi: 'none', model, train: { epochs: 2, batchSize: 128, lr: 0.005 }, seed: 3, backend: 'wasm', resume: false });
    await trainCtr({ dataDir: TINY, outDir: path.join(dir, 'target'), domain: 'target', variant: 'din', asi: 'none', model, train: { epochs: 1, batchSize: 128, lr: 0.005 }, seed: 3, backend: 'wasm', resume: false });
    result = await extractEsuPairs({ dataDir: TINY, modelDir: path.join(dir, 'source'), outDir: path.join(dir, 'pairs'), theta: 0.2, includeNegatives: false, splits: SPLITS, buckets: 4, minHistory: 1, candidates: 0, batchSize: 100, seed: 3, backend: 'wasm' });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps (target, argmax history item) when a_k ≥ θ, merged per (pair, split)', async () => {
    const ds = loadDataset(TINY);
    const f = readArrow(path.join(dir, 'pairs', 'pairs.arrow'), PAIRS);
    assert.equal(f.numRows, result.pairs);
    assert.ok(result.pairs > 0);
    const t = f.columns.target_item as Int32Array;
    const rel = f.columns.related_item as Int32Array;
    const att = f.columns.attention as Float32Array;
    const count = f.columns.count as Int32Array;
    const split = f.columns.split as DictColumn;
    const seen = new Set<string>();
    let total = 0;
    for (let i = 0; i < f.numRows; i++) {
      assert.ok(att[i] >= 0.2 - 1e-6 && att[i] <= 1, `attention ${att[i]}`);
      assert.equal(ds.items.domain[t[i]], 0);
      assert.equal(ds.items.domain[rel[i]], 0);
      const key = `${t[i]},${rel[i]},${split.values[split.codes[i]]}`;
      assert.ok(!seen.has(key), `duplicate ${key}`);
      seen.add(key);
      total += count[i];
    }
    assert.ok(total <= result.samples_with_history);
    assert.equal(result.by_theta['0.2'], result.pairs);
    const byTheta = Object.values(result.by_theta);
    for (let i = 1; i < byTheta.length; i++) assert.ok(byTheta[i] <= byTheta[i - 1], 'fewer pairs at a higher θ');
    assert.equal(result.max_attention.buckets.reduce((s, b) => s + b.n, 0), result.samples_with_history);

    // Recompute eq. 8 for the first clicked samples and check their pair is in the file.
    const { model, cfg } = await loadSourceModel(path.join(dir, 'source'));
    try {
      model.bindData(ds.items.category, null);
      const s = ds.samples.source;
      const clicked = Int32Array.from(Array.from({ length: s.count }, (_, i) => i).filter((i) => s.label[i] === 1)).subarray(0, 50);
      const batch = new CtrBatcher(cfg, { items: ds.items, samples: s, history: ds.sequences.source, gsu: null, joint: null }, 50).fill(clicked, 0, clicked.length);
      const a = new Float32Array(50 * batch.hist.len);
      model.score(batch, new Float32Array(50), 0, a);
      let found = 0;
      for (let b = 0; b < batch.size; b++) {
        const n = batch.hist.counts[b];
        if (n === 0) continue;
        const L = batch.hist.len;
        let sum = 0;
        let k = 0;
        for (let j = 0; j < L; j++) {
          sum += a[b * L + j];
          if (j >= n) assert.equal(a[b * L + j], 0, 'padding gets no attention');
          else if (a[b * L + j] > a[b * L + k]) k = j;
        }
        assert.ok(Math.abs(sum - 1) < 1e-5, 'softmax over the history');
        if (a[b * L + k] >= 0.2) {
          const sample = batch.sampleIds[b];
          assert.ok(seen.has(`${s.itemId[sample]},${batch.hist.items[b * L + k]},${SPLITS[s.split[sample]]}`));
          found++;
        }
      }
      assert.ok(found > 0);
    } finally {
      model.dispose();
    }
    assert.equal(tf.memory().numTensors, 0);
  });

  it('attends over S_A, the source GSU top-R candidates, and applies θ there (eq. 8)', async () => {
    const R = 5;
    const r = await extractEsuPairs({ dataDir: TINY, modelDir: path.join(dir, 'source'), outDir: path.join(dir, 'pairs-r'), theta: 0.3, includeNegatives: false, splits: SPLITS, buckets: 4, minHistory: 1, candidates: R, batchSize: 100, seed: 3, backend: 'wasm' });
    const ds = loadDataset(TINY);
    const s = ds.samples.source;
    let clicked = 0;
    for (let i = 0; i < s.count; i++) clicked += s.label[i];
    assert.equal(r.candidates, R);
    assert.ok(r.samples_short_history > 0, 'tiny has histories shorter than R');
    assert.equal(r.samples_with_history + r.samples_short_history, clicked, 'every clicked sample is attended or counted as short');
    assert.equal(r.by_history_length.reduce((n, b) => n + b.samples, 0), r.samples_with_history);
    assert.equal(r.by_history_length.reduce((n, b) => n + b.by_theta['0.3'], 0) >= r.by_theta['0.3'], true, 'pairs before merging ≥ merged pairs');
    // Every kept pair's related item is in some S_A of a sample with that target, never the target itself.
    const { model, cfg } = await loadSourceModel(path.join(dir, 'source'));
    try {
      const all = Int32Array.from({ length: s.count }, (_, i) => i).filter((i) => s.label[i] === 1);
      const sets = gsuCandidateSets(s, ds.sequences.source, all, model.itemVectors(Int32Array.from({ length: ds.items.count }, (_, i) => i)), cfg.embeddingDim, R);
      const inSet = new Set<string>();
      for (let i = 0; i < sets.samples.count; i++) {
        const [lo, hi] = sets.history.range(i);
        assert.equal(hi - lo, R, 'S_A has exactly R events');
        for (let j = lo; j < hi; j++) inSet.add(`${sets.samples.itemId[i]},${sets.history.items[j]}`);
      }
      const f = readArrow(path.join(dir, 'pairs-r', 'pairs.arrow'), PAIRS);
      const t = f.columns.target_item as Int32Array;
      const rel = f.columns.related_item as Int32Array;
      const att = f.columns.attention as Float32Array;
      for (let i = 0; i < f.numRows; i++) {
        assert.notEqual(t[i], rel[i]);
        assert.ok(att[i] >= 0.3 - 1e-6);
        assert.ok(inSet.has(`${t[i]},${rel[i]}`), `pair ${t[i]}→${rel[i]} outside S_A`);
      }
    } finally {
      model.dispose();
    }
    await assert.rejects(
      extractEsuPairs({ dataDir: TINY, modelDir: path.join(dir, 'source'), outDir: path.join(dir, 'bad-r'), theta: 0.3, includeNegatives: false, splits: SPLITS, buckets: 4, minHistory: 1, candidates: 10_000, batchSize: 100, seed: 3, backend: 'wasm' }),
      /exceeds the source model's history window/,
    );
  });

  it('--candidate-embeddings: S_A ranked by the given vectors instead of the source IDs; recorded; bad files refused', async () => {
    const R = 5;
    const ds = loadDataset(TINY);
    const file = path.join(dir, 'other.arrow');
    const vectors = writeJoint(file, ds.items.count, 6, 11);
    const run = (out: string, candidateEmbeddings?: string, candidates = R) =>
      extractEsuPairs({ dataDir: TINY, modelDir: path.join(dir, 'source'), outDir: path.join(dir, out), theta: 0.2, includeNegatives: false, splits: SPLITS, buckets: 4, minHistory: 1, candidates, candidateEmbeddings, batchSize: 100, seed: 3, backend: 'wasm' });
    const byId = await run('pairs-id');
    const byFile = await run('pairs-file', file);
    assert.equal(byId.candidate_scorer, 'source-id');
    assert.equal(byFile.candidate_scorer, path.resolve(file));
    assert.equal((JSON.parse(fs.readFileSync(path.join(dir, 'pairs-file', 'config.json'), 'utf8')) as { candidate_embeddings: string }).candidate_embeddings, path.resolve(file));
    const pairsOf = (out: string): string[] => {
      const f = readArrow(path.join(dir, out, 'pairs.arrow'), PAIRS);
      const t = f.columns.target_item as Int32Array;
      const rel = f.columns.related_item as Int32Array;
      return Array.from(t, (x, i) => `${x},${rel[i]}`);
    };
    const s = ds.samples.source;
    const clicked = Int32Array.from({ length: s.count }, (_, i) => i).filter((i) => s.label[i] === 1);
    const sets = gsuCandidateSets(s, ds.sequences.source, clicked, vectors, 6, R);
    const inSet = new Set<string>();
    for (let i = 0; i < sets.samples.count; i++) {
      const [lo, hi] = sets.history.range(i);
      for (let j = lo; j < hi; j++) inSet.add(`${sets.samples.itemId[i]},${sets.history.items[j]}`);
    }
    const fromFile = pairsOf('pairs-file');
    assert.ok(fromFile.length > 0);
    for (const p of fromFile) assert.ok(inSet.has(p), `pair ${p} outside the S_A the given vectors rank`);
    assert.notDeepEqual(fromFile, pairsOf('pairs-id'), 'another scorer, other candidate sets, other pairs');
    await assert.rejects(run('bad-0', file, 0), /give --candidates R > 0/);
    const partial = path.join(dir, 'partial.arrow');
    writeArrow(partial, EMBEDDINGS, { item_id: Int32Array.from([0, 1]), vector: { dim: 6, values: vectors.slice(0, 12) } }, {});
    await assert.rejects(run('bad-partial', partial), (e: Error & { file?: string; column?: string }) => /no vector for item 2/.test(e.message) && e.file === partial && e.column === 'item_id');
    assert.ok(!fs.existsSync(path.join(dir, 'bad-partial')), 'no partial output');
  });

  it('S_A on a hand-made history: top-R distinct items by ID cosine, target left out, time order, short histories skipped', () => {
    // Item vectors (dim 2): cos with item 0 = 1 → 0.995, 2 → 0, 3 → 0.707, 4 → −1.
    const vec = Float32Array.from([1, 0, 1, 0.1, 0, 1, 0.7, 0.7, -1, 0]);
    const store = new SequenceStore('source', Int32Array.from([0]), Int32Array.from([0, 6]), Int32Array.from([1, 2, 0, 3, 1, 4]), Float64Array.from([1, 2, 3, 4, 5, 6]));
    const samples = { domain: 'source' as const, count: 2, userId: Int32Array.from([0, 0]), itemId: Int32Array.from([0, 0]), ts: Float64Array.from([10, 3.5]), label: Int8Array.from([1, 1]), split: Int8Array.from([0, 0]), pTrue: null };
    const two = gsuCandidateSets(samples, store, Int32Array.from([0, 1]), vec, 2, 2);
    assert.equal(two.short, 0);
    const row = (i: number): number[] => Array.from(two.history.items.subarray(...two.history.range(i)));
    assert.deepEqual(row(0), [3, 1], 'items 1 and 3 (best cosines), in the time order of their latest events');
    assert.deepEqual(Array.from(two.history.ts.subarray(...two.history.range(0))), [4, 5]);
    assert.deepEqual(row(1), [1, 2], 'only events before the sample (the target item 0 at t=3 left out)');
    assert.deepEqual(Array.from(two.historyLength), [4, 2]);
    const five = gsuCandidateSets(samples, store, Int32Array.from([0, 1]), vec, 2, 5);
    assert.equal(five.short, 2, 'four distinct non-target items < R = 5');
    assert.equal(five.samples.count, 0);
    const four = gsuCandidateSets(samples, store, Int32Array.from([0, 1]), vec, 2, 4);
    assert.deepEqual(Array.from(four.origin ?? []), [0]);
  });

  it('S_A from the native kernel equals the JS loop bit for bit (repeats, ties, the target in the history, blocks, threads)', () => {
    assert.ok(nativeKernels(), 'the native addon is built (npm run build:native)');
    const rng = makeRng(7);
    const numItems = 300;
    const dim = 6;
    // Coarse values make exact cosine ties between different items common.
    const vec = Float32Array.from({ length: numItems * dim }, () => Math.round(rng.next() * 4 - 2) / 2);
    for (let k = 0; k < dim; k++) vec[17 * dim + k] = vec[5 * dim + k]; // two identical items
    const users = 40;
    const offsets = [0];
    const items: number[] = [];
    const ts: number[] = [];
    for (let u = 0; u < users; u++) {
      const n = 1 + Math.floor(rng.next() * 120);
      for (let j = 0; j < n; j++) {
        items.push(Math.floor(rng.next() * (u % 3 === 0 ? 30 : numItems))); // some users repeat a few items
        ts.push(j);
      }
      offsets.push(items.length);
    }
    const store = new SequenceStore('source', Int32Array.from({ length: users }, (_, u) => u), Int32Array.from(offsets), Int32Array.from(items), Float64Array.from(ts));
    const m = 500;
    const userId = Int32Array.from({ length: m }, () => Math.floor(rng.next() * users));
    const samples = {
      domain: 'source' as const,
      count: m,
      userId,
      itemId: Int32Array.from({ length: m }, (_, i) => (i % 4 === 0 ? items[offsets[userId[i]]] : Math.floor(rng.next() * numItems))),
      ts: Float64Array.from({ length: m }, () => rng.next() * 130),
      label: new Int8Array(m).fill(1),
      split: new Int8Array(m),
      pTrue: null,
    };
    const digest = (sets: ReturnType<EsuCandidateSelector['select']>): string =>
      JSON.stringify([sets.short, Array.from(sets.origin ?? []), Array.from(sets.historyLength), Array.from(sets.history.offsets), Array.from(sets.history.items), Array.from(sets.history.ts)]);
    for (const R of [1, 3, 10]) {
      const js = new EsuCandidateSelector(vec, dim, R, false);
      const native = new EsuCandidateSelector(vec, dim, R, true);
      // three blocks through the same selectors: their per-item tables are reused, never cleared
      let kept = 0;
      let short = 0;
      for (const [from, to] of [[0, 200], [200, 201], [201, m]]) {
        const block = Int32Array.from({ length: to - from }, (_, i) => from + i);
        const a = js.select(samples, store, block);
        kept += a.samples.count;
        short += a.short;
        assert.equal(digest(native.select(samples, store, block)), digest(a), `R = ${R}, samples ${from}..${to}`);
      }
      // By user, as extract-pairs reads them: runs of one user's samples share the user's items (the kernel's unit).
      const byUser = Int32Array.from({ length: m }, (_, i) => i).sort((x, y) => userId[x] - userId[y] || x - y);
      const a = js.select(samples, store, byUser);
      assert.equal(digest(native.select(samples, store, byUser)), digest(a), `R = ${R}, samples by user`);
      assert.ok(kept > 0 && short > 0, 'the case has both kept and short samples');
    }
  });

  it('refuses a target model', async () => {
    await assert.rejects(
      extractEsuPairs({ dataDir: TINY, modelDir: path.join(dir, 'target'), outDir: path.join(dir, 'bad'), theta: 0.4, includeNegatives: false, splits: SPLITS, buckets: 4, minHistory: 1, candidates: 0, batchSize: 100, seed: 3, backend: 'wasm' }),
      /needs the source DIN model/,
    );
  });

  it('summarises the maximum attention (hand-computed)', () => {
    const s = maxAttentionStats(Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5]), Float64Array.from([0, 1, 2, 3, 4]), 2);
    assert.ok(Math.abs(s.mean - 0.3) < 1e-12);
    assert.ok(Math.abs(s.quantiles.p50 - 0.3) < 1e-12);
    assert.ok(Math.abs(s.quantiles.p10 - 0.14) < 1e-12); // (n−1)·0.1 = 0.4 → 0.1 + 0.4·0.1
    assert.deepEqual(
      s.buckets.map((b) => [b.start, b.end, b.n]),
      [
        [0, 2, 2],
        [2, 4, 3],
      ],
    );
    assert.ok(Math.abs(s.buckets[1].mean - 0.4) < 1e-12);
    assert.deepEqual(quantiles(new Float64Array(0), [0.5]), [NaN]);
  });
});
