/**
 * Recall@K of item embeddings against guidance pairs (paper 5.1.3, Tables 3 and 5): for each pair
 * (target_item → related_item), search every item of the related item's domain by exact cosine (the query
 * item itself left out) and count a hit when the related item ranks within the top K. Ties are broken at
 * random in expectation, so a collapsed embedding scores like chance, not like a perfect one.
 * The trainers' `--eval-pairs` report; the ranking itself is `gist evaluate`'s (src/core/evaluate/recall.ts).
 */
import { trainPairKeys, unorderedPairKey } from '../evaluate/inputs.js';
import { recallAtK as officialRecallAtK } from '../evaluate/recall.js';
import { readArrow, type DictColumn } from '../arrow-io.js';
import { InputDataError } from '../errors.js';
import { type Rng } from '../rng.js';
import { PAIRS } from '../schemas.js';

export const DEFAULT_RECALL_KS: readonly number[] = [10, 100, 1000];


export interface RecallReport {
  /** Pairs evaluated (after dropping self-pairs, pairs also seen in training, and the cap). */
  pairs: number;
  /** Held-out pairs dropped because they are also training pairs (when the pairs came from `readEvalPairs`). */
  truth_pairs_dropped_overlap?: number;
  /** "recall@10" → value in [0, 1]. */
  recall: Record<string, number>;
}

export interface EvalPairs {
  query: Int32Array;
  truth: Int32Array;
  /** Held-out pairs left out because (t, r) or (r, t) is also a train-split pair of the same file. */
  droppedOverlap?: number;
}

/** Which splits of a PAIRS file count as held-out ground truth when it has a split column. */
export const HELD_OUT_SPLITS = ['valid', 'test'] as const;

/**
 * Read held-out pairs from a PAIRS file: rows of split valid/test when a split column exists, else all.
 * Self-pairs and pairs that also occur (either orientation) among the file's train-split pairs — which the
 * union trains on, so recalling them rewards memorisation — are dropped; at most `maxPairs` are kept
 * (a seeded sample, in file order).
 */
export function readEvalPairs(file: string, numItems: number, maxPairs: number, rng: Rng): EvalPairs {
  const f = readArrow(file, PAIRS);
  const target = f.columns.target_item as Int32Array;
  const related = f.columns.related_item as Int32Array;
  const split = f.columns.split as DictColumn | undefined;
  const heldOut = split ? split.values.map((v) => (HELD_OUT_SPLITS as readonly string[]).includes(v)) : null;
  const train = split ? trainPairKeys({ target, related, split }, file) : null;
  const keep: number[] = [];
  let droppedOverlap = 0;
  for (let r = 0; r < f.numRows; r++) {
    if (target[r] >= numItems) throw new InputDataError(`item id ${target[r]} out of range (${numItems} items)`, file, 'target_item', r);
    if (related[r] >= numItems) throw new InputDataError(`item id ${related[r]} out of range (${numItems} items)`, file, 'related_item', r);
    if (heldOut && (split!.codes[r] < 0 || !heldOut[split!.codes[r]])) continue;
    if (target[r] === related[r]) continue;
    if (train?.has(unorderedPairKey(target[r], related[r]))) {
      droppedOverlap++;
      continue;
    }
    keep.push(r);
  }
  let rows = keep;
  if (rows.length > maxPairs) {
    rows = rng.shuffle(rows.slice()).slice(0, maxPairs).sort((a, b) => a - b);
  }
  return { query: Int32Array.from(rows, (r) => target[r]), truth: Int32Array.from(rows, (r) => related[r]), droppedOverlap };
}

/**
 * Recall@K over `pairs` for L2-normalised vectors [N, dim]; candidates of a pair are the items whose
 * `domain` equals the related item's domain. Delegates to the report's exact Recall@K (one definition).
 */
export function recallAtK(vectors: Float32Array, dim: number, domain: Int8Array, pairs: EvalPairs, ks: readonly number[] = DEFAULT_RECALL_KS): RecallReport {
  const hits = new Float64Array(ks.length);
  const n = pairs.query.length;
  const domains = [...new Set(Array.from(domain))].sort((a, b) => a - b);
  for (const d of domains) {
    const candidates = Int32Array.from(domain.keys()).filter((i) => domain[i] === d);
    const rows = Array.from(pairs.truth.keys()).filter((p) => domain[pairs.truth[p]] === d);
    if (rows.length === 0) continue;
    const truth = { target: Int32Array.from(rows, (p) => pairs.query[p]), related: Int32Array.from(rows, (p) => pairs.truth[p]) };
    const r = officialRecallAtK({ dim, values: vectors }, truth, ks, candidates);
    ks.forEach((k, ki) => (hits[ki] += r[String(k)] * rows.length));
  }
  const recall: Record<string, number> = {};
  ks.forEach((k, ki) => (recall[`recall@${k}`] = n === 0 ? 0 : hits[ki] / n));
  return { pairs: n, recall, ...(pairs.droppedOverlap !== undefined ? { truth_pairs_dropped_overlap: pairs.droppedOverlap } : {}) };
}

/** "recall@10 0.1234, recall@100 …, recall@1000 … (5000 pairs)" for human output. */
export function formatRecall(r: RecallReport): string {
  return `${Object.entries(r.recall)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join(', ')} (${r.pairs} held-out pairs)`;
}
