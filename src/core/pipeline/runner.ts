/**
 * A small make-like step runner: each step declares its dependencies and config; a step whose config (and
 * whose dependencies' keys, and the run's shared key material: seed, input data, backend…) did not change
 * since its last successful run is skipped. State lives in WORK/pipeline-state.json, written atomically
 * after every step so an interrupted run resumes.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../arrow-io.js';
import { makeDirs } from '../sink.js';
import { IoError, UsageError } from '../errors.js';
import { configHash } from '../output.js';
import { VERSION } from '../version.js';

export interface StepDef<Ctx> {
  readonly name: string;
  readonly deps: readonly string[];
  /** Folder under WORK the step writes (checked to exist before a skip). */
  readonly outDir: string;
  /** Everything that decides the step's output; part of its cache key. */
  config(ctx: Ctx): unknown;
  /** False to leave the step out (e.g. hard search on a dataset without categories). */
  enabled?(ctx: Ctx): boolean;
  run(ctx: Ctx): Promise<unknown>;
  /**
   * The same work as `run` as a gist command line (without `gist` and without `--out`, which the plan adds):
   * `gist pipeline --plan` writes these so a cluster or GNU parallel runs them, with outputs identical to `run`'s.
   */
  argv?(ctx: Ctx): string[];
  /** The command takes `--shard i/n`, and `gist merge` joins the shard folders into the output `run` writes. */
  readonly shards?: boolean;
  /** Rough relative cost (default 1): with --jobs, steps on the costliest path to the end start first. */
  readonly cost?: number;
  /**
   * The step uses every core it is given (matrix products on the native GEMM, worker pools): with --jobs, while it
   * runs and other steps wait on it, steps nothing waits on stay queued instead of taking its cores (they fill the
   * cores once no such step runs).
   */
  readonly scales?: boolean;
}

export interface StepRecord {
  key: string;
  seconds: number;
  finished_at: string;
  result: unknown;
}

export interface PipelineState {
  version: string;
  steps: Record<string, StepRecord>;
}

export interface StepOutcome {
  name: string;
  status: 'ran' | 'skipped' | 'disabled';
  seconds: number;
  result: unknown;
}

export const STATE_FILE = 'pipeline-state.json';

export function readState(work: string): PipelineState {
  const file = path.join(work, STATE_FILE);
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as PipelineState;
    if (s && typeof s === 'object' && s.steps) return s;
  } catch {
    /* no state yet, or unreadable: start afresh */
  }
  return { version: VERSION, steps: {} };
}

/** Steps in dependency order (the declaration order must already be topological; checked). */
function checkOrder<Ctx>(steps: readonly StepDef<Ctx>[]): void {
  const seen = new Set<string>();
  for (const s of steps) {
    for (const d of s.deps) if (!seen.has(d)) throw new Error(`pipeline step ${s.name} depends on ${d}, declared later or missing`);
    seen.add(s.name);
  }
}

/** Names of `from` and every step downstream of it. */
export function downstreamOf<Ctx>(steps: readonly StepDef<Ctx>[], from: string): Set<string> {
  if (!steps.some((s) => s.name === from)) throw new UsageError(`--from ${from}: unknown step (steps: ${steps.map((s) => s.name).join(', ')})`);
  const out = new Set<string>([from]);
  for (const s of steps) if (s.deps.some((d) => out.has(d))) out.add(s.name);
  return out;
}

/** Files read whole into the fingerprint (manifests, small raw files); larger ones are known by size and mtime. */
const HASH_BELOW = 64 * 1024;

/**
 * A cheap identity of input files or folders (folders walked, hidden entries skipped): each file's resolved
 * path, size and mtime, and the content of the small ones. Another folder, or a file rewritten in place,
 * changes it; reading gigabytes of data to notice that would cost more than the steps it saves. A missing
 * path counts as such (the step that reads it fails on its own).
 */
