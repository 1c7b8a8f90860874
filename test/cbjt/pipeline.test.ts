import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readArrow, writeArrow, type VectorColumn } from '../../src/core/arrow-io.js';
import { embedItems } from '../../src/core/cbjt/embed.js';
import { trainBehavior, defaultMinCount } from '../../src/core/cbjt/train-behavior.js';
import { trainContent } from '../../src/core/cbjt/train-content.js';
import { trainUnion } from '../../src/core/cbjt/train-union.js';
import { loadItems } from '../../src/core/dataset.js';
import { InputDataError, UsageError } from '../../src/core/errors.js';
import { EMBEDDINGS, ITEMS } from '../../src/core/schemas.js';
import { FAST_ENCODER, makeCatalogue, writeIdEmbeddings, writePairs } from './_fixtures.js';

function vectorsOf(file: string): { ids: Int32Array; v: VectorColumn } {
  const f = readArrow(file, EMBEDDINGS);
  return { ids: f.columns.item_id as Int32Array, v: f.columns.vector as VectorColumn };
}

function assertUnitRows(v: VectorColumn, what: string): void {
  for (let i = 0; i < v.values.length / v.dim; i++) {
    let s = 0;
    for (let j = 0; j < v.dim; j++) {
      const x = v.values[i * v.dim + j];
      assert.ok(Number.isFinite(x), `${what} row ${i} not finite`);
      s += x * x;
    }
    assert.ok(Math.abs(Math.sqrt(s) - 1) < 1e-4, `${what} row ${i} has norm ${Math.sqrt(s)}`);
  }
}

const run = { seed: 11, backend: 'wasm' as const };

