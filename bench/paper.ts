/**
 * The paper-shaped run of the Performance issue: `gist pipeline --preset paper` (10k users × 5,000–10^4 source
 * events, 72M in all, 1M target samples, target history capped at 200) through every step, timed, with the
 * process's peak RSS. It takes ~10 min of both cores, which would put `npm run bench` near its 15-minute budget,
 * so it runs on its own and leaves bench/out/paper.json, which `npm run bench` reports as `paper_scale` (with
 * its date and commit) when present.
 *
 *   npm run bench:paper            # node --import tsx bench/paper.ts [--out DIR] [--keep]
 *
 * Config (bench/paper-config.json): the pipeline defaults with one epoch per model, the source model on its
 * default 300k-sample cap, and two target runs (DIN and GIST) instead of all of Table 1.
 */
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gistPeakRss } from './memory.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
/** Targets of the issue. */
export const PAPER_TARGET = { seconds: 3600, peak_rss_gib: 8 };

export interface PaperRun {
  created: string;
  commit: string | null;
  config: string;
  seconds: number;
  peak_rss_gib: number;
  steps: { name: string; status: string; seconds: number }[];
  table: unknown[];
  met: { time: boolean; memory: boolean };
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
  process.stderr.write(`[bench:paper] gist pipeline --preset paper --out ${out} (10 min on a 2-core machine)\n`);
  // --jobs 1: every step in this one process, so its peak RSS is the run's (steps as processes of their own would escape it).
  const { kb, seconds, stdout } = gistPeakRss(['pipeline', '--preset', 'paper', '--config', config, '--out', out, '--seed', '1', '--jobs', '1', '--json']);
  const result = JSON.parse(stdout) as { steps: PaperRun['steps']; table: unknown[] };
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
    seconds,
    peak_rss_gib: kb / 2 ** 20,
    steps: result.steps,
    table: result.table,
    met: { time: seconds < PAPER_TARGET.seconds, memory: kb / 2 ** 20 < PAPER_TARGET.peak_rss_gib },
  };
  fs.mkdirSync(path.join(HERE, 'out'), { recursive: true });
  fs.writeFileSync(path.join(HERE, 'out', 'paper.json'), JSON.stringify(run, null, 2) + '\n');
  if (!argv.includes('--keep') && at < 0) fs.rmSync(out, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(run, null, 2) + '\n');
}
