import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/engine/backend.js';
import { loadWeights, saveWeights } from '../../src/core/engine/model-io.js';
import { DenseParams, PAD_ID, SparseEmbedding, type EmbeddingConfig } from '../../src/core/engine/sparse-embedding.js';
import { trainStep } from '../../src/core/engine/train.js';
import { makeRng } from '../../src/core/rng.js';
import { maxAbsDiff, randArray } from './_util.js';

const ROWS = 20;
const DIM = 4;
// tf.train.adam forms 1 − β^t in float32 (relative error ~1e-5 for β2 = 0.999); we form it in
// float64. The resulting difference scales with the learning rate: ~3e-7 per step at lr 0.05,
// ~6e-8 at 0.01, so a modest rate keeps the comparison at 1e-6 meaningful over two steps.
const LR = 0.01;
const EPS = 1e-7;

/** A non-linear loss over looked-up rows, so gradients differ per element. */
function lossOf(emb: tf.Tensor, w: tf.Tensor): tf.Scalar {
  return tf.sum(tf.mul(tf.square(tf.sub(emb, 0.1)), w)) as tf.Scalar;
}

function rowsOf(table: ArrayLike<number>, r: number): number[] {
  return Array.from(table).slice(r * DIM, r * DIM + DIM);
}

function makeEmbedding(optimizer: EmbeddingConfig['optimizer']): SparseEmbedding {
  return new SparseEmbedding('item', { rows: ROWS, dim: DIM, optimizer, learningRate: LR, epsilon: EPS, initScale: 0.5 }, makeRng(7));
}

/**
 * Trains the same loss on the same ids with a SparseEmbedding and with a dense tf.Variable
 * table + tf.train optimizer; returns both tables after each step.
 */
function compareWithDense(optimizer: 'adam' | 'adagrad', steps: Int32Array[]): { sparse: Float32Array[]; dense: Float32Array[] } {
  const emb = makeEmbedding(optimizer);
  const init = Float32Array.from(emb.table);
  const table = tf.variable(tf.tensor2d(init, [ROWS, DIM]));
  const opt = optimizer === 'adam' ? tf.train.adam(LR, 0.9, 0.999, EPS) : tf.train.adagrad(LR, 0.1);
  const sparse: Float32Array[] = [];
  const dense: Float32Array[] = [];
  steps.forEach((ids, s) => {
    const w = tf.tensor2d(randArray(ids.length * DIM, 100 + s), [ids.length, DIM]);
    const idsT = tf.tensor1d(ids, 'int32');
    opt.minimize(() => lossOf(tf.gather(table, idsT), w));
    const batch = emb.gatherBatch(ids);
    trainStep(() => lossOf(batch.lookup(), w), { sparse: [{ table: emb, batch }] });
    tf.dispose([w, idsT]);
    sparse.push(Float32Array.from(emb.table));
    dense.push(Float32Array.from(table.dataSync()));
  });
  opt.dispose();
  table.dispose();
  return { sparse, dense };
}

