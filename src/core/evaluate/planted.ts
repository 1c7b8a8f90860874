/**
 * Planted-truth diagnostics for synthetic data (planted.arrow from `gist synth`): does a GSU return the source
 * events of the target item's planted sub-topic, and do an embedding's nearest cross-domain neighbours share it?
 * Share@k = |top-k searched events in the target item's sub-topic| / min(k, events searched), beside the best
 * share the searched history allows, min(k, same-sub-topic events) / min(k, events).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readArrow } from '../arrow-io.js';
import { DATASET_FILES, DOMAIN_CODE, type Items, type Samples, type SequenceStore } from '../dataset.js';
import { InputDataError } from '../errors.js';
import type { Rng } from '../rng.js';
import { PLANTED } from '../schemas.js';
import type { GsuIndex } from '../ctr/inputs.js';
import type { ItemVectors } from './recall.js';

/** Each item's planted topic and global sub-topic, by item id. */
export interface Planted {
  topic: Int32Array;
  subtopic: Int32Array;
}

/** Share of a GSU's top-k in the target item's planted sub-topic and topic, with the best the history allows. */
export interface PlantedGsuShare {
  name: string;
  k: number;
  /** Samples of the split with at least one searched event. */
  samples: number;
  subtopic: number;
  topic: number;
  best_subtopic: number;
  best_topic: number;
}

/** An embedding's cross-domain neighbours against planted sub-topics: target-domain queries, source-domain candidates. */
export interface PlantedRecall {
  name: string;
  queries: number;
  /** "K" → mean share of the top K in the query's sub-topic. */
  precision: Record<string, number>;
  /** "K" → mean share of the query's same-sub-topic source items found in the top K. */
  recall: Record<string, number>;
}

/** planted.arrow of a dataset folder, or null when the data is not synthetic. */
export function readPlanted(dataDir: string, numItems: number): Planted | null {
  const file = path.join(dataDir, DATASET_FILES.planted);
  if (!fs.existsSync(file)) return null;
  const f = readArrow(file, PLANTED);
  const ids = f.columns.item_id as Int32Array;
  if (ids.length !== numItems) throw new InputDataError(`${ids.length} rows, expected one per item (${numItems})`, file, 'item_id');
  const topic = new Int32Array(numItems);
  const subtopic = new Int32Array(numItems);
  const t = f.columns.topic as Int32Array;
  const s = f.columns.subtopic as Int32Array;
  for (let r = 0; r < ids.length; r++) {
    if (ids[r] >= numItems) throw new InputDataError(`item id ${ids[r]} out of range (${numItems} items)`, file, 'item_id', r);
    topic[ids[r]] = t[r];
    subtopic[ids[r]] = s[r];
  }
  return { topic, subtopic };
}

/** Per target sample of one split: source events before it in the target item's planted sub-topic and topic. */
export interface PlantedHistoryCounts {
  splitCode: number;
  subtopic: Int32Array;
  topic: Int32Array;
  /** Source events before the sample (what the GSU searched). */
  events: Int32Array;
}

/** What every GSU of a split is compared against, counted once (it does not depend on the GSU). */
export function plantedHistoryCounts(samples: Samples, source: SequenceStore, planted: Planted, splitCode: number): PlantedHistoryCounts {
  const out = { splitCode, subtopic: new Int32Array(samples.count), topic: new Int32Array(samples.count), events: new Int32Array(samples.count) };
  for (let s = 0; s < samples.count; s++) {
    if (samples.split[s] !== splitCode) continue;
    const item = samples.itemId[s];
    const wantSub = planted.subtopic[item];
    const wantTopic = planted.topic[item];
    const [lo, hi] = source.historyBefore(samples.userId[s], samples.ts[s], Infinity);
    let histSub = 0;
    let histTopic = 0;
    for (let j = lo; j < hi; j++) {
      const e = source.items[j];
      if (planted.subtopic[e] === wantSub) histSub++;
      if (planted.topic[e] === wantTopic) histTopic++;
    }
    out.subtopic[s] = histSub;
    out.topic[s] = histTopic;
    out.events[s] = hi - lo;
  }
  return out;
}

/**
 * Share@k of one GSU's results over the target samples of `splitCode`, over all of them and over the clicked
 * ones (their items mostly lie in the user's preferred sub-topics, so the history holds more of them). The
 * searched history is every source event of the user strictly before the sample's time (what `search-gsu` ranks);
 * its counts do not depend on the GSU, so pass `history` to count them once for every GSU of the split.
 */