export function inputFingerprint(paths: readonly string[]): string {
  const h = createHash('sha256');
  const add = (file: string, st: fs.Stats): void => {
    h.update(`${file}\0${st.size}\0${st.mtimeMs}\0`);
    if (st.size < HASH_BELOW) h.update(fs.readFileSync(file));
  };
  // `descend`: false for a symlinked folder (not followed: no cycles); symlinked files are read through.
  const walk = (p: string, descend: boolean): void => {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      h.update(`${p}\0missing\0`);
      return;
    }
    if (st.isFile()) return add(p, st);
    if (!st.isDirectory() || !descend) return;
    const entries = fs.readdirSync(p, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) walk(path.join(p, e.name), !e.isSymbolicLink());
  };
  for (const p of paths) walk(path.resolve(p), true);
  return h.digest('hex').slice(0, 16);
}

export interface RunStepsOptions {
  from?: string;
  /** Key material shared by every step (seed, input data identity, backend): a change reruns them all. */
  keyBase?: unknown;
  /** Key material of one step beyond its config (e.g. which kernel scores GSU); null/undefined for none. */
  stepKey?: (name: string) => unknown;
  onStep?: (name: string, status: 'start' | 'ran' | 'skipped' | 'disabled', seconds?: number) => void;
  /**
   * Steps run at once, each whose dependencies are done (1: one after another, in this process). Above 1 every
   * step runs as its own gist command (`StepDef.argv`) through `runCommand`, which writes what `run` writes.
   */
  jobs?: number;
  /**
   * Runs a step's gist command line (with `--out`) as a child process and resolves to its `--json` result;
   * `concurrent` is how many steps run at once as it starts (itself included), so it can size its share of the cores.
   */
  runCommand?: (step: string, argv: string[], signal: AbortSignal, concurrent: number) => Promise<unknown>;
  /** Asked before a step would start beside others: how many may run at once now (e.g. what memory allows). */
  memoryCap?: () => number;
  /**
   * Told how many steps run at once whenever that changes (steps started, or one finished and none took its
   * place), so the running steps can resize their share of the cores while they run.
   */
  onRunning?: (steps: number) => void;
}

/**
 * Run the steps that changed, up to `jobs` at a time: a step starts once every step it depends on has finished
 * (ran, skipped or disabled), those with the costliest path to the end first (one job: declaration order).
 * Whether a step applies is asked only then, since it may read what its dependencies wrote. A failed step stops
 * the others (their outputs are written atomically, so none is left half-written) and its error is thrown; steps
 * that finished are recorded and skipped next time.
 */
