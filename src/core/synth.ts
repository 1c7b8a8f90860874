/**
 * `gist synth`: a synthetic cross-domain dataset with planted truth.
 *
 * Items belong to topics (visible in their text tokens, category and content vector) and to sub-topics that
 * behaviour shows (which items users consume together) and content only weakly (`subtopicVisibility`): the
 * paper's premise that behaviour alignment teaches which content features matter. Popularity follows a power law; a share
 * of target items is never shown during training (cold start). Each user likes 1–3 topics and one or two
 * sub-topics inside each, in BOTH domains, so a long source sequence reveals sub-topic tastes that the sparse
 * target history cannot. The true click probability of user u on item i is
 *   p_true = σ(bias + w_topic·[topic(i) liked by u] + w_sub·[sub-topic(i) preferred by u]
 *              + w_pop·(log pop_i − mean) + quality_i + bias_u)
 * and target labels are Bernoulli(p_true), so the oracle AUC is known. Behaviour (sequences) is drawn with
 * P(i) ∝ pop_i·e^{quality_i}·e^{sharpness·(w_topic·[liked] + w_sub·[preferred])}.
 *
 * Users are generated one at a time from their own seeded stream, and source sequences are streamed to disk in
 * chunks, so the paper's shape (10^4 users × 10^4 source events) stays far below 4 GiB.
 */
import * as path from 'node:path';
import { requireRange, resolveConfig } from './config.js';
import { DATASET_FILES, DOMAIN_CODE, SPLIT_CODE } from './dataset.js';
import { datasetFileNames, datasetMeta, GrowableFloat64, GrowableInt32, SequenceFileWriter, writeDataset, writeTable, type DatasetInfo, type DatasetSummary, type ItemsPart, type SequencesPart } from './dataset-writer.js';
import { UsageError } from './errors.js';
import { auc } from './metrics.js';
import { noProgress, OutputStage, type OnProgress } from './output.js';
import { splitSizes } from './prepare/events.js';
import { PopularitySampler } from './prepare/negatives.js';
import { nativeThreads } from './retrieval/native.js';
import { WorkerPool, workerUrl } from './retrieval/worker-pool.js';
import { makeRng, type Rng } from './rng.js';
import { PLANTED } from './schemas.js';
import { camelKeys } from './keys.js';

export interface SynthConfig {
  /** Users; every user is active in both domains. */
  users: number;
  /** Items of the source domain. */
  sourceItems: number;
  /** Items of the target domain. */
  targetItems: number;
  /** Topics (visible in text, category and content). */
  topics: number;
  /** Sub-topics per topic (shared by both domains; seen in behaviour, and in content as `subtopicVisibility` says). */
  subtopics: number;
  /**
   * How visible an item's sub-topic is in its content, in [0, 1]: each text word is a word of the sub-topic's own
   * vocabulary with this probability, and the content vector adds this multiple of a sub-topic offset. 0 = sub-topics
   * appear only in behaviour (no encoder can find them from content); at the default, content similarity is mostly
   * topic-level and behaviour alignment has a weak content signal to amplify (the paper's premise).
   */
  subtopicVisibility: number;
  /** Longest source sequence (lengths are log-uniform in [sourceLenMin, sourceLen]). */
  sourceLen: number;
  /** Shortest source sequence. */
  sourceLenMin: number;
  /** Target impressions (labelled samples) over all users, approximately. */
  targetSamples: number;
  /** Most target clicks one user accumulates (the target history); the user's impressions stop there. */
  targetHistory: number;
  /** Share of target items never shown in the training period (cold start). */
  coldShare: number;
  /** Power-law exponent of item popularity (pop ∝ rank^−exponent). */
  popularityExponent: number;
  /** Size of the dense content vector (noisy topic centroid); 0 = no content column. */
  contentDim: number;
  /** Source positives per user, picked from the user's source sequence, for the source ranking model. */
  sourceSamplesPerUser: number;
  /**
   * Negatives (impressions not consumed) per source positive, drawn like real feed impressions: from the user's
   * interests as the feed knows them (`feedSubtopicKnowledge`) with probability `sourceInterestExposure`, else by
   * popularity. The history is not excluded, so "the candidate is already in the history" is no label leak, and
   * telling a click from an impression of the same topic takes the sub-topic: what the source model must learn.
   */
  sourceNegatives: number;
  /** Share of each user's target impressions (the latest) that are test, and the share before them that are valid. */
  testShare: number;
  validShare: number;
  /** Share of target impressions drawn from the user's interests (the rest by global popularity). */
  interestExposure: number;
  /** Share of source negatives (feed impressions) drawn from the user's interests (the rest by global popularity). */
  sourceInterestExposure: number;
  /**
   * How much of the user's sub-topic tastes the source feed's impressions follow, in [0, 1] (1 = as sharply as
   * behaviour, 0 = topics only). Below 1, telling a click from an impression of the same topic takes the sub-topic.
   */
  feedSubtopicKnowledge: number;
  /** Probability that a source event which repeats an item the user already consumed is redrawn (up to 3 times). */
  sourceRepeatAvoidance: number;
  /** Logit weights of the true click model. */
  bias: number;
  topicWeight: number;
  subtopicWeight: number;
  popularityWeight: number;
  /** Standard deviation of the per-item quality and per-user bias terms. */
  itemNoise: number;
  userNoise: number;
  /** How much more strongly behaviour than clicks follows interest (multiplies the interest logit in sequences). */
  behaviourSharpness: number;
  /** Days each user is active. */
  spanDays: number;
}

