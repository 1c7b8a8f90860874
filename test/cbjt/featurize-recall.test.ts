import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/core/engine/backend.js';
import { batchBags, featurizeTexts, fnv1a, hashText, tokenStrings } from '../../src/core/cbjt/featurize.js';
import { recallAtK } from '../../src/core/cbjt/recall.js';
import { epochsToRun, evenBatches, shuffledBatches } from '../../src/core/cbjt/training.js';
import { makeRng } from '../../src/core/rng.js';

test('FNV-1a over UTF-8 matches reference values', () => {
  assert.equal(fnv1a(''), 0x811c9dc5);
  assert.equal(fnv1a('a'), 0xe40c292c);
  assert.equal(fnv1a('foobar'), 0xbf9cf968);
  assert.equal(fnv1a('café'), 0xa82b5049); // 2-byte sequence
  assert.equal(fnv1a('日本'), 0x9f26ee51); // 3-byte sequences
  assert.equal(fnv1a('😀'), 0x33a29608); // surrogate pair → 4 bytes
});

test('tokens are lower-cased words plus boundary-marked character n-grams, hashed into buckets', () => {
  assert.deepEqual(tokenStrings('Tea, GREEN!', 3), ['w:tea', 'w:green', 'g:<te', 'g:tea', 'g:ea>', 'g:<gr', 'g:gre', 'g:ree', 'g:een', 'g:en>']);
  assert.deepEqual(tokenStrings('a b', 3), ['w:a', 'w:b', 'g:<a>', 'g:<b>']);
  assert.deepEqual(tokenStrings('Tea', 0), ['w:tea']);
  const cfg = { buckets: 97, ngram: 3, maxTokens: 4 };
  const h = hashText('Espresso grinder', cfg);
  assert.equal(h.ids.length, 4); // capped: both words, then the first two n-grams
  assert.ok(h.ids.every((id) => id >= 0 && id < 97 && Number.isInteger(id)));
  assert.deepEqual(hashText('Espresso grinder', cfg).ids, h.ids); // stable
  assert.deepEqual(hashText('ESPRESSO  grinder', cfg).ids, h.ids); // case and spacing do not matter
  const empty = hashText(' -- ', cfg);
  assert.equal(empty.empty, true);
  assert.equal(empty.ids.length, 1);
  const bags = featurizeTexts(['one two', '', 'three'], { buckets: 1024, ngram: 3, maxTokens: 64 });
  assert.deepEqual(Array.from(bags.empty), [0, 1, 0]);
  assert.equal(bags.offsets[3], bags.ids.length);
});

test('token dropout keeps at least one token per bag and is seeded', () => {
  const bags = featurizeTexts(['alpha beta gamma delta', 'x', 'epsilon zeta'], { buckets: 4096, ngram: 3, maxTokens: 64 });
  const rows = Int32Array.from([0, 1, 2]);
  const full = batchBags(bags, rows);
  assert.equal(full.ids.length, bags.ids.length);
  const a = batchBags(bags, rows, 0.99, makeRng(1));
  const b = batchBags(bags, rows, 0.99, makeRng(1));
  assert.deepEqual(a, b);
  assert.ok(Array.from(a.counts).every((c) => c >= 1));
  assert.equal(a.ids.length, a.counts.reduce((s, c) => s + c, 0));
  assert.deepEqual(Array.from(new Set(a.segments)), [0, 1, 2]);
});

test('batches: seeded, near-equal sizes, cover every row once; min-steps raises epochs', () => {
  const batches = shuffledBatches(10, 4, makeRng(2));
  assert.deepEqual(batches.map((b) => b.length), [3, 3, 4]);
  assert.deepEqual(Array.from(batches.flatMap((b) => Array.from(b))).sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(shuffledBatches(10, 4, makeRng(2)), batches);
  assert.deepEqual(evenBatches(new Int32Array(0), 4), []);
  assert.equal(epochsToRun(3, 200, 71), 3);
  assert.equal(epochsToRun(3, 200, 8), 25);
  assert.equal(epochsToRun(0, 200, 8), 0);
  assert.equal(epochsToRun(2, 0, 8), 2);
});

test('Recall@K: exact ranks within the related item\'s domain, query left out, ties split evenly', async () => {
  await initBackend('wasm');
  // 2-d unit vectors; items 0..3 domain 1 (targets), 4..9 domain 0 (sources).
  const angle = [0, 90, 180, 270, 0, 10, 20, 30, 40, 180];
  const vectors = Float32Array.from(angle.flatMap((a) => [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180)]));
  const domain = Int8Array.from([1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  // query 0 (angle 0): source ranking 4 (0°), 5, 6, 7, 8, 9 (180°)
  const r = recallAtK(vectors, 2, domain, { query: Int32Array.from([0, 0, 0]), truth: Int32Array.from([4, 6, 9]) }, [1, 3, 6]);
  assert.equal(r.pairs, 3);
  assert.deepEqual(r.recall, { 'recall@1': 1 / 3, 'recall@3': 2 / 3, 'recall@6': 1 });
  // All candidates identical: the truth's expected rank is the middle, so recall@k = k / candidates.
  const flat = new Float32Array(20).fill(Math.SQRT1_2);
  const t = recallAtK(flat, 2, domain, { query: Int32Array.from([0]), truth: Int32Array.from([5]) }, [3]);
  assert.ok(Math.abs(t.recall['recall@3'] - 3 / 6) < 1e-12);
  // Same-domain pair: the query itself is not a candidate.
  const same = recallAtK(vectors, 2, domain, { query: Int32Array.from([4]), truth: Int32Array.from([5]) }, [1]);
  assert.equal(same.recall['recall@1'], 1);
});