export function gsuPlantedShares(
  name: string,
  gsu: GsuIndex,
  samples: Samples,
  source: SequenceStore,
  planted: Planted,
  splitCode: number,
  ks: readonly number[],
  history: PlantedHistoryCounts = plantedHistoryCounts(samples, source, planted, splitCode),
): { all: PlantedGsuShare[]; clicked: PlantedGsuShare[] } {
  if (history.splitCode !== splitCode) throw new Error('gsuPlantedShares: history counts of another split');
  const sums = (): { n: number; at: { sub: number; topic: number; bestSub: number; bestTopic: number }[] } => ({ n: 0, at: ks.map(() => ({ sub: 0, topic: 0, bestSub: 0, bestTopic: 0 })) });
  const all = sums();
  const clicked = sums();
  for (let s = 0; s < samples.count; s++) {
    if (samples.split[s] !== splitCode) continue;
    const row = gsu.rowOfSample[s];
    if (row < 0 || gsu.offsets[row + 1] === gsu.offsets[row]) continue;
    const item = samples.itemId[s];
    const wantSub = planted.subtopic[item];
    const wantTopic = planted.topic[item];
    const histSub = history.subtopic[s];
    const histTopic = history.topic[s];
    const a = gsu.offsets[row];
    const found = gsu.offsets[row + 1] - a;
    const into = samples.label[s] === 1 ? [all, clicked] : [all];
    ks.forEach((k, q) => {
      const m = Math.min(k, found);
      let sub = 0;
      let topic = 0;
      for (let j = a; j < a + m; j++) {
        if (planted.subtopic[gsu.items[j]] === wantSub) sub++;
        if (planted.topic[gsu.items[j]] === wantTopic) topic++;
      }
      const denom = Math.min(k, Math.max(found, history.events[s]));
      for (const acc of into) {
        acc.at[q].sub += sub / m;
        acc.at[q].topic += topic / m;
        acc.at[q].bestSub += Math.min(k, histSub) / denom;
        acc.at[q].bestTopic += Math.min(k, histTopic) / denom;
      }
    });
    for (const acc of into) acc.n++;
  }
  const shares = (acc: ReturnType<typeof sums>): PlantedGsuShare[] =>
    ks.map((k, q) => ({ name, k, samples: acc.n, subtopic: acc.at[q].sub / acc.n, topic: acc.at[q].topic / acc.n, best_subtopic: acc.at[q].bestSub / acc.n, best_topic: acc.at[q].bestTopic / acc.n }));
  return { all: shares(all), clicked: shares(clicked) };
}

/**
 * The `keep` best indices of `scores`, best first, in the order of a full sort by (score descending, index
 * ascending) cut to its first `keep`: a bounded heap whose root is the kept index that sorts last.
 */
export function topOrder(scores: Float64Array, keep: number): Int32Array {
  /** Negative when index x sorts before y (−∞ scores tie among themselves, then the smaller index first). */
  const before = (x: number, y: number): number => scores[y] - scores[x] || x - y;
  const heap = new Int32Array(keep);
  let size = 0;
  const siftDown = (at: number): void => {
    for (;;) {
      const l = 2 * at + 1;
      if (l >= size) return;
      const worse = l + 1 < size && before(heap[l], heap[l + 1]) < 0 ? l + 1 : l;
      if (before(heap[at], heap[worse]) >= 0) return;
      [heap[at], heap[worse]] = [heap[worse], heap[at]];
      at = worse;
    }
  };
  for (let c = 0; c < scores.length && keep > 0; c++) {
    if (size < keep) {
      let at = size++;
      heap[at] = c;
      while (at > 0) {
        const up = (at - 1) >> 1;
        if (before(heap[up], heap[at]) >= 0) break;
        [heap[up], heap[at]] = [heap[at], heap[up]];
        at = up;
      }
    } else if (before(c, heap[0]) < 0) {
      heap[0] = c;
      siftDown(0);
    }
  }
  return heap.sort(before);
}

/**
 * Precision@K and Recall@K of an embedding's exact cosine neighbours with planted sub-topics as truth: up to
 * `maxQueries` items of `queryDomain` (a seeded sample; target by default: cross-domain) against every
 * source-domain item that has a vector (the query itself left out).
 */
export function plantedNeighbourRecall(name: string, vectors: ItemVectors, has: Uint8Array, items: Items, planted: Planted, ks: readonly number[], maxQueries: number, rng: Rng, queryDomain = DOMAIN_CODE.target): PlantedRecall {
  const { dim, values } = vectors;
  const cands: number[] = [];
  const queries: number[] = [];
  for (let i = 0; i < has.length; i++) {
    if (!has[i]) continue;
    if (items.domain[i] === DOMAIN_CODE.source) cands.push(i);
    if (items.domain[i] === queryDomain) queries.push(i);
  }
  const picked = rng.shuffle(Int32Array.from(queries)).subarray(0, Math.min(maxQueries, queries.length));
  const norm = (i: number): number => {
    let s = 0;
    for (let k = 0; k < dim; k++) s += values[i * dim + k] ** 2;
    return s > 0 ? 1 / Math.sqrt(s) : 0;
  };
  const candNorm = Float64Array.from(cands, norm);
  const subSize = new Map<number, number>();
  for (const c of cands) subSize.set(planted.subtopic[c], (subSize.get(planted.subtopic[c]) ?? 0) + 1);
  const prec = ks.map(() => 0);
  const rec = ks.map(() => 0);
  let used = 0;
  const scores = new Float64Array(cands.length);
  // Only the best max(ks) candidates are ever read: keep those (a heap) rather than sorting every candidate.
  const keep = Math.min(Math.max(0, ...ks), cands.length);
  for (const qi of picked) {
    const want = planted.subtopic[qi];
    // A source-domain query is never its own neighbour.
    const total = (subSize.get(want) ?? 0) - (items.domain[qi] === DOMAIN_CODE.source ? 1 : 0);
    if (total === 0) continue;
    const qn = norm(qi);
    for (let c = 0; c < cands.length; c++) {
      let dot = 0;
      const o = cands[c] * dim;
      for (let k = 0; k < dim; k++) dot += values[qi * dim + k] * values[o + k];
      scores[c] = cands[c] === qi ? -Infinity : dot * qn * candNorm[c];
    }
    const order = topOrder(scores, keep);
    ks.forEach((k, q) => {
      const m = Math.min(k, cands.length - (items.domain[qi] === DOMAIN_CODE.source ? 1 : 0));
      let hit = 0;
      for (let j = 0; j < m; j++) if (planted.subtopic[cands[order[j]]] === want) hit++;
      prec[q] += hit / m;
      rec[q] += hit / total;
    });
    used++;
  }
  const by = (acc: number[]): Record<string, number> => Object.fromEntries(ks.map((k, q) => [String(k), used ? acc[q] / used : NaN]));
  return { name, queries: used, precision: by(prec), recall: by(rec) };
}