const BASE: SynthConfig = {
  users: 2000,
  sourceItems: 2500,
  targetItems: 1500,
  topics: 12,
  subtopics: 4,
  subtopicVisibility: 0.35,
  sourceLen: 1000,
  sourceLenMin: 50,
  targetSamples: 100_000,
  targetHistory: 200,
  coldShare: 0.05,
  popularityExponent: 0.9,
  contentDim: 16,
  sourceSamplesPerUser: 60,
  sourceNegatives: 2,
  testShare: 0.1,
  validShare: 0.1,
  interestExposure: 0.5,
  sourceInterestExposure: 0.8,
  feedSubtopicKnowledge: 0,
  sourceRepeatAvoidance: 0.8,
  bias: -3.2,
  topicWeight: 1.0,
  subtopicWeight: 1.8,
  popularityWeight: 0.3,
  itemNoise: 0.4,
  userNoise: 0.3,
  behaviourSharpness: 1.5,
  spanDays: 180,
};

/** Presets: tiny (test fixture, seconds), small (demo default), paper (the paper's shape). */
export const SYNTH_PRESETS = {
  tiny: { ...BASE, users: 60, sourceItems: 200, targetItems: 100, topics: 5, subtopics: 3, sourceLen: 200, sourceLenMin: 20, targetSamples: 1800, coldShare: 0.1, sourceSamplesPerUser: 10 },
  small: BASE,
  paper: { ...BASE, users: 10_000, sourceItems: 40_000, targetItems: 10_000, topics: 30, subtopics: 6, sourceLen: 10_000, sourceLenMin: 5000, targetSamples: 1_000_000, contentDim: 32 },
} satisfies Record<string, SynthConfig>;
export type SynthPreset = keyof typeof SYNTH_PRESETS;
export const SYNTH_PRESET_NAMES = Object.keys(SYNTH_PRESETS) as SynthPreset[];

export interface SynthOptions {
  preset: string;
  out: string;
  seed: number;
  /** Fields that override the preset (flags, or a --config JSON file). */
  overrides?: Partial<SynthConfig> | Record<string, unknown>;
  /** Synth workers for large worlds (default: the native kernels' share of the cores); the data does not depend on it. */
  threads?: number;
}

export interface SynthResult {
  out: string;
  preset: SynthPreset;
  seed: number;
  files: string[];
  counts: DatasetSummary;
  /** AUC of p_true on the target and source splits (the best any model can do), and of p_true without its sub-topic term. */
  truth: {
    oracle_auc: { target: { valid: number; test: number }; source: { valid: number; test: number } };
    target_test_auc_without_subtopic: number;
    /** AUC of "the candidate already occurs earlier in the user's source sequence" alone on the source samples (a leak check: near 0.5 means no shortcut). */
    source_in_history_auc: number;
    cold_target_items: number;
  };
}