describe('SparseEmbedding', () => {
  before(async () => {
    await initBackend('wasm');
  });

  const step1 = Int32Array.from([3, 7, 7, 0, 12, 3, 19]);
  const step2 = Int32Array.from([7, 12, 5, 5, 0]);
  const touched1 = new Set(step1);
  const touched2 = new Set(step2);

  it('one sparse Adam step equals a dense tf.train.adam step; untouched rows are unchanged', () => {
    const init = Float32Array.from(makeEmbedding('adam').table);
    const { sparse, dense } = compareWithDense('adam', [step1]);
    for (let r = 0; r < ROWS; r++) {
      if (touched1.has(r)) {
        assert.ok(maxAbsDiff(rowsOf(sparse[0], r), rowsOf(dense[0], r)) <= 1e-6, `row ${r}`);
        assert.notDeepEqual(rowsOf(sparse[0], r), rowsOf(init, r));
      } else {
        assert.deepEqual(rowsOf(sparse[0], r), rowsOf(init, r), `row ${r} must not move`);
      }
    }
  });

  it('second Adam step: rows touched in both steps match dense Adam (LazyAdam semantics)', () => {
    const { sparse, dense } = compareWithDense('adam', [step1, step2]);
    for (let r = 0; r < ROWS; r++) {
      if (touched1.has(r) && touched2.has(r)) {
        assert.ok(maxAbsDiff(rowsOf(sparse[1], r), rowsOf(dense[1], r)) <= 1e-6, `row ${r}: ${rowsOf(sparse[1], r)} vs ${rowsOf(dense[1], r)}`);
      } else if (!touched2.has(r)) {
        // Lazy: a row not in the batch keeps its value; dense Adam would still move it by momentum.
        assert.deepEqual(rowsOf(sparse[1], r), rowsOf(sparse[0], r), `row ${r}`);
      }
    }
    // Dense Adam moves rows seen only in step 1 (momentum), the lazy update does not.
    assert.ok(maxAbsDiff(rowsOf(dense[1], 3), rowsOf(dense[0], 3)) > 0);
  });

  it('Adagrad: sparse equals dense tf.train.adagrad for every row over two steps', () => {
    const { sparse, dense } = compareWithDense('adagrad', [step1, step2]);
    for (let s = 0; s < 2; s++) assert.ok(maxAbsDiff(sparse[s], dense[s]) <= 1e-6, `step ${s + 1}`);
  });

  it('padding id -1 reads as a zero row, gets no gradient and leaves the table alone', () => {
    const emb = makeEmbedding('adam');
    const before = Float32Array.from(emb.table);
    const ids = Int32Array.from([4, PAD_ID, 4, PAD_ID, 9]);
    const batch = emb.gatherBatch(ids, [5]);
    assert.deepEqual(Array.from(batch.unique), [4, 9]);
    assert.equal(batch.padRow, 2);
    assert.deepEqual(batch.rows.shape, [3, DIM]);
    assert.deepEqual(Array.from(batch.local.dataSync()), [0, 2, 0, 2, 1]);
    const looked = tf.tidy(() => Array.from(batch.lookup().dataSync()));
    assert.deepEqual(looked.slice(DIM, 2 * DIM), [0, 0, 0, 0]);
    trainStep(() => tf.sum(tf.square(tf.add(batch.lookup(), 1))) as tf.Scalar, { sparse: [{ table: emb, batch }] });
    for (let r = 0; r < ROWS; r++) {
      if (r === 4 || r === 9) assert.notDeepEqual(rowsOf(emb.table, r), rowsOf(before, r));
      else assert.deepEqual(rowsOf(emb.table, r), rowsOf(before, r));
    }
    assert.deepEqual(Array.from(emb.lookupRows(Int32Array.from([PAD_ID]))), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(emb.lookupRows(Int32Array.from([9]))), rowsOf(emb.table, 9));
  });

  it('gatherMany shares rows across parts (one summed gradient, one step)', () => {
    const a = makeEmbedding('adam');
    const b = makeEmbedding('adam');
    const target = Int32Array.from([1, 2]);
    const history = Int32Array.from([2, 2, 3, 1, 5, 6]);
    const w = tf.tensor(randArray(8 * DIM, 5), [8, DIM]);
    const bm = a.gatherMany([{ ids: target }, { ids: history, shape: [2, 3] }]);
    assert.deepEqual(bm.locals[1].shape, [2, 3]);
    trainStep(() => lossOf(tf.concat([bm.lookup(0), tf.reshape(bm.lookup(1), [6, DIM])]), w), { sparse: [{ table: a, batch: bm }] });
    const bs = b.gatherBatch(Int32Array.from([...target, ...history]));
    trainStep(() => lossOf(bs.lookup(), w), { sparse: [{ table: b, batch: bs }] });
    assert.ok(maxAbsDiff(a.table, b.table) <= 1e-7);
    w.dispose();
  });

  it('lookupRows / lookupTensor copy the rows exactly (native gather), zero padding, and reject ids outside the table', () => {
    const emb = makeEmbedding('adam');
    const ids = Int32Array.from([PAD_ID, 3, 19, 3, PAD_ID, 0, 7]);
    const expected = Array.from(ids).flatMap((id) => (id === PAD_ID ? new Array<number>(DIM).fill(0) : rowsOf(emb.table, id)));
    assert.deepEqual(Array.from(emb.lookupRows(ids)), expected);
    // through the reused scratch buffers twice, the second time shorter (stale values must not leak)
    const t1 = emb.lookupTensor(ids, [ids.length]);
    const t2 = emb.lookupTensor(ids.subarray(1, 3), [2]);
    assert.deepEqual(Array.from(t1.dataSync()), expected);
    assert.deepEqual(Array.from(t2.dataSync()), expected.slice(DIM, 3 * DIM));
    tf.dispose([t1, t2]);
    assert.throws(() => emb.lookupRows(Int32Array.from([1, ROWS])), /outside \[0, 20\)/);
    assert.throws(() => emb.lookupRows(Int32Array.from([-2])), RangeError);
  });

  it('rejects ids outside the table and stays usable', () => {
    const emb = makeEmbedding('adam');
    assert.throws(() => emb.gatherBatch(Int32Array.from([1, 2, ROWS])), /outside \[0, 20\)/);
    assert.throws(() => emb.gatherBatch(Int32Array.from([-2])), RangeError);
    const batch = emb.gatherBatch(Int32Array.from([2, 1, 2]));
    assert.deepEqual(Array.from(batch.unique), [1, 2]); // ascending
    assert.deepEqual(Array.from(batch.local.dataSync()), [1, 0, 1]);
    batch.dispose();
  });

  it('unique rows come out ascending on both the scan and the sort path', () => {
    for (const rows of [50, 100000]) {
      const emb = new SparseEmbedding('big', { rows, dim: 2, optimizer: 'adagrad', learningRate: 0.1 }, makeRng(1));
      const ids = Int32Array.from([40, 3, PAD_ID, 40, 17, 3, 0]);
      const batch = emb.gatherBatch(ids);
      assert.deepEqual(Array.from(batch.unique), [0, 3, 17, 40]);
      assert.deepEqual(Array.from(batch.local.dataSync()), [3, 1, 4, 3, 2, 1, 0]);
      const looked = tf.tidy(() => Array.from(batch.lookup().dataSync()));
      assert.deepEqual(looked, Array.from(emb.lookupRows(ids)));
      batch.dispose();
    }
  });

  it('DenseParams Adam equals tf.train.adam over three steps', () => {
    const x = tf.tensor2d(randArray(6 * 5, 1), [6, 5]);
    const y = tf.tensor2d(randArray(6 * 2, 2), [6, 2]);
    const mine = new DenseParams('mlp', makeRng(3), { learningRate: 0.01, epsilon: EPS });
    const w1 = mine.glorot('w1', [5, 8]);
    const b1 = mine.constant('b1', [8], 0.1);
    const w2 = mine.glorot('w2', [8, 2]);
    const ref = [w1, b1, w2].map((v) => tf.variable(v.clone()));
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.mean(tf.square(tf.sub(tf.matMul(tf.relu(tf.add(tf.matMul(x, a), b)), c), y))) as tf.Scalar;
    const opt = tf.train.adam(0.01, 0.9, 0.999, EPS);
    for (let s = 0; s < 3; s++) {
      opt.minimize(() => f(ref[0], ref[1], ref[2]), false, ref);
      trainStep(() => f(w1, b1, w2), { dense: [mine] });
    }
    [w1, b1, w2].forEach((v, i) => assert.ok(maxAbsDiff(v.dataSync(), ref[i].dataSync()) <= 1e-6, mine.names[i]));
    assert.equal(mine.step, 3);
    opt.dispose();
    tf.dispose([x, y, ...ref]);
    mine.dispose();
  });

  it('save → load resumes training exactly (table, dense params and optimizer state)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gist-engine-'));
    try {
      const build = (seed: number) => {
        const emb = new SparseEmbedding('item', { rows: ROWS, dim: DIM, optimizer: 'adam', learningRate: LR }, makeRng(seed));
        const dense = new DenseParams('head', makeRng(seed + 1), { learningRate: 0.01 });
        dense.glorot('w', [DIM, 1]);
        dense.constant('b', [1]);
        return { emb, dense };
      };
      const step = (m: ReturnType<typeof build>, ids: Int32Array, seed: number) => {
        const batch = m.emb.gatherBatch(ids);
        const labels = tf.tensor2d(randArray(ids.length, seed, 0, 1), [ids.length, 1]);
        const loss = trainStep(
          () => tf.mean(tf.square(tf.sub(tf.sigmoid(tf.add(tf.matMul(batch.lookup(), m.dense.get('w')), m.dense.get('b'))), labels))) as tf.Scalar,
          { sparse: [{ table: m.emb, batch }], dense: [m.dense] },
        );
        labels.dispose();
        return loss;
      };
      const a = build(1);
      step(a, step1, 11);
      step(a, step2, 12);
      await saveWeights(dir, { ...a.emb.toWeights(), ...a.dense.toWeights() }, { kind: 'test' });
      const b = build(99); // different init: everything must come from the files
      const { weights, config } = await loadWeights(dir);
      assert.deepEqual(config, { kind: 'test' });
      b.emb.fromWeights(weights);
      b.dense.fromWeights(weights);
      const la = step(a, Int32Array.from([0, 3, 5, 19]), 13);
      const lb = step(b, Int32Array.from([0, 3, 5, 19]), 13);
      assert.equal(la, lb);
      assert.deepEqual(b.emb.table, a.emb.table);
      assert.deepEqual(b.dense.get('w').dataSync(), a.dense.get('w').dataSync());
      // Inference export without optimizer slots loads too, with a fresh optimizer.
      const c = build(5);
      c.emb.fromWeights(a.emb.toWeights(false));
      assert.deepEqual(c.emb.table, a.emb.table);
      [a, b, c].forEach((m) => m.dense.dispose());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not leak tensors: 3 steps through SparseEmbedding + a dense layer on wasm', () => {
    assert.equal(tf.getBackend(), 'wasm');
    const emb = new SparseEmbedding('item', { rows: 1000, dim: 16, optimizer: 'adam', learningRate: 0.01 }, makeRng(1));
    const dense = new DenseParams('head', makeRng(2), { learningRate: 0.01 });
    dense.glorot('w', [16, 8]);
    dense.constant('b', [8]);
    dense.glorot('out', [8, 1]);
    const labels = tf.tensor2d(randArray(32, 3, 0, 1), [32, 1]);
    const before = tf.memory().numTensors;
    const beforeData = tf.engine().backend.numDataIds();
    const rng = makeRng(4);
    for (let s = 0; s < 3; s++) {
      const ids = Int32Array.from({ length: 32 * 5 }, (_, i) => (i % 7 === 0 ? PAD_ID : rng.int(1000)));
      const batch = emb.gatherBatch(ids, [32, 5]);
      trainStep(() => {
        const pooled = tf.mean(batch.lookup(), 1);
        const h = tf.relu(tf.add(tf.matMul(pooled, dense.get('w')), dense.get('b')));
        const logits = tf.matMul(h, dense.get('out'));
        return tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar;
      }, { sparse: [{ table: emb, batch }], dense: [dense] });
    }
    assert.equal(tf.memory().numTensors, before);
    assert.equal(tf.engine().backend.numDataIds(), beforeData);
    labels.dispose();
    dense.dispose();
  });
});
