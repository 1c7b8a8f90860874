/**
 * Development aid: the same tuning budget for every target model, chosen on VALID. For each work folder of a
 * `gist pipeline` seed run, each variant is retrained with each of its settings (`train-ctr --json`, two processes at
 * a time, one thread each); per seed the setting with the best valid AUC is kept and its test AUC reported, with the
 * share of the DIN → oracle gap it closes where the data has a true click probability.
 *
 *   node --import tsx scripts/tune-table.ts scripts/tune-grid.json work/small-1:1:small-1.json work/small-2:2:small-2.json … > tune.md
 *
 * Each run is WORK:SEED[:PIPELINE_JSON] (the pipeline's --json output gives the oracle's test AUC). Each GIST row is
 * also compared with each seed's best tuned baseline on that seed's test samples by DeLong's paired test.
 *
 * GRID.json: { "variant": { "setting name": ["--flag", "value", …], … }, … } — each variant's settings; every
 * variant should get as many. A key "variant+label" (e.g. "gist+asi-fixed") is another row of that variant, over
 * the same runs (W/tune/VARIANT-SETTING) where its setting names repeat the variant's. The searched items come
 * from W/gsu-content (SIM soft), W/gsu-hard (SIM hard) or W/gsu-joint + W/union (GIST), as the pipeline wires
 * them; finished runs (W/tune/VARIANT-SETTING/result.json) are reused.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPredictions } from '../src/core/evaluate/inputs.js';
import { pairedTest } from '../src/core/evaluate/paired.js';
import { fmtDiff, fmtP } from '../src/core/evaluate/tables.js';
import type { PipelineResult } from '../src/core/pipeline/pipeline.js';

const [gridFile, ...works] = process.argv.slice(2);
const grid = JSON.parse(fs.readFileSync(gridFile, 'utf8')) as Record<string, Record<string, string[]>>;
const runsOf = works.map((w) => {
  const [dir, seed, json] = w.split(':');
  return { dir, seed: Number(seed), json };
});
const bin = path.resolve(import.meta.dirname, '..', 'bin', 'run.js');

interface RunResult {
  valid: { auc: number };
  test: { auc: number };
  best_epoch: number;
}

function inputsOf(variant: string, dir: string): string[] {
  if (variant === 'gist') return ['--gsu', path.join(dir, 'gsu-joint', 'gsu.arrow'), '--embeddings', path.join(dir, 'union', 'joint.arrow')];
  if (variant === 'sim-hard') return ['--gsu', path.join(dir, 'gsu-hard', 'gsu.arrow')];
  if (variant.startsWith('sim-soft')) return ['--gsu', path.join(dir, 'gsu-content', 'gsu.arrow')];
  return [];
}

const jobs: { out: string; argv: string[] }[] = [];
for (const { dir, seed } of runsOf) {
  for (const [row, settings] of Object.entries(grid)) {
    const variant = row.split('+')[0];
    for (const [name, flags] of Object.entries(settings)) {
      const out = path.join(dir, 'tune', `${variant}-${name}`);
      const argv = [bin, 'train-ctr', '-d', path.join(dir, 'data'), '-o', out, '--variant', variant, '--seed', String(seed), ...inputsOf(variant, dir), ...flags, '--json'];
      if (!jobs.some((j) => j.out === out)) jobs.push({ out, argv }); // rows of one variant share runs
    }
  }
}

async function runJob(job: { out: string; argv: string[] }): Promise<void> {
  const file = path.join(job.out, 'result.json');
  if (fs.existsSync(file)) return;
  const stdout: Buffer[] = [];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, job.argv, { env: { ...process.env, GIST_THREADS: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.on('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw new Error(`${job.argv.join(' ')} exited ${code}`);
  fs.writeFileSync(file, Buffer.concat(stdout));
  process.stderr.write(`done ${job.out}\n`);
}

const queue = [...jobs];
await Promise.all([0, 1].map(async () => {
  for (let job = queue.shift(); job; job = queue.shift()) await runJob(job);
}));

const stats = (xs: number[], digits = 4): string => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return `${mean.toFixed(digits)} ± ${sd.toFixed(digits)}`;
};
const results = new Map<string, RunResult>();
const read = (dir: string, row: string, name: string): RunResult => {
  const file = path.join(dir, 'tune', `${row.split('+')[0]}-${name}`, 'result.json');
  if (!results.has(file)) results.set(file, JSON.parse(fs.readFileSync(file, 'utf8')) as RunResult);
  return results.get(file) as RunResult;
};
// the oracle's test AUC per seed, for the gap share beside DIN's chosen setting (DIN comes first in GRID.json)
const oracle = runsOf.map(({ json }) => (json ? (JSON.parse(fs.readFileSync(json, 'utf8')) as PipelineResult).oracle_test_auc : null));
const lines = ['| variant | settings chosen on valid (by seed) | valid AUC | test AUC | share of the DIN → oracle gap |', '| --- | --- | --- | --- | --- |'];
const chosen: Record<string, RunResult[]> = {};
const chosenDir: Record<string, string[]> = {};
for (const [variant, settings] of Object.entries(grid)) {
  const picks = runsOf.map(({ dir }) => {
    let best = '';
    for (const name of Object.keys(settings)) if (!best || read(dir, variant, name).valid.auc > read(dir, variant, best).valid.auc) best = name;
    return { name: best, r: read(dir, variant, best) };
  });
  chosen[variant] = picks.map((p) => p.r);
  chosenDir[variant] = picks.map((p, i) => path.join(runsOf[i].dir, 'tune', `${variant.split('+')[0]}-${p.name}`));
  const gap = chosen.din && oracle.every((o) => o !== null) ? stats(picks.map((p, i) => (100 * (p.r.test.auc - chosen.din[i].test.auc)) / ((oracle[i] as number) - chosen.din[i].test.auc)), 1) + '%' : '';
  lines.push(`| ${variant} | ${picks.map((p) => p.name).join(', ')} | ${stats(picks.map((p) => p.r.valid.auc))} | ${stats(picks.map((p) => p.r.test.auc))} | ${gap} |`);
}
// each GIST row against the best baseline of each seed (the baselines' chosen settings; by test AUC: the strictest bar),
// with DeLong's paired test on that seed's test samples
const baselines = Object.keys(chosen).filter((r) => !r.startsWith('gist'));
const bestBaseline = runsOf.map((_, i) => baselines.reduce((a, b) => (chosen[b][i].test.auc > chosen[a][i].test.auc ? b : a)));
const bestPredictions = bestBaseline.map((b, i) => loadPredictions(path.join(chosenDir[b][i], 'predictions.arrow'), 'test'));
for (const row of Object.keys(chosen).filter((r) => r.startsWith('gist'))) {
  const diff = runsOf.map((_, i) => chosen[row][i].test.auc - chosen[bestBaseline[i]][i].test.auc);
  const tests = runsOf.map((_, i) => {
    const t = pairedTest(loadPredictions(path.join(chosenDir[row][i], 'predictions.arrow'), 'test'), bestPredictions[i]);
    return typeof t === 'string' || t === null ? `vs ${bestBaseline[i]}: n/a` : `vs ${bestBaseline[i]} ${fmtDiff(t, false)}, p ${fmtP(t.p, false)}`;
  });
  lines.push('', `${row}: test AUC − the best tuned baseline's, by seed ${diff.map((d) => d.toFixed(4)).join(' / ')} (mean ± sd ${stats(diff)}); DeLong by seed: ${tests.join('; ')}`);
}
lines.push('', '| variant | setting | valid AUC by seed | test AUC by seed |', '| --- | --- | --- | --- |');
for (const [variant, settings] of Object.entries(grid)) {
  for (const name of Object.keys(settings)) {
    const rs = runsOf.map(({ dir }) => read(dir, variant, name));
    lines.push(`| ${variant} | ${name} | ${rs.map((r) => r.valid.auc.toFixed(4)).join(' / ')} | ${rs.map((r) => r.test.auc.toFixed(4)).join(' / ')} |`);
  }
}
console.log(lines.join('\n'));