export function resolveSynthConfig(preset: string, overrides: Partial<SynthConfig> | Record<string, unknown> = {}): SynthConfig {
  if (!(SYNTH_PRESET_NAMES as string[]).includes(preset)) throw new UsageError(`unknown --preset "${preset}" (known: ${SYNTH_PRESET_NAMES.join(', ')})`);
  const base = SYNTH_PRESETS[preset as SynthPreset];
  const merged = camelKeys<Record<string, unknown>>(overrides); // config files may spell keys snake_case
  // A --source-len below the preset's minimum length lowers the minimum too.
  if (typeof merged.sourceLen === 'number' && merged.sourceLenMin === undefined) merged.sourceLenMin = Math.min(base.sourceLenMin, merged.sourceLen);
  const c = resolveConfig(base, merged, `synth --preset ${preset}`);
  const int = (name: string, v: number, lo: number, hi: number): void => {
    requireRange(name, v, lo, hi);
    if (!Number.isInteger(v)) throw new UsageError(`${name} must be an integer, got ${v}`);
  };
  int('users', c.users, 1, 10_000_000);
  int('sourceItems', c.sourceItems, 1, 50_000_000);
  int('targetItems', c.targetItems, 2, 50_000_000);
  int('topics', c.topics, 1, 10_000);
  int('subtopics', c.subtopics, 1, 1000);
  int('sourceLen', c.sourceLen, 1, 1_000_000);
  int('sourceLenMin', c.sourceLenMin, 1, c.sourceLen);
  int('targetSamples', c.targetSamples, 1, 1_000_000_000);
  int('targetHistory', c.targetHistory, 1, 1_000_000);
  int('contentDim', c.contentDim, 0, 4096);
  int('sourceSamplesPerUser', c.sourceSamplesPerUser, 0, 1_000_000);
  int('sourceNegatives', c.sourceNegatives, 0, 1000);
  requireRange('coldShare', c.coldShare, 0, 1, false, true);
  requireRange('testShare', c.testShare, 0, 1, false, true);
  requireRange('validShare', c.validShare, 0, 1, false, true);
  if (c.testShare + c.validShare >= 1) throw new UsageError('testShare + validShare must be below 1');
  requireRange('interestExposure', c.interestExposure, 0, 1);
  requireRange('sourceInterestExposure', c.sourceInterestExposure, 0, 1);
  requireRange('feedSubtopicKnowledge', c.feedSubtopicKnowledge, 0, 1);
  requireRange('sourceRepeatAvoidance', c.sourceRepeatAvoidance, 0, 1);
  requireRange('subtopicVisibility', c.subtopicVisibility, 0, 1);
  requireRange('popularityExponent', c.popularityExponent, 0, 10);
  requireRange('behaviourSharpness', c.behaviourSharpness, 0, 20);
  requireRange('spanDays', c.spanDays, 1, 36500);
  for (const k of ['bias', 'topicWeight', 'subtopicWeight', 'popularityWeight', 'itemNoise', 'userNoise'] as const) requireRange(k, c[k], -100, 100);
  return c;
}

/** 2020-09-13T12:26:40Z: synthetic activity starts here. */
const T0 = 1_600_000_000;
const DAY = 86_400;
const WORDS_PER_TOPIC = 20;
/** Vocabulary of each global sub-topic (its words are shared by both domains). */
const WORDS_PER_SUBTOPIC = 6;
/** Source events buffered before a chunk is streamed to disk. */
const CHUNK_EVENTS = 1 << 21;

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** Items of one domain grouped by global sub-topic, with cumulative behaviour weights per group. */
interface DomainIndex {
  items: Int32Array;
  /** Group g holds items[offsets[g]..offsets[g+1]); cum restarts at 0 in every group. */
  offsets: Int32Array;
  cum: Float64Array;
  mass: Float64Array;
  /** By-popularity sampler over the whole domain (impressions, negatives). */
  popular: PopularitySampler;
}

interface World {
  cfg: SynthConfig;
  numItems: number;
  domain: Int8Array;
  topic: Int32Array;
  sub: Int32Array; // global sub-topic id topic·subtopics + s
  /** Static part of the click logit: w_pop·(log pop − mean) + quality. */
  itemLogit: Float64Array;
  cold: Uint8Array;
  index: Record<'source' | 'target', DomainIndex>;
  title: string[];
  text: string[];
  category: Int32Array;
  content: Float32Array | null;
}

