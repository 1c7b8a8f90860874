/**
 * ESU guidance pairs (paper §3.1.3, eq. 8): run the source ranking model's target attention over S_A, the R
 * events its GSU retrieves for each source sample (the top-R distinct items of the user's whole history before
 * the sample by the cosine of the model's own item ID embeddings with the target item; the target item itself
 * is left out, a (v, v) pair guides nothing), take k = argmax_j a_j and keep (target item, s_k) when a_k ≥ θ.
 * Because S_A has a fixed size, θ means the same confidence for every sample; samples whose history holds fewer
 * than R distinct items are skipped (a softmax over 2 events passes θ = 0.4 by itself). R = 0 attends over the
 * model's own recent-history window instead (its training input; a_k then mostly measures history length). Duplicates are
 * merged per (pair, split) with the mean a_k and the number of samples. Also reports the distribution of the
 * maximum attention a_k, overall and per time bucket (the paper's Figure 5 checks that its mean is stable).
 */
import * as path from 'node:path';
import type { Columns, OutputMeta } from '../arrow-io.js';
import { datasetIdentity, loadDataset, SequenceStore, SPLIT_CODE, type Dataset, type Samples } from '../dataset.js';
import { initBackend, type BackendName } from '../engine/backend.js';
import { loadCtrModel } from '../ctr/predict.js';
import { InputDataError, UsageError } from '../errors.js';
import { noProgress, outputMeta, OutputStage, type OnProgress } from '../output.js';
import { makeRng } from '../rng.js';
import { ESU_SAMPLES, SPLITS, type Split } from '../schemas.js';
import { blockRows, parseShard, rowsByKey, shardLabel, readShardFiles, type ShardPart, type ShardSpec } from '../shard.js';
import { CtrBatcher } from '../ctr/batcher.js';
import { resolveModelConfig, type CtrModelConfig } from '../ctr/config.js';
import { CtrModel } from '../ctr/model.js';
import { CTR_OUTPUTS } from '../ctr/train.js';
import { l2NormalizeRows } from '../cbjt/layers.js';
import { readVectorsByItem } from '../cbjt/common.js';
import { PAIR_OUTPUTS, quantiles, writePairs, type PairRows } from './common.js';
import { nativeKernels, nativeThreads, type NativeKernels } from '../retrieval/native.js';

/** R, the size of S_A (the paper leaves it open; chosen on the synthetic valid split, see README). */
export const DEFAULT_ESU_CANDIDATES = 10;

/** θ values whose pair counts are always reported (paper Figure 6). */
export const THETA_GRID = [0.2, 0.3, 0.4, 0.5] as const;

export interface EsuOptions {
  dataDir: string;
  /** Output folder of `gist train-ctr --domain source` (its model/ is read). */
  modelDir: string;
  outDir: string;
  theta: number;
  /** Also run negatives (default: clicked samples only, as the ESU pairs should reflect interest). */
  includeNegatives: boolean;
  /** Splits whose samples produce pairs (each row records its split). */
  splits: readonly Split[];
  /** Equal-width time buckets for the max-attention report. */
  buckets: number;
  /** Skip samples with shorter histories (a 1-event history has a_k = 1 whatever the model). */
  minHistory: number;
  /** R: size of the candidate set S_A the attention runs over (0 = the model's recent-history window). */
  candidates: number;
  /** EMBEDDINGS file whose cosine picks S_A instead of the source model's ID embeddings (e.g. content.arrow). */
  candidateEmbeddings?: string;
  batchSize: number;
  seed: number;
  backend: BackendName;
  /** "i/n": only blocks b of batchSize chosen samples with b mod n = i, written for `gist merge` (esu-samples.arrow). */
  shard?: string;
  onProgress?: OnProgress;
}

export interface MaxAttentionStats {
  mean: number;
  quantiles: { p10: number; p25: number; p50: number; p75: number; p90: number };
  buckets: { start: number; end: number; mean: number; n: number }[];
}

