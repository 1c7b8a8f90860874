/**
 * ESU guidance pairs (paper §3.1.3, eq. 8): run the source ranking model's target attention over each source
 * sample's history, take k = argmax_j a_j and keep (target item, history item k) when a_k ≥ θ. Duplicates are
 * merged per (pair, split) with the mean a_k and the number of samples. Also reports the distribution of the
 * maximum attention a_k, overall and per time bucket (the paper's Figure 5 checks that its mean is stable).
 */
import * as path from 'node:path';
import { loadDataset, SPLIT_CODE } from '../dataset.js';
import { initBackend, type BackendName } from '../engine/backend.js';
import { loadWeights } from '../engine/model-io.js';
import { InputDataError, UsageError } from '../errors.js';
import { noProgress, outputMeta, OutputStage, type OnProgress } from '../output.js';
import { makeRng } from '../rng.js';
import { SPLITS, type Split } from '../schemas.js';
import { CtrBatcher } from '../ctr/batcher.js';
import { resolveModelConfig, type CtrModelConfig } from '../ctr/config.js';
import { CtrModel } from '../ctr/model.js';
import { CTR_OUTPUTS } from '../ctr/train.js';
import { PAIR_OUTPUTS, quantiles, writePairs, type PairRows } from './common.js';

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
  batchSize: number;
  seed: number;
  backend: BackendName;
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
  pairs_by_split: Record<Split, number>;
  max_attention: MaxAttentionStats;
  by_theta: Record<string, number>;
  outputs: { pairs: string; stats: string };
}

/** Rebuild a trained source model from `train-ctr --domain source` output. */
export async function loadSourceModel(modelOutDir: string): Promise<{ model: CtrModel; cfg: CtrModelConfig }> {
  const dir = path.join(modelOutDir, CTR_OUTPUTS.model);
  const { weights, config } = await loadWeights(dir);
  const stored = (config as { model?: CtrModelConfig }).model;
  if (!stored || typeof stored !== 'object') throw new InputDataError('no model config (not a train-ctr model folder)', path.join(dir, 'config.json'));
  if (stored.domain !== 'source' || stored.variant !== 'din') throw new UsageError(`--model ${modelOutDir} is a ${stored.domain}/${stored.variant} model; the ESU needs the source DIN model (gist train-ctr --domain source)`);
  const { numItems, numCategories, jointDim, ...flags } = stored;
  const cfg: CtrModelConfig = { ...resolveModelConfig(flags), numItems, numCategories, jointDim };
  const model = new CtrModel(cfg, makeRng(0), 1e-3);
  model.fromWeights(weights);
  return { model, cfg };
}

export async function extractEsuPairs(o: EsuOptions): Promise<EsuResult> {
  const onProgress = o.onProgress ?? noProgress;
  if (!(o.theta > 0 && o.theta <= 1)) throw new UsageError(`--theta must be in (0, 1], got ${o.theta}`);
  if (!Number.isInteger(o.minHistory) || o.minHistory < 1) throw new UsageError(`--min-history must be a positive integer, got ${o.minHistory}`);
  await initBackend(o.backend);
  const ds = loadDataset(o.dataDir);
  const { model, cfg } = await loadSourceModel(o.modelDir);
  try {
    if (cfg.numItems !== ds.items.count) throw new UsageError(`--model was trained on ${cfg.numItems} items but ${o.dataDir} has ${ds.items.count}: not the same dataset`);
    model.bindData(ds.items.category, null);
    const samples = ds.samples.source;
    const splitCodes = new Set(o.splits.map((s) => SPLIT_CODE[s]));
    const chosen: number[] = [];
    for (let i = 0; i < samples.count; i++) if (splitCodes.has(samples.split[i]) && (o.includeNegatives || samples.label[i] === 1)) chosen.push(i);
    const idx = Int32Array.from(chosen);
    const batcher = new CtrBatcher(cfg, { items: ds.items, samples, history: ds.sequences.source, gsu: null, joint: null }, o.batchSize);
    const probs = new Float32Array(o.batchSize);
    const att = new Float32Array(o.batchSize * cfg.maxHistory);
    // Per sample with history: a_k and the pair (target, related).
    const maxAtt: number[] = [];
    const maxTs: number[] = [];
    const N = ds.items.count;
    /** key = ((target · N) + related) · 3 + split → [count ≥ θ, Σ a_k ≥ θ, max a_k] */
    const merged = new Map<number, [number, number, number]>();
    for (let from = 0; from < idx.length; from += o.batchSize) {
      const to = Math.min(idx.length, from + o.batchSize);
      const batch = batcher.fill(idx, from, to);
      model.score(batch, probs, 0, att);
      const L = batch.hist.len;
      for (let b = 0; b < batch.size; b++) {
        const n = batch.hist.counts[b];
        if (n === 0 || n < o.minHistory) continue;
        let k = 0;
        for (let j = 1; j < n; j++) if (att[b * L + j] > att[b * L + k]) k = j;
        const a = att[b * L + k];
        const s = batch.sampleIds[b];
        maxAtt.push(a);
        maxTs.push(samples.ts[s]);
        const key = (samples.itemId[s] * N + batch.hist.items[b * L + k]) * 3 + samples.split[s];
        let e = merged.get(key);
        if (!e) merged.set(key, (e = [0, 0, 0]));
        if (a >= o.theta) {
          e[0] += 1;
          e[1] += a;
        }
        if (a > e[2]) e[2] = a;
      }
      onProgress({ phase: 'ESU attention', done: to, total: idx.length });
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
    const stats = maxAttentionStats(Float64Array.from(maxAtt), Float64Array.from(maxTs), o.buckets);
    const config = { command: 'extract-pairs', method: 'esu', seed: o.seed, backend: o.backend, data: path.resolve(o.dataDir), model: path.resolve(o.modelDir), theta: o.theta, include_negatives: o.includeNegatives, splits: o.splits, buckets: o.buckets, min_history: o.minHistory, source_model: cfg };
    return await OutputStage.run(o.outDir, [o.dataDir, o.modelDir], (stage) => {
      const meta = outputMeta('extract-pairs', o.seed, config, { method: 'esu', theta: o.theta });
      const result: EsuResult = {
        method: 'esu',
        pairs: rows.target.length,
        unique_pairs: unique.size,
        theta: o.theta,
        samples_scored: idx.length,
        samples_with_history: maxAtt.length,
        pairs_by_split: bySplit,
        max_attention: stats,
        by_theta: byTheta,
        outputs: { pairs: writePairs(stage, rows, meta, true), stats: stage.final(PAIR_OUTPUTS.stats) },
      };
      stage.writeJson(PAIR_OUTPUTS.stats, { ...result, config });
      stage.writeJson('config.json', config);
      return result;
    });
  } finally {
    model.dispose();
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

