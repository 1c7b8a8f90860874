/**
 * `npm run bench`: every performance figure of the "Performance" issue in ONE JSON object on stdout (also written
 * to bench/out/bench.json); progress goes to stderr.
 *
 *   ctr        — train-ctr samples/s vs PyTorch CPU on the identical model and batches (bench/ctr.ts)
 *   retrieval  — search-gsu / build-index figures (bench/retrieval.ts, when it exports runRetrievalBench)
 *   startup_ms — median of 5 `node bin/run.js --help` (needs `npm run build`; null when dist/ is missing)
 *   memory     — peak RSS of search-gsu and train-ctr at 64k and 256k samples (bench/memory.ts; needs dist/)
 *   scaling    — search-gsu time at L = 1k, 10k, 100k and train-ctr time at 3 sample counts, fitted (bench/scaling.ts)
 *   paper_scale — the last `npm run bench:paper` record (bench/paper.ts: the paper-shaped pipeline, ~5.5 min)
 * Top-level ratios: train_vs_torch, gsu_peak_ratio, gsu_paper_ratio (from paper_scale), inserts_vs_python,
 * qps_vs_python_at_equal_recall.
 *
 * Flags: --quick (short run; sets GIST_BENCH_SCALE=0.05 for retrieval unless set), --no-peers (no python peers:
 * torch is skipped and so is the retrieval bench, which always runs its own), --no-retrieval, --no-ctr, --no-memory,
 * --no-scaling.
 * The full run took 7.5 minutes on the shared 2-core VM with a load average of ~7 (CTR 4.2 min, retrieval ~3).
 * `npm run -s bench` keeps npm's own banner off stdout, so stdout is exactly the JSON.
 * Smoke check (< 60 s, no python needed): `node --import tsx bench/run.ts --quick --no-peers`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runCtrBench } from './ctr.js';
import { runMemoryBench } from './memory.js';
import { PAPER_TARGET, readPaperRun } from './paper.js';
import { runScalingBench } from './scaling.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const args = new Set(process.argv.slice(2));
const known = ['--quick', '--no-peers', '--no-retrieval', '--no-ctr', '--no-memory', '--no-scaling'];
for (const a of args) {
  if (!known.includes(a)) {
    process.stderr.write(`bench: unknown flag ${a} (known: ${known.join(' ')})\n`);
    process.exit(2);
  }
}
const quick = args.has('--quick');
const peers = !args.has('--no-peers');
const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Median wall time of `node bin/run.js --help` over 5 runs (after one untimed run), or null with a reason. */
function startupMs(): { startup_ms: number | null; startup_runs_ms?: number[]; startup_error?: string } {
  const bin = path.join(ROOT, 'bin', 'run.js');
  if (!fs.existsSync(path.join(ROOT, 'dist', 'commands'))) return { startup_ms: null, startup_error: 'dist/ missing: run `npm run build` first' };
  const once = (): number | string => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, '--help'], { cwd: ROOT, encoding: 'utf8' });
    const ms = performance.now() - t0;
    return r.status === 0 ? ms : `bin/run.js --help exited ${r.status}: ${(r.stderr || '').trim().split('\n').pop() ?? ''}`;
  };
  once(); // page cache
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = once();
    if (typeof r === 'string') return { startup_ms: null, startup_error: r };
    runs.push(Math.round(r));
  }
  return { startup_ms: Math.round(median(runs)), startup_runs_ms: runs };
}

async function retrieval(): Promise<Record<string, unknown>> {
  const file = path.join(HERE, 'retrieval.ts');
  if (!fs.existsSync(file)) return { skipped: 'bench/retrieval.ts not found' };
  const mod = (await import(pathToFileURL(file).href)) as { runRetrievalBench?: () => Promise<Record<string, unknown>> };
  if (typeof mod.runRetrievalBench !== 'function') return { skipped: 'bench/retrieval.ts does not export runRetrievalBench' };
  if (quick) process.env.GIST_BENCH_SCALE ??= '0.05';
  try {
    return await mod.runRetrievalBench();
  } catch (err) {
    return { error: (err as Error).message };
  }
}

const t0 = performance.now();
const result: Record<string, unknown> = { quick, created: new Date().toISOString() };
if (!args.has('--no-ctr')) {
  log('ctr: train-ctr vs PyTorch');
  try {
    result.ctr = await runCtrBench({ quick, peers, log });
  } catch (err) {
    result.ctr = { error: (err as Error).message };
  }
  const ctr = result.ctr as { train_vs_torch?: number | null; train_vs_best_torch?: number | null };
  // The field: min over DIN small and GIST of ours / PyTorch (2 threads, as specified).
  result.train_vs_torch = ctr.train_vs_torch ?? null;
  // The same against the fastest PyTorch variant we ran (allocator tuned; 2 or 1 threads).
  result.train_vs_best_torch = ctr.train_vs_best_torch ?? null;
}
if (!args.has('--no-retrieval')) {
  if (!peers) result.retrieval = { skipped: '--no-peers (the retrieval bench always runs its python peers)' };
  else {
    log('retrieval');
    result.retrieval = await retrieval();
  }
}
if (!args.has('--no-memory')) {
  log('memory: peak RSS vs samples');
  try {
    const memory = await runMemoryBench({ quick, log });
    result.memory = memory;
    result.memory_bounded = memory.commands.every((c) => c.bounded);
  } catch (err) {
    result.memory = { error: (err as Error).message };
  }
}
if (!args.has('--no-scaling')) {
  log('scaling: search-gsu vs L, train-ctr vs samples');
  try {
    result.scaling = await runScalingBench({ quick, log });
  } catch (err) {
    result.scaling = { error: (err as Error).message };
  }
}
// the paper-shaped pipeline run takes ~5.5 minutes: `npm run bench:paper` records it, this reports the record
const paper = readPaperRun();
result.paper_scale = paper ?? { skipped: 'no bench/out/paper.json: run `npm run bench:paper` (~5.5 min)', target: PAPER_TARGET };
result.gsu_paper_ratio = paper?.gsu_paper_ratio ?? null; // older records have none
if (!args.has('--no-retrieval') && peers) {
  const r = result.retrieval as { gsu_peak_ratio?: number | null; inserts_vs_python?: number | null; qps_vs_python_at_equal_recall?: number | null };
  result.gsu_peak_ratio = r.gsu_peak_ratio ?? null;
  result.inserts_vs_python = r.inserts_vs_python ?? null;
  result.qps_vs_python_at_equal_recall = r.qps_vs_python_at_equal_recall ?? null;
}
log('startup');
Object.assign(result, startupMs());
result.bench_seconds = Math.round((performance.now() - t0) / 100) / 10;

const text = JSON.stringify(result, null, 2) + '\n';
fs.mkdirSync(path.join(HERE, 'out'), { recursive: true });
fs.writeFileSync(path.join(HERE, 'out', 'bench.json'), text);
process.stdout.write(text);
