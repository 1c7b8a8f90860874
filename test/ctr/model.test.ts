import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { targetAttention } from '../../src/core/ctr/attention.js';
import { CtrBatcher, historyLengthsBefore } from '../../src/core/ctr/batcher.js';
import { resolveModelConfig, type AsiMode, type AttentionKind, type CtrModelConfig, type CtrVariant } from '../../src/core/ctr/config.js';
import { loadGsu, loadJoint, type GsuIndex, type JointTable } from '../../src/core/ctr/inputs.js';
import { CtrModel } from '../../src/core/ctr/model.js';
import { UsageError } from '../../src/core/errors.js';
import { loadSideInputs } from '../../src/core/ctr/train.js';
import { loadDataset, type Dataset } from '../../src/core/dataset.js';
import { initBackend } from '../../src/core/engine/backend.js';
import { makeRng } from '../../src/core/rng.js';
import { TINY, tempDir, writeGsu, writeJoint } from './_data.js';

const JOINT_DIM = 8;

function configFor(ds: Dataset, variant: CtrVariant, asi: AsiMode, attention: AttentionKind): CtrModelConfig {
  return {
    ...resolveModelConfig({ domain: 'target', variant, asi, attention, embeddingDim: 6, attentionHidden: 8, tower: [12, 5], maxHistory: 30, maxSearch: 10, m1: 6, m2: 4, simScoreDim: 3 }),
    numItems: ds.items.count,
    numCategories: ds.items.categoryNames.length,
    jointDim: asi === 'embedding' ? JOINT_DIM : 0,
  };
}

