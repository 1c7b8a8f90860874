/**
 * Swing item-to-item pairs from source-domain co-occurrence, the paper's baseline guidance signal (Table 4):
 *   sim(i, j) = Σ_{u<v ∈ U_i ∩ U_j}  w_u · w_v / (α + |I_u ∩ I_v|),   w_u = |I_u|^(−1/2),
 * where I_u is user u's item set and U_i the users of item i. Training data only: a user's events before their
 * first valid/test source sample. Keeps the top-N neighbours of every item.
 */
import * as path from 'node:path';
import { datasetIdentity, loadDataset, SPLIT_CODE, type Dataset } from '../dataset.js';
import { UsageError } from '../errors.js';
import { noProgress, outputMeta, OutputStage, type OnProgress } from '../output.js';
import { makeRng } from '../rng.js';
import { PAIR_OUTPUTS, writePairs, type PairRows } from './common.js';

export interface SwingConfig {
  /** α in the denominator: smooths the penalty on user pairs that share few items. */
  alpha: number;
  /** Neighbours kept per item. */
  topN: number;
  /** Most recent distinct items per user (bounds the cost of very long sequences). */
  maxItemsPerUser: number;
  /** At most this many users per item (a seeded sample beyond it). */
  maxUsersPerItem: number;
}

export const DEFAULT_SWING_CONFIG: SwingConfig = { alpha: 1, topN: 20, maxItemsPerUser: 300, maxUsersPerItem: 1000 };

export interface SwingOptions {
  dataDir: string;
  outDir: string;
  config: SwingConfig;
  seed: number;
  onProgress?: OnProgress;
}

export interface SwingResult {
  method: 'swing';
  pairs: number;
  items_with_pairs: number;
  users: number;
  user_pairs: number;
  alpha: number;
  top_n: number;
  outputs: { pairs: string; stats: string };
}

/** CSR lists: row r is values[offsets[r]..offsets[r+1]). */
interface Csr {
  offsets: Int32Array;
  values: Int32Array;
}

/** Each user's distinct source items from the training period, sorted ascending (at most maxItems, the most recent). */
export function trainingItemSets(ds: Dataset, maxItems: number): Csr {
  const store = ds.sequences.source;
  const samples = ds.samples.source;
  const users = Math.max(store.numUsers, ds.sequences.target.numUsers);
  const cutoff = new Float64Array(users).fill(Infinity);
  for (let s = 0; s < samples.count; s++) {
    if (samples.split[s] !== SPLIT_CODE.train) {
      const u = samples.userId[s];
      if (u < users && samples.ts[s] < cutoff[u]) cutoff[u] = samples.ts[s];
    }
  }
  const offsets = new Int32Array(users + 1);
  const values: number[] = [];
  const seen = new Set<number>();
  for (let u = 0; u < users; u++) {
    const [lo, hi] = store.range(u);
    seen.clear();
    const picked: number[] = [];
    for (let e = hi - 1; e >= lo && picked.length < maxItems; e--) {
      if (store.ts[e] >= cutoff[u]) continue;
      const it = store.items[e];
      if (!seen.has(it)) {
        seen.add(it);
        picked.push(it);
      }
    }
    picked.sort((a, b) => a - b);
    for (const it of picked) values.push(it);
    offsets[u + 1] = values.length;
  }
  return { offsets, values: Int32Array.from(values) };
}

function invert(sets: Csr, numItems: number, maxUsers: number, seed: number): Csr {
  const users = sets.offsets.length - 1;
  const counts = new Int32Array(numItems + 1);
  for (let j = 0; j < sets.values.length; j++) counts[sets.values[j] + 1]++;
  const offsets = new Int32Array(numItems + 1);
  for (let i = 0; i < numItems; i++) offsets[i + 1] = offsets[i] + counts[i + 1];
  const fill = Int32Array.from(offsets.subarray(0, numItems));
  const values = new Int32Array(sets.values.length);
  for (let u = 0; u < users; u++) for (let j = sets.offsets[u]; j < sets.offsets[u + 1]; j++) values[fill[sets.values[j]]++] = u;
  // Users ascending within each item; cap very popular items with a seeded sample.
  const outOff = new Int32Array(numItems + 1);
  const out: number[] = [];
  const rng = makeRng(seed).fork('swing-users');
  for (let i = 0; i < numItems; i++) {
    let list = values.subarray(offsets[i], offsets[i + 1]);
    if (list.length > maxUsers) list = rng.shuffle(Int32Array.from(list)).subarray(0, maxUsers).sort();
    for (const u of list) out.push(u);
    outOff[i + 1] = out.length;
  }
  return { offsets: outOff, values: Int32Array.from(out) };
}

