import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadDataset } from '../../src/core/dataset.js';
import { InputDataError, IoError, UsageError } from '../../src/core/errors.js';
import { prepareDataset } from '../../src/core/prepare/index.js';
import { gist, tmpDir } from './_helpers.js';

/** A miniature Food-Kitchen folder: items 0–2 Food, 3–5 Kitchen. */
function writeMiniFoodKitchen(dir: string): void {
  const items = ['item_id\tdomain\tasin\ttitle', '0\tfood\tA0\tTea', '1\tfood\tA1\tCoffee', '2\tfood\tA2\tJam', '3\tkitchen\tB3\tPan', '4\tkitchen\tB4\tPot', '5\tkitchen\tB5\tKnife'];
  fs.writeFileSync(path.join(dir, 'items.tsv'), items.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'train_overlap.txt'), '1\t0,3,1,4,2\n2\t1,5,0\n');
  fs.writeFileSync(path.join(dir, 'valid.txt'), '1\t3,0,2\n');
  fs.writeFileSync(path.join(dir, 'test.txt'), '1\t4,1,0\n');
  fs.writeFileSync(path.join(dir, 'train_A.txt'), '1\t0,1\n2\t2,0,1\n');
  fs.writeFileSync(path.join(dir, 'train_B.txt'), '1\t3,4,5\n2\t5,3\n');
}

test('food-kitchen mini folder imports; user ids are global across files', async () => {
  const dir = tmpDir();
  try {
    writeMiniFoodKitchen(dir);
    const r = await prepareDataset({ format: 'food-kitchen', input: dir, out: path.join(dir, 'out'), seed: 1, negatives: 1 });
    assert.equal(r.counts.users.total, 8);
    assert.deepEqual(r.counts.users.overlapping_by_split, { train: 2, valid: 1, test: 1 });
    const ds = loadDataset(path.join(dir, 'out'));
    // User 0 (train_overlap uid 1): Food at positions 0, 2, 4 → positives at ts 2 and 4.
    const pos = Array.from({ length: ds.samples.target.count }, (_, i) => i).filter((i) => ds.samples.target.userId[i] === 0 && ds.samples.target.label[i] === 1);
    assert.deepEqual(pos.map((i) => [ds.samples.target.itemId[i], ds.samples.target.ts[i]]), [[1, 2], [2, 4]]);
    // Its source history at ts 4 is the Kitchen events at positions 1 and 3.
    const [a, b] = ds.sequences.source.historyBefore(0, 4, 10);
    assert.deepEqual(Array.from(ds.sequences.source.items.subarray(a, b)), [3, 4]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a malformed food-kitchen line is an input error naming file, row and column; nothing is written', async () => {
  const dir = tmpDir();
  const out = path.join(dir, 'out');
  try {
    writeMiniFoodKitchen(dir);
    fs.writeFileSync(path.join(dir, 'train_A.txt'), '1\t0,1\n2\t2,x7,1\n');
    await assert.rejects(prepareDataset({ format: 'food-kitchen', input: dir, out, seed: 1 }), (e: Error) => e instanceof InputDataError && e.message === `${path.join(dir, 'train_A.txt')}, column items, row 2: non-numeric item id "x7"`);
    fs.writeFileSync(path.join(dir, 'train_A.txt'), '1\t0,1\n2\t2,99\n');
    await assert.rejects(prepareDataset({ format: 'food-kitchen', input: dir, out, seed: 1 }), /train_A\.txt, column items, row 2: item id 99 out of range/);
    fs.writeFileSync(path.join(dir, 'train_A.txt'), '1\t0,1\n2\t2,,1\n');
    await assert.rejects(prepareDataset({ format: 'food-kitchen', input: dir, out, seed: 1 }), /row 2: empty item id/);
    writeMiniFoodKitchen(dir);
    fs.writeFileSync(path.join(dir, 'items.tsv'), '0\tfood\tA0\tTea\n2\tfood\tA2\tJam\n');
    await assert.rejects(prepareDataset({ format: 'food-kitchen', input: dir, out, seed: 1 }), /items\.tsv, column item_id, row 2: item id 2 out of order/);
    assert.ok(!fs.existsSync(out) || fs.readdirSync(out).length === 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('unknown format, misplaced flags and unreadable input are usage / I/O errors', async () => {
  const dir = tmpDir();
  try {
    await assert.rejects(prepareDataset({ format: 'parquet', input: dir, out: path.join(dir, 'o'), seed: 1 }), (e: Error) => e instanceof UsageError && /unknown --format "parquet"/.test(e.message));
    await assert.rejects(prepareDataset({ format: 'food-kitchen', input: dir, out: path.join(dir, 'o'), seed: 1, targetGenres: ['Animation'] }), UsageError);
    await assert.rejects(prepareDataset({ format: 'tsv', input: dir, out: path.join(dir, 'o'), seed: 1, validShare: 0.6, testShare: 0.5 }), UsageError);
    await assert.rejects(prepareDataset({ format: 'food-kitchen', input: path.join(dir, 'missing'), out: path.join(dir, 'o'), seed: 1 }), (e: Error) => e instanceof IoError && /missing: cannot read input folder/.test(e.message));
    await assert.rejects(prepareDataset({ format: 'food-kitchen', input: dir, out: path.join(dir, 'o'), seed: 1 }), (e: Error) => e instanceof IoError && /items\.tsv: cannot read \(ENOENT\)/.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('gist prepare exit codes: 2 unknown format, 3 bad line (JSON error), 4 unreadable input', () => {
  const dir = tmpDir();
  try {
    writeMiniFoodKitchen(dir);
    fs.writeFileSync(path.join(dir, 'train_B.txt'), '1\t3,4,5\n2\t5;3\n');
    const unknown = gist('prepare', ['--format', 'nope', '--input', dir, '--out', path.join(dir, 'o')]);
    assert.equal(unknown.status, 2, unknown.stderr);
    const bad = gist('prepare', ['--format', 'food-kitchen', '--input', dir, '--out', path.join(dir, 'o'), '--json']);
    assert.equal(bad.status, 3, bad.stderr);
    const err = JSON.parse(bad.stdout) as { error: { code: string; message: string } };
    assert.equal(err.error.code, 'INVALID_INPUT');
    assert.match(err.error.message, /train_B\.txt, column items, row 2: non-numeric item id "5;3"/);
    const missing = gist('prepare', ['--format', 'tsv', '--input', path.join(dir, 'nope'), '--out', path.join(dir, 'o')]);
    assert.equal(missing.status, 4, missing.stderr);
    assert.match(missing.stderr, /cannot read input folder/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