export interface EsuResult {
  method: 'esu';
  pairs: number;
  unique_pairs: number;
  theta: number;
  samples_scored: number;
  samples_with_history: number;
  /** R (0 = recent-history window). */
  candidates: number;
  /** What ranked S_A: "source-id" (the source model's ID embeddings) or the --candidate-embeddings file. */
  candidate_scorer: string;
  /** Samples skipped because their history held fewer than R distinct items (or fewer than min-history events). */
  samples_short_history: number;
  /** Pairs (before merging) at each θ of THETA_GRID, by the sample's history length (distinct items before it). */
  by_history_length: { history: string; samples: number; by_theta: Record<string, number> }[];
  pairs_by_split: Record<Split, number>;
  max_attention: MaxAttentionStats;
  by_theta: Record<string, number>;
  outputs: { pairs: string; stats: string };
}

/** Rebuild a trained source model from `train-ctr --domain source` output. */
export async function loadSourceModel(modelOutDir: string): Promise<{ model: CtrModel; cfg: CtrModelConfig }> {
  const { model, cfg } = await loadCtrModel(modelOutDir);
  if (cfg.domain !== 'source' || cfg.variant !== 'din') throw new UsageError(`--model ${modelOutDir} is a ${cfg.domain}/${cfg.variant} model; the ESU needs the source DIN model (gist train-ctr --domain source)`);
  return { model, cfg };
}

/** Per chosen source sample, in sample order: what the attention picked (one shard's rows, or all of them). */
export interface EsuSampleRows {
  sampleId: Int32Array;
  /** 0 fewer than R candidates, 1 history below min-history, 2 attended. */
  status: Int8Array;
  targetItem: Int32Array;
  relatedItem: Int32Array;
  attention: Float32Array;
  historyLength: Int32Array;
  ts: Float64Array;
  split: Int8Array;
}

const STATUS = { short: 0, belowMinHistory: 1, attended: 2 } as const;

/** What the ESU's settings record: config.json, and the hash in every output's metadata. */
function esuConfig(o: EsuOptions, cfg: CtrModelConfig): Record<string, unknown> {
  return { command: 'extract-pairs', method: 'esu', seed: o.seed, backend: o.backend, data: path.resolve(o.dataDir), model: path.resolve(o.modelDir), theta: o.theta, include_negatives: o.includeNegatives, splits: o.splits, buckets: o.buckets, min_history: o.minHistory, candidates: o.candidates, candidate_embeddings: o.candidateEmbeddings ? path.resolve(o.candidateEmbeddings) : null, source_model: cfg };
}

export async function extractEsuPairs(o: EsuOptions): Promise<EsuResult> {
  if (o.shard !== undefined) throw new UsageError('extractEsuPairs: use extractEsuShard for --shard');
  return (await runEsu(o)) as EsuResult;
}

/** One shard of the ESU (`--shard i/n`): esu-samples.arrow for `gist merge`. */
export async function extractEsuShard(o: EsuOptions & { shard: string }): Promise<EsuShardResult> {
  return (await runEsu(o)) as EsuShardResult;
}

async function runEsu(o: EsuOptions): Promise<EsuResult | EsuShardResult> {
  const onProgress = o.onProgress ?? noProgress;
  if (!(o.theta > 0 && o.theta <= 1)) throw new UsageError(`--theta must be in (0, 1], got ${o.theta}`);
  if (!Number.isInteger(o.minHistory) || o.minHistory < 1) throw new UsageError(`--min-history must be a positive integer, got ${o.minHistory}`);
  const shard = parseShard(o.shard);
  await initBackend(o.backend);
  const ds = loadDataset(o.dataDir);
  const { model, cfg } = await loadSourceModel(o.modelDir);
  let rows: EsuSampleRows;
  try {
    if (cfg.numItems !== ds.items.count) throw new UsageError(`--model was trained on ${cfg.numItems} items but ${o.dataDir} has ${ds.items.count}: not the same dataset`);
    if (o.candidates > cfg.maxHistory) throw new UsageError(`--candidates ${o.candidates} exceeds the source model's history window (${cfg.maxHistory})`);
    if (o.candidateEmbeddings && o.candidates === 0) throw new UsageError('--candidate-embeddings ranks S_A: give --candidates R > 0 with it');
    rows = attendSamples(o, ds, model, cfg, shard, onProgress);
  } finally {
    model.dispose();
  }
  const config = esuConfig(o, cfg);
  const meta = outputMeta('extract-pairs', o.seed, config, { method: 'esu', theta: o.theta, ...datasetIdentity(o.dataDir) });
  return OutputStage.run(o.outDir, [o.dataDir, o.modelDir, ...(o.candidateEmbeddings ? [o.candidateEmbeddings] : [])], (stage) => {
    if (shard) {
      const file = stage.writeArrow(ESU_SHARD_FILE, ESU_SAMPLES, esuSampleColumns(rows), { ...meta, shard: shardLabel(shard) });
      stage.writeJson('config.json', { ...config, shard: shardLabel(shard) });
      return { method: 'esu', shard: shardLabel(shard), samples: rows.sampleId.length, outputs: { samples: file } } satisfies EsuShardResult;
    }
    return writeEsuOutputs(stage, rows, config, meta, o.theta, o.buckets, ds.items.count, o.candidates);
  });
}

