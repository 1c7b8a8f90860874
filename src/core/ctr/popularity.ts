/** Item-popularity baseline: a sample's score is its item's click count in the training split (same domain). */
import { SPLIT_CODE, type Samples } from '../dataset.js';

/** Training-split positives per item. */
export function trainClicks(samples: Samples, numItems: number): Int32Array {
  const clicks = new Int32Array(numItems);
  for (let i = 0; i < samples.count; i++) if (samples.split[i] === SPLIT_CODE.train && samples.label[i] === 1) clicks[samples.itemId[i]]++;
  return clicks;
}

/** Baseline scores for samples `idx` (ties, e.g. unseen items, count half in AUC). */
export function popularityScores(samples: Samples, numItems: number, idx: Int32Array): Float32Array {
  const clicks = trainClicks(samples, numItems);
  return Float32Array.from(idx, (s) => clicks[samples.itemId[s]]);
}
