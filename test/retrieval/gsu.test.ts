import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeArrow, readArrow, type VectorColumn } from '../../src/core/arrow-io.js';
import { loadDataset } from '../../src/core/dataset.js';
import { InputDataError, UsageError } from '../../src/core/errors.js';
import { mergeGsuShards, searchGsu } from '../../src/core/retrieval/gsu.js';
import { EMBEDDINGS } from '../../src/core/schemas.js';
import { bruteForceGsu, makeData, readGsu, type GsuRows } from './_reference.js';

function assertSameRows(got: GsuRows, want: GsuRows, tol = 1e-5): void {
  assert.equal(got.ids.length, want.ids.length);
  for (let r = 0; r < want.ids.length; r++) {
    assert.equal(got.ids[r], want.ids[r], `row ${r} sample id`);
    assert.deepEqual(got.items[r], want.items[r], `row ${r} items`);
    assert.equal(got.scores[r].length, want.scores[r].length);
    for (let t = 0; t < want.scores[r].length; t++) assert.ok(Math.abs(got.scores[r][t] - want.scores[r][t]) <= tol, `row ${r} score ${t}: ${got.scores[r][t]} vs ${want.scores[r][t]}`);
  }
}

test('soft search equals brute force (ids and scores), including ties in score and time', async () => {
  for (const variant of [{}, { tiedTimes: true, distinctVectors: 6 }, { sourceLength: 700, samplesPerUser: 3, dim: 8 }]) {
    const { dir, data, embeddings } = makeData('soft', variant);
    const k = 9;
    const r = await searchGsu({ data, embeddings, out: path.join(dir, 'gsu'), config: { k }, threads: 0, seed: 42 });
    const got = readGsu(r.file);
    assertSameRows(got, bruteForceGsu(data, embeddings, k, 'soft'));
    assert.equal(r.rows, got.ids.length);
    // variant with ties really has ties
    if ('distinctVectors' in variant) assert.ok(got.scores.some((row) => row.some((s, t) => t > 0 && s === row[t - 1])));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('no returned event is at or after the sample time; samples without history get an empty list', async () => {
  const { dir, data, embeddings } = makeData('time', { tiedTimes: true });
  const r = await searchGsu({ data, embeddings, out: path.join(dir, 'gsu'), config: { k: 1000 }, threads: 0, seed: 42 });
  const got = readGsu(r.file);
  const ds = loadDataset(data);
  const s = ds.samples.target;
  let empty = 0;
  for (let i = 0; i < s.count; i++) {
    // multiset of the user's items strictly before ts must cover every returned item
    const [a, b] = ds.sequences.source.range(s.userId[i]);
    const before = new Map<number, number>();
    let atOrAfter = 0;
    for (let j = a; j < b; j++) {
      if (ds.sequences.source.ts[j] < s.ts[i]) before.set(ds.sequences.source.items[j], (before.get(ds.sequences.source.items[j]) ?? 0) + 1);
      else atOrAfter++;
    }
    for (const it of got.items[i]) {
      const c = before.get(it) ?? 0;
      assert.ok(c > 0, `sample ${i}: item ${it} is not in the history before ts`);
      before.set(it, c - 1);
    }
    const nBefore = [...before.values()].reduce((x, y) => x + y, 0);
    assert.equal(nBefore, 0, `sample ${i}: K=1000 must return the whole history before ts`);
    if (got.items[i].length === 0) empty++;
    void atOrAfter;
  }
  assert.ok(empty > 0, 'fixture has samples before any source event');
  assert.equal(r.empty_rows, empty);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('n shards merged equal one process byte for byte, and threads do not change the file', async () => {
  const { dir, data, embeddings } = makeData('shards');
  const base = { data, embeddings, config: { k: 7 }, seed: 42 };
  const single = await searchGsu({ ...base, out: path.join(dir, 'single'), threads: 0 });
  const shards: string[] = [];
  for (let i = 0; i < 3; i++) {
    const out = path.join(dir, `shard-${i}`);
    const r = await searchGsu({ ...base, out, shard: `${i}/3`, threads: 0 });
    assert.equal(r.shard, `${i}/3`);
    shards.push(out);
  }
  const merged = await mergeGsuShards({ inputs: [shards[2], shards[0], shards[1]], out: path.join(dir, 'merged') });
  assert.equal(merged.rows, single.rows);
  assert.ok(fs.readFileSync(merged.file).equals(fs.readFileSync(single.file)), 'merged gsu.arrow differs from the single run');
  assert.equal(fs.readFileSync(path.join(dir, 'merged', 'config.json'), 'utf8'), fs.readFileSync(path.join(dir, 'single', 'config.json'), 'utf8'));
  // incomplete or duplicated shard sets are refused
  await assert.rejects(mergeGsuShards({ inputs: [shards[0], shards[1]], out: path.join(dir, 'bad') }), UsageError);
  await assert.rejects(mergeGsuShards({ inputs: [shards[0], shards[0], shards[1]], out: path.join(dir, 'bad') }), UsageError);
  await assert.rejects(mergeGsuShards({ inputs: [path.join(dir, 'single'), shards[0]], out: path.join(dir, 'bad') }), InputDataError);
  // two worker threads write the same bytes
  const threaded = await searchGsu({ ...base, out: path.join(dir, 'threaded'), threads: 2 });
  assert.ok(fs.readFileSync(threaded.file).equals(fs.readFileSync(single.file)), 'threaded run differs');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('hard mode returns only same-category events, most recent first, and equals brute force', async () => {
  const { dir, data } = makeData('hard', { tiedTimes: true });
  const r = await searchGsu({ data, out: path.join(dir, 'gsu'), config: { k: 5, mode: 'hard' }, threads: 0, seed: 42 });
  const got = readGsu(r.file);
  const ds = loadDataset(data);
  const cat = ds.items.category!;
  for (let i = 0; i < got.ids.length; i++) {
    for (const it of got.items[i]) assert.equal(cat[it], cat[ds.samples.target.itemId[i]], `sample ${i}: item ${it} has another category`);
    assert.ok(got.scores[i].every((s) => s === 1));
  }
  assertSameRows(got, bruteForceGsu(data, null, 5, 'hard'), 0);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('usage and input errors: K <= 0, hard without categories, missing vectors, splits', async () => {
  const { dir, data, embeddings } = makeData('errors', { noCategories: true });
  await assert.rejects(searchGsu({ data, embeddings, out: path.join(dir, 'x'), config: { k: 0 }, threads: 0, seed: 42 }), (e: unknown) => e instanceof UsageError && /--k must be a positive integer/.test((e as Error).message));
  await assert.rejects(searchGsu({ data, out: path.join(dir, 'x'), config: { k: -3 }, threads: 0, seed: 42 }), UsageError);
  await assert.rejects(searchGsu({ data, embeddings, out: path.join(dir, 'x'), config: { k: 100_000_000 }, threads: 0, seed: 42 }), (e: unknown) => e instanceof UsageError && /--k must be at most 100000 .*got 100000000/.test((e as Error).message));
  await assert.rejects(searchGsu({ data, out: path.join(dir, 'x'), config: { mode: 'hard' }, threads: 0, seed: 42 }), /hard search needs a category column; dataset synthetic-retrieval has none/);
  await assert.rejects(searchGsu({ data, embeddings, out: path.join(dir, 'x'), config: { mode: 'hard' }, threads: 0, seed: 42 }), (e: unknown) => e instanceof UsageError && /--mode hard .* does not read --embeddings/.test((e as Error).message));
  await assert.rejects(searchGsu({ data, out: path.join(dir, 'x'), shard: '2/2', threads: 0, seed: 42 }), UsageError);
  // an embeddings file missing one needed item
  const f = readArrow(embeddings, EMBEDDINGS);
  const ids = f.columns.item_id as Int32Array;
  const v = f.columns.vector as VectorColumn;
  const partial = path.join(dir, 'partial.arrow');
  writeArrow(partial, EMBEDDINGS, { item_id: ids.slice(1), vector: { dim: v.dim, values: v.values.slice(v.dim) } }, { c: 'x' });
  await assert.rejects(searchGsu({ data, embeddings: partial, out: path.join(dir, 'x'), threads: 0, seed: 42 }), (e: unknown) => e instanceof InputDataError && /no vector for item 0/.test((e as Error).message) && (e as InputDataError).file === partial);
  assert.equal(fs.existsSync(path.join(dir, 'x', 'gsu.arrow')), false, 'no partial output');
  // only the chosen splits get rows
  const r = await searchGsu({ data, embeddings, out: path.join(dir, 'test-only'), config: { k: 3, splits: ['test'] }, threads: 0, seed: 42 });
  const ds = loadDataset(data);
  const want = Array.from(ds.samples.target.split.keys()).filter((i) => ds.samples.target.split[i] === 2);
  assert.deepEqual(Array.from(readGsu(r.file).ids), want);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('K past the longest source history writes the same rows as K = that length (buffers sized to the history)', async () => {
  const { dir, data, embeddings } = makeData('bigk', { sourceLength: 40 });
  const ds = loadDataset(data);
  let longest = 0;
  for (let u = 0; u < ds.sequences.source.numUsers; u++) {
    const [a, b] = ds.sequences.source.range(u);
    longest = Math.max(longest, b - a);
  }
  const exact = await searchGsu({ data, embeddings, out: path.join(dir, 'exact'), config: { k: longest }, threads: 0, seed: 42 });
  for (const threads of [0, 2]) {
    const big = await searchGsu({ data, embeddings, out: path.join(dir, `big-${threads}`), config: { k: 100_000 }, threads, seed: 42 });
    assert.equal(big.k, 100_000);
    assertSameRows(readGsu(big.file), readGsu(exact.file), 0);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('more samples than one window and one record batch: brute force, shards merged = single run', async () => {
  const { dir, data, embeddings } = makeData('big', { users: 3000, sourceLength: 5, samplesPerUser: 23, sourceItems: 200, targetItems: 50, dim: 4 });
  const base = { data, embeddings, config: { k: 3 }, seed: 42, threads: 0 };
  const single = await searchGsu({ ...base, out: path.join(dir, 'single') });
  assert.ok(single.rows > 65_536, `${single.rows} rows`);
  assertSameRows(readGsu(single.file), bruteForceGsu(data, embeddings, 3, 'soft'));
  await searchGsu({ ...base, out: path.join(dir, 's0'), shard: '0/2' });
  await searchGsu({ ...base, out: path.join(dir, 's1'), shard: '1/2' });
  const merged = await mergeGsuShards({ inputs: [path.join(dir, 's0'), path.join(dir, 's1')], out: path.join(dir, 'merged') });
  assert.ok(fs.readFileSync(merged.file).equals(fs.readFileSync(single.file)));
  fs.rmSync(dir, { recursive: true, force: true });
});
