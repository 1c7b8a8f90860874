import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeRng } from '../../src/core/rng.js';
import { resolveConfig, requireRange } from '../../src/core/config.js';
import { configHash, OutputStage } from '../../src/core/output.js';
import { UsageError } from '../../src/core/errors.js';
import { auc, gauc, logloss } from '../../src/core/metrics.js';
import { SequenceStore } from '../../src/core/dataset.js';

test('rng is deterministic per seed and forks independently', () => {
  const a = makeRng(7);
  const b = makeRng(7);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.next()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => makeRng(8).next()));
  assert.deepEqual(Array.from({ length: 3 }, makeRng(7).fork('x').next), Array.from({ length: 3 }, makeRng(7).fork('x').next));
  const n = Array.from({ length: 20000 }, makeRng(1).normal);
  const mean = n.reduce((s, v) => s + v, 0) / n.length;
  assert.ok(Math.abs(mean) < 0.05);
});

test('resolveConfig rejects unknown keys and wrong types', () => {
  const defaults = { lr: 0.001, epochs: 3, tower: [200, 80] };
  assert.deepEqual(resolveConfig(defaults, { epochs: 5 }), { lr: 0.001, epochs: 5, tower: [200, 80] });
  assert.throws(() => resolveConfig(defaults, { epoch: 5 }), UsageError);
  assert.throws(() => resolveConfig(defaults, { lr: 'fast' }), UsageError);
  assert.throws(() => requireRange('--theta', 0, 0, 1, true), /--theta must be in \(0, 1\]/);
  assert.equal(configHash({ a: 1, b: 2 }), configHash({ b: 2, a: 1 }));
});

test('OutputStage writes nothing into OUT when the work fails', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-out-'));
  fs.writeFileSync(path.join(out, 'keep.txt'), 'old');
  await assert.rejects(
    OutputStage.run(out, [], (stage) => {
      stage.writeJson('result.json', { a: 1 });
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.deepEqual(fs.readdirSync(out), ['keep.txt']);
  await OutputStage.run(out, [], (stage) => stage.writeJson('result.json', { a: 1 }));
  assert.deepEqual(fs.readdirSync(out).sort(), ['keep.txt', 'result.json']);
  assert.throws(() => OutputStage.open(out, [out]), UsageError);
});

test('metrics match hand-computed values', () => {
  assert.equal(auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
  assert.equal(auc([0, 1], [0.5, 0.5]), 0.5); // ties count half
  assert.ok(Number.isNaN(auc([1, 1], [0.2, 0.3])));
  // user 2 has one class only and is left out of gAUC
  assert.equal(gauc([1, 1, 1, 2, 2], [0, 1, 1, 1, 1], [0.2, 0.9, 0.1, 0.5, 0.6]), 0.5);
  assert.ok(Math.abs(logloss([1, 0], [0.8, 0.2]) - -Math.log(0.8)) < 1e-12);
});

test('historyBefore never returns an event at or after ts', () => {
  // one user, events at t = 1, 2, 2, 5
  const store = new SequenceStore('source', Int32Array.from([0]), Int32Array.from([0, 4]), Int32Array.from([10, 11, 12, 13]), Float64Array.from([1, 2, 2, 5]));
  assert.deepEqual(store.historyBefore(0, 2, 10), [0, 1]);
  assert.deepEqual(store.historyBefore(0, 3, 10), [0, 3]);
  assert.deepEqual(store.historyBefore(0, 3, 2), [1, 3]);
  assert.deepEqual(store.historyBefore(0, 0, 10), [0, 0]);
  assert.deepEqual(store.historyBefore(5, 9, 10), [0, 0]); // unknown user: empty
});