function buildWorld(cfg: SynthConfig, rng: Rng): World {
  const n = cfg.sourceItems + cfg.targetItems;
  const G = cfg.topics * cfg.subtopics;
  const domain = new Int8Array(n);
  const topic = new Int32Array(n);
  const sub = new Int32Array(n);
  const pop = new Float64Array(n);
  const quality = new Float64Array(n);
  const itemLogit = new Float64Array(n);
  const cold = new Uint8Array(n);
  const title: string[] = new Array(n);
  const text: string[] = new Array(n);
  const r = rng.fork('items');
  // Sub-topic features draw from their own stream, so visibility 0 leaves every other draw as it was.
  const rs = rng.fork('subtopic-features');
  const v = cfg.subtopicVisibility;
  const word = (t: number, g: number): string => {
    const tt = r.next() < 0.75 ? t : r.int(cfg.topics);
    const plain = `word${tt * WORDS_PER_TOPIC + r.int(WORDS_PER_TOPIC)}`;
    return v > 0 && rs.next() < v ? `term${g * WORDS_PER_SUBTOPIC + rs.int(WORDS_PER_SUBTOPIC)}` : plain;
  };
  const ranges = [
    { code: DOMAIN_CODE.source, first: 0, count: cfg.sourceItems },
    { code: DOMAIN_CODE.target, first: cfg.sourceItems, count: cfg.targetItems },
  ];
  for (const { code, first, count } of ranges) {
    const rank = new Int32Array(count);
    for (let k = 0; k < count; k++) rank[k] = k;
    r.shuffle(rank);
    let meanLog = 0;
    for (let k = 0; k < count; k++) {
      const i = first + k;
      domain[i] = code;
      topic[i] = r.int(cfg.topics);
      sub[i] = topic[i] * cfg.subtopics + r.int(cfg.subtopics);
      pop[i] = Math.pow(rank[k] + 1, -cfg.popularityExponent);
      quality[i] = cfg.itemNoise * r.normal();
      meanLog += Math.log(pop[i]) / count;
      const t = topic[i];
      const g = sub[i];
      title[i] = `${code === DOMAIN_CODE.target ? 'target' : 'source'} item ${k}: topic${t} ${word(t, g)} ${word(t, g)}`;
      text[i] = `${word(t, g)} ${word(t, g)} ${word(t, g)} ${word(t, g)}`;
    }
    for (let k = 0; k < count; k++) itemLogit[first + k] = cfg.popularityWeight * (Math.log(pop[first + k]) - meanLog) + quality[first + k];
  }
  // Cold-start target items: a seeded share, never shown before the user's validation period.
  const targetIds = new Int32Array(cfg.targetItems);
  for (let k = 0; k < cfg.targetItems; k++) targetIds[k] = cfg.sourceItems + k;
  r.shuffle(targetIds);
  const numCold = Math.min(cfg.targetItems - 1, Math.round(cfg.targetItems * cfg.coldShare));
  for (let k = 0; k < numCold; k++) cold[targetIds[k]] = 1;

  let content: Float32Array | null = null;
  if (cfg.contentDim > 0) {
    const d = cfg.contentDim;
    const centroid = new Float64Array(cfg.topics * d);
    for (let k = 0; k < centroid.length; k++) centroid[k] = r.normal();
    content = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) content[i * d + k] = centroid[topic[i] * d + k] + 0.8 * r.normal();
    if (v > 0) {
      // A sub-topic offset of norm ≈ v·√d beside the topic centroid's ≈ √d and the item noise's ≈ 0.8·√d.
      const offset = new Float64Array(G * d);
      for (let k = 0; k < offset.length; k++) offset[k] = rs.normal();
      for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) content[i * d + k] += v * offset[sub[i] * d + k];
    }
  }

  const index = {} as World['index'];
  for (const { code, first, count } of ranges) {
    const offsets = new Int32Array(G + 1);
    for (let k = 0; k < count; k++) offsets[sub[first + k] + 1]++;
    for (let g = 0; g < G; g++) offsets[g + 1] += offsets[g];
    const fill = offsets.slice(0, G);
    const items = new Int32Array(count);
    for (let k = 0; k < count; k++) items[fill[sub[first + k]]++] = first + k;
    const cum = new Float64Array(count);
    const mass = new Float64Array(G);
    for (let g = 0; g < G; g++) {
      let acc = 0;
      for (let j = offsets[g]; j < offsets[g + 1]; j++) {
        acc += pop[items[j]] * Math.exp(quality[items[j]]);
        cum[j] = acc;
      }
      mass[g] = acc;
    }
    const ids = new Int32Array(count);
    for (let k = 0; k < count; k++) ids[k] = first + k;
    index[code === DOMAIN_CODE.source ? 'source' : 'target'] = { items, offsets, cum, mass, popular: new PopularitySampler(ids, pop) };
  }
  return { cfg, numItems: n, domain, topic, sub, itemLogit, cold, index, title, text, category: topic, content };
}

/** One user's tastes: the same in both domains. */
interface User {
  liked: Uint8Array; // by topic
  preferred: Uint8Array; // by global sub-topic
  bias: number;
}

function makeUser(cfg: SynthConfig, r: Rng): User {
  const liked = new Uint8Array(cfg.topics);
  const preferred = new Uint8Array(cfg.topics * cfg.subtopics);
  const k = Math.min(cfg.topics, 1 + r.int(3));
  for (let n = 0; n < k; ) {
    const t = r.int(cfg.topics);
    if (liked[t]) continue;
    liked[t] = 1;
    n++;
    const s = r.int(cfg.subtopics);
    preferred[t * cfg.subtopics + s] = 1;
    if (cfg.subtopics > 1 && r.next() < 0.3) preferred[t * cfg.subtopics + ((s + 1 + r.int(cfg.subtopics - 1)) % cfg.subtopics)] = 1;
  }
  return { liked, preferred, bias: cfg.userNoise * r.normal() };
}

function interest(w: World, u: User, item: number): number {
  return w.cfg.topicWeight * u.liked[w.topic[item]] + w.cfg.subtopicWeight * u.preferred[w.sub[item]];
}

function pTrue(w: World, u: User, item: number): number {
  return sigmoid(w.cfg.bias + interest(w, u, item) + w.itemLogit[item] + u.bias);
}

/**
 * Cumulative weights over sub-topics for one user in one domain: behaviour (topic and sub-topic tastes), or the
 * feed's exposure, which knows the user's topics and, by `subtopicKnowledge` ∈ [0, 1], part of the sub-topic tastes.
 */
