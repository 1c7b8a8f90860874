import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { writeArrow, type Columns } from '../../src/core/arrow-io.js';
import { readEvalPairs } from '../../src/core/cbjt/recall.js';
import { evaluate } from '../../src/core/evaluate/evaluate.js';
import { loadTruthPairs } from '../../src/core/evaluate/inputs.js';
import { UsageError } from '../../src/core/errors.js';
import { makeRng } from '../../src/core/rng.js';
import { EMBEDDINGS, PAIRS } from '../../src/core/schemas.js';
import { tmpDir } from './_fixtures.js';

const META = { command: 'test', version: '0', seed: 1, config_hash: 'test' };
const SPLITS = ['train', 'valid', 'test'];

/** A PAIRS file of [target, related, split] rows (split omitted: no split column). */
function writePairs(file: string, rows: [number, number, string?][]): string {
  const split: Columns = rows.every((r) => r[2] !== undefined) ? { split: { codes: Int32Array.from(rows, (r) => SPLITS.indexOf(r[2] as string)), values: SPLITS } } : {};
  writeArrow(
    file,
    PAIRS,
    { target_item: Int32Array.from(rows, (r) => r[0]), related_item: Int32Array.from(rows, (r) => r[1]), attention: new Float32Array(rows.length).fill(0.5), count: new Int32Array(rows.length).fill(1), ...split },
    META,
  );
  return file;
}

const dir = tmpDir('gist-truth-overlap-');
// Train pairs (1, 2) and (3, 4). Held out: (1, 2) same orientation, (4, 3) reversed — both also training
// pairs — and (5, 6), (7, 8) disjoint from training.
const pairs = writePairs(path.join(dir, 'pairs.arrow'), [
  [1, 2, 'train'],
  [3, 4, 'train'],
  [1, 2, 'valid'],
  [4, 3, 'test'],
  [5, 6, 'valid'],
  [7, 8, 'test'],
]);

test('held-out pairs that are also train-split pairs (either orientation) are left out of the truth', () => {
  const t = loadTruthPairs(pairs);
  assert.deepEqual([Array.from(t.target), Array.from(t.related)], [[5, 7], [6, 8]]);
  assert.equal(t.droppedOverlap, 2);
  assert.equal(t.truth, 'valid+test');
  // The trainers' --eval-pairs reader applies the same rule.
  const e = readEvalPairs(pairs, 10, 100, makeRng(1));
  assert.deepEqual([Array.from(e.query), Array.from(e.truth)], [[5, 7], [6, 8]]);
  assert.equal(e.droppedOverlap, 2);
});

test('training pairs of other files (--train-pairs) are left out too; a file without split is all training', () => {
  // A truth file with valid/test only (pairs-truth) next to the training files (pairs-esu, pairs-swing).
  const truthOnly = writePairs(path.join(dir, 'truth.arrow'), [
    [1, 2, 'valid'],
    [6, 5, 'test'],
    [7, 8, 'test'],
    [9, 1, 'valid'],
  ]);
  assert.equal(loadTruthPairs(truthOnly).droppedOverlap, 0);
  const swing = writePairs(path.join(dir, 'swing.arrow'), [[1, 9]]); // no split column: every row trains
  const t = loadTruthPairs(truthOnly, [pairs, swing, pairs]);
  // (1, 2) trains in pairs.arrow, (9, 1) reversed in swing.arrow; (6, 5) is only held out there, so it stays.
  assert.deepEqual([Array.from(t.target), Array.from(t.related)], [[6, 7], [5, 8]]);
  assert.equal(t.droppedOverlap, 2);
  // A truth file without a split column is all truth: none of its own rows count as training.
  assert.equal(loadTruthPairs(swing).droppedOverlap, 0);
  assert.equal(loadTruthPairs(swing).target.length, 1);
});

test('evaluate reports the dropped count per recall entry and needs --pairs for --train-pairs', async () => {
  const n = 10;
  const rng = makeRng(4);
  const emb = path.join(dir, 'joint.arrow');
  writeArrow(emb, EMBEDDINGS, { item_id: Int32Array.from({ length: n }, (_, i) => i), vector: { dim: 4, values: Float32Array.from({ length: n * 4 }, () => rng.normal()) } }, META);
  const r = await evaluate({ embeddings: [`joint=${emb}`], pairs, ks: [1, 5] });
  assert.equal(r.recall[0].pairs, 2);
  assert.equal(r.recall[0].truth_pairs_dropped_overlap, 2);
  // Options are checked before any file is read, so a missing predictions file is fine here.
  await assert.rejects(evaluate({ predictions: [path.join(dir, 'none.arrow')], trainPairs: [pairs] }), (err: unknown) => err instanceof UsageError && /--train-pairs/.test(err.message));
});

test('evaluate: a pairs file without valid/test rows and K ≥ the candidate count give n/a (null) with warnings, not an error', async () => {
  const n = 10;
  const rng = makeRng(5);
  const emb = path.join(dir, 'joint-na.arrow');
  writeArrow(emb, EMBEDDINGS, { item_id: Int32Array.from({ length: n }, (_, i) => i), vector: { dim: 4, values: Float32Array.from({ length: n * 4 }, () => rng.normal()) } }, META);
  const trainOnly = writePairs(path.join(dir, 'train-only.arrow'), [[1, 2, 'train'], [3, 4, 'train']]);
  const none = await evaluate({ embeddings: [`joint=${emb}`], pairs: trainOnly, ks: [1, 5] });
  assert.deepEqual(none.recall[0].recall, { '1': null, '5': null });
  assert.ok(none.warnings.some((w) => /has no valid\/test pairs; recall is n\/a/.test(w)), none.warnings.join('; '));
  // 10 candidates: K = 10 and 100 retrieve everything, so they are n/a; K = 5 is a real figure.
  const big = await evaluate({ embeddings: [`joint=${emb}`], pairs, ks: [5, 10, 100] });
  assert.equal(big.recall[0].candidates, 10);
  assert.equal(typeof big.recall[0].recall['5'], 'number');
  assert.equal(big.recall[0].recall['10'], null);
  assert.equal(big.recall[0].recall['100'], null);
  assert.ok(big.warnings.some((w) => /K 10, 100 ≥ its 10 candidates; n\/a/.test(w)), big.warnings.join('; '));
});