test('train-content → train-behavior → train-union → embed on a tiny catalogue; cold items get finite, normalised u', async () => {
  const cat = makeCatalogue({ perTopic: 10, contentDim: 8 });
  const work = cat.dir;
  writeIdEmbeddings(cat, path.join(work, 'id_embeddings.arrow'));
  writePairs(cat, path.join(work, 'pairs.arrow'));

  const content = await trainContent({ ...run, data: work, out: path.join(work, 'content'), config: { ...FAST_ENCODER, epochs: 6, batchSize: 64 } });
  assert.equal(content.view_mode, 'text|content');
  assert.equal(content.items, cat.count);
  assert.equal(content.epochs, 6);
  const curve = JSON.parse(fs.readFileSync(content.outputs.loss_curve, 'utf8')) as { epochs: { epoch: number; loss: number; temperature: number }[] };
  assert.equal(curve.epochs.length, 6);
  assert.ok(curve.epochs[5].loss < curve.epochs[0].loss, 'content loss decreases');
  assert.ok(curve.epochs.every((e) => e.temperature >= 0.01 && e.temperature <= 1));
  const ct = vectorsOf(content.outputs.content);
  assert.deepEqual(Array.from(ct.ids), Array.from({ length: cat.count }, (_, i) => i));
  assert.equal(ct.v.dim, 16);
  assertUnitRows(ct.v, 'ct');
  assert.ok(fs.existsSync(path.join(work, 'content', 'model', 'weights.bin')));
  assert.equal(readArrow(content.outputs.content, EMBEDDINGS).metadata.view_mode, 'text|content');

  const behavior = await trainBehavior({ ...run, data: work, idEmbeddings: path.join(work, 'id_embeddings.arrow'), out: path.join(work, 'behavior'), config: { ...FAST_ENCODER, dim: 0, epochs: 8, batchSize: 32 } });
  const items = loadItems(path.join(work, 'items.arrow'));
  assert.equal(behavior.min_count, defaultMinCount(items, 0.5));
  assert.ok(behavior.aligned_items > 0 && behavior.aligned_items < 54, `aligned ${behavior.aligned_items}`);
  assert.equal(behavior.dim, 8); // the id embeddings' size
  const bh = vectorsOf(behavior.outputs.behavior);
  assert.equal(bh.ids.length, cat.count);
  assertUnitRows(bh.v, 'bh');

  assert.equal(behavior.init, 'random', 'no content model: fresh weights');

  // F_B as the paper's "separate copy" of F_C: with no training step its bh is exactly F_C's ct, and training moves it.
  const copy = await trainBehavior({ ...run, data: work, idEmbeddings: path.join(work, 'id_embeddings.arrow'), contentModel: path.join(work, 'content', 'model'), out: path.join(work, 'behavior-copy0'), config: { ...FAST_ENCODER, epochs: 0, minSteps: 0 } });
  assert.equal(copy.init, 'content');
  assert.equal(copy.dim, 16, "F_C's size, not the id embeddings'");
  const bh0 = vectorsOf(copy.outputs.behavior);
  for (let i = 0; i < bh0.v.values.length; i++) assert.ok(Math.abs(bh0.v.values[i] - ct.v.values[i]) < 1e-5, `bh = ct at ${i}`);
  const trained = await trainBehavior({ ...run, data: work, idEmbeddings: path.join(work, 'id_embeddings.arrow'), contentModel: path.join(work, 'content', 'model'), out: path.join(work, 'behavior-copy'), config: { ...FAST_ENCODER, epochs: 4, batchSize: 32 } });
  const bh1 = vectorsOf(trained.outputs.behavior);
  assert.ok(bh1.v.values.some((x, i) => Math.abs(x - ct.v.values[i]) > 1e-3), 'alignment changes the copy');
  assertUnitRows(bh1.v, 'bh (copy)');
  await assert.rejects(trainBehavior({ ...run, data: work, idEmbeddings: path.join(work, 'id_embeddings.arrow'), out: path.join(work, 'behavior-bad'), config: { init: 'content' } }), /needs --content-model/);

  const evalPairs = path.join(work, 'pairs.arrow');
  const union = await trainUnion({ ...run, data: work, content: content.outputs.content, behavior: behavior.outputs.behavior, pairs: evalPairs, out: path.join(work, 'union'), evalPairs, config: { dim: 16, hidden: 32, gateHidden: 8, epochs: 15, batchSize: 32, minSteps: 0 } });
  assert.equal(union.pairs_used, 108); // 4 of every 6 rows are train: 54 non-cold targets × 3 pairs × 4/6
  assert.ok(union.recall);
  assert.ok(union.recall.recall['recall@10'] > 2 * (10 / 60), `joint recall@10 ${union.recall.recall['recall@10']} vs chance ${10 / 60}`);
  const joint = vectorsOf(union.outputs.joint);
  assert.equal(joint.ids.length, cat.count);
  assertUnitRows(joint.v, 'u'); // cold items (ids ending in 9: never in a pair, no interactions) included

  // Online inference for "new" items from content alone reproduces u (same encoders, same union model).
  const newFile = path.join(work, 'new-items.arrow');
  const all = readArrow(path.join(work, 'items.arrow'), ITEMS);
  const pick = [9, 19, 119]; // cold items
  writeArrow(
    newFile,
    ITEMS,
    {
      item_id: Int32Array.from(pick, (i) => 1000 + i),
      domain: { codes: Int32Array.from(pick, () => 1), values: ['source', 'target'] },
      title: pick.map((i) => (all.columns.title as string[])[i]),
      text: pick.map((i) => (all.columns.text as string[])[i]),
      content: { dim: 8, values: Float32Array.from(pick.flatMap((i) => Array.from((all.columns.content as VectorColumn).values.subarray(i * 8, i * 8 + 8)))) },
      source_count: new Int32Array(3),
      target_count: new Int32Array(3),
    },
    {},
  );
  const embedded = await embedItems({ ...run, model: path.join(work, 'union', 'model'), contentModel: path.join(work, 'content', 'model'), behaviorModel: path.join(work, 'behavior', 'model'), items: newFile, out: path.join(work, 'new') });
  assert.equal(embedded.items, 3);
  const u = vectorsOf(embedded.outputs.joint as string);
  assert.deepEqual(Array.from(u.ids), [1009, 1019, 1119]);
  assertUnitRows(u.v, 'new u');
  pick.forEach((item, r) => {
    for (let j = 0; j < 16; j++) assert.ok(Math.abs(u.v.values[r * 16 + j] - joint.v.values[item * 16 + j]) < 1e-5, `embed row ${r} differs from joint.arrow`);
  });

  // Ablations and single-view models train and cover every item.
  for (const config of [{ gate: false }, { cross: false }, { view: 'content' as const }, { view: 'behavior' as const }]) {
    const r = await trainUnion({ ...run, data: work, content: content.outputs.content, behavior: behavior.outputs.behavior, pairs: evalPairs, out: path.join(work, `union-${JSON.stringify(config).replace(/\W/g, '')}`), config: { dim: 16, hidden: 32, gateHidden: 8, epochs: 2, batchSize: 32, minSteps: 0, ...config } });
    assertUnitRows(vectorsOf(r.outputs.joint).v, JSON.stringify(config));
  }
  // A union model over ct alone needs only the content encoder online.
  const onlyContent = await embedItems({ ...run, model: path.join(work, 'union-viewcontent', 'model'), contentModel: path.join(work, 'content', 'model'), items: newFile, out: path.join(work, 'new-content') });
  assert.equal(onlyContent.outputs.behavior, undefined);
  await assert.rejects(embedItems({ ...run, model: path.join(work, 'union', 'model'), contentModel: path.join(work, 'content', 'model'), items: newFile, out: path.join(work, 'x') }), UsageError);
  fs.rmSync(work, { recursive: true, force: true });
});