export async function runSteps<Ctx>(work: string, steps: readonly StepDef<Ctx>[], ctx: Ctx, opts: RunStepsOptions = {}): Promise<StepOutcome[]> {
  checkOrder(steps);
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs must be a whole number ≥ 1, got ${jobs}`);
  const runCommand = opts.runCommand;
  if (jobs > 1 && !runCommand) throw new Error('runSteps: jobs > 1 needs runCommand');
  try {
    makeDirs(work);
  } catch (err) {
    throw new IoError(`${work}: cannot create the work folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const state = readState(work);
  const forced = opts.from ? downstreamOf(steps, opts.from) : new Set<string>();
  const keys = new Map<string, string>();
  const outcomes = new Map<string, StepOutcome>();
  const exec = (step: StepDef<Ctx>, signal: AbortSignal, concurrent: number): Promise<unknown> => {
    if (jobs === 1 || !runCommand) return step.run(ctx);
    if (!step.argv) throw new Error(`pipeline step ${step.name} has no command line`);
    return runCommand(step.name, [...step.argv(ctx), '--out', path.join(work, step.outDir)], signal, concurrent);
  };
  /** Settle a step whose dependencies are done without running it: null when it has to run. */
  const settle = (step: StepDef<Ctx>): string | null => {
    if (step.enabled && !step.enabled(ctx)) {
      keys.set(step.name, 'disabled');
      outcomes.set(step.name, { name: step.name, status: 'disabled', seconds: 0, result: null });
      opts.onStep?.(step.name, 'disabled');
      return null;
    }
    const key = configHash({
      version: VERSION,
      base: opts.keyBase ?? null,
      step: opts.stepKey?.(step.name) ?? null,
      config: step.config(ctx),
      deps: step.deps.map((d) => keys.get(d) ?? ''),
    });
    keys.set(step.name, key);
    const prev = state.steps[step.name];
    if (!forced.has(step.name) && prev && prev.key === key && fs.existsSync(path.join(work, step.outDir))) {
      outcomes.set(step.name, { name: step.name, status: 'skipped', seconds: 0, result: prev.result });
      opts.onStep?.(step.name, 'skipped');
      return null;
    }
    return key;
  };

  // Costliest remaining path first (ties: declaration order), so the chain that ends last is never kept waiting.
  const tail = new Map<string, number>();
  for (const s of [...steps].reverse()) {
    const after = steps.filter((x) => x.deps.includes(s.name)).map((x) => tail.get(x.name) as number);
    tail.set(s.name, (s.cost ?? 1) + Math.max(0, ...after));
  }
  const pending = jobs === 1 ? [...steps] : [...steps].sort((a, b) => (tail.get(b.name) as number) - (tail.get(a.name) as number));
  // Steps nothing waits on, and whether one may start now: not while a step that others wait on uses every core.
  const leaves = new Set(steps.filter((s) => !steps.some((x) => x.deps.includes(s.name))).map((s) => s.name));
  const byName = new Map(steps.map((s) => [s.name, s]));
  const holdsLeaves = (name: string): boolean => byName.get(name)?.scales === true && !leaves.has(name);
  const running = new Map<string, Promise<void>>();
  const abort = new AbortController();
  let failure: { error: unknown } | null = null;
  const start = (step: StepDef<Ctx>, key: string, concurrent: number): void => {
    opts.onStep?.(step.name, 'start');
    const t0 = performance.now();
    const done = (async () => {
      try {
        const result = await exec(step, abort.signal, concurrent);
        const seconds = (performance.now() - t0) / 1000;
        state.steps[step.name] = { key, seconds, finished_at: new Date().toISOString(), result };
        writeFileAtomic(path.join(work, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
        outcomes.set(step.name, { name: step.name, status: 'ran', seconds, result });
        opts.onStep?.(step.name, 'ran', seconds);
      } catch (error) {
        if (!failure) failure = { error };
        abort.abort();
      } finally {
        running.delete(step.name);
      }
    })();
    running.set(step.name, done);
  };
  const cap = (): number => Math.max(1, Math.min(jobs, opts.memoryCap?.() ?? jobs));
  let told = -1;
  while (!failure && (pending.length || running.size)) {
    // Start ready steps in priority order; one that settles without running may make others ready: rescan.
    // Those starting together learn how many run at once (itself included) before any starts.
    const ready: [StepDef<Ctx>, string][] = [];
    for (let i = 0; i < pending.length && running.size + ready.length < cap() && !failure; ) {
      const step = pending[i];
      const heldBack = leaves.has(step.name) && ([...running.keys()].some(holdsLeaves) || ready.some(([r]) => holdsLeaves(r.name)));
      if (!step.deps.every((d) => outcomes.has(d)) || heldBack) {
        i++;
        continue;
      }
      pending.splice(i, 1);
      const key = settle(step);
      if (key === null) i = 0;
      else ready.push([step, key]);
    }
    const concurrent = running.size + ready.length;
    for (const [step, key] of ready) start(step, key, concurrent);
    // Once per change, after the starts that replace a finished step (no flapping up and down between them).
    if (running.size && running.size !== told) opts.onRunning?.((told = running.size));
    if (!running.size) break;
    await Promise.race(running.values());
  }
  await Promise.allSettled(running.values());
  if (failure) throw (failure as { error: unknown }).error;
  if (pending.length) throw new Error(`pipeline steps never became ready: ${pending.map((s) => s.name).join(', ')}`);
  return steps.map((s) => outcomes.get(s.name) as StepOutcome);
}
