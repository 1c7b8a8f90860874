import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertGatePassed, checkGate, readBaselineMetrics, type BaselineMetrics } from '../../src/core/evaluate/gate.js';
import type { EvaluateResult } from '../../src/core/evaluate/result.js';
import { GateError, InputDataError, UsageError } from '../../src/core/errors.js';
import { makeEvalFixture, tmpDir } from './_fixtures.js';

function current(): Pick<EvaluateResult, 'split' | 'runs' | 'recall'> {
  const run = (name: string, a: number, g: number, l: number) => ({ name, file: `${name}/predictions.arrow`, auc: a, gauc: g, logloss: l, auc_gain_pct: 0, n: 10, positives: 3, popularity: null, auc_vs_baseline: null });
  return {
    split: 'test',
    runs: [run('din', 0.75, 0.7, 0.45), run('gist', 0.77, 0.72, 0.44)],
    recall: [{ name: 'joint', file: 'joint.arrow', recall: { '10': 0.2, '100': 0.5, '1000': 0.8 }, pairs: 5, skipped_pairs: 0, candidates: 100, truth: 'all' }],
  };
}

const asBaseline = (r: ReturnType<typeof current>): BaselineMetrics => JSON.parse(JSON.stringify(r)) as BaselineMetrics;

test('gate passes when nothing got worse, and at a drop of exactly max_drop', () => {
  const base = asBaseline(current());
  const same = checkGate(current(), base, 0.002, 'm.json');
  assert.equal(same.passed, true);
  assert.equal(same.checked, 2 * 3 + 3);
  const cur = current();
  cur.runs[0].auc = 0.748; // drop 0.002: allowed
  cur.runs[1].logloss = 0.43; // better
  cur.recall[0].recall['10'] = 0.3; // better
  assert.equal(checkGate(cur, base, 0.002, 'm.json').passed, true);
  assert.doesNotThrow(() => assertGatePassed(checkGate(cur, base, 0.002, 'm.json')));
});

test('gate fails on a planted AUC drop, a logloss rise, a recall drop and a missing run', () => {
  const base = asBaseline(current());
  const cur = current();
  cur.runs[1].auc = 0.765; // planted drop 0.005
  let gate = checkGate(cur, base, 0.002, 'm.json');
  assert.equal(gate.passed, false);
  assert.deepEqual(
    gate.failures.map((f) => [f.run, f.metric]),
    [['gist', 'auc']],
  );
  close(gate.failures[0].drop!, 0.005);
  assert.throws(() => assertGatePassed(gate), (e: unknown) => e instanceof GateError && e.exitCode === 5 && !e.message.includes('\n') && /gist AUC fell 0\.0050 \(0\.7700 → 0\.7650\)/.test(e.message));

  const worse = current();
  worse.runs[0].logloss = 0.46; // a rise counts as a drop
  worse.recall[0].recall['1000'] = 0.79;
  worse.runs.splice(1, 1); // gist missing
  gate = checkGate(worse, base, 0.002, 'm.json');
  assert.deepEqual(
    gate.failures.map((f) => `${f.run}:${f.metric}`),
    ['din:logloss', 'gist:auc', 'gist:gauc', 'gist:logloss', 'joint:recall@1000'],
  );
  assert.match(gate.failures[0].message, /din logloss rose 0\.0100/);
  assert.match(gate.failures[1].message, /^gist was not evaluated \(baseline AUC 0\.7700\)$/);
  assert.throws(() => assertGatePassed(gate), /\(\+4 more\)/);
});

test('gate refuses a baseline from another split; malformed metrics files are input errors', () => {
  const base = { ...asBaseline(current()), split: 'valid' };
  assert.throws(() => checkGate(current(), base, 0.002, 'm.json'), UsageError);
  const dir = tmpDir();
  const bad = path.join(dir, 'bad.json');
  fs.writeFileSync(bad, JSON.stringify({ runs: [{ auc: 0.7 }] }));
  assert.throws(() => readBaselineMetrics(bad), InputDataError);
  fs.writeFileSync(bad, '{not json');
  assert.throws(() => readBaselineMetrics(bad), InputDataError);
});

function close(a: number, b: number): void {
  assert.ok(Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);
}

/** Runs `gist evaluate` from sources (no build, no manifest) in a child process. */
function gist(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const runner = "import { handle } from '@oclif/core'; const { default: E } = await import('./src/commands/evaluate.ts'); await E.run(process.argv.slice(1), { root: process.cwd() }).catch(handle);";
  const root = path.resolve(import.meta.dirname, '../..');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', runner, '--', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('gist evaluate: --save-metrics then --baseline passes (exit 0) and fails with exit 5 on a planted drop', () => {
  const f = makeEvalFixture();
  const metrics = path.join(f.work, 'eval', 'metrics.json');
  const args = [f.predictions.din, f.predictions.gist, '--data', f.data, '--embeddings', f.embeddings.joint, '--pairs', f.pairs];
  const first = gist([...args, '--save-metrics', metrics, '--json']);
  assert.equal(first.status, 0, first.stderr);
  const printed = JSON.parse(first.stdout) as EvaluateResult;
  const saved = JSON.parse(fs.readFileSync(metrics, 'utf8')) as EvaluateResult;
  assert.deepEqual(printed, saved);
  assert.deepEqual(Object.keys(saved), ['split', 'baseline', 'runs', 'recall', 'gsu', 'warnings', 'outputs']);
  assert.equal(saved.baseline, 'ctr-din');
  assert.deepEqual(Object.keys(saved.recall[0].recall), ['10', '100', '1000']);

  const pass = gist([...args, '--baseline', metrics]);
  assert.equal(pass.status, 0, pass.stderr);
  assert.match(pass.stdout, /regression gate passed/);

  // Plant a regression: the saved baseline claims gist's AUC was 0.01 higher.
  const planted = path.join(f.work, 'eval', 'planted.json');
  saved.runs[1].auc = saved.runs[1].auc! + 0.01;
  fs.writeFileSync(planted, JSON.stringify(saved));
  const fail = gist([...args, '--baseline', planted, '--max-drop', '0.002']);
  assert.equal(fail.status, 5);
  const errLines = fail.stderr.trim().split('\n');
  assert.equal(errLines.length, 1, fail.stderr);
  assert.match(errLines[0], /^error: regression gate failed \(max drop 0\.002 vs .*planted\.json\): ctr-gist AUC fell 0\.0100/);

  // A large enough --max-drop lets the same drop through.
  assert.equal(gist([...args, '--baseline', planted, '--max-drop', '0.02', '-q']).status, 0);
});

test('gist evaluate --save-metrics -: the metrics JSON on stdout, the table on stderr; two outputs on stdout refused', () => {
  const f = makeEvalFixture();
  const args = [f.predictions.din, f.predictions.gist, '--data', f.data];
  const r = gist([...args, '--save-metrics', '-']);
  assert.equal(r.status, 0, r.stderr);
  const saved = JSON.parse(r.stdout) as EvaluateResult;
  assert.equal(saved.baseline, 'ctr-din');
  assert.equal(saved.outputs.metrics, '-');
  assert.match(r.stderr, /ctr-gist/);
  const both = gist([...args, '--save-metrics', '-', '--html', '-']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /only one output can go to stdout/);
});
