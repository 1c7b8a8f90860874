import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { DOMAIN_CODE, loadDataset, loadUserKeys, SPLIT_CODE, type Dataset } from '../../src/core/dataset.js';
import { UsageError } from '../../src/core/errors.js';
import { prepareDataset, type PrepareResult } from '../../src/core/prepare/index.js';
import { DOMAINS } from '../../src/core/schemas.js';
import { datasetDir, tmpDir } from './_helpers.js';

const ML = datasetDir('movielens-small');
let out: string;
let result: PrepareResult;
let ds: Dataset;

before(async () => {
  out = tmpDir();
  result = await prepareDataset({ format: 'movielens', input: ML, out, seed: 42, targetGenres: ['Animation', 'Children'] });
  ds = loadDataset(out);
});
after(() => fs.rmSync(out, { recursive: true, force: true }));

test('movielens: counts by domain, users and labels', () => {
  const c = result.counts;
  assert.equal(c.items.total, 9742);
  assert.equal(c.items.target, 973);
  assert.equal(c.users.total, 610);
  assert.equal(c.users.overlapping, 567);
  assert.equal(c.events.source + c.events.target, 100836, 'every rating is a behaviour event');
  assert.equal(c.events.target, 10857);
  let positives = 0;
  let samples = 0;
  for (const d of DOMAINS) for (const s of ['train', 'valid', 'test'] as const) {
    positives += c.samples[d][s].positives;
    samples += c.samples[d][s].samples;
  }
  assert.equal(positives, 26818 + 8551 + 13211, 'ratings >= 4');
  assert.equal(samples, positives * 5 + (1370 + 2811 + 1791 + 7551 + 5550), '4 sampled negatives per positive plus ratings <= 2.5');
  // The data's own ids: movieId per item (file order), userId per dense user (ascending).
  assert.equal(ds.items.key![0], '1');
  assert.equal(ds.items.key!.length, 9742);
  assert.deepEqual(loadUserKeys(out)!.slice(0, 3), ['1', '2', '3']);
});

test('movielens: items parse quoted titles, genres become category and text, tags join the text', () => {
  const i = ds.items.title.indexOf('American President, The (1995)');
  assert.ok(i >= 0, 'quoted title with a comma');
  const toy = ds.items.title.indexOf('Toy Story (1995)');
  assert.equal(ds.items.domain[toy], DOMAIN_CODE.target);
  assert.equal(ds.items.categoryNames[ds.items.category![toy]], 'Adventure');
  assert.match(ds.items.text[toy], /^Adventure Animation Children Comedy Fantasy \| .*pixar/i);
  assert.equal(ds.items.domain[i], DOMAIN_CODE.source);
});

test('movielens: each user\'s labelled events are split by time (train < valid < test)', () => {
  for (const d of DOMAINS) {
    const s = ds.samples[d];
    const last = new Map<number, number[]>(); // user -> [max train ts, min valid ts, max valid ts, min test ts]
    for (let i = 0; i < s.count; i++) {
      const v = last.get(s.userId[i]) ?? [-Infinity, Infinity, -Infinity, Infinity];
      if (s.split[i] === SPLIT_CODE.train) v[0] = Math.max(v[0], s.ts[i]);
      if (s.split[i] === SPLIT_CODE.valid) (v[1] = Math.min(v[1], s.ts[i])), (v[2] = Math.max(v[2], s.ts[i]));
      if (s.split[i] === SPLIT_CODE.test) v[3] = Math.min(v[3], s.ts[i]);
      last.set(s.userId[i], v);
    }
    for (const [u, v] of last) {
      assert.ok(v[0] <= v[1] && v[0] <= v[3] && v[2] <= v[3], `user ${u} ${d}: ${v.join(' ')}`);
    }
  }
  // Training-only popularity: a target item's count never includes a valid/test event.
  const t = ds.samples.target;
  let counted = 0;
  for (let i = 0; i < t.count; i++) if (t.split[i] === SPLIT_CODE.train && t.label[i] === 1) counted++;
  assert.ok(ds.items.targetCount.reduce((a, b) => a + b, 0) >= counted);
});

test('movielens: an unknown target genre is a usage error listing the known ones', async () => {
  await assert.rejects(prepareDataset({ format: 'movielens', input: ML, out: path.join(out, 'never'), seed: 1, targetGenres: ['Cartoons'] }), (e: Error) => e instanceof UsageError && /unknown genre "Cartoons".*Animation/.test(e.message));
});
