/**
 * Seeded fuzzer over the Arrow readers, the dataset loader and the importers.
 *
 *   npm run fuzz -- [--seed 42] [--count 10000] [--budget-ms 2000] [--from 0] [--case N] [--save DIR] [--quiet]
 *
 * Cases run in a worker thread; the parent watches a shared "current case" counter and terminates the worker
 * when one case runs longer than --budget-ms (a hang), or records the case when the worker dies (out of
 * memory, uncaught exception), then restarts it at the next case. Pass = success or a thrown
 * UsageError / InputDataError / IoError. Prints a JSON summary; exits 1 when there is any finding.
 * `--case N` replays one case in-process and prints its findings with full stacks.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { buildCorpus, describeCase, runCase, TARGETS, type CaseResult, type Finding, type Target } from './cases.js';

export interface FuzzOptions {
  seed: number;
  count: number;
  /** first case number (cases are numbered, so a range can be re-run) */
  from?: number;
  /** wall-clock budget of one case before it counts as a hang */
  budgetMs?: number;
  /** heap limit of the worker (MiB); exceeding it is an out-of-memory finding */
  heapMb?: number;
  /** copy the inputs of failing cases here */
  save?: string;
  /** self-test of the watchdog: make this case hang, crash the worker, or run it out of memory */
  inject?: Inject;
  onProgress?: (done: number, total: number) => void;
}

export interface Inject {
  hang?: number;
  crash?: number;
  oom?: number;
}

export interface FuzzSummary {
  seed: number;
  count: number;
  from: number;
  seconds: number;
  casesPerTarget: Record<Target, number>;
  /** cases in which every reader call passed (succeeded or threw a typed error) */
  passedCases: number;
  /** reader calls by outcome over all targets: { ok, InputDataError, IoError, UsageError, finding } */
  passesByOutcome: Record<string, number>;
  /** the same per target: { arrow: { ok: n, InputDataError: n, ... }, ... } */
  outcomes: Record<Target, Record<string, number>>;
  findings: Finding[];
  /** distinct findings: error class + message shape + first stack frame, with how often each occurred */
  distinctFindings: { key: string; count: number; first: Finding }[];
  workerRestarts: number;
  repro: string;
}

type WorkerMessage = { type: 'result'; result: CaseResult } | { type: 'done' };

interface WorkerInput {
  seed: number;
  from: number;
  to: number;
  shared: SharedArrayBuffer;
  save?: string;
  inject?: Inject;
}

const THIS_FILE = fileURLToPath(import.meta.url);
/**
 * Worker bootstrap: a worker does not inherit the parent's `--import tsx` loader, so register tsx's ESM hooks
 * in the worker first, then load this file (which runs workerMain because it is not the main thread).
 */