/** `extract-pairs --method esu --shard i/n`: the per-sample rows of its blocks of samples. */
export interface EsuShardResult {
  method: 'esu';
  shard: string;
  samples: number;
  outputs: { samples: string };
}

export const ESU_SHARD_FILE = 'esu-samples.arrow';

function esuSampleColumns(r: EsuSampleRows): Columns {
  return { sample_id: r.sampleId, status: r.status, target_item: r.targetItem, related_item: r.relatedItem, attention: r.attention, history_length: r.historyLength, ts: r.ts, split: r.split };
}

/**
 * Score the chosen samples with the source model's target attention over S_A, in blocks of `batchSize` chosen
 * samples, each block one batch (its samples with a full S_A). A shard takes blocks b with b mod n = i: its
 * batches are the very batches of one run, so the attention (and the pairs) are the same to the bit.
 */
function attendSamples(o: EsuOptions, ds: Dataset, model: CtrModel, cfg: CtrModelConfig, shard: ShardSpec | null, onProgress: OnProgress): EsuSampleRows {
  model.bindData(ds.items.category, null);
  const samples = ds.samples.source;
  const splitCodes = new Set(o.splits.map((s) => SPLIT_CODE[s]));
  const all: number[] = [];
  for (let i = 0; i < samples.count; i++) if (splitCodes.has(samples.split[i]) && (o.includeNegatives || samples.label[i] === 1)) all.push(i);
  const chosen = Array.from(blockRows(all.length, o.batchSize, shard), (r) => all[r]);
  // Every chosen sample gets a row (status short until attended), so shards merge by sample id alone.
  const m = chosen.length;
  const out: EsuSampleRows = {
    sampleId: Int32Array.from(chosen),
    status: new Int8Array(m),
    targetItem: Int32Array.from(chosen, (s) => samples.itemId[s]),
    relatedItem: new Int32Array(m).fill(-1),
    attention: new Float32Array(m),
    historyLength: new Int32Array(m),
    ts: Float64Array.from(chosen, (s) => samples.ts[s]),
    split: Int8Array.from(chosen, (s) => samples.split[s]),
  };
  const selector = o.candidates > 0 ? candidateSelector(o, ds, model, cfg) : null;
  const probs = new Float32Array(o.batchSize);
  const att = new Float32Array(o.batchSize * cfg.maxHistory);
  for (let from = 0; from < m; from += o.batchSize) {
    const to = Math.min(m, from + o.batchSize);
    const block = Int32Array.from(chosen.slice(from, to));
    const sets = selector ? selector.select(samples, ds.sequences.source, block) : recentWindows(samples, ds.sequences.source, block, cfg.maxHistory);
    const rowOf = new Map<number, number>(Array.from(block, (s, r) => [s, from + r]));
    if (sets.rows.length > 0) {
      const batcher = new CtrBatcher(cfg, { items: ds.items, samples: sets.samples, history: sets.history, gsu: null, joint: null }, o.batchSize);
      const batch = batcher.fill(sets.rows, 0, sets.rows.length);
      model.score(batch, probs, 0, att);
      const L = batch.hist.len;
      for (let b = 0; b < batch.size; b++) {
        const local = batch.sampleIds[b];
        const r = rowOf.get(sets.origin ? sets.origin[local] : local) as number;
        out.historyLength[r] = sets.historyLength[local];
        const n = batch.hist.counts[b];
        if (n === 0 || n < o.minHistory) {
          out.status[r] = STATUS.belowMinHistory;
          continue;
        }
        let k = 0;
        for (let j = 1; j < n; j++) if (att[b * L + j] > att[b * L + k]) k = j;
        out.status[r] = STATUS.attended;
        out.attention[r] = att[b * L + k];
        out.relatedItem[r] = batch.hist.items[b * L + k];
      }
    }
    onProgress({ phase: 'ESU attention', done: to, total: m });
  }
  return out;
}

