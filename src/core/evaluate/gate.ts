/**
 * The CI regression gate: compare this evaluation with a saved metrics.json (`--json` output or
 * `--save-metrics` file) and fail when any tracked metric got worse by more than `max_drop` (absolute).
 * Tracked: per run AUC and gAUC (higher is better), logloss (lower is better, a rise counts as a drop),
 * and per embeddings file every Recall@K present in the baseline.
 */
import { readJsonFile } from '../config.js';
import { GateError, InputDataError, UsageError } from '../errors.js';
import type { EvaluateResult, GateFailure, GateResult } from './result.js';

/** The part of a metrics.json the gate reads. */
export interface BaselineMetrics {
  split?: string;
  runs: { name: string; auc?: number | null; gauc?: number | null; logloss?: number | null }[];
  recall: { name: string; recall: Record<string, number | null> }[];
}

const RUN_METRICS = [
  { key: 'auc', label: 'AUC', higherIsBetter: true },
  { key: 'gauc', label: 'gAUC', higherIsBetter: true },
  { key: 'logloss', label: 'logloss', higherIsBetter: false },
] as const;

/** Floating-point slack so a drop of exactly max_drop passes. */
const EPS = 1e-12;

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Read and shape-check a metrics.json written by `gist evaluate --json` or `--save-metrics`. */
export function readBaselineMetrics(file: string): BaselineMetrics {
  const doc = readJsonFile(file);
  const bad = (what: string): never => {
    throw new InputDataError(`not a gist evaluate metrics file: ${what} (write one with \`gist evaluate --save-metrics FILE\`)`, file);
  };
  if (!Array.isArray(doc.runs)) bad('missing "runs" array');
  const runs = (doc.runs as unknown[]).map((r, i) => {
    const o = (r ?? {}) as Record<string, unknown>;
    if (typeof o.name !== 'string') bad(`runs[${i}].name is not a string`);
    for (const m of RUN_METRICS) if (o[m.key] !== undefined && o[m.key] !== null && !isNum(o[m.key])) bad(`runs[${i}].${m.key} is not a number`);
    return o as BaselineMetrics['runs'][number];
  });
  const recallIn = doc.recall === undefined ? [] : doc.recall;
  if (!Array.isArray(recallIn)) bad('"recall" is not an array');
  const recall = (recallIn as unknown[]).map((r, i) => {
    const o = (r ?? {}) as Record<string, unknown>;
    if (typeof o.name !== 'string' || !o.recall || typeof o.recall !== 'object') bad(`recall[${i}] needs "name" and "recall"`);
    return o as BaselineMetrics['recall'][number];
  });
  return { split: typeof doc.split === 'string' ? doc.split : undefined, runs, recall };
}

function fmt(x: number): string {
  return x.toFixed(4);
}

/** Compare current metrics with the baseline; a run or metric the baseline tracks but that is missing now fails. */
export function checkGate(current: Pick<EvaluateResult, 'split' | 'runs' | 'recall'>, baseline: BaselineMetrics, maxDrop: number, baselineFile: string): GateResult {
  if (baseline.split && baseline.split !== current.split) {
    throw new UsageError(`--baseline ${baselineFile} holds ${baseline.split} metrics but this evaluation is on ${current.split}; pass --split ${baseline.split}`);
  }
  const failures: GateFailure[] = [];
  let checked = 0;
  const compare = (run: string, metric: string, label: string, base: number, cur: number | null | undefined, higherIsBetter: boolean): void => {
    checked++;
    if (!isNum(cur)) {
      const why = cur === undefined ? `${run} was not evaluated (baseline ${label} ${fmt(base)})` : `${run} ${label} is undefined now (baseline ${fmt(base)})`;
      failures.push({ run, metric, baseline: base, current: null, drop: null, message: why });
      return;
    }
    const drop = higherIsBetter ? base - cur : cur - base;
    if (drop > maxDrop + EPS) {
      const verb = higherIsBetter ? 'fell' : 'rose';
      failures.push({ run, metric, baseline: base, current: cur, drop, message: `${run} ${label} ${verb} ${fmt(Math.abs(cur - base))} (${fmt(base)} → ${fmt(cur)})` });
    }
  };
  for (const b of baseline.runs) {
    const cur = current.runs.find((r) => r.name === b.name);
    for (const m of RUN_METRICS) {
      const base = b[m.key];
      if (!isNum(base)) continue;
      compare(b.name, m.key, m.label, base, cur ? cur[m.key] : undefined, m.higherIsBetter);
    }
  }
  for (const b of baseline.recall) {
    const cur = current.recall.find((r) => r.name === b.name);
    for (const [k, base] of Object.entries(b.recall)) {
      if (!isNum(base)) continue;
      compare(b.name, `recall@${k}`, `Recall@${k}`, base, cur ? (k in cur.recall ? cur.recall[k] : undefined) : undefined, true);
    }
  }
  return { passed: failures.length === 0, max_drop: maxDrop, baseline_file: baselineFile, checked, failures };
}

/** One line: the first failure, and how many more. */
export function gateMessage(gate: GateResult): string {
  if (gate.passed) return `regression gate passed: ${gate.checked} metrics within ${gate.max_drop} of ${gate.baseline_file}`;
  const [first] = gate.failures;
  const more = gate.failures.length > 1 ? ` (+${gate.failures.length - 1} more)` : '';
  return `regression gate failed (max drop ${gate.max_drop} vs ${gate.baseline_file}): ${first.message}${more}`;
}

/** Throw GateError (exit 5) when the gate failed. */
export function assertGatePassed(gate: GateResult | undefined): void {
  if (gate && !gate.passed) throw new GateError(gateMessage(gate));
}
