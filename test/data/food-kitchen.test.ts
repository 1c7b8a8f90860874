import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { DOMAIN_CODE, loadDataset, loadUserKeys, SPLIT_CODE, type Dataset } from '../../src/core/dataset.js';
import { prepareDataset, type PrepareResult } from '../../src/core/prepare/index.js';
import { datasetDir, tmpDir } from './_helpers.js';

const FK = datasetDir('food-kitchen');
const FOOD_ITEMS = 8661;
let out: string;
let result: PrepareResult;
let ds: Dataset;

/** The raw user files read the plain way, as an independent check of the importer. */
function readUsers(file: string): number[][] {
  return fs
    .readFileSync(path.join(FK, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.split('\t')[1].split(',').map(Number));
}

before(async () => {
  out = tmpDir();
  result = await prepareDataset({ format: 'food-kitchen', input: FK, out, seed: 42 });
  ds = loadDataset(out);
});
after(() => fs.rmSync(out, { recursive: true, force: true }));

test('food-kitchen: item, user and overlapping-user counts', () => {
  const c = result.counts;
  assert.deepEqual(c.items, { total: 36298, source: 27637, target: 8661, target_unseen_in_training: c.items.target_unseen_in_training });
  assert.deepEqual(c.users.overlapping_by_split, { train: 7501, valid: 960, test: 937 });
  assert.equal(c.users.overlapping, 7501 + 960 + 937);
  assert.equal(c.users.total, 5472 + 38191 + 7501 + 960 + 937);
  assert.equal(c.users.target, 5472 + 7501 + 960 + 937);
  assert.equal(c.users.source, 38191 + 7501 + 960 + 937);
  assert.equal(ds.manifest.counts.overlapping_users_test, 937);
  assert.equal(ds.items.count, 36298);
  assert.equal(ds.items.category, null, 'no categories in this dataset');
  assert.ok(result.notes.some((n) => /No categories/.test(n)));
  // The data's own ids: ASINs for items, FILE:uid for users (one per gist user).
  assert.equal(ds.items.key!.length, 36298);
  assert.match(ds.items.key![0], /^[A-Z0-9]{10}$/);
  const users = loadUserKeys(out)!;
  assert.equal(users.length, c.users.total);
  assert.equal(new Set(users).size, users.length);
  assert.match(users[0], /^train_overlap:\d+$/);
});

test('food-kitchen: events, target samples and training-only counts match the raw files', () => {
  const files = { overlap: readUsers('train_overlap.txt'), valid: readUsers('valid.txt'), test: readUsers('test.txt'), a: readUsers('train_A.txt'), b: readUsers('train_B.txt') };
  const all = [...files.overlap, ...files.valid, ...files.test, ...files.a, ...files.b];
  const isFood = (i: number): boolean => i < FOOD_ITEMS;
  const foodEvents = all.reduce((s, seq) => s + seq.filter(isFood).length, 0);
  const kitchenEvents = all.reduce((s, seq) => s + seq.filter((i) => !isFood(i)).length, 0);
  assert.equal(result.counts.events.target, foodEvents);
  assert.equal(result.counts.events.source, kitchenEvents);

  // Positives: every Food interaction after the user's first Food item; 4 negatives each.
  const positives = (seqs: number[][]): number => seqs.reduce((s, seq) => s + Math.max(0, seq.filter(isFood).length - 1), 0);
  const t = result.counts.samples.target;
  assert.equal(t.train.positives, positives(files.overlap));
  assert.equal(t.valid.positives, positives(files.valid));
  assert.equal(t.test.positives, positives(files.test));
  for (const s of ['train', 'valid', 'test'] as const) assert.equal(t[s].samples, t[s].positives * 5);

  // Item counts come from the training files only.
  const trainingFood = [...files.overlap, ...files.a].reduce((s, seq) => s + seq.filter(isFood).length, 0);
  assert.equal(ds.items.targetCount.reduce((s, x) => s + x, 0), trainingFood);
  const src = result.counts.samples.source;
  const trainingKitchen = [...files.overlap, ...files.b].reduce((s, seq) => s + seq.filter((i) => !isFood(i)).length, 0);
  assert.equal(ds.items.sourceCount.reduce((s, x) => s + x, 0), trainingKitchen - src.valid.positives, 'held-out source positives are not counted');
  assert.equal(src.test.samples, 0);
  const sourceUsers = [...files.overlap, ...files.b].filter((seq) => seq.filter((i) => !isFood(i)).length >= 2).length;
  assert.equal(src.valid.positives, Math.round(sourceUsers * 0.1), 'the last Kitchen positive of 10% of source users');
});

test('food-kitchen: sample histories, negatives and domains', () => {
  const s = ds.samples.target;
  const own = new Set<number>();
  let checked = 0;
  for (let i = 0; i < s.count; i += 97) {
    const u = s.userId[i];
    assert.equal(ds.items.domain[s.itemId[i]], DOMAIN_CODE.target);
    const [a, b] = ds.sequences.target.historyBefore(u, s.ts[i], 1e9);
    assert.ok(b > a, 'every target sample has target history (positives start after the first Food item)');
    for (let j = a; j < b; j++) assert.ok(ds.sequences.target.ts[j] < s.ts[i]);
    own.clear();
    const [lo, hi] = ds.sequences.target.range(u);
    for (let j = lo; j < hi; j++) own.add(ds.sequences.target.items[j]);
    if (s.label[i] === 0) {
      assert.ok(!own.has(s.itemId[i]), 'a sampled negative is never one of the user\'s own items');
      assert.ok(ds.items.targetCount[s.itemId[i]] > 0, 'negatives are drawn by training popularity');
    } else {
      // The positive sits in the user's sequence exactly at its ts (its position).
      const at = ds.sequences.target.historyBefore(u, s.ts[i] + 0.5, 1e9)[1] - 1;
      assert.equal(ds.sequences.target.items[at], s.itemId[i]);
      assert.equal(ds.sequences.target.ts[at], s.ts[i]);
    }
    checked++;
  }
  assert.ok(checked > 2000);
  // Valid/test users' sequences are stored (their samples' histories), in both domains.
  const validUser = s.userId[s.split.indexOf(SPLIT_CODE.valid)];
  assert.ok(ds.sequences.source.range(validUser)[1] > ds.sequences.source.range(validUser)[0]);
});

test('food-kitchen: same seed gives identical files', async () => {
  const again = tmpDir();
  try {
    await prepareDataset({ format: 'food-kitchen', input: FK, out: again, seed: 42 });
    for (const f of fs.readdirSync(out)) assert.ok(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(again, f))), f);
  } finally {
    fs.rmSync(again, { recursive: true, force: true });
  }
});