/** S_A's scorer: the source model's ID embeddings (its GSU), or the given embeddings file's vectors. */
function candidateSelector(o: EsuOptions, ds: Dataset, model: CtrModel, cfg: CtrModelConfig): EsuCandidateSelector {
  if (!o.candidateEmbeddings) return new EsuCandidateSelector(model.itemVectors(Int32Array.from({ length: ds.items.count }, (_, i) => i)), cfg.embeddingDim, o.candidates);
  const { dim, values, has } = readVectorsByItem(o.candidateEmbeddings, ds.items.count);
  const missing = has.indexOf(0);
  if (missing >= 0) throw new InputDataError(`no vector for item ${missing} (${ds.items.count} items in ${o.dataDir}): S_A needs every item's`, o.candidateEmbeddings, 'item_id');
  return new EsuCandidateSelector(values, dim, o.candidates);
}

/**
 * Pairs and statistics from the per-sample rows, in sample order (one run's, or the merged shards'): duplicates
 * merged per (pair, split) with the mean a_k of the samples at or above θ and their number.
 */
function writeEsuOutputs(stage: OutputStage, r: EsuSampleRows, config: Record<string, unknown>, meta: OutputMeta, theta: number, buckets: number, numItems: number, candidates: number): EsuResult {
  const maxAtt: number[] = [];
  const maxTs: number[] = [];
  const lengthRows = HISTORY_LENGTH_BUCKETS.map((b) => ({ history: b.label, samples: 0, by_theta: Object.fromEntries(THETA_GRID.map((t) => [t.toFixed(1), 0])) as Record<string, number> }));
  let short = 0;
  let scored = 0;
  const N = numItems;
  /** key = ((target · N) + related) · 3 + split → [count ≥ θ, Σ a_k ≥ θ, max a_k] */
  const merged = new Map<number, [number, number, number]>();
  for (let i = 0; i < r.sampleId.length; i++) {
    if (r.status[i] !== STATUS.short) scored++;
    if (r.status[i] !== STATUS.attended) {
      short++;
      continue;
    }
    const a = r.attention[i];
    maxAtt.push(a);
    maxTs.push(r.ts[i]);
    const row = lengthRows[HISTORY_LENGTH_BUCKETS.findIndex((x) => r.historyLength[i] <= x.max)];
    row.samples++;
    for (const t of THETA_GRID) if (a >= t) row.by_theta[t.toFixed(1)]++;
    const key = (r.targetItem[i] * N + r.relatedItem[i]) * 3 + r.split[i];
    let e = merged.get(key);
    if (!e) merged.set(key, (e = [0, 0, 0]));
    if (a >= theta) {
      e[0] += 1;
      e[1] += a;
    }
    if (a > e[2]) e[2] = a;
  }
  const keys = [...merged.keys()].sort((a, b) => a - b);
  const rows: PairRows = { target: [], related: [], score: [], count: [], split: [] };
  const byTheta: Record<string, number> = {};
  for (const t of THETA_GRID) byTheta[t.toFixed(1)] = 0;
  const unique = new Set<number>();
  const bySplit = { train: 0, valid: 0, test: 0 } as Record<Split, number>;
  for (const key of keys) {
    const [count, sum, maxA] = merged.get(key) as [number, number, number];
    for (const t of THETA_GRID) if (maxA >= t) byTheta[t.toFixed(1)]++;
    if (count === 0) continue;
    const split = key % 3;
    const pair = (key - split) / 3;
    rows.target.push(Math.floor(pair / N));
    rows.related.push(pair % N);
    rows.score.push(sum / count);
    rows.count.push(count);
    rows.split.push(split);
    unique.add(pair);
    bySplit[SPLITS[split]]++;
  }
  const result: EsuResult = {
    method: 'esu',
    pairs: rows.target.length,
    unique_pairs: unique.size,
    theta,
    samples_scored: scored,
    samples_with_history: maxAtt.length,
    candidates,
    candidate_scorer: typeof config.candidate_embeddings === 'string' ? config.candidate_embeddings : 'source-id',
    samples_short_history: short,
    by_history_length: lengthRows,
    pairs_by_split: bySplit,
    max_attention: maxAttentionStats(Float64Array.from(maxAtt), Float64Array.from(maxTs), buckets),
    by_theta: byTheta,
    outputs: { pairs: writePairs(stage, rows, meta, true), stats: stage.final(PAIR_OUTPUTS.stats) },
  };
  stage.writeJson(PAIR_OUTPUTS.stats, { ...result, config });
  stage.writeJson('config.json', config);
  return result;
}

