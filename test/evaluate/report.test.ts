import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluate } from '../../src/core/evaluate/evaluate.js';
import { loadPredictions, parseNamedPath, parseNamedPaths } from '../../src/core/evaluate/inputs.js';
import { REPORT_CHART_KINDS } from '../../src/core/evaluate/report-html.js';
import type { EvaluateResult } from '../../src/core/evaluate/result.js';
import { toMarkdown } from '../../src/core/evaluate/tables.js';
import { InputDataError, UsageError } from '../../src/core/errors.js';
import { makeEvalFixture, tmpDir, writePredictions } from './_fixtures.js';

const fixture = makeEvalFixture();

function chartCounts(html: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of html.matchAll(/<svg data-chart="([a-z-]+)"/g)) out[m[1]] = (out[m[1]] ?? 0) + 1;
  return out;
}

test('full evaluation: metrics, popularity groups, recall, GSU summary and a complete HTML report', async () => {
  const html = path.join(fixture.work, 'eval', 'nested', 'report.html'); // folder created on write
  const r = await evaluate({
    predictions: [fixture.predictions.gist, `din=${fixture.predictions.din}`],
    data: fixture.data,
    embeddings: [fixture.embeddings.joint, `content=${fixture.embeddings.content}`],
    pairs: fixture.pairs,
    gsu: [fixture.gsu.joint, fixture.gsu.hard],
    html,
  });
  assert.equal(r.baseline, 'din'); // default baseline: a run called din
  assert.deepEqual(r.runs.map((x) => x.name), ['ctr-gist', 'din']);
  const [gist, din] = r.runs;
  assert.equal(din.auc_gain_pct, 0);
  assert.ok(Math.abs(gist.auc_gain_pct! - ((gist.auc! - din.auc!) / din.auc!) * 100) < 1e-12);
  assert.equal(gist.n, 400); // test split only
  assert.equal(gist.popularity!.threshold, 25); // median target_count of target items with count > 0
  assert.equal(gist.popularity!.low.n + gist.popularity!.high.n, gist.n);
  assert.deepEqual(r.recall.map((x) => [x.name, x.truth, x.candidates]), [['union', 'valid+test', 2000], ['content', 'valid+test', 2000]]);
  assert.ok(r.recall[0].recall['10']! > r.recall[1].recall['10']!, 'joint embedding retrieves better than content');
  assert.deepEqual(r.gsu.map((g) => [g.name, g.scores, g.max]), [['gsu-joint', 2000, 1], ['gsu-hard', 2000, 1]]);
  assert.equal(r.outputs.html, html);

  const page = fs.readFileSync(html, 'utf8');
  assert.doesNotMatch(page, /https?:\/\//, 'self-contained: no network URLs at all');
  assert.doesNotMatch(page, /<script|<link|<img|<iframe|@import|url\(/i);
  assert.doesNotMatch(page, /NaN|Infinity|undefined/);
  assert.match(page, /Content-Security-Policy" content="default-src 'none'/);
  assert.deepEqual(chartCounts(page), { roc: 1, popularity: 1, recall: 1, 'gsu-hist': 2, curves: 3 });
  assert.doesNotMatch(page, /data-empty/);
  for (const s of ['ctr-loss', 'ctr-valid-auc', 'embedding-loss']) assert.match(page, new RegExp(`data-chart="curves" data-series="${s}"`));
  for (const title of ['ROC curves (test split)', 'AUC by item popularity', 'Recall@K of embeddings', 'GSU similarity scores: gsu-joint', 'CTR training loss', 'Embedding training loss']) assert.ok(page.includes(title), title);
  for (const label of ['False positive rate', 'True positive rate', 'K (log scale)', 'Recall@K', 'epoch', 'step']) assert.ok(page.includes(`>${label}</text>`), label);
  // Header: the dataset (absolute), the date; input paths are absolute.
  assert.ok(page.includes(`data ${path.resolve(fixture.data)}`), 'dataset in the header');
  assert.match(page, /<time datetime="\d{4}-\d{2}-\d{2}T[^"]+">\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC<\/time>/);
  assert.ok(r.runs.every((x) => path.isAbsolute(x.file)) && r.recall.every((x) => path.isAbsolute(x.file)) && r.gsu.every((x) => path.isAbsolute(x.file)));
  // Each embedding model's loss has its own chart (InfoNCE losses of different models differ in scale).
  const embeddingCharts = [...page.matchAll(/data-series="embedding-loss"/g)].length;
  assert.equal(embeddingCharts, new Set([...page.matchAll(/Embedding training loss: ([\w-]+)/g)].map((m) => m[1])).size);
  assert.ok(embeddingCharts >= 1);
});

test('missing optional inputs give labelled placeholders, never a missing chart', async () => {
  const dir = tmpDir();
  const file = writePredictions(path.join(dir, 'only', 'predictions.arrow'), { user: [0, 0, 1, 1], item: [0, 1, 0, 1], label: [0, 1, 1, 0], score: [0.2, 0.7, 0.6, 0.4] });
  const html = path.join(dir, 'report.html');
  const r = await evaluate({ predictions: [file], html });
  assert.equal(r.runs[0].popularity, null);
  const page = fs.readFileSync(html, 'utf8');
  const counts = chartCounts(page);
  for (const kind of REPORT_CHART_KINDS) assert.ok(counts[kind] >= 1, `chart ${kind} present`);
  assert.equal((page.match(/data-empty="true"/g) ?? []).length, 4); // popularity, recall, gsu-hist, curves
  assert.match(page, /pass --data DIR/);
  assert.match(page, /pass --embeddings NAME=file\.arrow and --pairs pairs\.arrow/);
});

test('markdown: GitHub tables with right-aligned numbers, best AUC bold, gate verdict', () => {
  const result: EvaluateResult = {
    split: 'test',
    baseline: 'din',
    runs: [
      { name: 'din', file: 'a', auc: 0.7666, gauc: 0.7, logloss: 0.45, auc_gain_pct: 0, n: 1000, positives: 120, popularity: null, auc_vs_baseline: null },
      { name: 'gist', file: 'b', auc: 0.772, gauc: 0.71, logloss: 0.44, auc_gain_pct: 0.699, n: 1000, positives: 120, popularity: null, auc_vs_baseline: { auc: 0.772, auc_baseline: 0.7666, diff: 0.0054, se: 0.0041, ci95: [-0.00264, 0.01344], p: 0.1878 } },
    ],
    recall: [],
    gsu: [],
    gate: { passed: false, max_drop: 0.002, baseline_file: 'm.json', checked: 6, failures: [{ run: 'gist', metric: 'auc', baseline: 0.78, current: 0.772, drop: 0.008, message: 'gist AUC fell 0.0080 (0.7800 → 0.7720)' }] },
    warnings: [],
    outputs: {},
  };
  assert.equal(
    toMarkdown(result),
    [
      '### CTR metrics (test split)',
      '',
      '| run | AUC | gAUC | logloss | AUC gain | AUC − din [95% CI] | p | samples | positives |',
      '| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      '| din | 0.7666 | 0.7000 | 0.4500 | - | - | - | 1,000 | 120 |',
      '| gist | **0.7720** | 0.7100 | 0.4400 | +0.699% | +0.0054 [−0.0026, +0.0134] | 0.19 | 1,000 | 120 |',
      '',
      '_AUC gain = (AUC − AUC of din) / AUC of din. AUC − din: DeLong\'s paired test on the same samples (95% interval, two-sided p). gAUC: users with both labels, weighted by samples._',
      '',
      '**Gate FAILED:** regression gate failed (max drop 0.002 vs m.json): gist AUC fell 0.0080 (0.7800 → 0.7720)',
      '- gist AUC fell 0.0080 (0.7800 → 0.7720)',
      '',
    ].join('\n'),
  );
});

test('inputs: NAME=path or parent-folder names, folders, duplicate names, split filter, curves', async () => {
  assert.deepEqual(parseNamedPath('gist=work/ctr-gist/predictions.arrow', 'predictions.arrow', 'x'), { name: 'gist', file: 'work/ctr-gist/predictions.arrow' });
  assert.deepEqual(parseNamedPath('work/ctr-gist/predictions.arrow', 'predictions.arrow', 'x'), { name: 'ctr-gist', file: 'work/ctr-gist/predictions.arrow' });
  assert.deepEqual(parseNamedPath(path.dirname(fixture.predictions.din), 'predictions.arrow', 'x'), { name: 'ctr-din', file: fixture.predictions.din });
  assert.throws(() => parseNamedPaths(['a/x/p.arrow', 'b/x/p.arrow'], 'p.arrow', 'predictions'), UsageError);
  assert.throws(() => loadPredictions(writePredictions(path.join(tmpDir(), 'v', 'predictions.arrow'), { user: [0], item: [0], label: [1], score: [0.5] }, 'valid'), 'test'), InputDataError);
  const valid = await evaluate({ predictions: [fixture.predictions.din], split: 'valid' });
  assert.equal(valid.runs[0].n, 200);
  assert.equal(valid.split, 'valid');
  // A broken curve.json is reported as a warning, not an error.
  const dir = tmpDir();
  const p = writePredictions(path.join(dir, 'run', 'predictions.arrow'), { user: [0, 1], item: [0, 0], label: [0, 1], score: [0.3, 0.6] });
  fs.writeFileSync(path.join(dir, 'run', 'curve.json'), '{oops');
  const r = await evaluate({ predictions: [p] });
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /curve\.json: unreadable training curve/);
  await assert.rejects(evaluate({ predictions: [p], baselineRun: 'nope' }), UsageError);
  await assert.rejects(evaluate({ embeddings: [fixture.embeddings.joint] }), /--embeddings needs --pairs/);
  await assert.rejects(evaluate({}), /nothing to evaluate/);
});