function subtopicCum(w: World, u: User, idx: DomainIndex, subtopicKnowledge = 1): Float64Array {
  const G = idx.mass.length;
  const cum = new Float64Array(G);
  let acc = 0;
  for (let g = 0; g < G; g++) {
    const t = Math.floor(g / w.cfg.subtopics);
    acc += idx.mass[g] * Math.exp(w.cfg.behaviourSharpness * (w.cfg.topicWeight * u.liked[t] + subtopicKnowledge * w.cfg.subtopicWeight * u.preferred[g]));
    cum[g] = acc;
  }
  return cum;
}

function search(cum: Float64Array, lo: number, hi: number, x: number): number {
  // First index in [lo, hi) with cum > x.
  hi -= 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** One behaviour event: a sub-topic by the user's tastes, then an item of it by popularity. */
function drawBehaviour(idx: DomainIndex, userCum: Float64Array, r: Rng): number {
  // Empty sub-topics have zero mass, so the search never lands on them.
  const g = search(userCum, 0, userCum.length, r.next() * userCum[userCum.length - 1]);
  const a = idx.offsets[g];
  const b = idx.offsets[g + 1];
  return idx.items[search(idx.cum, a, b, r.next() * idx.cum[b - 1])];
}

/** n sorted integer times in [start, start + span), from exponential spacings. */
function sortedTimes(n: number, start: number, span: number, r: Rng): Float64Array {
  const out = new Float64Array(n);
  let acc = 0;
  for (let k = 0; k < n; k++) {
    acc += -Math.log(1 - r.next());
    out[k] = acc;
  }
  const total = acc - Math.log(1 - r.next());
  for (let k = 0; k < n; k++) out[k] = start + Math.floor((span * out[k]) / total);
  return out;
}

/** The world and the users' impression budgets: all a range of users is generated from (a synth worker rebuilds it from cfg and seed). */
export interface UserGenerator {
  cfg: SynthConfig;
  seed: number;
  w: World;
  weight: Float64Array;
  weightSum: number;
}

export function userGenerator(cfg: SynthConfig, seed: number): UserGenerator {
  const rng = makeRng(seed);
  const w = buildWorld(cfg, rng);
  // Per-user impression budgets: log-uniform weights over a 20× range, scaled to the requested total.
  const budgetRng = rng.fork('budgets');
  const weight = new Float64Array(cfg.users);
  let weightSum = 0;
  for (let u = 0; u < cfg.users; u++) weightSum += weight[u] = Math.exp(budgetRng.next() * Math.log(20));
  return { cfg, seed, w, weight, weightSum };
}

/** Sequences of a range of users in CSR form (offsets from 0). */
interface BlockSequences {
  user: Int32Array;
  offsets: Int32Array;
  items: Int32Array;
  ts: Float64Array;
}

/** Samples of a range of users, in generation order. */
interface BlockSamples {
  user: Int32Array;
  item: Int32Array;
  ts: Float64Array;
  label: Int8Array;
  split: Int8Array;
  p: Float64Array;
  /** Target: p_true without its sub-topic term. Source: whether the candidate occurs earlier in the user's sequence. */
  extra: Float64Array;
}

/** Everything users [from, to) add to the dataset, in user order. Each user draws only from its own seeded stream. */
export interface UserBlock {
  from: number;
  to: number;
  target: BlockSamples;
  targetSeq: BlockSequences;
  source: BlockSamples;
  sourceSeq: BlockSequences;
  /** Train-period events per item (before each user's validation time). */
  sourceCount: Int32Array;
  targetCount: Int32Array;
}

/** The buffers of a block, to transfer from a worker. */
export function blockBuffers(b: UserBlock): ArrayBuffer[] {
  const arrays = [b.target, b.source].flatMap((x) => [x.user, x.item, x.ts, x.label, x.split, x.p, x.extra]);
  arrays.push(...[b.targetSeq, b.sourceSeq].flatMap((x) => [x.user, x.offsets, x.items, x.ts]), b.sourceCount, b.targetCount);
  return arrays.map((a) => a.buffer as ArrayBuffer);
}

class SampleRows {
  user = new GrowableInt32();
  item = new GrowableInt32();
  ts = new GrowableFloat64();
  label: number[] = [];
  split: number[] = [];
  p = new GrowableFloat64();
  extra = new GrowableFloat64();
  done(): BlockSamples {
    return { user: this.user.toArray(), item: this.item.toArray(), ts: this.ts.toArray(), label: Int8Array.from(this.label), split: Int8Array.from(this.split), p: this.p.toArray(), extra: this.extra.toArray() };
  }
}

class SequenceRows {
  user: number[] = [];
  offsets: number[] = [0];
  items = new GrowableInt32();
  ts = new GrowableFloat64();
  done(): BlockSequences {
    return { user: Int32Array.from(this.user), offsets: Int32Array.from(this.offsets), items: this.items.toArray(), ts: this.ts.toArray() };
  }
}

/** Users [from, to): target impressions and clicks, the long source sequence, source samples. */
export function generateUsers(g: UserGenerator, from: number, to: number): UserBlock {
  const { cfg, w } = g;
  const rng = makeRng(g.seed);
  const n = w.numItems;
  const tgt = new SampleRows();
  const src = new SampleRows();
  const tSeq = new SequenceRows();
  const sSeq = new SequenceRows();
  const sourceCount = new Int32Array(n);
  const targetCount = new Int32Array(n);
  // Time of each item's first event in the current user's source sequence (the leak check of `truth`).
  const firstSeen = new Float64Array(n).fill(Infinity);
  const drawn: number[] = [];
  for (let u = from; u < to; u++) {
    const r = rng.fork(`user:${u}`);
    const user = makeUser(cfg, r);
    const start = T0 + Math.floor(r.next() * 30 * DAY);
    const span = cfg.spanDays * DAY;

    // Target impressions in time order; the latest shares are valid/test.
    const planned = Math.max(5, Math.round((cfg.targetSamples * g.weight[u]) / g.weightSum));
    const times = sortedTimes(planned, start, span, r);
    const [nTrain, nValid] = splitSizes(planned, cfg.validShare, cfg.testShare);
    const tValid = nTrain < planned ? times[nTrain] : Infinity;
    const tgtCum = subtopicCum(w, user, w.index.target);
    let clicks = 0;
    for (let k = 0; k < planned && clicks < cfg.targetHistory; k++) {
      const split = k < nTrain ? SPLIT_CODE.train : k < nTrain + nValid ? SPLIT_CODE.valid : SPLIT_CODE.test;
      let item = -1;
      for (let tries = 0; tries < 100 && (item < 0 || (split === SPLIT_CODE.train && w.cold[item])); tries++) {
        item = r.next() < cfg.interestExposure ? drawBehaviour(w.index.target, tgtCum, r) : w.index.target.popular.drawOne(r);
      }
      const p = pTrue(w, user, item);
      const label = r.next() < p ? 1 : 0;
      tgt.user.push(u);
      tgt.item.push(item);
      tgt.ts.push(times[k]);
      tgt.label.push(label);
      tgt.split.push(split);
      tgt.p.push(p);
      tgt.extra.push(sigmoid(cfg.bias + cfg.topicWeight * user.liked[w.topic[item]] + w.itemLogit[item] + user.bias));
      if (label === 1) {
        clicks++;
        tSeq.items.push(item);
        tSeq.ts.push(times[k]);
        if (times[k] < tValid) targetCount[item]++;
      }
    }
    if (clicks > 0) {
      tSeq.user.push(u);
      tSeq.offsets.push(tSeq.items.length);
    }

    // Source sequence (long).
    const len = Math.round(Math.exp(Math.log(cfg.sourceLenMin) + r.next() * (Math.log(cfg.sourceLen) - Math.log(cfg.sourceLenMin))));
    const srcTimes = sortedTimes(len, start, span, r);
    const srcCum = subtopicCum(w, user, w.index.source);
    const feedCum = subtopicCum(w, user, w.index.source, cfg.feedSubtopicKnowledge);
    const seqStart = sSeq.items.length;
    for (let k = 0; k < len; k++) {
      let item = drawBehaviour(w.index.source, srcCum, r);
      // The feed rarely shows an item twice: a consumed item is redrawn (up to 3 times) with this probability.
      for (let again = 0; again < 3 && firstSeen[item] !== Infinity && cfg.sourceRepeatAvoidance > 0 && r.next() < cfg.sourceRepeatAvoidance; again++) item = drawBehaviour(w.index.source, srcCum, r);
      sSeq.items.push(item);
      sSeq.ts.push(srcTimes[k]);
      if (firstSeen[item] === Infinity) firstSeen[item] = srcTimes[k];
      if (srcTimes[k] < tValid) sourceCount[item]++;
    }
    sSeq.user.push(u);
    sSeq.offsets.push(sSeq.items.length);

    // Source samples: positives picked from the sequence, each with impression-like negatives.
    const m = Math.min(cfg.sourceSamplesPerUser, len);
    const picked = new Set<number>();
    while (picked.size < m) picked.add(r.int(len)); // m ≤ len, usually m ≪ len
    const positions = Int32Array.from(picked).sort();
    const tTest = nTrain + nValid < planned ? times[nTrain + nValid] : Infinity;
    for (const k of positions) {
      const t = srcTimes[k];
      const split = t < tValid ? SPLIT_CODE.train : t < tTest ? SPLIT_CODE.valid : SPLIT_CODE.test;
      const pos = sSeq.items.data[seqStart + k];
      drawn.length = 0;
      drawn.push(pos);
      // Impressions like the feed's: interest-driven or popular, whatever the user consumed before.
      for (let tries = 0; drawn.length <= cfg.sourceNegatives && tries < 50 * cfg.sourceNegatives + 100; tries++) {
        const item = r.next() < cfg.sourceInterestExposure ? drawBehaviour(w.index.source, feedCum, r) : w.index.source.popular.drawOne(r);
        if (!drawn.includes(item)) drawn.push(item);
      }
      drawn.forEach((item, j) => {
        src.user.push(u);
        src.item.push(item);
        src.ts.push(t);
        src.label.push(j === 0 ? 1 : 0);
        src.split.push(split);
        src.p.push(pTrue(w, user, item));
        src.extra.push(firstSeen[item] < t ? 1 : 0);
      });
    }
    for (let j = seqStart; j < sSeq.items.length; j++) firstSeen[sSeq.items.data[j]] = Infinity;
  }
  return { from, to, target: tgt.done(), targetSeq: tSeq.done(), source: src.done(), sourceSeq: sSeq.done(), sourceCount, targetCount };
}


/** Users per generated block: blocks are generated in parallel by synth workers, appended in user order. */
const BLOCK_USERS = 64;
/** Expected source events below which users are generated in this thread unless threads are asked for (workers would not pay). */
const WORKER_MIN_EVENTS = 4_000_000;

/**
 * Blocks of users in user order to `take`, generated here or by synth workers with at most two blocks each in
 * flight — `threads` of them when given, else the native kernels' share of the cores for large worlds — the blocks,
 * and so the dataset, the same either way.
 */
async function forEachUserBlock(g: UserGenerator, asked: number | undefined, take: (b: UserBlock) => void): Promise<void> {
  const { users } = g.cfg;
  const starts = Array.from({ length: Math.ceil(users / BLOCK_USERS) }, (_, i) => i * BLOCK_USERS);
  // The log-uniform source length's median: users × it estimates the events.
  const large = users * Math.sqrt(g.cfg.sourceLen * g.cfg.sourceLenMin) >= WORKER_MIN_EVENTS;
  const threads = asked ?? (large ? nativeThreads() : 1);
  if (threads <= 1 || starts.length < 2) {
    for (const from of starts) take(generateUsers(g, from, Math.min(users, from + BLOCK_USERS)));
    return;
  }
  const pool = new WorkerPool<{ from: number; to: number }, UserBlock>(workerUrl('../synth-worker'), Array.from({ length: Math.min(threads, starts.length) }, () => ({ cfg: g.cfg, seed: g.seed })));
  try {
    const inFlight: Promise<UserBlock>[] = [];
    let next = 0;
    const submit = (): void => {
      const from = starts[next++];
      inFlight.push(pool.run({ from, to: Math.min(users, from + BLOCK_USERS) }));
    };
    while (next < starts.length && inFlight.length < 2 * pool.size) submit();
    while (inFlight.length) {
      take(await (inFlight.shift() as Promise<UserBlock>));
      if (next < starts.length) submit();
    }
  } finally {
    await pool.close();
  }
}

export async function synthesize(opts: SynthOptions, onProgress: OnProgress = noProgress): Promise<SynthResult> {
  const cfg = resolveSynthConfig(opts.preset, opts.overrides ?? {});
  const preset = opts.preset as SynthPreset;
  const g = userGenerator(cfg, opts.seed);
  const w = g.w;
  const n = w.numItems;
  const items: ItemsPart = {
    domain: w.domain,
    title: w.title,
    text: w.text,
    category: { codes: w.category, values: Array.from({ length: cfg.topics }, (_, t) => `topic${t}`) },
    content: w.content ? { dim: cfg.contentDim, values: w.content } : null,
    sourceCount: new Int32Array(n),
    targetCount: new Int32Array(n),
  };
  const info: DatasetInfo = {
    name: `synthetic-${preset}`,
    format: 'synthetic',
    command: 'synth',
    seed: opts.seed,
    config: { preset, ...cfg },
    notes: [
      `Synthetic data (preset ${preset}, seed ${opts.seed}): ${cfg.topics} topics × ${cfg.subtopics} sub-topics; sub-topic visibility in content ${cfg.subtopicVisibility} (0 = behaviour only).`,
      'p_true is the true click probability; target labels are Bernoulli(p_true). category = topic.',
      `Per user, the last ${cfg.testShare * 100}% of target impressions are test and the ${cfg.validShare * 100}% before are valid; source samples take the split of their time.`,
      `${Math.round(cfg.targetItems * cfg.coldShare)} target items are never shown before a user's validation period (cold start).`,
    ],
  };

  const tSeq = { user: new GrowableInt32(), item: new GrowableInt32(), ts: new GrowableFloat64(), offsets: [0] as number[] };
  const tgt = { user: new GrowableInt32(), item: new GrowableInt32(), ts: new GrowableFloat64(), label: [] as number[], split: [] as number[], p: [] as number[], pNoSub: [] as number[] };
  const src = { user: new GrowableInt32(), item: new GrowableInt32(), ts: new GrowableFloat64(), label: [] as number[], split: [] as number[], p: [] as number[], inHistory: [] as number[] };
  const appendSamples = (to: typeof tgt | typeof src, extra: number[], b: BlockSamples): void => {
    to.user.pushAll(b.user);
    to.item.pushAll(b.item);
    to.ts.pushAll(b.ts);
    for (let i = 0; i < b.label.length; i++) {
      to.label.push(b.label[i]);
      to.split.push(b.split[i]);
      to.p.push(b.p[i]);
      extra.push(b.extra[i]);
    }
  };

  const counts = await OutputStage.run(opts.out, [], async (stage) => {
    const meta = datasetMeta(info);
    const sourceWriter = new SequenceFileWriter(stage.file(DATASET_FILES.sequences('source')), 'source', items, meta);
    try {
      // Source sequences go to the file in chunks of whole users (the same chunks however the blocks were made).
      let chunk = { user: [] as number[], offsets: [0] as number[], items: new GrowableInt32(), ts: new GrowableFloat64() };
      const flush = (): void => {
        const part: SequencesPart = { userId: Int32Array.from(chunk.user), offsets: Int32Array.from(chunk.offsets), items: chunk.items.toArray(), ts: chunk.ts.toArray() };
        sourceWriter.append(part);
        chunk = { user: [], offsets: [0], items: new GrowableInt32(), ts: new GrowableFloat64() };
      };
      await forEachUserBlock(g, opts.threads, (b) => {
        appendSamples(tgt, tgt.pNoSub, b.target);
        appendSamples(src, src.inHistory, b.source);
        const ts = b.targetSeq;
        tSeq.item.pushAll(ts.items);
        tSeq.ts.pushAll(ts.ts);
        for (let i = 0; i < ts.user.length; i++) {
          tSeq.user.push(ts.user[i]);
          tSeq.offsets.push(tSeq.offsets[tSeq.offsets.length - 1] + ts.offsets[i + 1] - ts.offsets[i]);
        }
        for (let i = 0; i < n; i++) {
          items.sourceCount[i] += b.sourceCount[i];
          items.targetCount[i] += b.targetCount[i];
        }
        const ss = b.sourceSeq;
        for (let i = 0; i < ss.user.length; i++) {
          chunk.items.pushAll(ss.items.subarray(ss.offsets[i], ss.offsets[i + 1]));
          chunk.ts.pushAll(ss.ts.subarray(ss.offsets[i], ss.offsets[i + 1]));
          chunk.user.push(ss.user[i]);
          chunk.offsets.push(chunk.items.length);
          if (chunk.items.length >= CHUNK_EVENTS) flush();
        }
        onProgress({ phase: 'synth', done: b.to, total: cfg.users });
      });
      flush();
    } catch (err) {
      sourceWriter.abort();
      throw err;
    }
    const writtenSource = sourceWriter.close();
    const itemIds = Int32Array.from({ length: n }, (_, i) => i);
    writeTable(stage.file(DATASET_FILES.planted), PLANTED, { item_id: itemIds, topic: w.topic, subtopic: w.sub }, datasetMeta(info));
    return writeDataset(
      stage,
      {
        items,
        sequences: {
          source: writtenSource,
          target: { userId: tSeq.user.toArray(), offsets: Int32Array.from(tSeq.offsets), items: tSeq.item.toArray(), ts: tSeq.ts.toArray() },
        },
        samples: {
          target: { userId: tgt.user.toArray(), itemId: tgt.item.toArray(), ts: tgt.ts.toArray(), label: Int8Array.from(tgt.label), split: Int8Array.from(tgt.split), pTrue: Float32Array.from(tgt.p) },
          source: { userId: src.user.toArray(), itemId: src.item.toArray(), ts: src.ts.toArray(), label: Int8Array.from(src.label), split: Int8Array.from(src.split), pTrue: Float32Array.from(src.p) },
        },
      },
      info,
    );
  });

  const splitAuc = (s: { label: number[]; split: number[]; p: number[] }, code: number, scores = s.p): number => {
    const idx: number[] = [];
    for (let i = 0; i < s.label.length; i++) if (s.split[i] === code) idx.push(i);
    return auc(s.label, scores, idx);
  };
  let coldItems = 0;
  for (let i = 0; i < n; i++) coldItems += w.cold[i];
  return {
    out: path.resolve(opts.out),
    preset,
    seed: opts.seed,
    files: [...datasetFileNames(), DATASET_FILES.planted],
    counts,
    truth: {
      oracle_auc: {
        target: { valid: splitAuc(tgt, SPLIT_CODE.valid), test: splitAuc(tgt, SPLIT_CODE.test) },
        source: { valid: splitAuc(src, SPLIT_CODE.valid), test: splitAuc(src, SPLIT_CODE.test) },
      },
      target_test_auc_without_subtopic: splitAuc(tgt, SPLIT_CODE.test, tgt.pNoSub),
      source_in_history_auc: auc(src.label, src.inHistory),
      cold_target_items: coldItems,
    },
  };
}