/** `gist merge` of `extract-pairs --method esu --shard i/n` folders: the pairs and stats.json one process writes. */
export async function mergeEsuShards(parts: ShardPart[], out: string): Promise<EsuResult> {
  const { files, meta } = readShardFiles(parts, ESU_SHARD_FILE, ESU_SAMPLES);
  // Users are disjoint across shards, so sample ids are too: every row in sample order, as one run has them.
  const c0 = rowsByKey(files, 'sample_id', ESU_SAMPLES.columns.map((c) => c.name));
  const rows: EsuSampleRows = {
    sampleId: c0.sample_id as Int32Array,
    status: c0.status as Int8Array,
    targetItem: c0.target_item as Int32Array,
    relatedItem: c0.related_item as Int32Array,
    attention: c0.attention as Float32Array,
    historyLength: c0.history_length as Int32Array,
    ts: c0.ts as Float64Array,
    split: c0.split as Int8Array,
  };
  // The shards' settings are the run's (config.json and the metadata's config_hash), as one process writes them.
  const c = parts[0].config as { theta: number; buckets: number; candidates: number; source_model: { num_items: number } };
  return OutputStage.run(out, parts.map((p) => p.dir), (stage) => writeEsuOutputs(stage, rows, parts[0].config, meta, c.theta, c.buckets, c.source_model.num_items, c.candidates));
}

/** History-length buckets (distinct items before the sample) of `stats.json`'s pairs-by-length report. */
const HISTORY_LENGTH_BUCKETS = [
  { label: '1-4', max: 4 },
  { label: '5-9', max: 9 },
  { label: '10-24', max: 24 },
  { label: '25-99', max: 99 },
  { label: '100+', max: Infinity },
] as const;

/** What the attention runs over: the samples to batch (`rows` of `samples`) and the store their histories come from. */
interface CandidateSets {
  /** The source samples, or (S_A) the chosen ones re-indexed 0..m−1, each its own "user" of `history`. */
  samples: Samples;
  history: SequenceStore;
  /** Sample ids of `samples` to score, in order. */
  rows: Int32Array;
  /** Id in `samples` → original sample id; null when `samples` are the originals. */
  origin: Int32Array | null;
  /** Distinct items in the sample's history before its time (the length report), by id in `samples`. */
  historyLength: Int32Array;
  /** Samples left out because the history is shorter than R. */
  short: number;
}

function localSamples(samples: Samples, origin: Int32Array): Samples {
  const m = origin.length;
  const pick = <T extends Int8Array | Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
    const out = make(m);
    for (let i = 0; i < m; i++) out[i] = a[origin[i]];
    return out;
  };
  return {
    domain: samples.domain,
    count: m,
    userId: Int32Array.from({ length: m }, (_, i) => i),
    itemId: pick(samples.itemId, (n) => new Int32Array(n)),
    ts: pick(samples.ts, (n) => new Float64Array(n)),
    label: pick(samples.label, (n) => new Int8Array(n)),
    split: pick(samples.split, (n) => new Int8Array(n)),
    pTrue: null,
  };
}

