import type { PairedAucTest } from '../metrics.js';
import type { PlantedGsuShare, PlantedRecall } from './planted.js';
/**
 * The `gist evaluate` result: what `--json` prints and `--save-metrics FILE` writes. CI scripts parse it
 * and `--baseline FILE` reads it back, so fields are only ever added, never renamed or removed.
 * Metrics that cannot be computed (one class only, no pairs) are `null`.
 */

/** AUC of one popularity group, and its gain over the baseline run's AUC on the same group. */
export interface GroupMetrics {
  auc: number | null;
  /** samples in the group */
  n: number;
  /** (AUC − AUC_baseline) / AUC_baseline × 100 within the group; 0 for the baseline run */
  auc_gain_pct: number | null;
}

export interface PopularityMetrics {
  /** target_count threshold: low = items with target_count < threshold, high = the rest */
  threshold: number;
  low: GroupMetrics;
  high: GroupMetrics;
}

/** One CTR run (one predictions file) on the chosen split. */
export interface RunMetrics {
  name: string;
  file: string;
  auc: number | null;
  /** per-user AUC weighted by the user's sample count, users with both labels only */
  gauc: number | null;
  logloss: number | null;
  /** (AUC − AUC_baseline) / AUC_baseline × 100 (paper Table 1 "AUC gain"); 0 for the baseline run */
  auc_gain_pct: number | null;
  /** samples in the split */
  n: number;
  positives: number;
  /** null without --data */
  popularity: PopularityMetrics | null;
  /**
   * DeLong's paired test of this run's AUC against the baseline run's on the same samples (diff, its standard
   * error, 95% interval, two-sided p); null for the baseline itself and where the two files' rows cannot be paired.
   */
  auc_vs_baseline: PairedAucTest | null;
}

/** Exact cosine Recall@K of one embedding file against the truth pairs. */
export interface RecallMetrics {
  name: string;
  file: string;
  /** K (as a string) → recall */
  recall: Record<string, number | null>;
  /** truth pairs evaluated */
  pairs: number;
  /** truth pairs left out: the target item has no vector in this file, or the pair is a self-pair */
  skipped_pairs: number;
  /** items a query can retrieve (the related items' domain with --data, else every item with a vector) */
  candidates: number;
  /** which pairs were the truth: valid+test pairs when pairs.arrow has a split column, else all */
  truth: 'valid+test' | 'all';
  /**
   * held-out pairs left out of the truth before anything else because (t, r) or (r, t) is also a training
   * pair (absent in metrics files written before this field existed)
   */
  truth_pairs_dropped_overlap?: number;
}

/** Summary of one GSU file's similarity scores (all searched events of all samples). */
export interface GsuSummary {
  name: string;
  file: string;
  samples: number;
  scores: number;
  mean: number | null;
  min: number | null;
  max: number | null;
}

export interface GateFailure {
  /** run (predictions) or embeddings name */
  run: string;
  /** auc | gauc | logloss | recall@K */
  metric: string;
  baseline: number;
  current: number | null;
  /** how much worse (logloss: the rise); null when the metric or run is missing now */
  drop: number | null;
  message: string;
}

export interface GateResult {
  passed: boolean;
  max_drop: number;
  /** the metrics file compared against */
  baseline_file: string;
  /** metrics compared */
  checked: number;
  failures: GateFailure[];
}

/** Planted-truth diagnostics (synthetic data with planted.arrow; src/core/evaluate/planted.ts). */
export interface PlantedMetrics {
  /** Per GSU file and K: share of its top K in the target item's planted sub-topic/topic, over every sample of the split. */
  gsu: PlantedGsuShare[];
  /** The same over clicked samples only. */
  gsu_clicked: PlantedGsuShare[];
  /** Per embedding file: precision/recall@K of its cross-domain neighbours against planted sub-topics. */
  embeddings: PlantedRecall[];
}

export interface EvaluateResult {
  split: 'test' | 'valid';
  /** run the AUC gains are relative to; null when no predictions were given */
  baseline: string | null;
  runs: RunMetrics[];
  recall: RecallMetrics[];
  gsu: GsuSummary[];
  /** present when --data holds planted.arrow (synthetic data) */
  planted?: PlantedMetrics;
  /** present with --baseline */
  gate?: GateResult;
  /** inputs that were skipped (unreadable training curves, ...) */
  warnings: string[];
  /** files written: html (--html), metrics (--save-metrics) */
  outputs: { html?: string; metrics?: string };
}

/** NaN (undefined metric) → null, so the JSON stays valid and explicit. */
export function nullable(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
