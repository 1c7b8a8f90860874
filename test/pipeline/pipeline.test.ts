// End to end: the whole pipeline on the tiny fixture through the built CLI (npm test builds first via
// `npm ci`/`npm run build`; the test builds if dist/ is missing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { BIN as bin, CLI_ENV, ROOT as root, ensureBuilt } from '../_built-cli.js';

function gist(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', env: CLI_ENV });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}


test('pipeline runs every step on the tiny fixture, skips unchanged steps, and --from reruns downstream', () => {
  ensureBuilt();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-pipeline-'));
  const args = ['pipeline', '--data', 'fixtures/tiny', '--out', work, '--config', 'fixtures/pipeline-fast.json', '--json'];
  const first = gist(args);
  assert.equal(first.code, 0, first.stderr);
  const r = JSON.parse(first.stdout) as {
    table: { variant: string; auc: number; gauc: number; logloss: number; auc_gain_pct: number }[];
    steps: { name: string; status: string }[];
    evaluate_seconds: number;
    outputs: { report: string; metrics: string };
    recall: { name: string; recall: Record<string, number | null> }[];
    recall_truth_pairs: number;
    recall_theta: number;
    planted: { gsu: { name: string; k: number; subtopic: number; best_subtopic: number }[]; embeddings: { name: string; precision: Record<string, number> }[] } | null;
  };
  assert.deepEqual(
    r.table.map((t) => t.variant),
    ['din', 'sim-hard', 'sim-soft-pooling', 'sim-soft-attention', 'gist', 'gist-swing-pairs'],
  );
  for (const row of r.table) {
    assert.ok(row.auc > 0 && row.auc < 1, `${row.variant} auc ${row.auc}`);
    assert.ok(row.logloss > 0);
  }
  assert.equal(r.table[0].auc_gain_pct, 0);
  // recallTheta (0.05 ≠ theta 0.2): the Recall@K truth is its own extraction over valid/test samples only.
  assert.equal(r.recall_theta, 0.05);
  const truth = JSON.parse(fs.readFileSync(path.join(work, 'pairs-truth', 'stats.json'), 'utf8')) as { theta: number; pairs_by_split: Record<string, number> };
  assert.equal(truth.theta, 0.05);
  assert.equal(truth.pairs_by_split.train ?? 0, 0, 'no train-split samples were run for the truth pairs');
  // evaluate scores the held-out pairs it can (self-pairs are skipped): at most what was extracted
  assert.ok(r.recall_truth_pairs <= truth.pairs_by_split.valid + truth.pairs_by_split.test);
  assert.ok(r.recall_truth_pairs > 0 && r.recall.length === 8, JSON.stringify(r.recall));
  // Planted-truth diagnostics (the fixture is synthetic): every GSU, the Table 4 run's own one included.
  assert.ok(r.planted);
  assert.deepEqual([...new Set(r.planted.gsu.map((g) => g.name))].sort(), ['gsu-content', 'gsu-hard', 'gsu-joint', 'gsu-union-swing']);
  for (const g of r.planted.gsu) assert.ok(g.subtopic >= 0 && g.subtopic <= 1 && g.best_subtopic >= 0 && g.best_subtopic <= 1, JSON.stringify(g));
  assert.equal(r.planted.embeddings.length, 8);
  assert.ok(r.steps.every((s) => s.status === 'ran'), JSON.stringify(r.steps));
  for (const f of [r.outputs.report, r.outputs.metrics, path.join(work, 'ctr-gist', 'predictions.arrow'), path.join(work, 'union', 'joint.arrow'), path.join(work, 'gsu-joint', 'gsu.arrow')]) {
    assert.ok(fs.existsSync(f), f);
  }
  // Nothing changed: every step is skipped and the table is the same.
  const again = gist(args);
  assert.equal(again.code, 0, again.stderr);
  const r2 = JSON.parse(again.stdout) as typeof r;
  assert.ok(r2.steps.every((s) => s.status === 'skipped'));
  assert.deepEqual(r2.table, r.table);
  assert.ok(r.evaluate_seconds > 0 && r2.evaluate_seconds > 0, 'the evaluation at the end runs (and is timed) either way');
  // --from reruns that step and what depends on it, nothing else.
  const from = gist([...args, '--from', 'gsu-joint']);
  assert.equal(from.code, 0, from.stderr);
  const r3 = JSON.parse(from.stdout) as typeof r;
  const ran = r3.steps.filter((s) => s.status === 'ran').map((s) => s.name);
  assert.deepEqual(ran, ['gsu-joint', 'ctr-gist']);
  // Same seed → the rerun gives byte-identical results.
  assert.deepEqual(r3.table, r.table);
});

test('pipeline rejects a config with an unknown key before running anything', () => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-pipeline-bad-'));
  const cfg = path.join(dir, 'bad.json');
  fs.writeFileSync(cfg, JSON.stringify({ target: { train: { epochz: 1 } } }));
  const r = gist(['pipeline', '--data', 'fixtures/tiny', '--out', path.join(dir, 'work'), '--config', cfg]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown key "epochz"/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.ok(!fs.existsSync(path.join(dir, 'work', 'source')));
});