/** Swing scores, top-N per item. Pure function of the item sets (exported for tests). */
export function swingTopN(sets: Csr, numItems: number, cfg: SwingConfig, seed: number, onProgress: OnProgress = noProgress): { rows: PairRows; userPairs: number } {
  const users = sets.offsets.length - 1;
  const itemUsers = invert(sets, numItems, cfg.maxUsersPerItem, seed);
  const weight = new Float64Array(users);
  for (let u = 0; u < users; u++) {
    const n = sets.offsets[u + 1] - sets.offsets[u];
    weight[u] = n > 0 ? 1 / Math.sqrt(n) : 0;
  }
  // 1. User pairs sharing ≥ 2 items, with their shared items (CSR) and pair weight.
  const pairWeight: number[] = [];
  const interOff: number[] = [0];
  const interItems: number[] = [];
  const shared = new Int32Array(users);
  const touched: number[] = [];
  for (let u = 0; u < users; u++) {
    touched.length = 0;
    for (let j = sets.offsets[u]; j < sets.offsets[u + 1]; j++) {
      const i = sets.values[j];
      for (let k = itemUsers.offsets[i]; k < itemUsers.offsets[i + 1]; k++) {
        const v = itemUsers.values[k];
        if (v <= u) continue;
        if (shared[v] === 0) touched.push(v);
        shared[v]++;
      }
    }
    touched.sort((a, b) => a - b);
    for (const v of touched) {
      if (shared[v] >= 2) {
        // Merge the two sorted item sets.
        let a = sets.offsets[u];
        let b = sets.offsets[v];
        const aEnd = sets.offsets[u + 1];
        const bEnd = sets.offsets[v + 1];
        const start = interItems.length;
        while (a < aEnd && b < bEnd) {
          const x = sets.values[a];
          const y = sets.values[b];
          if (x === y) {
            interItems.push(x);
            a++;
            b++;
          } else if (x < y) a++;
          else b++;
        }
        const n = interItems.length - start;
        if (n >= 2) {
          pairWeight.push((weight[u] * weight[v]) / (cfg.alpha + n));
          interOff.push(interItems.length);
        } else interItems.length = start; // a capped item list can disagree with the count
      }
      shared[v] = 0;
    }
    if ((u & 255) === 0) onProgress({ phase: 'swing user pairs', done: u, total: users });
  }
  const P = pairWeight.length;
  // 2. Pairs of each item (CSR), then accumulate sim(i, ·) densely per item.
  const perItem = new Int32Array(numItems + 1);
  for (const it of interItems) perItem[it + 1]++;
  for (let i = 0; i < numItems; i++) perItem[i + 1] += perItem[i];
  const fill = Int32Array.from(perItem.subarray(0, numItems));
  const pairsOf = new Int32Array(interItems.length);
  for (let p = 0; p < P; p++) for (let k = interOff[p]; k < interOff[p + 1]; k++) pairsOf[fill[interItems[k]]++] = p;
  const acc = new Float64Array(numItems);
  const pairCount = new Int32Array(numItems);
  const rows: PairRows = { target: [], related: [], score: [], count: [], split: [] };
  const cand: number[] = [];
  for (let i = 0; i < numItems; i++) {
    cand.length = 0;
    for (let k = perItem[i]; k < perItem[i + 1]; k++) {
      const p = pairsOf[k];
      const w = pairWeight[p];
      for (let q = interOff[p]; q < interOff[p + 1]; q++) {
        const j = interItems[q];
        if (j === i) continue;
        if (pairCount[j] === 0) cand.push(j);
        acc[j] += w;
        pairCount[j]++;
      }
    }
    cand.sort((a, b) => acc[b] - acc[a] || a - b);
    for (let r = 0; r < cand.length; r++) {
      const j = cand[r];
      if (r < cfg.topN) {
        rows.target.push(i);
        rows.related.push(j);
        rows.score.push(acc[j]);
        // C(c, 2) user pairs contain both items, where c = |U_i ∩ U_j|.
        rows.count.push(Math.round((1 + Math.sqrt(1 + 8 * pairCount[j])) / 2));
        rows.split.push(SPLIT_CODE.train);
      }
      acc[j] = 0;
      pairCount[j] = 0;
    }
    if ((i & 1023) === 0) onProgress({ phase: 'swing scores', done: i, total: numItems });
  }
  return { rows, userPairs: P };
}

export function validateSwingConfig(c: SwingConfig): SwingConfig {
  if (!(c.alpha > 0 && Number.isFinite(c.alpha))) throw new UsageError(`--alpha must be > 0, got ${c.alpha}`);
  for (const [flag, v] of [['--top-n', c.topN], ['max items per user', c.maxItemsPerUser], ['max users per item', c.maxUsersPerItem]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`${flag} must be a positive integer, got ${v}`);
  }
  return c;
}

export async function extractSwingPairs(o: SwingOptions): Promise<SwingResult> {
  const cfg = validateSwingConfig(o.config);
  const onProgress = o.onProgress ?? noProgress;
  const ds = loadDataset(o.dataDir);
  const sets = trainingItemSets(ds, cfg.maxItemsPerUser);
  const { rows, userPairs } = swingTopN(sets, ds.items.count, cfg, o.seed, onProgress);
  const config = { command: 'extract-pairs', method: 'swing', seed: o.seed, data: path.resolve(o.dataDir), swing: cfg };
  return OutputStage.run(o.outDir, [o.dataDir], (stage) => {
    const meta = outputMeta('extract-pairs', o.seed, config, { method: 'swing', ...datasetIdentity(o.dataDir) });
    const result: SwingResult = {
      method: 'swing',
      pairs: rows.target.length,
      items_with_pairs: new Set(rows.target).size,
      users: sets.offsets.length - 1,
      user_pairs: userPairs,
      alpha: cfg.alpha,
      top_n: cfg.topN,
      outputs: { pairs: writePairs(stage, rows, meta, true), stats: stage.final(PAIR_OUTPUTS.stats) },
    };
    stage.writeJson(PAIR_OUTPUTS.stats, { ...result, config });
    stage.writeJson('config.json', config);
    return result;
  });
}
