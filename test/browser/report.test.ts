/**
 * Opens the evaluation report in headless Chromium (Debian's `chromium`): no console errors (SVG parse
 * errors, CSP violations, failed loads all land there), every chart rendered, and a screenshot written to
 * work/test-artifacts/evaluate/report.png (GIST_TEST_ARTIFACTS overrides the folder).
 * Without Chromium the test skips with a message locally and FAILS under CI=true.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { evaluate } from '../../src/core/evaluate/evaluate.js';
import { REPORT_CHART_KINDS } from '../../src/core/evaluate/report-html.js';
import { makeEvalFixture } from '../evaluate/_fixtures.js';

/** CHROMIUM_PATH when set (and only it), else Debian's /usr/bin/chromium. */
const CHROMIUM = (process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']).find((p) => fs.existsSync(p));
const ROOT = path.resolve(import.meta.dirname, '../..');
const ARTIFACTS = process.env.GIST_TEST_ARTIFACTS ?? path.join(ROOT, 'work', 'test-artifacts', 'evaluate');

interface BrowserRun {
  dom: string;
  consoleLines: string[];
  code: number | null;
}

/** Load a local file in headless Chromium: the rendered DOM, console messages and (optionally) a screenshot. */
function openInChromium(file: string, screenshot?: string, height = 2000): Promise<BrowserRun> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--hide-scrollbars',
    `--user-data-dir=${profile}`,
    '--enable-logging=stderr',
    '--v=0',
    `--window-size=1280,${height}`,
    ...(screenshot ? [`--screenshot=${screenshot}`] : []),
    '--dump-dom',
    `file://${path.resolve(file)}`,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM!, args, { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      fs.rmSync(profile, { recursive: true, force: true });
      if (err && (err as NodeJS.ErrnoException & { killed?: boolean }).killed) return reject(new Error(`chromium timed out:\n${stderr.slice(-2000)}`));
      // Page console messages (errors, CSP violations, SVG attribute errors) are logged as ":CONSOLE(" / ":CONSOLE:" lines.
      const consoleLines = stderr.split('\n').filter((l) => /:CONSOLE[(:]/.test(l));
      resolve({ dom: stdout, consoleLines, code: err ? ((err as { code?: number }).code ?? 1) : 0 });
    });
  });
}

function pngSize(file: string): { width: number; height: number } {
  const b = fs.readFileSync(file);
  assert.equal(b.subarray(1, 4).toString('latin1'), 'PNG', `${file} is not a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

test('HTML report renders in headless Chromium: no console errors, every chart, screenshot', async (t) => {
  if (!CHROMIUM) {
    const msg = 'chromium not found (apt-get install -y chromium, or set CHROMIUM_PATH)';
    if (process.env.CI === 'true') assert.fail(`${msg}: required under CI`);
    t.diagnostic(msg);
    t.skip(msg);
    return;
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });

  // The console check must be able to fail: a page with a broken SVG path has to be caught.
  const control = path.join(ARTIFACTS, 'control-broken.html');
  fs.writeFileSync(control, '<!doctype html><html><head><title>control</title></head><body><svg data-chart="x" width="10" height="10"><path d="M NaN 0 L 1 1"/></svg></body></html>');
  const broken = await openInChromium(control);
  assert.ok(broken.consoleLines.some((l) => l.includes('attribute d')), `console errors are detected (got ${broken.consoleLines.length} lines)`);
  fs.rmSync(control);

  const f = makeEvalFixture(fs.mkdtempSync(path.join(os.tmpdir(), 'gist-browser-')));
  const html = path.join(ARTIFACTS, 'report.html');
  const png = path.join(ARTIFACTS, 'report.png');
  fs.rmSync(png, { force: true });
  const inputs = {
    predictions: [f.predictions.din, f.predictions.gist],
    data: f.data,
    embeddings: [f.embeddings.joint, f.embeddings.content],
    pairs: f.pairs,
    gsu: [f.gsu.joint, f.gsu.hard],
  };
  // Gate against its own saved metrics so the report shows the gate verdict too.
  const metrics = path.join(f.work, 'metrics.json');
  await evaluate({ ...inputs, saveMetrics: metrics });
  const result = await evaluate({ ...inputs, baselineMetrics: metrics, html });
  assert.equal(result.gate?.passed, true);
  const run = await openInChromium(html, png, 3400);
  assert.equal(run.code, 0);
  assert.deepEqual(run.consoleLines, [], 'no console errors or CSP violations');
  assert.match(run.dom, /class="badge pass">gate passed</);
  // Every chart kind is there with data, and each drew its marks: lines for ROC/recall/curves, bars otherwise.
  const charts = [...run.dom.matchAll(/<svg data-chart="([a-z-]+)"([^>]*)>([\s\S]*?)<\/svg>/g)].map((m) => ({ kind: m[1], attrs: m[2], body: m[3] }));
  for (const kind of REPORT_CHART_KINDS) {
    const ofKind = charts.filter((c) => c.kind === kind);
    assert.ok(ofKind.length >= 1, `chart ${kind} rendered`);
    for (const c of ofKind) {
      assert.ok(!c.attrs.includes('data-empty'), `chart ${kind} has data`);
      const marks = kind === 'popularity' || kind === 'gsu-hist' ? /<rect [^>]*fill="#(?!ffffff)/ : /<path d="M[^"]*L/;
      assert.match(c.body, marks, `chart ${kind} drew its data`);
      assert.match(c.body, /class="legend"|GSU similarity scores: /, `chart ${kind} has a legend or a titled single series`);
    }
  }
  const size = pngSize(png);
  assert.deepEqual([size.width, size.height], [1280, 3400]);
  assert.ok(fs.statSync(png).size > 50_000, 'screenshot is not blank');
  t.diagnostic(`screenshot: ${png}`);
  fs.rmSync(f.work, { recursive: true, force: true });
});
