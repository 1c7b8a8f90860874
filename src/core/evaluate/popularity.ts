/**
 * AUC by item-popularity group (paper §5.4, Table 7): a sample is low-interaction when its item's
 * target-domain training interactions are below the threshold, high-interaction otherwise.
 */
import { auc } from '../metrics.js';

/** Median of target_count over target-domain items with at least one interaction (0 when there are none). */
export function defaultPopularityThreshold(targetCount: Int32Array, domain: Int8Array, targetCode = 1): number {
  const counts: number[] = [];
  for (let i = 0; i < targetCount.length; i++) if (domain[i] === targetCode && targetCount[i] > 0) counts.push(targetCount[i]);
  if (counts.length === 0) return 0;
  counts.sort((a, b) => a - b);
  const mid = counts.length >> 1;
  return counts.length % 2 ? counts[mid] : (counts[mid - 1] + counts[mid]) / 2;
}

export interface GroupAuc {
  auc: number;
  n: number;
}

/** Split samples by `itemCount[item] < threshold` (low) vs `≥ threshold` (high) and score each group. */
export function popularityGroups(
  itemId: Int32Array,
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  itemCount: Int32Array,
  threshold: number,
): { low: GroupAuc; high: GroupAuc } {
  const low: number[] = [];
  const high: number[] = [];
  for (let i = 0; i < itemId.length; i++) (itemCount[itemId[i]] < threshold ? low : high).push(i);
  return {
    low: { auc: auc(labels, scores, low), n: low.length },
    high: { auc: auc(labels, scores, high), n: high.length },
  };
}
