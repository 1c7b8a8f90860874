// `gist predict` reproduces train-ctr's own predictions (GSU searched again for GIST), scores new samples from a
// file like the same samples in the dataset, and refuses flags the model would not read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readArrow, type DictColumn } from '../../src/core/arrow-io.js';
import { trainContent } from '../../src/core/cbjt/train-content.js';
import { predict } from '../../src/core/ctr/predict.js';
import { trainCtr } from '../../src/core/ctr/train.js';
import { loadDataset } from '../../src/core/dataset.js';
import { InputDataError, UsageError } from '../../src/core/errors.js';
import { readParquetTable } from '../../src/core/parquet.js';
import { searchGsu } from '../../src/core/retrieval/gsu.js';
import { PREDICTED, PREDICTIONS } from '../../src/core/schemas.js';
import { ROOT } from '../_built-cli.js';
import { tmpDir } from '../data/_helpers.js';

const D = path.join(ROOT, 'fixtures', 'tiny');

test('predict = train-ctr predictions for din, SIM soft attention and GIST; new samples from CSV/Parquet score the same', async () => {
  const w = tmpDir();
  try {
    const content = await trainContent({ data: D, out: path.join(w, 'content'), seed: 1, backend: 'wasm', config: { epochs: 1, minSteps: 0 } });
    const gsu = await searchGsu({ data: D, embeddings: content.outputs.content, out: path.join(w, 'gsu'), threads: 0, seed: 1 });
    const base = { dataDir: D, domain: 'target' as const, model: { tower: [16] }, train: { epochs: 1 }, seed: 1, backend: 'wasm' as const, resume: false };
    const runs = {
      din: await trainCtr({ ...base, outDir: path.join(w, 'din'), variant: 'din', asi: 'none' }),
      ssa: await trainCtr({ ...base, outDir: path.join(w, 'ssa'), variant: 'sim-soft-attention', asi: 'none', gsuFile: gsu.file }),
      gist: await trainCtr({ ...base, outDir: path.join(w, 'gist'), variant: 'gist', asi: 'simscore+simdist', gsuFile: gsu.file, jointFile: content.outputs.content }),
    };
    for (const [name, run] of Object.entries(runs)) {
      const own = readArrow(run.outputs.predictions, PREDICTIONS).columns;
      const r = await predict({ model: path.join(w, name), data: D, splits: ['valid', 'test'], out: path.join(w, `pred-${name}`), seed: 1, backend: 'wasm' });
      const got = readArrow(r.predictions, PREDICTED).columns;
      const byId = new Map(Array.from(got.sample_id as Int32Array, (id, i) => [id, (got.score as Float32Array)[i]]));
      const ids = own.sample_id as Int32Array;
      assert.equal(r.rows, ids.length, name);
      for (let i = 0; i < ids.length; i++) assert.ok(Math.abs(byId.get(ids[i])! - (own.score as Float32Array)[i]) < 1e-5, `${name} sample ${ids[i]}`);
      assert.equal(r.gsu !== null, name !== 'din');
      assert.deepEqual((got.split as DictColumn).values, ['train', 'valid', 'test']);
    }
    // New samples in a file: the dataset's first 20 test samples, no labels, as CSV and as Parquet.
    const ds = loadDataset(D);
    const s = ds.samples.target;
    const test20 = Array.from({ length: s.count }, (_, i) => i).filter((i) => s.split[i] === 2).slice(0, 20);
    const csv = path.join(w, 'new.csv');
    fs.writeFileSync(csv, 'user,item,ts\n' + test20.map((i) => `${s.userId[i]},${s.itemId[i]},${s.ts[i]}`).join('\n') + '\n');
    const fromFile = await predict({ model: path.join(w, 'gist'), data: D, samples: csv, out: path.join(w, 'pred-new'), format: 'parquet', seed: 1, backend: 'wasm' });
    const t = readParquetTable(fromFile.predictions);
    assert.deepEqual(t.schema.fields.map((f) => f.name), ['sample_id', 'user_id', 'item_id', 'ts', 'score']);
    const own = readArrow(path.join(w, 'pred-gist', 'predictions.arrow'), PREDICTED).columns;
    const ownById = new Map(Array.from(own.sample_id as Int32Array, (id, i) => [id, (own.score as Float32Array)[i]]));
    test20.forEach((i, r) => assert.ok(Math.abs(Number(t.getChild('score')!.get(r)) - ownById.get(i)!) < 1e-5, `new sample ${r}`));
    // Flags the model would not read, and bad rows, are refused.
    await assert.rejects(predict({ model: path.join(w, 'din'), data: D, embeddings: content.outputs.content, out: path.join(w, 'x'), seed: 1, backend: 'wasm' }), UsageError);
    fs.writeFileSync(csv, 'user,item,ts\n0,0,5\n');
    await assert.rejects(predict({ model: path.join(w, 'din'), data: D, samples: csv, out: path.join(w, 'x'), seed: 1, backend: 'wasm' }), (e: unknown) => e instanceof InputDataError && /new\.csv, column item, row 2: item 0 is not a target-domain item/.test((e as Error).message));
    assert.ok(!fs.existsSync(path.join(w, 'x', 'predictions.arrow')));
  } finally {
    fs.rmSync(w, { recursive: true, force: true });
  }
});
