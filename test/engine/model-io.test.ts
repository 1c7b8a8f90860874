import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadWeights, ModelFormatError, saveWeights, type WeightMap } from '../../src/core/engine/model-io.js';

function sample(): WeightMap {
  return {
    'item/table': { shape: [3, 2], data: Float32Array.from([0.5, -1, 2.25, 3, 1e-30, -0]) },
    'item/adam_step': { shape: [3], data: Int32Array.from([1, 0, 7]) },
    'head/b': { shape: [], data: Float32Array.from([42]) },
    empty: { shape: [0, 4], data: new Float32Array(0) },
    // A view into a larger buffer at an offset must be written as just its own bytes.
    view: { shape: [2], data: new Float32Array(Float32Array.from([9, 8, 7, 6]).buffer, 8, 2) },
  };
}

async function expectFormatError(dir: string, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadWeights(dir), (err: unknown) => {
    assert.ok(err instanceof ModelFormatError, String(err));
    assert.equal(err.exitCode, 3);
    assert.equal(err.file, path.join(dir, file));
    assert.match(err.message, pattern);
    return true;
  });
}

describe('model-io', () => {
  let root = '';
  let n = 0;
  const fresh = async (): Promise<string> => {
    const dir = path.join(root, `m${n++}`);
    await saveWeights(dir, sample(), { model: 'din', dim: 2 });
    return dir;
  };

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'gist-model-io-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('round-trips float32/int32 tensors, shapes and config; leaves no temp files', async () => {
    const dir = await fresh();
    assert.deepEqual((await readdir(dir)).sort(), ['config.json', 'weights.bin', 'weights.json']);
    const { weights, config } = await loadWeights(dir);
    assert.deepEqual(config, { model: 'din', dim: 2 });
    const expected = sample();
    assert.deepEqual(Object.keys(weights).sort(), Object.keys(expected).sort());
    for (const [k, w] of Object.entries(expected)) {
      assert.deepEqual(weights[k].shape, w.shape, k);
      assert.equal(weights[k].data.constructor, w.data.constructor, k);
      assert.deepEqual(Array.from(weights[k].data), Array.from(w.data), k);
    }
    assert.ok(Object.is(weights['item/table'].data[5], -0));
    // Saving again over an existing model replaces it.
    await saveWeights(dir, { x: { shape: [1], data: Float32Array.of(1) } }, {});
    assert.deepEqual(Object.keys((await loadWeights(dir)).weights), ['x']);
  });

  it('reports a missing file by name', async () => {
    for (const file of ['weights.bin', 'weights.json', 'config.json']) {
      const dir = await fresh();
      await unlink(path.join(dir, file));
      await expectFormatError(dir, file, /missing/);
    }
  });

  it('reports a truncated weights.bin', async () => {
    const dir = await fresh();
    await truncate(path.join(dir, 'weights.bin'), 10);
    await expectFormatError(dir, 'weights.bin', /10 bytes, manifest says/);
  });

  it('reports weights.bin contents that do not match the manifest', async () => {
    const dir = await fresh();
    const bin = await readFile(path.join(dir, 'weights.bin'));
    bin[0] ^= 0xff;
    await writeFile(path.join(dir, 'weights.bin'), bin);
    await expectFormatError(dir, 'weights.bin', /sha256/);
  });

  it('reports an inconsistent or unparsable manifest', async () => {
    const edits: [string, (m: Record<string, unknown> & { weights: Record<string, unknown>[] }) => void, RegExp][] = [
      ['shape', (m) => void (m.weights[0].shape = [4, 2]), /byteLength does not match shape/],
      ['dtype', (m) => void (m.weights[0].dtype = 'float64'), /unsupported dtype/],
      ['offset', (m) => void (m.weights[0].offset = 1000), /past the end/],
      ['format', (m) => void (m.format = 'tfjs'), /format/],
      ['version', (m) => void (m.version = 2), /version 2/],
      ['duplicate', (m) => void m.weights.push({ ...m.weights[0] }), /appears twice/],
    ];
    for (const [label, edit, pattern] of edits) {
      const dir = await fresh();
      const file = path.join(dir, 'weights.json');
      const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown> & { weights: Record<string, unknown>[] };
      edit(manifest);
      await writeFile(file, JSON.stringify(manifest));
      await expectFormatError(dir, 'weights.json', pattern).catch((e: unknown) => {
        throw new Error(`${label}: ${String(e)}`);
      });
    }
    const dir = await fresh();
    await writeFile(path.join(dir, 'config.json'), '{ not json');
    await expectFormatError(dir, 'config.json', /not valid JSON/);
  });

  it('a failed save leaves no partial output', async () => {
    const dir = path.join(root, 'failed');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic; // JSON.stringify throws after weights.bin's temp file was written
    await assert.rejects(saveWeights(dir, sample(), cyclic), TypeError);
    assert.deepEqual(await readdir(dir), []);
    await assert.rejects(saveWeights(dir, { bad: { shape: [3], data: new Float32Array(2) } }, {}), /does not match 2 values/);
    assert.deepEqual(await readdir(dir), []);
    // An existing good model survives a failed overwrite.
    const good = await fresh();
    await assert.rejects(saveWeights(good, sample(), cyclic), TypeError);
    assert.deepEqual((await loadWeights(good)).config, { model: 'din', dim: 2 });
  });
});