test('same seed → identical bytes; the trainers leak no tensors', async () => {
  const cat = makeCatalogue({ perTopic: 5, withText: false });
  const work = cat.dir;
  writeIdEmbeddings(cat, path.join(work, 'id_embeddings.arrow'));
  writePairs(cat, path.join(work, 'pairs.arrow'), 2, false);
  const cfg = { ...FAST_ENCODER, epochs: 2, batchSize: 16 };
  const first = await trainContent({ ...run, data: work, out: path.join(work, 'a'), config: cfg });
  assert.equal(first.view_mode, 'dropout-augmented');
  const before = tf.memory().numTensors;
  const second = await trainContent({ ...run, data: work, out: path.join(work, 'b'), config: cfg });
  await trainBehavior({ ...run, data: work, idEmbeddings: path.join(work, 'id_embeddings.arrow'), out: path.join(work, 'bh'), config: { ...cfg, dim: 0, minCount: 1 } });
  await trainUnion({ ...run, data: work, content: second.outputs.content, behavior: path.join(work, 'bh', 'behavior.arrow'), pairs: path.join(work, 'pairs.arrow'), out: path.join(work, 'u'), config: { dim: 8, hidden: 16, epochs: 2, batchSize: 16, minSteps: 0 } });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  for (const f of ['content.arrow', 'model/weights.bin', 'model/weights.json', 'loss_curve.json']) {
    assert.ok(fs.readFileSync(path.join(work, 'a', f)).equals(fs.readFileSync(path.join(work, 'b', f))), `${f} differs between runs`);
  }
  const third = await trainContent({ ...run, seed: 12, data: work, out: path.join(work, 'c'), config: cfg });
  assert.ok(!fs.readFileSync(third.outputs.content).equals(fs.readFileSync(first.outputs.content)));
  fs.rmSync(work, { recursive: true, force: true });
});

test('bad inputs are typed errors', async () => {
  const cat = makeCatalogue({ perTopic: 2 });
  const work = cat.dir;
  writePairs(cat, path.join(work, 'pairs.arrow'), 1);
  await assert.rejects(trainContent({ ...run, data: work, out: path.join(work, 'o'), config: { views: 'text-content' } }), InputDataError); // no content column
  await assert.rejects(trainContent({ ...run, data: work, out: path.join(work, 'o'), config: { batchSize: 1 } }), UsageError);
  await assert.rejects(trainContent({ ...run, data: work, out: path.join(work, 'o'), config: { epoch: 3 } as never }), UsageError);
  // content.arrow must cover every item of the dataset.
  writeArrow(path.join(work, 'partial.arrow'), EMBEDDINGS, { item_id: Int32Array.from([0, 1]), vector: { dim: 2, values: new Float32Array([1, 0, 0, 1]) } }, {});
  await assert.rejects(trainUnion({ ...run, data: work, content: path.join(work, 'partial.arrow'), pairs: path.join(work, 'pairs.arrow'), out: path.join(work, 'o'), config: { view: 'content' } }), /item 2 has no content vector/);
  await assert.rejects(trainUnion({ ...run, data: work, pairs: path.join(work, 'pairs.arrow'), out: path.join(work, 'o') }), /--content is required/);
  assert.ok(!fs.existsSync(path.join(work, 'o', 'content.arrow')));
  fs.rmSync(work, { recursive: true, force: true });
});
