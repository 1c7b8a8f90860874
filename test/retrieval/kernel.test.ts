import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { writeArrow } from '../../src/core/arrow-io.js';
import { loadEmbeddings } from '../../src/core/retrieval/embeddings.js';
import { exactTopK, recallAtK } from '../../src/core/retrieval/recall.js';
import { nativeKernels } from '../../src/core/retrieval/native.js';
import { randomUnitVectors } from '../../src/core/retrieval/synthetic.js';
import { makeRng } from '../../src/core/rng.js';
import { EMBEDDINGS } from '../../src/core/schemas.js';
import { tmpDir } from './_reference.js';

function writeEmb(file: string, ids: Int32Array, dim: number, values: Float32Array): void {
  writeArrow(file, EMBEDDINGS, { item_id: ids, vector: { dim, values } }, { test: 1 });
}

test('exact top-K equals brute force for odd dimensions, candidate subsets, self-exclusion and score ties (native and WebAssembly kernels)', () => {
  const dir = tmpDir('kernel');
  const rng = makeRng(5);
  for (const [dim, n, k, distinct] of [[1, 40, 7, 0], [3, 300, 11, 0], [13, 1500, 40, 0], [64, 1300, 100, 0], [8, 600, 25, 9]] as const) {
    const file = path.join(dir, `e${dim}.arrow`);
    // sparse, shuffled ids; vectors not unit length (the loader normalises)
    const ids = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i * 3 + 1));
    const values = randomUnitVectors(n, dim, dim * 7 + n, distinct).map((x, i) => x * (1 + (i % 5)));
    writeEmb(file, ids, dim, values);
    const emb = loadEmbeddings(file);
    const cand = Array.from(ids).filter(() => rng.next() < 0.8);
    const queries = Int32Array.from({ length: 70 }, () => ids[rng.int(n)]);
    for (const [excludeSelf, native] of [[false, nativeKernels()], [true, nativeKernels()], [false, null], [true, null]] as const) {
      const got = exactTopK(emb, queries, k, cand, { excludeSelf, native });
      const sortedCand = [...cand].sort((a, b) => a - b);
      for (let q = 0; q < queries.length; q++) {
        const qv = emb.vectors.subarray(emb.rowOf[queries[q]] * dim, emb.rowOf[queries[q]] * dim + dim);
        const ref = sortedCand
          .filter((it) => !(excludeSelf && it === queries[q]))
          .map((it) => {
            const v = emb.vectors.subarray(emb.rowOf[it] * dim, emb.rowOf[it] * dim + dim);
            let dot = 0;
            for (let x = 0; x < dim; x++) dot += qv[x] * v[x];
            return { it, s: Math.fround(dot) };
          })
          .sort((a, b) => b.s - a.s || a.it - b.it)
          .slice(0, k);
        const row = Array.from(got.items.subarray(q * k, q * k + k)).filter((x) => x >= 0);
        assert.deepEqual(row, ref.map((r) => r.it), `dim ${dim} query ${q} excludeSelf ${excludeSelf} ${native ? 'native' : 'wasm'}`);
        for (let t = 0; t < ref.length; t++) assert.ok(Math.abs(got.scores[q * k + t] - ref[t].s) <= 1e-5);
      }
    }
  }
});

test('recallAtK counts pairs whose related item is in the exact top-K of the target item', () => {
  const dir = tmpDir('recall');
  // 1-D "angles" on a circle: item i at angle i·0.01, so neighbours are index neighbours
  const n = 50;
  const values = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    values[2 * i] = Math.cos(i * 0.01);
    values[2 * i + 1] = Math.sin(i * 0.01);
  }
  const file = path.join(dir, 'circle.arrow');
  writeEmb(file, Int32Array.from({ length: n }, (_, i) => i), 2, values);
  const emb = loadEmbeddings(file);
  // target 10: related 11 (rank 0 or 1), 13 (rank 4 or 5), 30 (far), 60 (not a candidate)
  const pairs = { targetItem: Int32Array.from([10, 10, 10, 10, 20]), relatedItem: Int32Array.from([11, 13, 30, 60, 21]) };
  const r = recallAtK(emb, pairs, [2, 10, 100], null);
  assert.equal(r.pairs, 5);
  assert.equal(r.queries, 2);
  assert.equal(r.unreachable, 1);
  assert.equal(r.recall['2'], 2 / 5); // 11 and 21
  assert.equal(r.recall['10'], 3 / 5); // + 13
  assert.equal(r.recall['100'], 4 / 5); // + 30; 60 never
  // candidates restricted to items < 12: 13 and 30 become unreachable
  const r2 = recallAtK(emb, pairs, [10], Int32Array.from({ length: 12 }, (_, i) => i));
  assert.equal(r2.recall['10'], 1 / 5);
  assert.throws(() => recallAtK(emb, { targetItem: Int32Array.from([99]), relatedItem: Int32Array.from([1]) }, [10], null), /no vector for target item 99/);
});

test('the mul+add kernel (no relaxed SIMD) gives the same GSU results', () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const script = `
    import { bruteForceGsu, makeData, readGsu } from './test/retrieval/_reference.ts';
    import { searchGsu } from './src/core/retrieval/gsu.ts';
    const { dir, data, embeddings } = makeData('nofma', { distinctVectors: 12 });
    const r = await searchGsu({ data, embeddings, out: dir + '/gsu', config: { k: 6 }, threads: 0, seed: 1 });
    const got = readGsu(r.file), want = bruteForceGsu(data, embeddings, 6, 'soft');
    const same = got.items.every((row, i) => JSON.stringify(row) === JSON.stringify(want.items[i]) && row.every((_, t) => Math.abs(got.scores[i][t] - want.scores[i][t]) <= 1e-5));
    console.log(JSON.stringify({ fma: r.fma, same }));`;
  const p = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, GIST_WASM_FMA: '0', GIST_NATIVE: '0' } });
  assert.equal(p.status, 0, p.stderr);
  assert.deepEqual(JSON.parse(p.stdout.trim().split('\n').pop() as string), { fma: false, same: true });
});