/** R = 0: the model's own window, the most recent `maxHistory` events (its training input), read in place. */
function recentWindows(samples: Samples, history: SequenceStore, chosen: Int32Array, maxHistory: number): CandidateSets {
  const historyLength = new Int32Array(samples.count);
  const seen = new Set<number>();
  for (const s of chosen) {
    const [lo, hi] = history.historyBefore(samples.userId[s], samples.ts[s], maxHistory);
    seen.clear();
    for (let j = lo; j < hi; j++) seen.add(history.items[j]);
    historyLength[s] = seen.size;
  }
  return { samples, history, rows: chosen, origin: null, historyLength, short: 0 };
}

/**
 * R > 0: S_A per sample — the source GSU's top-R distinct items of the user's whole history before the sample by
 * cos(e_target, e_item) over the model's item ID embeddings (target item excluded), kept in time order of their
 * latest event. Samples with fewer than R distinct candidates are counted in `short` and left out.
 */
export function gsuCandidateSets(samples: Samples, history: SequenceStore, chosen: Int32Array, idVectors: Float32Array, dim: number, R: number, onProgress: OnProgress = noProgress): CandidateSets {
  return new EsuCandidateSelector(idVectors, dim, R).select(samples, history, chosen, onProgress);
}

/**
 * S_A selection over fixed item embeddings (see gsuCandidateSets): the unit rows and the per-item tables are made
 * once and reused for every block of samples. The native kernel (native/esu_candidates.h, on nativeThreads()
 * threads) and the JS loop give the same sets bit for bit: each cosine is a double sum of float32 products in k
 * order, ties go to the smaller item id.
 */
export class EsuCandidateSelector {
  private readonly unit: Float32Array;
  private readonly numItems: number;
  private readonly native: NativeKernels | null;
  /** Per worker: a stamp table (item → the turn that last saw it) then an item table (the kernel's local index, the JS loop's latest event); turns never repeat. */
  private scratch: Int32Array | null = null;
  private turn = 0;

  constructor(
    idVectors: Float32Array,
    readonly dim: number,
    readonly R: number,
    useNative = true,
  ) {
    this.unit = l2NormalizeRows(Float32Array.from(idVectors), dim);
    this.numItems = idVectors.length / dim;
    this.native = useNative ? nativeKernels() : null;
  }

  select(samples: Samples, history: SequenceStore, chosen: Int32Array, onProgress: OnProgress = noProgress): CandidateSets {
    const { R } = this;
    const m = chosen.length;
    const target = new Int32Array(m);
    const lo = new Int32Array(m);
    const hi = new Int32Array(m);
    for (let c = 0; c < m; c++) {
      const s = chosen[c];
      target[c] = samples.itemId[s];
      [lo[c], hi[c]] = history.historyBefore(samples.userId[s], samples.ts[s], Infinity);
    }
    const events = new Int32Array(m * R);
    const distinct = new Int32Array(m);
    // Threads asked for each block (a pipeline step's share of the cores changes as other steps start and end).
    const threads = this.native ? nativeThreads() : 1;
    const tables = threads * 2 * this.numItems;
    if (!this.scratch || this.scratch.length < tables || this.turn > 2 ** 30) {
      this.scratch = new Int32Array(tables).fill(-1);
      this.turn = 0;
    }
    if (this.native) {
      this.native.esuCandidates(Int32Array.from([this.dim, R, threads, this.turn]), this.unit, history.items, target, lo, hi, this.scratch, events, distinct);
    } else {
      this.selectInJs(history.items, target, lo, hi, events, distinct, onProgress);
    }
    this.turn += m;
    const kept: number[] = [];
    const offsets = [0];
    const items: number[] = [];
    const ts: number[] = [];
    const lengths: number[] = [];
    let short = 0;
    for (let c = 0; c < m; c++) {
      if (distinct[c] < R) {
        short++;
        continue;
      }
      for (let r = 0; r < R; r++) {
        const j = events[c * R + r];
        items.push(history.items[j]);
        ts.push(history.ts[j]);
      }
      offsets.push(items.length);
      lengths.push(distinct[c]);
      kept.push(chosen[c]);
    }
    const origin = Int32Array.from(kept);
    const store = new SequenceStore('source', Int32Array.from(kept, (_, i) => i), Int32Array.from(offsets), Int32Array.from(items), Float64Array.from(ts));
    return { samples: localSamples(samples, origin), history: store, rows: Int32Array.from(kept, (_, i) => i), origin, historyLength: Int32Array.from(lengths), short };
  }