const WORKER_BOOT = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); });`;

function findingKey(f: Finding): string {
  const shape = f.error.replace(/\d+/g, 'N').replace(/"[^"]*"/g, '"…"').slice(0, 160);
  const frame = (f.stack ?? '').split(' | ')[0] ?? '';
  return `${f.call.replace(/\(.*\)/, '(…)')} ${shape} ${frame.replace(/:\d+:\d+\)?$/, '')}`;
}

/** Run the fuzzer; resolves with the summary (findings included), rejects only when the worker cannot start. */
export function runFuzz(opts: FuzzOptions): Promise<FuzzSummary> {
  const from = opts.from ?? 0;
  const end = from + opts.count;
  const budget = opts.budgetMs ?? 2000;
  const started = Date.now();
  const casesPerTarget = Object.fromEntries(TARGETS.map((t) => [t, 0])) as Record<Target, number>;
  const outcomes = Object.fromEntries(TARGETS.map((t) => [t, {}])) as Record<Target, Record<string, number>>;
  const findings: Finding[] = [];
  let restarts = 0;
  let done = 0;
  const corpus = buildCorpus(); // only for describing cases a dead worker left behind
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-fuzz-parent-'));

  const record = (r: CaseResult): void => {
    casesPerTarget[r.target]++;
    const o = outcomes[r.target];
    for (const [k, v] of Object.entries(r.outcomes)) o[k] = (o[k] ?? 0) + v;
    findings.push(...r.findings);
    done++;
    opts.onProgress?.(done, opts.count);
  };

  const lost = (index: number, call: string, error: string): void => {
    const d = describeCase(opts.seed, index, corpus, scratch);
    casesPerTarget[d.target]++;
    outcomes[d.target].finding = (outcomes[d.target].finding ?? 0) + 1;
    findings.push({ case: index, target: d.target, input: d.input, steps: d.steps, call, error });
    done++;
    opts.onProgress?.(done, opts.count);
  };

  return new Promise((resolve, reject) => {
    const startWorker = (first: number): void => {
      if (first >= end) return finish();
      const shared = new SharedArrayBuffer(8);
      const current = new Int32Array(shared);
      current[0] = -1; // -1 while the worker builds its corpus
      const input: WorkerInput = { seed: opts.seed, from: first, to: end, shared, save: opts.save, inject: opts.inject };
      const worker = new Worker(WORKER_BOOT, { eval: true, workerData: input, resourceLimits: { maxOldGenerationSizeMb: opts.heapMb ?? 1024 }, stdout: true, stderr: true });
      worker.stdout.resume();
      worker.stderr.resume();
      let lastCase = -2;
      let lastChange = Date.now();
      let next = first; // first case whose result has not arrived
      let settled = false;
      const watchdog = setInterval(() => {
        const c = Atomics.load(current, 0);
        const now = Date.now();
        if (c !== lastCase) {
          lastCase = c;
          lastChange = now;
          return;
        }
        const limit = c < 0 ? Math.max(60_000, budget) : budget;
        if (now - lastChange > limit && !settled) {
          settled = true;
          clearInterval(watchdog);
          void worker.terminate();
          if (c < 0) return reject(new Error(`fuzz worker did not start within ${limit} ms`));
          lost(c, 'hang', `no result after ${now - lastChange} ms (budget ${budget} ms)`);
          restarts++;
          startWorker(c + 1);
        }
      }, Math.min(100, Math.max(10, budget / 10)));
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'result') {
          record(m.result);
          next = m.result.case + 1;
        } else if (m.type === 'done' && !settled) {
          settled = true;
          clearInterval(watchdog);
          void worker.terminate();
          finish();
        }
      });
      const died = (why: string): void => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        const c = Atomics.load(current, 0);
        if (c < 0) return reject(new Error(`fuzz worker failed to start: ${why}`));
        const at = c >= next ? c : next;
        if (at >= end) return finish();
        lost(at, 'crash', why);
        restarts++;
        startWorker(at + 1);
      };
      worker.on('error', (err: Error & { code?: string }) => died(`${err.code ?? err.constructor.name}: ${err.message.split('\n')[0]}`));
      worker.on('exit', (code) => died(`worker exited with code ${code} mid-run`));
    };

    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      fs.rmSync(scratch, { recursive: true, force: true });
      const groups = new Map<string, { key: string; count: number; first: Finding }>();
      for (const f of findings) {
        const key = findingKey(f);
        const g = groups.get(key);
        if (g) g.count++;
        else groups.set(key, { key, count: 1, first: f });
      }
      const passesByOutcome: Record<string, number> = {};
      for (const o of Object.values(outcomes)) for (const [k, v] of Object.entries(o)) passesByOutcome[k] = (passesByOutcome[k] ?? 0) + v;
      resolve({
        seed: opts.seed,
        count: done,
        from,
        seconds: Math.round((Date.now() - started) / 100) / 10,
        casesPerTarget,
        passedCases: done - new Set(findings.map((f) => f.case)).size,
        passesByOutcome,
        outcomes,
        findings,
        distinctFindings: [...groups.values()].sort((a, b) => b.count - a.count),
        workerRestarts: restarts,
        repro: `npm run fuzz -- --seed ${opts.seed} --case <N>`,
      });
    };

    startWorker(from);
  });
}

/** Worker side: build the corpus, run cases [from, to), post each result. */
async function workerMain(input: WorkerInput): Promise<void> {
  const current = new Int32Array(input.shared);
  const corpus = buildCorpus();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-fuzz-'));
  try {
    for (let i = input.from; i < input.to; i++) {
      Atomics.store(current, 0, i);
      if (input.inject) await injectFault(input.inject, i);
      const result = await runCase(input.seed, i, corpus, dir);
      if (result.findings.length && input.save) saveCase(dir, input.save, i);
      parentPort!.postMessage({ type: 'result', result } satisfies WorkerMessage);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  parentPort!.postMessage({ type: 'done' } satisfies WorkerMessage);
}

/** Faults for testing the watchdog itself (never used by a real run). */
async function injectFault(inject: Inject, i: number): Promise<void> {
  if (inject.hang === i) for (;;);
  if (inject.crash === i) {
    setTimeout(() => {
      throw new Error('injected uncaught exception');
    });
    await new Promise(() => undefined);
  }
  if (inject.oom === i) {
    const hold: number[][] = [];
    for (;;) hold.push(new Array(1 << 16).fill(i));
  }
}

function saveCase(dir: string, save: string, index: number): void {
  const to = path.join(save, `case-${index}`);
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(to, { recursive: true });
  fs.cpSync(dir, to, { recursive: true });
}

interface CliArgs {
  seed: number;
  count: number;
  from: number;
  budgetMs: number;
  caseIndex?: number;
  save?: string;
  quiet: boolean;
}

function parseArgs(argv: string[]): CliArgs {
  const out: CliArgs = { seed: 42, count: 10_000, from: 0, budgetMs: 2000, quiet: false };
  const int = (flag: string, v: string | undefined): number => {
    const x = Number(v);
    if (v === undefined || !Number.isInteger(x)) throw new Error(`${flag} needs an integer, got ${v}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--seed':
        out.seed = int(flag, value());
        break;
      case '--count':
        out.count = int(flag, value());
        break;
      case '--from':
        out.from = int(flag, value());
        break;
      case '--budget-ms':
        out.budgetMs = int(flag, value());
        break;
      case '--case':
        out.caseIndex = int(flag, value());
        break;
      case '--save':
        out.save = value();
        break;
      case '--quiet':
        out.quiet = true;
        break;
      default:
        throw new Error(`unknown argument ${a} (known: --seed, --count, --from, --budget-ms, --case, --save, --quiet)`);
    }
  }
  return out;
}

