/**
 * A small make-like step runner: each step declares its dependencies and config; a step whose config (and
 * whose dependencies' keys) did not change since its last successful run is skipped. State lives in
 * WORK/pipeline-state.json, written atomically after every step so an interrupted run resumes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../arrow-io.js';
import { UsageError } from '../errors.js';
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

export async function runSteps<Ctx>(
  work: string,
  steps: readonly StepDef<Ctx>[],
  ctx: Ctx,
  opts: { from?: string; onStep?: (name: string, status: 'start' | 'ran' | 'skipped' | 'disabled', seconds?: number) => void } = {},
): Promise<StepOutcome[]> {
  checkOrder(steps);
  fs.mkdirSync(work, { recursive: true });
  const state = readState(work);
  const forced = opts.from ? downstreamOf(steps, opts.from) : new Set<string>();
  const keys = new Map<string, string>();
  const outcomes: StepOutcome[] = [];
  for (const step of steps) {
    if (step.enabled && !step.enabled(ctx)) {
      keys.set(step.name, 'disabled');
      outcomes.push({ name: step.name, status: 'disabled', seconds: 0, result: null });
      opts.onStep?.(step.name, 'disabled');
      continue;
    }
    const key = configHash({ version: VERSION, config: step.config(ctx), deps: step.deps.map((d) => keys.get(d) ?? '') });
    keys.set(step.name, key);
    const prev = state.steps[step.name];
    if (!forced.has(step.name) && prev && prev.key === key && fs.existsSync(path.join(work, step.outDir))) {
      outcomes.push({ name: step.name, status: 'skipped', seconds: 0, result: prev.result });
      opts.onStep?.(step.name, 'skipped');
      continue;
    }
    opts.onStep?.(step.name, 'start');
    const t0 = performance.now();
    const result = await step.run(ctx);
    const seconds = (performance.now() - t0) / 1000;
    state.steps[step.name] = { key, seconds, finished_at: new Date().toISOString(), result };
    writeFileAtomic(path.join(work, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
    outcomes.push({ name: step.name, status: 'ran', seconds, result });
    opts.onStep?.(step.name, 'ran', seconds);
  }
  return outcomes;
}
