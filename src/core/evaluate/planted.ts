/**
 * Planted-truth diagnostics for synthetic data (planted.arrow from `gist synth`): does a GSU return the source
 * events of the target item's planted sub-topic, and do an embedding's nearest cross-domain neighbours share it?
 * Share@k = |top-k searched events in the target item's sub-topic| / min(k, events searched), beside the best
 * share the searched history allows, min(k, same-sub-topic events) / min(k, events).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readArrow } from '../arrow-io.js';
import { DATASET_FILES, DOMAIN_CODE, eachSequenceInFile, samplesByUser, type Items, type Samples, type SequenceStore } from '../dataset.js';
import { InputDataError } from '../errors.js';
import type { Rng } from '../rng.js';
import { PLANTED } from '../schemas.js';
import type { GsuIndex } from '../ctr/inputs.js';
import type { ItemVectors } from './recall.js';
import { nativeKernels } from '../retrieval/native.js';

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

/**
 * What every GSU of a split is compared against, counted once (it does not depend on the GSU). Each user's samples of
 * the split are taken in time order along one walk over the user's history, with running counts per sub-topic and
 * topic: one pass over the history instead of one per sample (the paper-shaped run's test split: 2.5 s → ~0.1 s).
 * `source`: the loaded store, or the sequences file, then read batch by batch (eachSequenceInFile), never whole.
 */
export function plantedHistoryCounts(samples: Samples, source: SequenceStore | string, planted: Planted, splitCode: number): PlantedHistoryCounts {
  const out = { splitCode, subtopic: new Int32Array(samples.count), topic: new Int32Array(samples.count), events: new Int32Array(samples.count) };
  // the split's samples grouped by user, each group in time order
  const { start, order } = samplesByUser(samples, (s) => samples.split[s] === splitCode);
  const users = start.length - 1;
  let maxSub = 0;
  let maxTopic = 0;
  for (let i = 0; i < planted.subtopic.length; i++) {
    maxSub = Math.max(maxSub, planted.subtopic[i]);
    maxTopic = Math.max(maxTopic, planted.topic[i]);
  }
  const subCount = new Int32Array(maxSub + 1);
  const topicCount = new Int32Array(maxTopic + 1);
  const walk = (store: SequenceStore, u: number): void => {
    if (start[u] === start[u + 1]) return;
    const group = order.subarray(start[u], start[u + 1]).sort((x, y) => samples.ts[x] - samples.ts[y] || x - y);
    const [lo] = store.range(u);
    let at = lo; // events [lo, at) are counted
    for (const s of group) {
      const [, hi] = store.historyBefore(u, samples.ts[s], Infinity);
      for (; at < hi; at++) {
        subCount[planted.subtopic[store.items[at]]]++;
        topicCount[planted.topic[store.items[at]]]++;
      }
      const item = samples.itemId[s];
      out.subtopic[s] = subCount[planted.subtopic[item]];
      out.topic[s] = topicCount[planted.topic[item]];
      out.events[s] = hi - lo;
    }
    for (let j = lo; j < at; j++) {
      subCount[planted.subtopic[store.items[j]]] = 0;
      topicCount[planted.topic[store.items[j]]] = 0;
    }
  };
  if (typeof source === 'string') eachSequenceInFile(source, 'source', users, planted.subtopic.length, walk);
  else for (let u = 0; u < users; u++) walk(source, u);
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
  const sums = new PlantedShareSums(samples, planted, ks, history);
  sums.addIndex(gsu);
  return sums.shares(name, ks);
}

/**
 * gsuPlantedShares's sums, fed one sample's results at a time (evaluate streams the GSU files batch by batch); fed in
 * sample order they give its figures bit for bit.
 */
export class PlantedShareSums {
  private readonly all: ReturnType<typeof PlantedShareSums.zero>;
  private readonly clicked: ReturnType<typeof PlantedShareSums.zero>;

