/**
 * From an event log to dataset parts, shared by the movielens and tsv importers: per-user sequences, a per-user
 * time split of labelled events, training-only interaction counts, and popularity-sampled negatives.
 */
import { DOMAIN_CODE, SPLIT_CODE } from '../dataset.js';
import type { DatasetParts, ItemsPart, SamplesPart, SequencesPart } from '../dataset-writer.js';
import type { Rng } from '../rng.js';
import { DOMAINS, type Domain } from '../schemas.js';
import { addSampledNegatives, orderByUserTime, PopularitySampler, userItemIndex, type LabelledSamples } from './negatives.js';

/** Items without their counts (counts are computed from the training events). */
export type ItemCatalogue = Omit<ItemsPart, 'sourceCount' | 'targetCount'>;

/** One row per event; users are dense 0..numUsers−1. */
export interface EventLog {
  numUsers: number;
  user: Int32Array;
  item: Int32Array;
  ts: Float64Array;
  /** 1 click, 0 shown but not clicked, −1 no label (behaviour only, no sample). */
  label: Int8Array;
  /** 1 when the event is behaviour that belongs in the user's sequence. */
  inSequence: Uint8Array;
}

export interface EventSplitConfig {
  /** Sampled negatives per positive (0 = none). */
  negatives: number;
  /** Share of each user's labelled events (latest first) that go to test. */
  testShare: number;
  /** Share of each user's labelled events, just before the test ones, that go to valid. */
  validShare: number;
}

/**
 * Per-domain sequences from events (indices `keep`), time-ascending per user; ties keep input order.
 */
export function buildSequences(numUsers: number, user: Int32Array, item: Int32Array, ts: Float64Array, keep: ArrayLike<number>, itemDomain: Int8Array): Record<Domain, SequencesPart> {
  const out = {} as Record<Domain, SequencesPart>;
  for (const d of DOMAINS) {
    const code = DOMAIN_CODE[d];
    const idx: number[] = [];
    for (let k = 0; k < keep.length; k++) if (itemDomain[item[keep[k]]] === code) idx.push(keep[k]);
    // Counting sort by user (stable), then sort each user's slice by time if it is not already.
    const count = new Int32Array(numUsers + 1);
    for (const i of idx) count[user[i] + 1]++;
    for (let u = 0; u < numUsers; u++) count[u + 1] += count[u];
    const pos = count.slice(0, numUsers);
    const sorted = new Int32Array(idx.length);
    for (const i of idx) sorted[pos[user[i]]++] = i;
    const userIds: number[] = [];
    const offsets: number[] = [0];
    for (let u = 0; u < numUsers; u++) {
      const a = count[u];
      const b = count[u + 1];
      if (a === b) continue;
      let ordered = true;
      for (let j = a + 1; j < b; j++) if (ts[sorted[j]] < ts[sorted[j - 1]]) ordered = false;
      if (!ordered) sorted.subarray(a, b).sort((x, y) => ts[x] - ts[y] || x - y);
      userIds.push(u);
      offsets.push(b);
    }
    const items = new Int32Array(sorted.length);
    const times = new Float64Array(sorted.length);
    for (let j = 0; j < sorted.length; j++) {
      items[j] = item[sorted[j]];
      times[j] = ts[sorted[j]];
    }
    out[d] = { userId: Int32Array.from(userIds), offsets: Int32Array.from(offsets), items, ts: times };
  }
  return out;
}

/** How many of n time-ordered events go to [train, valid, test]; train keeps at least one event. */
export function splitSizes(n: number, validShare: number, testShare: number): [number, number, number] {
  let test = Math.round(n * testShare);
  let valid = Math.round(n * validShare);
  while (n - test - valid < 1 && (test > 0 || valid > 0)) {
    if (valid > 0) valid--;
    else test--;
  }
  return [n - valid - test, valid, test];
}

/**
 * Per-user time split of the events `idx`: each user's events in time order, the last testShare → test, the
 * validShare before them → valid, the rest → train. Returns split codes aligned with idx.
 */
export function splitByUserTime(user: ArrayLike<number>, ts: ArrayLike<number>, validShare: number, testShare: number): Int8Array {
  const order = orderByUserTime(user, ts);
  const split = new Int8Array(order.length);
  let a = 0;
  while (a < order.length) {
    let b = a;
    while (b < order.length && user[order[b]] === user[order[a]]) b++;
    const [train, valid] = splitSizes(b - a, validShare, testShare);
    for (let k = a; k < b; k++) split[order[k]] = k - a < train ? SPLIT_CODE.train : k - a < train + valid ? SPLIT_CODE.valid : SPLIT_CODE.test;
    a = b;
  }
  return split;
}

function gather<T extends Int32Array | Int8Array | Float64Array>(arr: T, idx: ArrayLike<number>): T {
  const out = new (arr.constructor as new (n: number) => T)(idx.length);
  for (let k = 0; k < idx.length; k++) out[k] = arr[idx[k]];
  return out;
}

/**
 * Dataset parts from an event log. Per domain: labelled events are split per user by time; a user's training
 * period in a domain ends at their first valid/test event there, and only behaviour events before it count
 * towards item popularity (the counts in items.arrow and the negative sampler's weights).
 */
export function datasetFromEvents(catalogue: ItemCatalogue, log: EventLog, cfg: EventSplitConfig, rng: Rng): DatasetParts {
  const numItems = catalogue.domain.length;
  const n = log.user.length;
  const seqIdx: number[] = [];
  for (let i = 0; i < n; i++) if (log.inSequence[i]) seqIdx.push(i);
  const sequences = buildSequences(log.numUsers, log.user, log.item, log.ts, seqIdx, catalogue.domain);

  const counts = { source: new Int32Array(numItems), target: new Int32Array(numItems) };
  const labelled = {} as Record<Domain, LabelledSamples>;
  for (const d of DOMAINS) {
    const code = DOMAIN_CODE[d];
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (log.label[i] >= 0 && catalogue.domain[log.item[i]] === code) idx.push(i);
    const userId = gather(log.user, idx);
    const ts = gather(log.ts, idx);
    const split = splitByUserTime(userId, ts, cfg.validShare, cfg.testShare);
    labelled[d] = { userId, itemId: gather(log.item, idx), ts, label: gather(log.label, idx), split };
    const cut = new Float64Array(log.numUsers).fill(Infinity);
    for (let k = 0; k < idx.length; k++) if (split[k] !== SPLIT_CODE.train) cut[userId[k]] = Math.min(cut[userId[k]], ts[k]);
    for (let i = 0; i < n; i++) {
      if (log.inSequence[i] && catalogue.domain[log.item[i]] === code && log.ts[i] < cut[log.user[i]]) counts[d][log.item[i]]++;
    }
  }

  const own = userItemIndex(log.numUsers, [{ user: log.user, item: log.item }]);
  const samples = {} as Record<Domain, SamplesPart>;
  for (const d of DOMAINS) {
    const code = DOMAIN_CODE[d];
    const candidates: number[] = [];
    for (let i = 0; i < numItems; i++) if (catalogue.domain[i] === code) candidates.push(i);
    const sampler = new PopularitySampler(Int32Array.from(candidates), counts[d]);
    samples[d] = addSampledNegatives(labelled[d], cfg.negatives, sampler, own, numItems, rng.fork(`negatives:${d}`));
  }
  return {
    items: { ...catalogue, sourceCount: counts.source, targetCount: counts.target },
    sequences,
    samples,
  };
}
