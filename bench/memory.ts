/**
 * Memory bench (reliability issue): peak RSS of `gist search-gsu` and `gist train-ctr` at two sample counts (64k and
 * 256k; --quick: 64k and 128k) with everything else fixed (users, sequence length, items), through the real CLI. Reports RSS growth
 * per added sample beside the bytes of one sample's row of the data the command streams: search-gsu's output
 * row (K ids + scores, written in batches) and train-ctr's input row (sample + GSU ids/scores, held columnar
 * in memory as every CTR trainer does). Nothing is kept per sample beyond the input columns: batches, windows and tensors are bounded (see `bounded`). Measured: the wasm heap of train-ctr
 * is flat from 64k to 256k samples; what grows is the input columns.
 *
 *   node --import tsx bench/memory.ts [--quick]     (also part of `npm run bench`)
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSyntheticRetrievalData } from '../src/core/retrieval/synthetic.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Preload that prints the process's peak RSS (all threads) to stderr at exit. */
const MAXRSS_HOOK = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\nGIST_MAXRSS_KB '+process.resourceUsage().maxRSS+'\\n'))`;

interface RssRun {
  samples: number;
  peak_rss_mb: number;
  /** Size of the streamed data (search-gsu: gsu.arrow written; train-ctr: samples + gsu.arrow read). */
  row_mb: number;
  seconds: number;
}

export interface MemoryCommandResult {
  command: string;
  runs: RssRun[];
  /** (RSS at the larger run − RSS at the smaller) / added samples. */
  rss_growth_bytes_per_sample: number;
  /** Bytes per sample of the streamed row: search-gsu's output, train-ctr's input (samples + gsu.arrow). */
  row_bytes_per_sample: number;
  /**
   * search-gsu: growth < one output row per sample (it keeps none of its output). train-ctr: growth ≤ 2 input
   * rows per sample (its input columns, plus the file bytes read once at load); a retained batch tensor would
   * cost ~(max history + K) × d × 4 B ≈ 14 KB per sample.
   */
  bounded: boolean;
}

export function gistPeakRss(args: string[]): { kb: number; seconds: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', MAXRSS_HOOK, path.join(ROOT, 'bin', 'run.js'), ...args, '--quiet'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const seconds = (performance.now() - t0) / 1000;
  const m = /GIST_MAXRSS_KB (\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m) throw new Error(`gist ${args[0]} exited ${r.status}: ${(r.stderr ?? '').trim().split('\n')[0]}`);
  return { kb: Number(m[1]), seconds, stdout: r.stdout };
}

/** Proportional set size (kB) of a process, or 0 once it is gone: shared pages count once across the processes. */
function pssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Processes of process group `pgid` (Linux /proc: field 5 of /proc/PID/stat, after the parenthesised name). */
function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid) pids.push(Number(name));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

/**
 * Run gist in a process group of its own and sample, every `everyMs`, the summed PSS of every process in it: the
 * memory a run with step processes (`pipeline --jobs N`) holds at once, which one process's peak RSS cannot see.
 */
export function gistPeakTreePss(args: string[], everyMs = 200): Promise<{ kb: number; processes: number; seconds: number; stdout: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), ...args, '--quiet'], { cwd: ROOT, detached: true, env: { ...process.env, NODE_OPTIONS: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  let kb = 0;
  let processes = 0;
  const sample = (): void => {
    const pids = groupPids(child.pid as number);
    processes = Math.max(processes, pids.length);
    kb = Math.max(kb, pids.reduce((sum, pid) => sum + pssKb(pid), 0));
  };
  const timer = setInterval(sample, everyMs);
  return new Promise((resolve, reject) => {
    child.on('close', (status) => {
      clearInterval(timer);
      if (status !== 0) reject(new Error(`gist ${args[0]} exited ${status}: ${stderr.trim().split('\n')[0]}`));
      else resolve({ kb, processes, seconds: (performance.now() - t0) / 1000, stdout });
    });
  });
}

const size = (...files: string[]): number => files.reduce((s, f) => s + fs.statSync(f).size, 0);

export async function runMemoryBench(opts: { quick: boolean; log: (s: string) => void }): Promise<{ users: number; source_length: number; commands: MemoryCommandResult[] }> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-bench-memory-'));
  const users = 200;
  const sourceLength = 300;
  // 64k samples and up: past one gsu.arrow batch (65,536 rows) and the eval batch, so the fixed working sets
  // (window, batch, wasm heap) are reached at both sizes and only what scales with samples differs.
  const perUser = opts.quick ? [320, 640] : [320, 1280];
  const gsuRuns: RssRun[] = [];
  const ctrRuns: RssRun[] = [];
  try {
    for (const spu of perUser) {
      const dir = path.join(work, `n${spu}`);
      const { data, embeddings } = writeSyntheticRetrievalData(dir, { users, sourceLength, samplesPerUser: spu, sourceItems: 20_000, targetItems: 2_000, categories: 20, dim: 64, seed: 5, sampleTime: 'within' });
      const n = users * spu;
      const samplesFile = path.join(data, 'samples_target.arrow');
      opts.log(`memory: search-gsu, ${n} samples`);
      const gsuOut = path.join(dir, 'gsu');
      const g = gistPeakRss(['search-gsu', '--data', data, '--embeddings', embeddings, '--out', gsuOut]);
      const gsuFile = path.join(gsuOut, 'gsu.arrow');
      gsuRuns.push({ samples: n, peak_rss_mb: g.kb / 1024, row_mb: size(gsuFile) / 2 ** 20, seconds: g.seconds });
      opts.log(`memory: train-ctr (sim-soft-attention, 1 epoch), ${n} samples`);
      const c = gistPeakRss(['train-ctr', '--data', data, '--domain', 'target', '--variant', 'sim-soft-attention', '--gsu', gsuFile, '--epochs', '1', '--out', path.join(dir, 'ctr')]);
      ctrRuns.push({ samples: n, peak_rss_mb: c.kb / 1024, row_mb: size(samplesFile, gsuFile) / 2 ** 20, seconds: c.seconds });
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const summarise = (command: string, runs: RssRun[]): MemoryCommandResult => {
    const [a, b] = runs;
    const growth = ((b.peak_rss_mb - a.peak_rss_mb) * 2 ** 20) / (b.samples - a.samples);
    const row = ((b.row_mb - a.row_mb) * 2 ** 20) / (b.samples - a.samples);
    const round = (x: number): number => Math.round(x * 10) / 10;
    return {
      command,
      runs: runs.map((r) => ({ samples: r.samples, peak_rss_mb: round(r.peak_rss_mb), row_mb: round(r.row_mb), seconds: round(r.seconds) })),
      rss_growth_bytes_per_sample: round(growth),
      row_bytes_per_sample: round(row),
      bounded: command === 'search-gsu' ? growth < row : growth <= 2 * row,
    };
  };
  return { users, source_length: sourceLength, commands: [summarise('search-gsu', gsuRuns), summarise('train-ctr', ctrRuns)] };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await runMemoryBench({ quick: process.argv.includes('--quick'), log: (s) => void process.stderr.write(`[bench] ${s}\n`) });
  process.stdout.write(JSON.stringify(r, null, 2) + '\n');
}