  /** The JS loop (no addon, or GIST_NATIVE=0): the same outputs as native/esu_candidates.cc. */
  private selectInJs(histItems: Int32Array, target: Int32Array, lo: Int32Array, hi: Int32Array, events: Int32Array, distinctCount: Int32Array, onProgress: OnProgress): void {
    const { R, dim, unit, numItems } = this;
    const stamp = (this.scratch as Int32Array).subarray(0, numItems);
    const lastAt = (this.scratch as Int32Array).subarray(numItems, 2 * numItems);
    const distinct: number[] = [];
    // The R best so far, best first: (score desc, item id asc) — the order a full sort would give, without sorting
    // every distinct item of a history of up to 10^4 events.
    const bestItem = new Int32Array(R);
    const bestScore = new Float64Array(R);
    const ahead = (dot: number, item: number, slot: number): boolean => dot > bestScore[slot] || (dot === bestScore[slot] && item < bestItem[slot]);
    for (let c = 0; c < target.length; c++) {
      const turn = this.turn + c;
      const t = target[c];
      distinct.length = 0;
      for (let j = lo[c]; j < hi[c]; j++) {
        const item = histItems[j];
        if (item === t) continue;
        if (stamp[item] !== turn) {
          stamp[item] = turn;
          distinct.push(item);
        }
        lastAt[item] = j;
      }
      const n = distinct.length;
      distinctCount[c] = n;
      if (n < R) continue;
      let filled = 0;
      for (let d = 0; d < n; d++) {
        const item = distinct[d];
        let dot = 0;
        for (let k = 0; k < dim; k++) dot += unit[t * dim + k] * unit[item * dim + k];
        if (filled === R && !ahead(dot, item, R - 1)) continue;
        let at = filled < R ? filled++ : R - 1;
        while (at > 0 && ahead(dot, item, at - 1)) {
          bestScore[at] = bestScore[at - 1];
          bestItem[at] = bestItem[at - 1];
          at--;
        }
        bestScore[at] = dot;
        bestItem[at] = item;
      }
      const top = Array.from(bestItem, (item) => lastAt[item]).sort((x, y) => x - y);
      events.set(top, c * R);
      if ((c & 4095) === 4095) onProgress({ phase: 'ESU candidates', done: c + 1, total: target.length });
    }
  }
}

/** Mean and quantiles of the per-sample maximum attention, and its mean per equal-width time bucket. */
export function maxAttentionStats(values: Float64Array, ts: Float64Array, buckets: number): MaxAttentionStats {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const q = quantiles(values, [0.1, 0.25, 0.5, 0.75, 0.9]);
  const out: MaxAttentionStats = { mean: n ? sum / n : NaN, quantiles: { p10: q[0], p25: q[1], p50: q[2], p75: q[3], p90: q[4] }, buckets: [] };
  if (n === 0 || buckets < 1) return out;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    if (ts[i] < lo) lo = ts[i];
    if (ts[i] > hi) hi = ts[i];
  }
  const width = (hi - lo) / buckets;
  const sums = new Float64Array(buckets);
  const counts = new Int32Array(buckets);
  for (let i = 0; i < n; i++) {
    const b = width > 0 ? Math.min(buckets - 1, Math.floor((ts[i] - lo) / width)) : 0;
    sums[b] += values[i];
    counts[b]++;
  }
  for (let b = 0; b < buckets; b++) {
    out.buckets.push({ start: lo + b * width, end: b === buckets - 1 ? hi : lo + (b + 1) * width, mean: counts[b] ? sums[b] / counts[b] : NaN, n: counts[b] });
  }
  return out;
}

