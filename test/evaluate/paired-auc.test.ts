import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auc, erfc, pairedAucTest } from '../../src/core/metrics.js';
import { makeRng } from '../../src/core/rng.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readArrow, writeArrow } from '../../src/core/arrow-io.js';
import { evaluate } from '../../src/core/evaluate/evaluate.js';
import { PREDICTIONS } from '../../src/core/schemas.js';
import { makeEvalFixture } from './_fixtures.js';

const close = (a: number, b: number, eps: number): void => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b} (±${eps})`);

/** DeLong's variance of AUC(a) − AUC(b) straight from its definition, every positive against every negative. */
function bruteForceVariance(labels: number[], a: number[], b: number[]): number {
  const psi = (x: number, y: number): number => (x > y ? 1 : x === y ? 0.5 : 0);
  const P = labels.flatMap((l, i) => (l === 1 ? [i] : []));
  const N = labels.flatMap((l, i) => (l === 0 ? [i] : []));
  const comps = (s: number[]) => ({
    v10: P.map((i) => N.reduce((t, j) => t + psi(s[i], s[j]), 0) / N.length),
    v01: N.map((j) => P.reduce((t, i) => t + psi(s[i], s[j]), 0) / P.length),
  });
  const cov = (x: number[], y: number[]): number => {
    const mx = x.reduce((s, v) => s + v, 0) / x.length;
    const my = y.reduce((s, v) => s + v, 0) / y.length;
    return x.reduce((s, v, i) => s + (v - mx) * (y[i] - my), 0) / (x.length - 1);
  };
  const A = comps(a);
  const B = comps(b);
  return (cov(A.v10, A.v10) + cov(B.v10, B.v10) - 2 * cov(A.v10, B.v10)) / P.length + (cov(A.v01, A.v01) + cov(B.v01, B.v01) - 2 * cov(A.v01, B.v01)) / N.length;
}

/** n samples with a latent click propensity; two scorers that see it through their own noise (sdA, sdB). */
function world(seed: number, n: number, sdA: number, sdB: number): { labels: number[]; a: number[]; b: number[] } {
  const rng = makeRng(seed);
  const labels: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    const shared = 0.5 * rng.normal(); // what both scorers miss alike: makes their AUCs correlated
    labels.push(rng.next() < 1 / (1 + Math.exp(-2 * z)) ? 1 : 0);
    a.push(z + shared + sdA * rng.normal());
    b.push(z + shared + sdB * rng.normal());
  }
  return { labels, a, b };
}

test('erfc matches tabulated values', () => {
  close(erfc(0), 1, 2e-7);
  close(erfc(1), 0.157299207, 2e-7);
  close(erfc(-1), 1.842700793, 2e-7);
  close(erfc(1.959964 / Math.SQRT2), 0.05, 2e-7);
  close(erfc(3), 2.209049699858544e-5, 2e-7);
});

test('paired AUC test: the AUCs are auc()\'s, ties counted half, and the variance is DeLong\'s from its definition', () => {
  const { labels, a, b } = world(7, 300, 0.6, 1.2);
  // coarse scores: many ties within and across classes
  const ra = a.map((x) => Math.round(x * 4) / 4);
  const rb = b.map((x) => Math.round(x * 2) / 2);
  const t = pairedAucTest(labels, ra, rb)!;
  close(t.auc, auc(labels, ra), 1e-12);
  close(t.auc_baseline, auc(labels, rb), 1e-12);
  close(t.diff, t.auc - t.auc_baseline, 1e-15);
  close(t.se * t.se, bruteForceVariance(labels, ra, rb), 1e-12);
  close(t.ci95[1] - t.ci95[0], 2 * 1.959964 * t.se, 1e-12);
  close(t.p, erfc(Math.abs(t.diff) / t.se / Math.SQRT2), 1e-15);
  assert.ok(t.diff > 0, 'the less noisy scorer has the higher AUC');
});

test('paired AUC test: identical scorers differ by 0 with p = 1; one class or a single sample of it gives null', () => {
  const { labels, a } = world(3, 50, 0.5, 0.5);
  const t = pairedAucTest(labels, a, a)!;
  assert.equal(t.diff, 0);
  assert.equal(t.se, 0);
  assert.equal(t.p, 1);
  assert.equal(pairedAucTest([0, 0, 0], [0.1, 0.2, 0.3], [0.3, 0.2, 0.1]), null);
  assert.equal(pairedAucTest([1, 0, 0], [0.1, 0.2, 0.3], [0.3, 0.2, 0.1]), null);
});

test('paired AUC test is calibrated: its standard error matches the spread of the difference over repeated worlds, and p < 0.05 about 5% of the time when the scorers are alike', () => {
  const diffs: number[] = [];
  let se = 0;
  let rejections = 0;
  const reps = 300;
  for (let r = 0; r < reps; r++) {
    const w = world(1000 + r, 400, 0.8, 1.0);
    const t = pairedAucTest(w.labels, w.a, w.b)!;
    diffs.push(t.diff);
    se += t.se / reps;
    const same = world(5000 + r, 400, 1.0, 1.0); // exchangeable scorers: no true difference
    if (pairedAucTest(same.labels, same.a, same.b)!.p < 0.05) rejections++;
  }
  const mean = diffs.reduce((s, v) => s + v, 0) / reps;
  const sd = Math.sqrt(diffs.reduce((s, v) => s + (v - mean) ** 2, 0) / (reps - 1));
  assert.ok(se / sd > 0.85 && se / sd < 1.15, `mean DeLong se ${se} vs empirical sd ${sd}`);
  assert.ok(rejections >= 5 && rejections <= 27, `${rejections} of ${reps} null worlds rejected at 5%`);
});

test('evaluate reports each run\'s paired AUC test against the baseline run: by sample id, row by row for other tools\' files, and a warning where rows cannot be paired', async () => {
  const f = makeEvalFixture();
  const p = readArrow(f.predictions.gist, PREDICTIONS);
  const c = p.columns;
  const split = c.split as { codes: Int32Array; values: string[] };
  const n = (c.user_id as Int32Array).length;
  // the same predictions as CSV (no sample ids), and as an Arrow file in reverse row order
  const csv = path.join(f.work, 'other.csv');
  const lines = ['user,item,label,score,split'];
  for (let i = 0; i < n; i++) lines.push(`u${(c.user_id as Int32Array)[i]},${(c.item_id as Int32Array)[i]},${(c.label as Int8Array)[i]},${(c.score as Float32Array)[i]},${split.values[split.codes[i]]}`);
  fs.writeFileSync(csv, lines.join('\n') + '\n');
  const reversed = path.join(f.work, 'reversed.arrow');
  const rev = <T extends Int32Array | Int8Array | Float32Array>(x: T): T => x.slice().reverse() as T;
  writeArrow(reversed, PREDICTIONS, { sample_id: rev(c.sample_id as Int32Array), user_id: rev(c.user_id as Int32Array), item_id: rev(c.item_id as Int32Array), label: rev(c.label as Int8Array), score: rev(c.score as Float32Array), split: { codes: rev(split.codes), values: split.values } }, { command: 'test', version: '0', seed: 1, config_hash: 'test' });
  // one test sample fewer: cannot be paired with the baseline
  const short = path.join(f.work, 'short.csv');
  fs.writeFileSync(short, lines.filter((l, i) => i !== lines.findIndex((x) => x.endsWith(',test'))).join('\n') + '\n');

  const r = await evaluate({ predictions: [`din=${f.predictions.din}`, `gist=${f.predictions.gist}`, `csv=${csv}`, `reversed=${reversed}`, `short=${short}`], split: 'test' });
  const run = (name: string) => r.runs.find((x) => x.name === name)!;
  assert.equal(run('din').auc_vs_baseline, null);
  const gist = run('gist').auc_vs_baseline!;
  close(gist.diff, run('gist').auc! - run('din').auc!, 1e-12);
  assert.ok(gist.se > 0 && gist.ci95[0] < gist.diff && gist.diff < gist.ci95[1]);
  assert.ok(gist.p < 0.05, `gist's scores are the less noisy by construction (p ${gist.p})`);
  assert.deepEqual(run('csv').auc_vs_baseline, gist, 'row by row (no sample ids) as by sample id');
  const reversedTest = run('reversed').auc_vs_baseline!; // matched by sample id whatever the row order (sums in another order)
  for (const key of ['auc', 'auc_baseline', 'diff', 'se', 'p'] as const) close(reversedTest[key], gist[key], 1e-12);
  assert.equal(run('short').auc_vs_baseline, null);
  assert.ok(r.warnings.some((w) => /^short vs din: no paired AUC test \(\d+ vs \d+ samples\)$/.test(w)), r.warnings.join('\n'));
  // and a baseline chosen by name
  const r2 = await evaluate({ predictions: [`din=${f.predictions.din}`, `gist=${f.predictions.gist}`], split: 'test', baselineRun: 'gist' });
  const din = r2.runs.find((x) => x.name === 'din')!.auc_vs_baseline!;
  close(din.diff, -gist.diff, 1e-12);
  close(din.se, gist.se, 1e-12);
});
