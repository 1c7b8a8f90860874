/** What the ESU and Swing pair extractors share: the pairs.arrow writer and small statistics helpers. */
import type { OutputMeta } from '../arrow-io.js';
import type { OutputStage } from '../output.js';
import { PAIRS, SPLITS } from '../schemas.js';

export const PAIR_OUTPUTS = { pairs: 'pairs.arrow', stats: 'stats.json' } as const;

/** Pair rows in column form; `split` holds split codes (0 train, 1 valid, 2 test). */
export interface PairRows {
  target: number[];
  related: number[];
  score: number[];
  count: number[];
  split: number[];
}

/** Write pairs.arrow (PAIRS schema); the split column only when `withSplit`. Returns its final path. */
export function writePairs(stage: OutputStage, rows: PairRows, meta: OutputMeta, withSplit: boolean): string {
  return stage.writeArrow(
    PAIR_OUTPUTS.pairs,
    PAIRS,
    {
      target_item: Int32Array.from(rows.target),
      related_item: Int32Array.from(rows.related),
      attention: Float32Array.from(rows.score),
      count: Int32Array.from(rows.count),
      ...(withSplit ? { split: { codes: Int32Array.from(rows.split), values: [...SPLITS] } } : {}),
    },
    meta,
  );
}

/** Linear-interpolated quantiles (type 7, as numpy's default) of the values; NaN when empty. */
export function quantiles(values: Float64Array, ps: readonly number[]): number[] {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  return ps.map((p) => {
    if (n === 0) return NaN;
    const h = (n - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.min(n - 1, lo + 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  });
}