describe('CtrModel', () => {
  let ds: Dataset;
  let dir: string;
  let gsu: GsuIndex;
  let joint: JointTable;

  before(async () => {
    await initBackend('wasm');
    ds = loadDataset(TINY);
    dir = tempDir('ctr-model');
    const vectors = writeJoint(path.join(dir, 'joint.arrow'), ds.items.count, JOINT_DIM, 5);
    writeGsu(path.join(dir, 'gsu.arrow'), ds, vectors, JOINT_DIM, 10);
    gsu = loadGsu(path.join(dir, 'gsu.arrow'), ds.samples.target.count, ds.items.count);
    joint = loadJoint(path.join(dir, 'joint.arrow'), ds.items.count);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const combos: [CtrVariant, AsiMode, AttentionKind][] = [
    ['din', 'none', 'mlp'],
    ['din', 'none', 'dot'],
    ['sim-hard', 'none', 'mlp'],
    ['sim-soft-pooling', 'none', 'mlp'],
    ['sim-soft-attention', 'none', 'mlp'],
    ['gist', 'none', 'mlp'],
    ['gist', 'embedding', 'mlp'],
    ['gist', 'simscore', 'mlp'],
    ['gist', 'simscore+simdist', 'mlp'],
    ['gist', 'simscore+simdist', 'dot'],
  ];
  for (const [variant, asi, attention] of combos) {
    it(`${variant} (asi ${asi}, ${attention} attention) trains and scores without leaking tensors`, () => {
      const start = tf.memory().numTensors;
      const cfg = configFor(ds, variant, asi, attention);
      const model = new CtrModel(cfg, makeRng(1), 0.01);
      model.bindData(ds.items.category, joint);
      const batcher = new CtrBatcher(cfg, { items: ds.items, samples: ds.samples.target, history: ds.sequences.target, gsu, joint, searchedEvents: historyLengthsBefore(ds.samples.target, ds.sequences.source, Infinity) }, 32);
      const order = Int32Array.from({ length: 64 }, (_, i) => i * 7);
      const scores = new Float32Array(32);
      model.trainBatch(batcher.fill(order, 0, 32)); // warm-up
      const before = tf.memory().numTensors;
      const losses = [model.trainBatch(batcher.fill(order, 0, 32)), model.trainBatch(batcher.fill(order, 32, 64))];
      model.score(batcher.fill(order, 0, 32), scores, 0);
      // A batch of one sample (shapes with a dimension of 1).
      model.trainBatch(batcher.fill(order, 5, 6));
      assert.equal(tf.memory().numTensors, before, 'tensors leaked by trainBatch/score');
      for (const l of losses) assert.ok(Number.isFinite(l) && l > 0, `loss ${l}`);
      for (const s of scores) assert.ok(s > 0 && s < 1, `score ${s}`);
      model.dispose();
      assert.equal(tf.memory().numTensors, start, 'tensors left after dispose');
    });
  }

  it('a variant switch changes only what it should', () => {
    const paramsOf = (variant: CtrVariant, asi: AsiMode): { dense: Map<string, number[]>; tables: string[] } => {
      const m = new CtrModel(configFor(ds, variant, asi, 'mlp'), makeRng(1), 0.01);
      const w = m.toWeights(false);
      m.dispose();
      const dense = new Map<string, number[]>();
      for (const [k, v] of Object.entries(w)) if (k.startsWith('ctr/')) dense.set(k.slice(4), v.shape);
      return { dense, tables: Object.keys(w).filter((k) => k.endsWith('/table')).sort() };
    };
    const names = (p: { dense: Map<string, number[]> }): string[] => [...p.dense.keys()].sort();
    const minus = (a: string[], b: string[]): string[] => a.filter((x) => !b.includes(x));
    const din = paramsOf('din', 'none');
    const simAtt = paramsOf('sim-soft-attention', 'none');
    assert.deepEqual(din.tables, ['category/table', 'item/table']);
    assert.ok(!names(din).some((n) => n.includes('search')), 'din has no search parameters');
    assert.deepEqual(minus(names(simAtt), names(din)), ['att_search/b1', 'att_search/w2', 'att_search/wh', 'att_search/wp', 'att_search/wt', 'tower/in_search']);
    assert.deepEqual(names(paramsOf('sim-hard', 'none')), names(simAtt), 'sim-hard and sim-soft-attention differ only in their GSU file');
    assert.deepEqual(minus(names(paramsOf('sim-soft-pooling', 'none')), names(din)), ['tower/in_search']);
    assert.deepEqual(names(paramsOf('gist', 'none')), names(simAtt));
    const simscore = paramsOf('gist', 'simscore');
    assert.deepEqual(minus(names(simscore), names(simAtt)), ['att_hist/ws', 'att_search/ws', 'tower/in_hist_side', 'tower/in_search_side']);
    assert.deepEqual(simscore.tables, ['category/table', 'item/table', 'simscore/table']);
    assert.deepEqual(minus(names(paramsOf('gist', 'simscore+simdist')), names(simscore)), ['simdist/w']);
    const emb = paramsOf('gist', 'embedding');
    assert.deepEqual(minus(names(emb), names(simAtt)), ['att_hist/ws', 'att_search/ws', 'joint/w', 'tower/in_hist_side', 'tower/in_search_side']);
    assert.deepEqual(emb.dense.get('att_hist/ws'), [JOINT_DIM, 8], 'asi=embedding feeds the raw joint vectors');
    assert.deepEqual(emb.tables, ['category/table', 'item/table']);
  });

  it('each variant requires the side files it uses and refuses the ones it would ignore', () => {
    const missing = path.join(dir, 'does-not-exist.arrow');
    const din = loadSideInputs(ds, configFor(ds, 'din', 'none', 'mlp'), undefined, undefined);
    assert.equal(din.gsu, null);
    assert.equal(din.joint, null);
    assert.throws(() => loadSideInputs(ds, configFor(ds, 'din', 'none', 'mlp'), missing, undefined), (e: Error) => e instanceof UsageError && /--variant din does not read --gsu/.test(e.message));
    assert.throws(() => loadSideInputs(ds, configFor(ds, 'sim-soft-attention', 'none', 'mlp'), path.join(dir, 'gsu.arrow'), missing), /--variant sim-soft-attention does not read --embeddings/);
    assert.throws(() => loadSideInputs(ds, configFor(ds, 'gist', 'none', 'mlp'), path.join(dir, 'gsu.arrow'), missing), /--asi none does not read --embeddings/);
    assert.throws(() => loadSideInputs(ds, configFor(ds, 'sim-hard', 'none', 'mlp'), undefined, undefined), /needs --gsu/);
    assert.throws(() => loadSideInputs(ds, configFor(ds, 'gist', 'simscore', 'mlp'), path.join(dir, 'gsu.arrow'), undefined), /needs --embeddings/);
    const none = loadSideInputs(ds, configFor(ds, 'gist', 'none', 'mlp'), path.join(dir, 'gsu.arrow'), undefined);
    assert.ok(none.gsu !== null && none.joint === null, 'asi none reads no joint embeddings');
    const cfg = configFor(ds, 'din', 'none', 'mlp');
    const batch = new CtrBatcher(cfg, { items: ds.items, samples: ds.samples.target, history: ds.sequences.target, gsu, joint, searchedEvents: historyLengthsBefore(ds.samples.target, ds.sequences.source, Infinity) }, 8).fill([0, 1, 2], 0, 3);
    assert.equal(batch.search, null);
    assert.equal(batch.simDist, null);
    assert.equal(batch.hist.bins, null);
  });
});

describe('target attention', () => {
  it('the split first layer with its hand-written gradient equals the DIN MLP on concat(h, t, h−t, h·t)', async () => {
    const B = 3;
    const L = 5;
    const d = 4;
    const A = 6;
    const S = 2;
    const bias = new Float32Array(B * L);
    bias[3] = bias[4] = bias[9] = -1e9; // padded positions
    for (const backend of ['cpu', 'wasm'] as const) {
      await initBackend(backend);
      const r = (shape: number[], seed: number): tf.Tensor => tf.randomNormal(shape, 0, 0.5, 'float32', seed);
      const up = r([B, d], 99);
      const mb = tf.tensor2d(bias, [B, L]);
      const xs = [r([B, L, d], 1), r([B, d], 2), r([d, A], 3), r([d, A], 4), r([d, A], 5), r([A], 6), r([A, 1], 7), r([B, L, S], 8), r([S, A], 9)];
      const readout = (pooled: tf.Tensor, side: tf.Tensor): tf.Scalar => tf.add(tf.sum(tf.mul(pooled, up)), tf.sum(tf.square(side))) as tf.Scalar;
      const ours = (...v: tf.Tensor[]): tf.Scalar => {
        const o = targetAttention('mlp', v[0] as tf.Tensor3D, v[1] as tf.Tensor2D, mb, { wh: v[2], wt: v[3], wp: v[4], b1: v[5], w2: v[6], ws: v[8] }, v[7] as tf.Tensor3D);
        return readout(o.pooled, o.pooledSide as tf.Tensor);
      };
      const reference = (...v: tf.Tensor[]): tf.Scalar => {
        const [h, t, wh, wt, wp, b1, w2, side, ws] = v;
        const tb = tf.broadcastTo(tf.reshape(t, [B, 1, d]), [B, L, d]);
        const x = tf.concat([h, tb, tf.sub(h, tb), tf.mul(h, tb), side], 2); // [B, L, 4d + S]
        const W = tf.concat([wh, wt, tf.zeros([d, A]), wp, ws], 0); // W_d = 0: folded into W_h, W_t
        const z = tf.relu(tf.add(tf.matMul(tf.reshape(x, [B * L, 4 * d + S]) as tf.Tensor2D, W as tf.Tensor2D), b1));
        const a = tf.softmax(tf.add(tf.reshape(tf.matMul(z, w2 as tf.Tensor2D), [B, L]), mb));
        const a3 = tf.reshape(a, [B, 1, L]) as tf.Tensor3D;
        return readout(tf.reshape(tf.matMul(a3, h as tf.Tensor3D), [B, d]), tf.reshape(tf.matMul(a3, side as tf.Tensor3D), [B, S]));
      };
      const before = tf.memory().numTensors;
      const g1 = tf.valueAndGrads(ours)(xs);
      const g2 = tf.valueAndGrads(reference)(xs);
      assert.ok(Math.abs(g1.value.dataSync()[0] - g2.value.dataSync()[0]) < 1e-5, `${backend}: ${g1.value.dataSync()[0]} vs ${g2.value.dataSync()[0]}`);
      g1.grads.forEach((g, i) => {
        const a = g.dataSync();
        const b = g2.grads[i].dataSync();
        for (let k = 0; k < a.length; k++) assert.ok(Math.abs(a[k] - b[k]) < 1e-5, `${backend}: gradient ${i}[${k}] ${a[k]} vs ${b[k]}`);
      });
      tf.dispose([g1.value, g2.value, ...g1.grads, ...g2.grads]);
      assert.equal(tf.memory().numTensors, before, `${backend}: leak`);
      tf.dispose([...xs, up, mb]);
    }
    await initBackend('wasm');
  });
});