  constructor(
    private readonly samples: Samples,
    private readonly planted: Planted,
    private readonly ks: readonly number[],
    private readonly history: PlantedHistoryCounts,
  ) {
    this.all = PlantedShareSums.zero(ks.length);
    this.clicked = PlantedShareSums.zero(ks.length);
  }

  private static zero(n: number): { n: number; at: { sub: number; topic: number; bestSub: number; bestTopic: number }[] } {
    return { n: 0, at: Array.from({ length: n }, () => ({ sub: 0, topic: 0, bestSub: 0, bestTopic: 0 })) };
  }

  /** Sample s's searched items, best first: items[a, a + found). Samples of other splits and empty results count for nothing. */
  add(s: number, items: Int32Array, a: number, found: number): void {
    const { samples, planted, history } = this;
    if (samples.split[s] !== history.splitCode || found === 0) return;
    const wantSub = planted.subtopic[samples.itemId[s]];
    const wantTopic = planted.topic[samples.itemId[s]];
    const into = samples.label[s] === 1 ? [this.all, this.clicked] : [this.all];
    this.ks.forEach((k, q) => {
      const m = Math.min(k, found);
      let sub = 0;
      let topic = 0;
      for (let j = a; j < a + m; j++) {
        if (planted.subtopic[items[j]] === wantSub) sub++;
        if (planted.topic[items[j]] === wantTopic) topic++;
      }
      const denom = Math.min(k, Math.max(found, history.events[s]));
      for (const acc of into) {
        acc.at[q].sub += sub / m;
        acc.at[q].topic += topic / m;
        acc.at[q].bestSub += Math.min(k, history.subtopic[s]) / denom;
        acc.at[q].bestTopic += Math.min(k, history.topic[s]) / denom;
      }
    });
    for (const acc of into) acc.n++;
  }

  /** Every sample's results of a whole GSU file, in sample order. */
  addIndex(gsu: GsuIndex): void {
    for (let s = 0; s < this.samples.count; s++) {
      const row = gsu.rowOfSample[s];
      if (row >= 0) this.add(s, gsu.items, gsu.offsets[row], gsu.offsets[row + 1] - gsu.offsets[row]);
    }
  }

  /** The shares at each of `ks` (a subset of the constructor's). */
  shares(name: string, ks: readonly number[]): { all: PlantedGsuShare[]; clicked: PlantedGsuShare[] } {
    const of = (acc: ReturnType<typeof PlantedShareSums.zero>): PlantedGsuShare[] =>
      ks.map((k) => {
        const at = acc.at[this.ks.indexOf(k)];
        return { name, k, samples: acc.n, subtopic: at.sub / acc.n, topic: at.topic / acc.n, best_subtopic: at.bestSub / acc.n, best_topic: at.bestTopic / acc.n };
      });
    return { all: of(this.all), clicked: of(this.clicked) };
  }
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
  // The dots in double, k in order: the native rowDots where the addon is there (the same bits, ~10× faster: 500
  // queries over the paper-shaped run's source items took 4 s of evaluate's 17 in this loop).
  const native = nativeKernels();
  const candRows = native ? Int32Array.from(cands) : null;
  const queryRows = native ? new Int32Array(cands.length) : null;
  for (const qi of picked) {
    const want = planted.subtopic[qi];
    // A source-domain query is never its own neighbour.
    const total = (subSize.get(want) ?? 0) - (items.domain[qi] === DOMAIN_CODE.source ? 1 : 0);
    if (total === 0) continue;
    const qn = norm(qi);
    if (native && candRows && queryRows) native.rowDots(values, dim, queryRows.fill(qi), candRows, scores);
    else
      for (let c = 0; c < cands.length; c++) {
        let dot = 0;
        const o = cands[c] * dim;
        for (let k = 0; k < dim; k++) dot += values[qi * dim + k] * values[o + k];
        scores[c] = dot;
      }
    for (let c = 0; c < cands.length; c++) scores[c] = cands[c] === qi ? -Infinity : scores[c] * qn * candNorm[c];
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
