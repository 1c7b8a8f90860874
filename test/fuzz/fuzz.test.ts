/** A small fixed-seed fuzz run (the full one is `npm run fuzz`), and the inputs earlier runs found bugs with. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeArrow, readArrow } from '../../src/core/arrow-io.js';
import { loadDataset } from '../../src/core/dataset.js';
import { InputDataError } from '../../src/core/errors.js';
import { ALL_SPECS } from '../../src/core/schemas.js';
import { isExpectedError, TARGETS } from './cases.js';
import { datasetCorpus } from './corpus.js';
import { runFuzz } from './run.js';

const REGRESSIONS = path.join(import.meta.dirname, 'regressions');

test('500 mutated Arrow files, dataset folders and importer inputs: only typed errors, no hang', async () => {
  // A generous per-case budget: the suite shares 2 cores with training tests; the CLI fuzzer uses 2 s.
  const summary = await runFuzz({ seed: 20250707, count: 500, budgetMs: 10_000 });
  const findings = summary.distinctFindings.map((g) => `×${g.count} case ${g.first.case} ${g.first.target} ${g.first.input} [${g.first.steps.join('; ')}] ${g.first.call}: ${g.first.error}`);
  assert.deepEqual(findings, [], `fuzz findings (repro: npm run fuzz -- --seed 20250707 --case N):\n${findings.join('\n')}`);
  assert.equal(summary.count, 500);
  // Every target ran, and the mutations reach both outcomes (some inputs still load, most are rejected).
  for (const t of TARGETS) assert.ok(summary.casesPerTarget[t] > 0, `no ${t} cases`);
  assert.ok((summary.outcomes.arrow.ok ?? 0) > 0 && (summary.outcomes.arrow.InputDataError ?? 0) > 0, JSON.stringify(summary.outcomes.arrow));
  assert.ok((summary.outcomes.import.ok ?? 0) > 0, JSON.stringify(summary.outcomes.import));
});

test('the watchdog reports a hanging case, a crashed worker and an out-of-memory worker, then goes on', async () => {
  const summary = await runFuzz({ seed: 1, count: 8, budgetMs: 3000, heapMb: 64, inject: { hang: 1, crash: 3, oom: 5 } });
  assert.equal(summary.count, 8);
  assert.equal(summary.workerRestarts, 3);
  const byCase = new Map(summary.findings.map((f) => [f.case, f]));
  assert.deepEqual([...byCase.keys()].sort(), [1, 3, 5]);
  assert.equal(byCase.get(1)!.call, 'hang');
  assert.equal(byCase.get(3)!.call, 'crash');
  assert.match(byCase.get(3)!.error, /injected uncaught exception/);
  assert.equal(byCase.get(5)!.call, 'crash');
  assert.match(byCase.get(5)!.error, /ERR_WORKER_OUT_OF_MEMORY/);
  for (const f of byCase.values()) assert.ok(f.steps.length > 0, 'the lost case is described');
});

/**
 * Files from `npm run fuzz -- --seed 42` findings (test/fuzz/regressions/):
 * - footer-block-loop.arrow (case 45): a footer block pointing at a non-batch message; arrow-js's file reader looped forever.
 * - huge-nodes-vector.arrow (case 78): a record batch whose nodes vector claims 536,870,912 entries; out of memory.
 * - list-without-child.arrow (case 9897): a List type without its child field; TypeError from arrow-js.
 */
for (const name of ['footer-block-loop.arrow', 'huge-nodes-vector.arrow', 'list-without-child.arrow']) {
  test(`regression ${name}: every reader rejects it with InputDataError`, { timeout: 20_000 }, () => {
    const file = path.join(REGRESSIONS, name);
    for (const spec of ALL_SPECS) assert.throws(() => readArrow(file, spec), InputDataError, spec.name);
    assert.throws(() => describeArrow(file), InputDataError);
  });
}

/**
 * Dataset files (the fuzz corpus dataset with this one file swapped in):
 * - sequences_source user_id 2^30 (case 1160): the user index was sized by it (4 GiB, minutes).
 * - samples_target with an odd dictionary index type (case 9705): arrow-js threw from getChild.
 */
for (const [name, table] of [
  ['dataset.sequences_source.user-id-2e30.arrow', 'sequences_source.arrow'],
  ['dataset.samples_target.odd-index-type.arrow', 'samples_target.arrow'],
] as const) {
  test(`regression ${name}: loadDataset rejects it with InputDataError`, { timeout: 20_000 }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-fuzz-regression-'));
    try {
      for (const [file, bytes] of datasetCorpus()) fs.writeFileSync(path.join(dir, file), bytes);
      fs.copyFileSync(path.join(REGRESSIONS, name), path.join(dir, table));
      assert.throws(() => loadDataset(dir), (e: unknown) => e instanceof InputDataError && isExpectedError(e) && e.message.includes(table));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
