/** Pairing two CTR runs' predictions sample by sample, for DeLong's paired AUC test against the baseline run. */
import { pairedAucTest, type PairedAucTest } from '../metrics.js';
import type { SplitPredictions } from './inputs.js';

/**
 * The two runs' scores on the same samples, in run's row order: matched by sample id where both files carry one
 * (gist's own predictions), else row by row when the rows' items and labels agree (files another tool wrote in the
 * same order; users are not compared, as such files name them in their own way). A string says why they cannot be paired.
 */
export function pairRows(run: SplitPredictions, base: SplitPredictions): { labels: Int8Array; scores: Float32Array; baseline: Float32Array } | string {
  const n = run.label.length;
  if (base.label.length !== n) return `${n} vs ${base.label.length} samples`;
  const baseline = new Float32Array(n);
  if (run.sampleId && base.sampleId) {
    const rowOf = new Map<number, number>();
    for (let i = 0; i < n; i++) rowOf.set(base.sampleId[i], i);
    for (let i = 0; i < n; i++) {
      const j = rowOf.get(run.sampleId[i]);
      if (j === undefined) return `sample ${run.sampleId[i]} is not among the baseline's`;
      if (base.label[j] !== run.label[i]) return `sample ${run.sampleId[i]} has label ${run.label[i]} here and ${base.label[j]} in the baseline`;
      baseline[i] = base.score[j];
    }
  } else {
    for (let i = 0; i < n; i++) {
      if (base.itemId[i] !== run.itemId[i] || base.label[i] !== run.label[i]) return `row ${i} is another sample than the baseline's (no sample ids to match by)`;
      baseline[i] = base.score[i];
    }
  }
  return { labels: run.label, scores: run.score, baseline };
}

/** DeLong's test of run against base, or a reason it cannot be run. */
export function pairedTest(run: SplitPredictions, base: SplitPredictions): PairedAucTest | null | string {
  const rows = pairRows(run, base);
  return typeof rows === 'string' ? rows : pairedAucTest(rows.labels, rows.scores, rows.baseline);
}