async function replayCase(args: CliArgs): Promise<number> {
  const corpus = buildCorpus();
  const index = args.caseIndex!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-fuzz-case-'));
  // Inputs first (saved and printed before the readers run, so a hanging case still shows its mutation).
  const d = describeCase(args.seed, index, corpus, dir);
  if (args.save) saveCase(dir, args.save, index);
  process.stderr.write(`case ${index} (seed ${args.seed}): ${d.target} ${d.input} [${d.steps.join('; ')}]${args.save ? ` saved to ${path.join(args.save, `case-${index}`)}` : ''}\n`);
  const started = Date.now();
  const result = await runCase(args.seed, index, corpus, dir);
  const ms = Date.now() - started;
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ seed: args.seed, ms, input: d.input, steps: d.steps, ...result }, null, 2) + '\n');
  for (const f of result.findings) if (f.stack) process.stderr.write(`${f.call}: ${f.error}\n  ${f.stack.split(' | ').join('\n  ')}\n`);
  return result.findings.length ? 1 : 0;
}

async function cliMain(): Promise<void> {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`fuzz: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (args.caseIndex !== undefined) {
    process.exitCode = await replayCase(args);
    return;
  }
  let lastPrint = 0;
  const summary = await runFuzz({
    seed: args.seed,
    count: args.count,
    from: args.from,
    budgetMs: args.budgetMs,
    save: args.save,
    onProgress: args.quiet
      ? undefined
      : (done, total) => {
          const now = Date.now();
          if (now - lastPrint > 2000 || done === total) {
            lastPrint = now;
            process.stderr.write(`fuzz: ${done}/${total} cases\n`);
          }
        },
  });
  for (const g of summary.distinctFindings) {
    const f = g.first;
    process.stderr.write(`FINDING ×${g.count}: case ${f.case} (seed ${summary.seed}) ${f.target} ${f.input} [${f.steps.join('; ')}] ${f.call}: ${f.error}\n  repro: npm run fuzz -- --seed ${summary.seed} --case ${f.case}\n`);
  }
  process.stdout.write(JSON.stringify({ ...summary, findings: summary.findings.slice(0, 200), findingsTotal: summary.findings.length }, null, 2) + '\n');
  process.exitCode = summary.findings.length ? 1 : 0;
}

if (!isMainThread && (workerData as WorkerInput | undefined)?.shared) {
  await workerMain(workerData as WorkerInput);
} else if (isMainThread && process.argv[1] && path.resolve(process.argv[1]) === THIS_FILE) {
  await cliMain();
}
