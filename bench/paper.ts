/**
 * The paper-shaped run of the Performance issue: `gist pipeline --preset paper` (10k users × 5,000–10^4 source
 * events, 72M in all, 1M target samples, target history capped at 200) through every step with the pipeline's
 * default --jobs, timed, with the memory its processes hold at once. It takes ~5.5 min of both cores, which would
 * put `npm run bench` near its 15-minute budget,
 * so it runs on its own and leaves bench/out/paper.json, which `npm run bench` reports as `paper_scale` (with
 * its date and commit) when present.
 *
 *   npm run bench:paper            # node --import tsx bench/paper.ts [--out DIR] [--keep] [--jobs N]
 *
 * Config (bench/paper-config.json): the pipeline defaults with one epoch per model, the source model on its
 * default 300k-sample cap, and two target runs (DIN and GIST) instead of all of Table 1.
 *
 * Also `gsu_paper_ratio`: the useful GFLOP/s of the run's joint GSU search (gsu-joint: 1M samples over histories
 * of very different lengths, searched again alone right after the run, so it has every core) ÷ the matmul peak
 * numpy reaches on this machine, measured right after that.
 */
import { execFileSync, execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultPipelineJobs } from '../src/core/pipeline/pipeline.js';
import { gistPeakRss, gistPeakTreePss } from './memory.js';
import { runPython } from './retrieval.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
/** Targets of the Performance issue (#16). */
export const PAPER_TARGET = { seconds: 300, peak_rss_gib: 4, gsu_paper_ratio: 0.4 };

export interface PaperRun {
  created: string;
  commit: string | null;
  config: string;
  /** Steps at once (`gist pipeline --jobs`; the pipeline's default unless `--jobs` is given). */
  jobs: number;
  seconds: number;
  peak_rss_gib: number;
  /** How peak_rss_gib was measured (one process's peak RSS, or the summed PSS of the step processes). */
  memory_measure: string;
  steps: { name: string; status: string; seconds: number }[];
  /** The evaluation after the last step (older records have none). */
  evaluate_seconds?: number;
  table: unknown[];
  /** The joint GSU search of this run, repeated alone on its data: useful GFLOP/s (Σ history length × 2d ÷ search time) against the machine's peak. */
  gsu_paper: { gflops: number | null; search_seconds: number | null; samples: number | null; mean_history: number | null; peak_gflops: number | null };
  gsu_paper_ratio: number | null;
  met: { time: boolean; memory: boolean; gsu_paper_ratio: boolean };
}

export function readPaperRun(): PaperRun | null {
  const file = path.join(HERE, 'out', 'paper.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as PaperRun) : null;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--out');
  const out = at >= 0 ? argv[at + 1] : fs.mkdtempSync(path.join(os.tmpdir(), 'gist-bench-paper-'));
  const config = path.join(HERE, 'paper-config.json');
  const jobsAt = argv.indexOf('--jobs');
  const jobs = jobsAt >= 0 ? Number(argv[jobsAt + 1]) : defaultPipelineJobs();
  process.stderr.write(`[bench:paper] gist pipeline --preset paper --jobs ${jobs} --out ${out} (5–7 min on a 2-core machine)\n`);
  const args = ['pipeline', '--preset', 'paper', '--config', config, '--out', out, '--seed', '1', '--jobs', String(jobs), '--json'];
  // --jobs 1: every step in this one process, whose peak RSS is the run's. Above 1 (the pipeline's default) steps
  // are processes of their own, so the memory held at once is their summed PSS, sampled.
  const memoryMeasure = jobs === 1 ? 'peak RSS of the one process' : 'peak of the summed PSS of the run’s processes, sampled every 200 ms';
  const { kb, seconds, stdout } = jobs === 1 ? gistPeakRss(args) : await gistPeakTreePss(args);
  const result = JSON.parse(stdout) as { steps: PaperRun['steps']; evaluate_seconds: number; table: unknown[] };
  // The ratio is the search's, on every core: inside the run the joint search may share the cores with the index
  // step (--jobs 2), so it is searched again on the run's data and joint embeddings, alone, right after.
  const again = JSON.parse(execFileSync(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'search-gsu', '--data', path.join(out, 'data'), '--embeddings', path.join(out, 'union', 'joint.arrow'), '--out', path.join(out, 'gsu-joint-alone'), '--seed', '1', '--json'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 })) as Record<string, unknown>;
  const search = again;
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const peak = num(runPython('peak_matmul.py', []).json?.gflops);
  const gsu = { gflops: num(search.gflops), search_seconds: num(search.search_seconds), samples: num(search.rows), mean_history: num(search.mean_history), peak_gflops: peak };
  const ratio = gsu.gflops !== null && peak ? gsu.gflops / peak : null;
  let commit: string | null = null;
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    /* not a git checkout */
  }
  const run: PaperRun = {
    created: new Date().toISOString(),
    commit,
    config: path.relative(ROOT, config),
    jobs,
    seconds,
    peak_rss_gib: kb / 2 ** 20,
    memory_measure: memoryMeasure,
    steps: result.steps,
    evaluate_seconds: result.evaluate_seconds,
    table: result.table,
    gsu_paper: gsu,
    gsu_paper_ratio: ratio,
    met: { time: seconds <= PAPER_TARGET.seconds, memory: kb / 2 ** 20 <= PAPER_TARGET.peak_rss_gib, gsu_paper_ratio: ratio !== null && ratio >= PAPER_TARGET.gsu_paper_ratio },
  };
  fs.mkdirSync(path.join(HERE, 'out'), { recursive: true });
  fs.writeFileSync(path.join(HERE, 'out', 'paper.json'), JSON.stringify(run, null, 2) + '\n');
  if (!argv.includes('--keep') && at < 0) fs.rmSync(out, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(run, null, 2) + '\n');
}
