import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeArrow } from '../../src/core/arrow-io.js';
import { InputDataError, UsageError } from '../../src/core/errors.js';
import { HnswIndex, addToIndex, buildIndex, readIndexManifest } from '../../src/core/retrieval/hnsw.js';
import { randomUnitVectors } from '../../src/core/retrieval/synthetic.js';
import { EMBEDDINGS, PAIRS } from '../../src/core/schemas.js';
import { makeData, tmpDir } from './_reference.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function writeEmb(file: string, firstId: number, n: number, dim: number, seed: number): Float32Array {
  const values = randomUnitVectors(n, dim, seed);
  writeArrow(file, EMBEDDINGS, { item_id: Int32Array.from({ length: n }, (_, i) => firstId + i), vector: { dim, values } }, { config_hash: `emb${seed}` });
  return values;
}

test('build-index writes shards + index.json, re-applies ef on load, and finds items added later', async () => {
  const dir = tmpDir('index');
  const dim = 16;
  writeEmb(path.join(dir, 'a.arrow'), 0, 1500, dim, 1);
  const r = await buildIndex({ embeddings: path.join(dir, 'a.arrow'), out: path.join(dir, 'idx'), config: { ef: 37, m: 8, efConstruction: 60 }, seed: 9, threads: 0, recall: { queries: 200 } });
  assert.equal(r.count, 1500);
  assert.equal(r.shards, 2);
  assert.ok(r.recall && r.recall.recall_vs_exact['10'] > 0.9, JSON.stringify(r.recall));
  const m = readIndexManifest(path.join(dir, 'idx'));
  assert.deepEqual([m.dim, m.count, m.m, m.ef_construction, m.ef, m.seed], [dim, 1500, 8, 60, 37, 9]);
  assert.equal(m.labels.length, 1500);
  assert.deepEqual(m.shards.map((s) => s.count), [750, 750]);
  assert.equal(m.inputs[0].config_hash, 'emb1');
  assert.ok(fs.existsSync(path.join(dir, 'idx', 'recall.json')));

  // hnswlib does not store ef: ours comes back from index.json
  const idx = await HnswIndex.open(path.join(dir, 'idx'), { threads: 0 });
  assert.equal(idx.appliedEf, 37);
  await idx.close();
  const idx2 = await HnswIndex.open(path.join(dir, 'idx'), { threads: 0, ef: 120 });
  assert.equal(idx2.appliedEf, 120);
  await idx2.close();

  // --add: new items arriving online are their own nearest neighbours afterwards
  const added = writeEmb(path.join(dir, 'b.arrow'), 5000, 40, dim, 2);
  const a = await addToIndex({ index: path.join(dir, 'idx'), add: path.join(dir, 'b.arrow'), threads: 0 });
  assert.equal(a.count, 1540);
  assert.equal(a.inserted, 40);
  const m2 = readIndexManifest(path.join(dir, 'idx'));
  assert.equal(m2.count, 1540);
  assert.equal(m2.ef, 37);
  assert.deepEqual(m2.shards.map((s) => s.count), [770, 770]);
  const idx3 = await HnswIndex.open(path.join(dir, 'idx'), { threads: 0 });
  const found = await idx3.search(added, 1);
  assert.deepEqual(Array.from(found.labels), Array.from({ length: 40 }, (_, i) => 5000 + i));
  await idx3.close();

  // the same items again, or another dimension, are refused
  await assert.rejects(addToIndex({ index: path.join(dir, 'idx'), add: path.join(dir, 'b.arrow'), threads: 0 }), /item 5000 is already in the index/);
  writeEmb(path.join(dir, 'c.arrow'), 9000, 5, dim + 1, 3);
  await assert.rejects(addToIndex({ index: path.join(dir, 'idx'), add: path.join(dir, 'c.arrow'), threads: 0 }), (e: unknown) => e instanceof InputDataError && /dimension 17 does not match the expected 16/.test((e as Error).message));
  await assert.rejects(buildIndex({ embeddings: path.join(dir, 'a.arrow'), out: path.join(dir, 'x'), config: { m: 1 }, seed: 1, threads: 0 }), UsageError);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a parallel build writes the same shard files as a single-thread build; pairs recall through the index', async () => {
  const { dir, data, embeddings } = makeData('pindex', { sourceItems: 900, targetItems: 100, dim: 8 });
  const pairs = path.join(dir, 'pairs.arrow');
  writeArrow(pairs, PAIRS, { target_item: Int32Array.from([900, 901, 902]), related_item: Int32Array.from([3, 4, 5]), attention: Float32Array.from([1, 1, 1]), count: Int32Array.from([1, 1, 1]) }, { c: 1 });
  const base = { embeddings, config: { shards: 3 }, seed: 4, data, domain: 'source' as const };
  const one = await buildIndex({ ...base, out: path.join(dir, 'one'), threads: 0 });
  const par = await buildIndex({ ...base, out: path.join(dir, 'par'), threads: 2, recall: { queries: 50, pairs } });
  assert.equal(one.count, 900);
  for (let s = 0; s < 3; s++) assert.ok(fs.readFileSync(path.join(dir, 'one', `index-${s}.bin`)).equals(fs.readFileSync(path.join(dir, 'par', `index-${s}.bin`))), `shard ${s}`);
  assert.ok(par.recall?.pairs);
  assert.deepEqual(Object.keys(par.recall.pairs.exact.recall), ['10', '100', '1000']);
  assert.equal(par.recall.pairs.exact.recall['1000'], 1); // every source item is within the top 1000 of 900
  assert.equal(par.recall.pairs.index['1000'], 1);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** `gist <command> ...args` from sources in a child process (no build, no manifest). */
function gist(command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const runner = `import { handle } from '@oclif/core'; const { default: C } = await import('./src/commands/${command}.ts'); await C.run(process.argv.slice(1), { root: process.cwd() }).catch(handle);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', runner, '--', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('commands: --json shapes and exit codes (K <= 0 → 2, dimension mismatch → 3)', () => {
  const { dir, data, embeddings } = makeData('cli');
  const g = gist('search-gsu', ['--data', data, '--embeddings', embeddings, '--out', path.join(dir, 'g0'), '--k', '5', '--shard', '0/2', '--threads', '0', '--json']);
  assert.equal(g.status, 0, g.stderr);
  const gj = JSON.parse(g.stdout) as { result?: Record<string, unknown> } & Record<string, unknown>;
  const res = (gj.result ?? gj) as Record<string, unknown>;
  for (const key of ['out', 'file', 'mode', 'k', 'splits', 'shard', 'rows', 'empty_rows', 'mean_results', 'mean_history', 'threads', 'fma', 'search_seconds', 'samples_per_s', 'gflops', 'config']) assert.ok(key in res, key);
  assert.equal(gist('search-gsu', ['--data', data, '--embeddings', embeddings, '--out', path.join(dir, 'g1'), '--k', '5', '--shard', '1/2', '--threads', '0', '-q']).status, 0);
  const m = gist('merge', [path.join(dir, 'g0'), path.join(dir, 'g1'), '--out', path.join(dir, 'gm'), '--json']);
  assert.equal(m.status, 0, m.stderr);
  assert.equal(gist('search-gsu', ['--data', data, '--embeddings', embeddings, '--out', path.join(dir, 'bad'), '--k', '0']).status, 2);
  const b = gist('build-index', ['--embeddings', embeddings, '--out', path.join(dir, 'idx'), '--data', data, '--domain', 'source', '--threads', '0', '--json']);
  assert.equal(b.status, 0, b.stderr);
  writeArrow(path.join(dir, 'wrong.arrow'), EMBEDDINGS, { item_id: Int32Array.from([7777]), vector: { dim: 3, values: Float32Array.from([1, 0, 0]) } }, { c: 1 });
  const bad = gist('build-index', ['--index', path.join(dir, 'idx'), '--add', path.join(dir, 'wrong.arrow'), '--threads', '0']);
  assert.equal(bad.status, 3, bad.stderr);
  assert.match(bad.stderr, /wrong\.arrow, column vector: dimension 3 does not match the expected 13/);
  fs.rmSync(dir, { recursive: true, force: true });
});
