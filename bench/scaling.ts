/**
 * How cost grows, so a user can predict their own run: `search-gsu` wall time at L = 1k, 10k, 100k source events
 * per user (the same 2,048 samples, K = 100, d = 64; every sample scores all L events) and `train-ctr` time for one
 * epoch of DIN at three training-sample counts (synthetic `tiny` worlds grown by target samples), each with the
 * exponent b of a least-squares fit time ≈ a · size^b on log–log axes (b ≈ 1: linear).
 *
 * `npm run bench` reports it as `scaling`; `node --import tsx bench/scaling.ts [--quick]` runs it alone (JSON out).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainCtr } from '../src/core/ctr/train.js';
import { searchGsu } from '../src/core/retrieval/gsu.js';
import { writeSyntheticRetrievalData } from '../src/core/retrieval/synthetic.js';
import { synthesize } from '../src/core/synth.js';

/** Intercept and slope of time ≈ fixed + perUnit · x (least squares): the fixed cost a power law hides. */
export function fitAffine(x: readonly number[], y: readonly number[]): { fixed: number; per_unit: number } {
  const mx = x.reduce((s, v) => s + v, 0) / x.length;
  const my = y.reduce((s, v) => s + v, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  const perUnit = sxx > 0 ? sxy / sxx : NaN;
  return { fixed: my - perUnit * mx, per_unit: perUnit };
}

/** Exponent b and factor a of time ≈ a · x^b: the affine fit on log–log axes. */
export function fitPowerLaw(x: readonly number[], y: readonly number[]): { exponent: number; factor: number } {
  const { fixed, per_unit } = fitAffine(x.map(Math.log), y.map(Math.log));
  return { exponent: per_unit, factor: Math.exp(fixed) };
}

export interface ScalingRow {
  size: number;
  /** Wall time of the whole command (loading, searching or training, writing). */
  seconds: number;
  /** search-gsu: the search phase alone (its result's search_seconds). */
  search_seconds?: number;
}

export interface ScalingResult {
  search_gsu: { by: 'events per user (L)'; samples: number; k: number; d: number; rows: ScalingRow[]; exponent: number; exponent_search_phase: number; affine: { fixed: number; per_unit: number } };
  train_ctr: { by: 'training samples'; variant: 'din'; epochs: 1; rows: ScalingRow[]; exponent: number; affine: { fixed: number; per_unit: number } };
}

export async function runScalingBench(opts: { quick?: boolean; log?: (line: string) => void } = {}): Promise<ScalingResult> {
  const log = opts.log ?? (() => undefined);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-bench-scaling-'));
  try {
    // Enough samples that the search itself, not start-up, dominates at L = 10k and beyond.
    const users = 64;
    const perUser = opts.quick ? 16 : 256;
    const gsuRows: ScalingRow[] = [];
    for (const L of opts.quick ? [1_000, 10_000] : [1_000, 10_000, 100_000]) {
      const dir = path.join(work, `gsu-${L}`);
      const { data, embeddings } = writeSyntheticRetrievalData(dir, { users, sourceLength: L, samplesPerUser: perUser, sourceItems: 50_000, targetItems: 5_000, categories: 20, dim: 64, seed: 11, sampleTime: 'after' });
      const t0 = performance.now();
      const r = await searchGsu({ data, embeddings, out: path.join(dir, 'out'), config: { k: 100 }, seed: 42 });
      gsuRows.push({ size: L, seconds: (performance.now() - t0) / 1000, search_seconds: r.search_seconds });
      log(`scaling: search-gsu L = ${L}: ${gsuRows.at(-1)!.seconds.toFixed(2)} s`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const ctrRows: ScalingRow[] = [];
    for (const samples of opts.quick ? [5_000, 10_000] : [20_000, 40_000, 80_000]) {
      const data = path.join(work, `data-${samples}`);
      // Users grow with the samples (100 target samples each): with the users fixed, more samples per user mean
      // longer histories before each sample, and the fit would measure that instead of the sample count.
      await synthesize({ preset: 'tiny', out: data, seed: 3, overrides: { users: Math.round(samples / 100), targetSamples: samples } });
      const t0 = performance.now();
      const r = await trainCtr({ dataDir: data, outDir: path.join(work, `ctr-${samples}`), domain: 'target', variant: 'din', asi: 'none', model: {}, train: { epochs: 1 }, seed: 3, backend: 'wasm', resume: false });
      ctrRows.push({ size: r.train_samples, seconds: (performance.now() - t0) / 1000 });
      log(`scaling: train-ctr ${r.train_samples} samples: ${ctrRows.at(-1)!.seconds.toFixed(2)} s`);
    }
    return {
      search_gsu: { by: 'events per user (L)', samples: users * perUser, k: 100, d: 64, rows: gsuRows, exponent: fitPowerLaw(gsuRows.map((r) => r.size), gsuRows.map((r) => r.seconds)).exponent, exponent_search_phase: fitPowerLaw(gsuRows.map((r) => r.size), gsuRows.map((r) => r.search_seconds as number)).exponent, affine: fitAffine(gsuRows.map((r) => r.size), gsuRows.map((r) => r.seconds)) },
      train_ctr: { by: 'training samples', variant: 'din', epochs: 1, rows: ctrRows, exponent: fitPowerLaw(ctrRows.map((r) => r.size), ctrRows.map((r) => r.seconds)).exponent, affine: fitAffine(ctrRows.map((r) => r.size), ctrRows.map((r) => r.seconds)) },
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await runScalingBench({ quick: process.argv.includes('--quick'), log: (l) => void process.stderr.write(`[bench] ${l}\n`) });
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
