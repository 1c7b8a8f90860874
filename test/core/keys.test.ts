// Sidecar key case: snake_case on disk, camelCase in code, both read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { camelKey, camelKeys, snakeKey, snakeKeys } from '../../src/core/keys.js';

test('snakeKeys/camelKeys convert identifier keys deeply and leave names and values alone', () => {
  assert.equal(snakeKey('embeddingDim'), 'embedding_dim');
  assert.equal(snakeKey('m1'), 'm1');
  assert.equal(snakeKey('Grocery'), 'Grocery', 'not an identifier key: a name');
  assert.equal(snakeKey('0.4'), '0.4');
  assert.equal(camelKey('max_train_samples'), 'maxTrainSamples');
  assert.equal(camelKey('maxTrainSamples'), 'maxTrainSamples');
  const cfg = { model: { embeddingDim: 8, tower: [200, 80], simDistNorm: 'fraction' }, runs: [{ name: 'myGist', unionModel: 'x' }], byTheta: { '0.4': 1 } };
  const snake = snakeKeys(cfg);
  assert.deepEqual(snake, { model: { embedding_dim: 8, tower: [200, 80], sim_dist_norm: 'fraction' }, runs: [{ name: 'myGist', union_model: 'x' }], by_theta: { '0.4': 1 } });
  assert.deepEqual(camelKeys(snake), cfg, 'round trip');
  assert.deepEqual(camelKeys(cfg), cfg, 'camelCase input is read as is');
  assert.deepEqual(camelKeys({ state: { bestEpoch: 1, curve: [{ valid_auc: 0.5 }] }, has_best: true }, false), { state: { bestEpoch: 1, curve: [{ valid_auc: 0.5 }] }, hasBest: true }, 'shallow');
  const when = new Date(0);
  assert.equal((snakeKeys({ startedAt: when }) as unknown as { started_at: Date }).started_at, when, 'non-plain objects are kept');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => snakeKeys(cyclic), TypeError);
});
