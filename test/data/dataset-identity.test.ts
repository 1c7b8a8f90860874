// Outputs carry the identity of their dataset; mixing files of two datasets with the same shapes fails (exit 3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readArrow } from '../../src/core/arrow-io.js';
import { datasetFingerprint, itemsFingerprint, loadDataset } from '../../src/core/dataset.js';
import { trainContent } from '../../src/core/cbjt/train-content.js';
import { predict } from '../../src/core/ctr/predict.js';
import { InputDataError } from '../../src/core/errors.js';
import { trainCtr } from '../../src/core/ctr/train.js';
import { evaluate } from '../../src/core/evaluate/evaluate.js';
import { searchGsu } from '../../src/core/retrieval/gsu.js';
import { GSU } from '../../src/core/schemas.js';
import { synthesize } from '../../src/core/synth.js';
import { tmpDir } from './_helpers.js';

test('a gsu.arrow, predictions or embeddings of another dataset with the same shape are refused, naming both', async () => {
  const dir = tmpDir();
  try {
    // Two tiny worlds with identical shapes: the same users, samples and counts; only the items' text differs.
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    await synthesize({ preset: 'tiny', out: a, seed: 7 });
    await synthesize({ preset: 'tiny', out: b, seed: 7, overrides: { subtopicVisibility: 0 } });
    assert.notEqual(datasetFingerprint(a), datasetFingerprint(b));
    // A copy of a dataset is the same dataset.
    fs.cpSync(a, path.join(dir, 'a-copy'), { recursive: true });
    assert.equal(datasetFingerprint(path.join(dir, 'a-copy')), datasetFingerprint(a));

    const gsu = await searchGsu({ data: a, out: path.join(dir, 'gsu-a'), config: { mode: 'hard', k: 5 }, threads: 0, seed: 1 });
    const meta = readArrow(gsu.file, GSU).metadata;
    assert.equal(meta.dataset_fingerprint, datasetFingerprint(a));
    assert.equal(meta.dataset_dir, path.resolve(a));
    const common = { domain: 'target' as const, variant: 'sim-hard' as const, asi: 'none' as const, gsuFile: gsu.file, model: { tower: [8] }, train: { epochs: 1 }, seed: 1, backend: 'wasm' as const, resume: false };
    // The copy trains fine; the other world is refused before any training.
    await trainCtr({ ...common, dataDir: path.join(dir, 'a-copy'), outDir: path.join(dir, 'ctr-a') });
    await assert.rejects(trainCtr({ ...common, dataDir: b, outDir: path.join(dir, 'ctr-b') }), (e: unknown) => e instanceof InputDataError && e.message.startsWith(`${gsu.file}: computed from ${path.resolve(a)}, not from --data ${path.resolve(b)}`));
    assert.ok(!fs.existsSync(path.join(dir, 'ctr-b', 'predictions.arrow')));
    // evaluate --data of another dataset: popularity groups would come from the wrong data.
    const preds = path.join(dir, 'ctr-a', 'predictions.arrow');
    await evaluate({ predictions: [preds], data: a, split: 'test' });
    await assert.rejects(evaluate({ predictions: [preds], data: b, split: 'test' }), (e: unknown) => e instanceof InputDataError && e.message.includes(`${preds}: computed from`) && e.message.includes(`not from --data ${path.resolve(b)}`));

    // Per-item outputs (embeddings) only need the same item catalogue: a world with the same items and other
    // users takes them (search-gsu, and predict on that new prepared folder); b's items differ and are refused.
    const c = path.join(dir, 'c');
    await synthesize({ preset: 'tiny', out: c, seed: 7, overrides: { users: 40 } });
    assert.equal(itemsFingerprint(c), itemsFingerprint(a));
    assert.notEqual(datasetFingerprint(c), datasetFingerprint(a));
    assert.notEqual(itemsFingerprint(b), itemsFingerprint(a));
    const content = await trainContent({ data: a, out: path.join(dir, 'content-a'), seed: 1, backend: 'wasm', config: { epochs: 1, minSteps: 0 } });
    await searchGsu({ data: c, embeddings: content.outputs.content, out: path.join(dir, 'gsu-c'), config: { k: 5 }, threads: 0, seed: 1 });
    await assert.rejects(searchGsu({ data: b, embeddings: content.outputs.content, out: path.join(dir, 'gsu-b'), config: { k: 5 }, threads: 0, seed: 1 }), (e: unknown) => e instanceof InputDataError && /computed from the items of/.test((e as Error).message));
    const gsuA = await searchGsu({ data: a, embeddings: content.outputs.content, out: path.join(dir, 'gsu-a-soft'), config: { k: 5 }, threads: 0, seed: 1 });
    await trainCtr({ ...common, variant: 'gist', asi: 'simscore+simdist', gsuFile: gsuA.file, jointFile: content.outputs.content, dataDir: a, outDir: path.join(dir, 'gist-a') });
    const p = await predict({ model: path.join(dir, 'gist-a'), data: c, out: path.join(dir, 'predict-c'), seed: 1, backend: 'wasm' });
    assert.equal(p.rows, loadDataset(c).samples.target.count);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
