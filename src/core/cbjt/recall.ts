/**
 * Recall@K of item embeddings against guidance pairs (paper 5.1.3, Tables 3 and 5): for each pair
 * (target_item → related_item), search every item of the related item's domain by exact cosine (the query
 * item itself left out) and count a hit when the related item ranks within the top K. Ties are broken at
 * random in expectation, so a collapsed embedding scores like chance, not like a perfect one.
 * Same rule as `gist evaluate` (src/core/evaluate/recall.ts); this one scores with a tfjs matMul so that
 * the trainers' optional `--eval-pairs` report costs about a second.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readArrow, type DictColumn } from '../arrow-io.js';
import { InputDataError } from '../errors.js';
import { type Rng } from '../rng.js';
import { PAIRS } from '../schemas.js';

export const DEFAULT_RECALL_KS: readonly number[] = [10, 100, 1000];

/** Cosines closer than this are ties (as in src/core/evaluate/recall.ts, the report's Recall@K). */
const TIE_EPS = 1e-6;

export interface RecallReport {
  /** Pairs evaluated (after dropping self-pairs and the cap). */
  pairs: number;
  /** "recall@10" → value in [0, 1]. */
  recall: Record<string, number>;
}

export interface EvalPairs {
  query: Int32Array;
  truth: Int32Array;
}

/** Which splits of a PAIRS file count as held-out ground truth when it has a split column. */
export const HELD_OUT_SPLITS = ['valid', 'test'] as const;

/**
 * Read held-out pairs from a PAIRS file: rows of split valid/test when a split column exists, else all.
 * Self-pairs are dropped; at most `maxPairs` are kept (a seeded sample, in file order).
 */
export function readEvalPairs(file: string, numItems: number, maxPairs: number, rng: Rng): EvalPairs {
  const f = readArrow(file, PAIRS);
  const target = f.columns.target_item as Int32Array;
  const related = f.columns.related_item as Int32Array;
  const split = f.columns.split as DictColumn | undefined;
  const heldOut = split ? split.values.map((v) => (HELD_OUT_SPLITS as readonly string[]).includes(v)) : null;
  const keep: number[] = [];
  for (let r = 0; r < f.numRows; r++) {
    if (target[r] >= numItems) throw new InputDataError(`item id ${target[r]} out of range (${numItems} items)`, file, 'target_item', r);
    if (related[r] >= numItems) throw new InputDataError(`item id ${related[r]} out of range (${numItems} items)`, file, 'related_item', r);
    if (heldOut && (split!.codes[r] < 0 || !heldOut[split!.codes[r]])) continue;
    if (target[r] === related[r]) continue;
    keep.push(r);
  }
  let rows = keep;
  if (rows.length > maxPairs) {
    rows = rng.shuffle(rows.slice()).slice(0, maxPairs).sort((a, b) => a - b);
  }
  return { query: Int32Array.from(rows, (r) => target[r]), truth: Int32Array.from(rows, (r) => related[r]) };
}

/**
 * Recall@K over `pairs` for L2-normalised vectors [N, dim]; candidates of a pair are the items whose
 * `domain` equals the related item's domain.
 */
export function recallAtK(vectors: Float32Array, dim: number, domain: Int8Array, pairs: EvalPairs, ks: readonly number[] = DEFAULT_RECALL_KS): RecallReport {
  const hits = new Float64Array(ks.length);
  const n = pairs.query.length;
  const domains = [...new Set(Array.from(domain))].sort((a, b) => a - b);
  const CHUNK = 256;
  for (const d of domains) {
    const cand: number[] = [];
    for (let i = 0; i < domain.length; i++) if (domain[i] === d) cand.push(i);
    const pairRows: number[] = [];
    for (let p = 0; p < n; p++) if (domain[pairs.truth[p]] === d) pairRows.push(p);
    if (pairRows.length === 0) continue;
    const candIndex = new Int32Array(domain.length).fill(-1);
    cand.forEach((item, j) => (candIndex[item] = j));
    const candVals = new Float32Array(cand.length * dim);
    cand.forEach((item, j) => candVals.set(vectors.subarray(item * dim, (item + 1) * dim), j * dim));
    const candT = tf.tidy(() => tf.transpose(tf.tensor2d(candVals, [cand.length, dim]))); // [dim, M]
    try {
      for (let c0 = 0; c0 < pairRows.length; c0 += CHUNK) {
        const rows = pairRows.slice(c0, c0 + CHUNK);
        const q = new Float32Array(rows.length * dim);
        rows.forEach((p, i) => q.set(vectors.subarray(pairs.query[p] * dim, (pairs.query[p] + 1) * dim), i * dim));
        const scoresT = tf.tidy(() => tf.matMul(tf.tensor2d(q, [rows.length, dim]), candT)); // [q, M]
        const scores = scoresT.dataSync() as Float32Array;
        scoresT.dispose();
        const m = cand.length;
        rows.forEach((p, i) => {
          const self = candIndex[pairs.query[p]];
          const t = candIndex[pairs.truth[p]];
          const row = scores.subarray(i * m, (i + 1) * m);
          const st = row[t];
          let greater = 0;
          let ties = 0;
          for (let j = 0; j < m; j++) {
            const s = row[j];
            if (s > st + TIE_EPS) greater++;
            else if (s >= st - TIE_EPS) ties++;
          }
          ties -= 1; // the truth itself
          if (self >= 0 && self !== t) {
            if (row[self] > st + TIE_EPS) greater--;
            else if (row[self] >= st - TIE_EPS) ties--;
          }
          ks.forEach((k, ki) => {
            hits[ki] += Math.min(1, Math.max(0, (k - greater) / (ties + 1)));
          });
        });
      }
    } finally {
      candT.dispose();
    }
  }
  const recall: Record<string, number> = {};
  ks.forEach((k, ki) => (recall[`recall@${k}`] = n === 0 ? 0 : hits[ki] / n));
  return { pairs: n, recall };
}

/** "recall@10 0.1234, recall@100 …, recall@1000 … (5000 pairs)" for human output. */
export function formatRecall(r: RecallReport): string {
  return `${Object.entries(r.recall)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join(', ')} (${r.pairs} held-out pairs)`;
}
