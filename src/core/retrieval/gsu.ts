/**
 * `gist search-gsu`: the General Search Unit over lifelong source sequences (paper §4.3). For each target
 * sample, the user's source events strictly before the sample's time are searched with the target item and
 * the top-K (ids and scores only; embeddings never reach the target model) go to gsu.arrow, one row per
 * target sample in sample_id order.
 *
 * Samples are processed in windows of GSU_WINDOW sample ids (memory is bounded by a window, not by the
 * number of samples); inside a window a user's samples are grouped so the user's sequence is scored once per
 * group with one matrix product (score-kernel.ts), on worker threads when there is more than one core.
 * `--shard i/n` keeps the users with user_id mod n = i; `mergeGsuShards` joins shard outputs into exactly the
 * file a single run writes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkShardIndices, parseShard, shardLabel, unshardedMeta } from '../shard.js';
import { readArrow, type ListColumn } from '../arrow-io.js';
import { readJsonFile, resolveConfig } from '../config.js';
import { datasetIdentity, loadDataset, requireSameItems, SPLIT_CODE, type Samples } from '../dataset.js';
import { InputDataError, IoError, UsageError } from '../errors.js';
import { hugeArray } from '../huge-pages.js';
import { OutputStage, outputMeta, noProgress, type OnProgress } from '../output.js';
import { GSU, SPLITS, type Split } from '../schemas.js';
import { loadEmbeddings, requireVectors, scoreSpaceByItem } from './embeddings.js';
import { GsuWriter } from './gsu-io.js';
import { scorerName } from './native.js';
import { kernelUsesFma } from './score-kernel.js';
import { GsuSearcher, type GsuContextData, type GsuMode, type GsuScratch, type GsuTask, type GsuTaskResult } from './gsu-task.js';
import { WorkerPool, workerUrl } from './worker-pool.js';

export type { GsuMode } from './gsu-task.js';

/**
 * Samples searched per window (in sample_id order). Bounds memory; while the main thread writes one window
 * the workers search the next, so a smaller window overlaps more of the writing. Output batches are
 * GSU_BATCH_ROWS rows whatever the window.
 */
export const GSU_WINDOW = 16_384;

/** What is searched; hashed into the output metadata (the shard and thread count are not: they do not change results). */
export interface GsuConfig {
  /** soft: exact top-K cosine of the target item against each history event; hard: same category, most recent K (SIM hard). */
  mode: GsuMode;
  /** Events kept per sample (K). */
  k: number;
  /** Splits of target samples to search; rows are written for these samples only. */
  splits: Split[];
}

export const DEFAULT_GSU_CONFIG: GsuConfig = { mode: 'soft', k: 100, splits: [...SPLITS] };

export interface GsuOptions {
  data: string;
  /** EMBEDDINGS file (soft mode): joint vectors for GIST, content vectors for SIM soft. */
  embeddings?: string;
  out: string;
  config?: Partial<GsuConfig>;
  /** "i/n": only users with user_id mod n = i (0 ≤ i < n). */
  shard?: string;
  /** Worker threads; 0 searches on the main thread. Default: available cores. */
  threads?: number;
  seed: number;
  onProgress?: OnProgress;
  /** Search these target samples instead of the dataset's own (`gist predict` on new samples). */
  samples?: Samples;
  /** Only these sample ids, as part `shard` of a sharded run (`gist predict --shard`: its own blocks of samples). */
  only?: { rows: Int32Array; shard: string };
}

export interface GsuResult {
  out: string;
  file: string;
  mode: GsuMode;
  k: number;
  splits: Split[];
  shard: string | null;
  /** Rows written (target samples searched). */
  rows: number;
  /** Rows with no earlier source event (or, hard mode, none of the item's category). */
  empty_rows: number;
  /** Mean entries per row and mean searched history length (events before ts). */
  mean_results: number;
  mean_history: number;
  threads: number;
  /** Whether the scorer used fused multiply-add (native, or wasm relaxed SIMD). */
  fma: boolean;
  /** Soft-mode scorer: "native-avx512", "native-avx2", "native-scalar" (native/ addon) or "wasm-simd"; null in hard mode. Native paths agree bit for bit; wasm-simd scores may differ from them in the last bits. */
  scorer: string | null;
  /** Search + write time, excluding loading inputs. */
  search_seconds: number;
  samples_per_s: number;
  /** Useful score FLOP rate (2·d per history event), soft mode; null for hard. */
  gflops: number | null;
  config: GsuConfig;
}

export { parseShard } from '../shard.js';

export function parseSplits(spec: string | undefined): Split[] | undefined {
  if (spec === undefined || spec === 'all') return undefined;
  const out: Split[] = [];
  for (const s of spec.split(',').map((x) => x.trim())) {
    if (!(SPLITS as readonly string[]).includes(s)) throw new UsageError(`--splits: unknown split "${s}" (use ${SPLITS.join(', ')} or all)`);
    if (!out.includes(s as Split)) out.push(s as Split);
  }
  return SPLITS.filter((s) => out.includes(s));
}

/** Largest --k accepted: far past the paper's lifelong sequences (10^4 events), far below what exhausts memory. */
export const MAX_GSU_K = 100_000;

/**
 * The K that sizes buffers: a row never holds more events than its user's history, so K past the longest source
 * history writes the same file and only wastes memory.
 */
function bufferK(k: number, offsets: Int32Array): number {
  let longest = 0;
  for (let u = 0; u + 1 < offsets.length; u++) longest = Math.max(longest, offsets[u + 1] - offsets[u]);
  return Math.max(1, Math.min(k, longest));
}

function resolveGsuConfig(overrides: Partial<GsuConfig>): GsuConfig {
  const config = resolveConfig(DEFAULT_GSU_CONFIG, overrides, 'search-gsu');
  if (!Number.isInteger(config.k) || config.k <= 0) throw new UsageError(`--k must be a positive integer, got ${config.k}`);
  if (config.k > MAX_GSU_K) throw new UsageError(`--k must be at most ${MAX_GSU_K} (lifelong sequences of 10^4–10^5 events), got ${config.k}`);
  if (config.mode !== 'soft' && config.mode !== 'hard') throw new UsageError(`--mode must be soft or hard, got ${String(config.mode)}`);
  if (config.splits.length === 0) throw new UsageError('--splits: choose at least one split');
  return { ...config, splits: SPLITS.filter((s) => config.splits.includes(s)) };
}

function shared<T extends Int32Array | Float64Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a; // read onto one already (loadDataset's sharedSequences)
  const out = hugeArray(a.constructor as (new (n: number) => T) & { BYTES_PER_ELEMENT: number }, a.length, true);
  out.set(a);
  return out;
}

/** Run one search and write OUT/gsu.arrow + OUT/config.json. */
export async function searchGsu(opts: GsuOptions): Promise<GsuResult> {
  const config = resolveGsuConfig(opts.config ?? {});
  const shard = parseShard(opts.shard);
  const threads = opts.threads ?? Math.min(os.availableParallelism(), 16);
  if (!Number.isInteger(threads) || threads < 0) throw new UsageError(`--threads must be a non-negative integer, got ${threads}`);
  const onProgress = opts.onProgress ?? noProgress;
  if (config.mode === 'soft' && !opts.embeddings) throw new UsageError('--mode soft needs --embeddings FILE.arrow');
  if (config.mode === 'hard' && opts.embeddings) throw new UsageError('--mode hard searches by category and does not read --embeddings; drop it');

  const ds = loadDataset(opts.data, { sharedSequences: threads > 0 }); // workers read the sequences in place
  const category = ds.items.category;
  if (config.mode === 'hard' && category === null) throw new UsageError(`hard search needs a category column; dataset ${ds.manifest.name ?? opts.data} has none`);
  const samples = opts.samples ?? ds.samples.target;
  const store = ds.sequences.source;
  const k = bufferK(config.k, store.offsets);

  // the samples this run searches, in sample_id order
  const splitOk = new Uint8Array(3);
  for (const s of config.splits) splitOk[SPLIT_CODE[s]] = 1;
  if (opts.only && shard) throw new UsageError('searchGsu: shard by users or by rows, not both');
  const picked = opts.only ? new Uint8Array(samples.count) : null;
  if (picked) for (const r of opts.only!.rows) picked[r] = 1;
  const inRun = (i: number): boolean => splitOk[samples.split[i]] === 1 && (shard === null || samples.userId[i] % shard.count === shard.index) && (picked === null || picked[i] === 1);
  const part = shard ? shardLabel(shard) : (opts.only?.shard ?? null);
  let total = 0;
  for (let i = 0; i < samples.count; i++) if (inRun(i)) total++;

  let embeddingsHash = 'none';
  let space = null;
  if (config.mode === 'soft') {
    const emb = loadEmbeddings(opts.embeddings as string);
    requireSameItems(opts.embeddings as string, emb.metadata, opts.data);
    embeddingsHash = emb.metadata.config_hash ?? 'none';
    const usersSeen = new Uint8Array(store.numUsers);
    const targetItems: number[] = [];
    const targetRows: number[] = [];
    for (let i = 0; i < samples.count; i++) {
      if (!inRun(i)) continue;
      targetItems.push(samples.itemId[i]);
      targetRows.push(i);
      if (samples.userId[i] < usersSeen.length) usersSeen[samples.userId[i]] = 1;
    }
    requireVectors(emb, targetItems, (j) => `target sample ${targetRows[j]}`);
    for (let u = 0; u < usersSeen.length; u++) {
      if (!usersSeen[u]) continue;
      const [a, b] = store.range(u);
      requireVectors(emb, store.items.subarray(a, b), () => `source events of user ${u}`);
    }
    space = scoreSpaceByItem(emb, ds.items.count, threads);
  }

  const meta = outputMeta('search-gsu', opts.seed, config, { dataset: ds.manifest.name ?? '', embeddings_config_hash: embeddingsHash, ...datasetIdentity(opts.data) });
  // A shard's config.json names its command and shard (what `gist merge` reads); the merge writes it without the shard.
  const fileConfig = { ...config, data: opts.data, embeddings: opts.embeddings ?? null, ...(part ? { command: 'search-gsu', shard: part } : {}) };
  const useWorkers = threads > 0;
  const base: GsuContextData = {
    mode: config.mode,
    k,
    userRow: useWorkers ? shared(store.userRow) : store.userRow,
    seqOffsets: useWorkers ? shared(store.offsets) : store.offsets,
    seqItems: useWorkers ? shared(store.items) : store.items,
    seqTs: useWorkers ? shared(store.ts) : store.ts,
    sampleUser: useWorkers ? shared(samples.userId) : samples.userId,
    sampleItem: useWorkers ? shared(samples.itemId) : samples.itemId,
    sampleTs: useWorkers ? shared(samples.ts) : samples.ts,
    category: category && useWorkers ? shared(category) : category,
    space,
    slot: 0,
  };
  const inline = useWorkers ? null : new GsuSearcher(base);
  const pool = useWorkers
    ? new WorkerPool<GsuTask, GsuTaskResult>(
        workerUrl('gsu-worker'),
        Array.from({ length: threads }, (_, t) => ({ ...base, slot: t })),
      )
    : null;
  const scorer = config.mode === 'soft' ? scorerName().scorer : null;
  const fma = config.mode === 'soft' && (scorer !== 'wasm-simd' || kernelUsesFma());

  try {
    await pool?.ready;
    const started = performance.now();
    return await OutputStage.run(opts.out, [opts.data], async (stage) => {
      const writer = new GsuWriter(stage.file('gsu.arrow'), part ? { ...meta, shard: part } : meta, k);
      let emptyRows = 0;
      let entries = 0;
      let history = 0;
      let flops = 0;
      let pending: Promise<WindowResult> | null = null;
      try {
        // windows of sample ids, searched one ahead of the one being written
        let next = 0;
        const nextWindow = (): Int32Array | null => {
          const ids: number[] = [];
          while (next < samples.count && ids.length < GSU_WINDOW) {
            if (inRun(next)) ids.push(next);
            next++;
          }
          return ids.length > 0 ? Int32Array.from(ids) : null;
        };
        // Result buffers of written windows go back to the workers: memory stays flat however many windows.
        const spare: GsuScratch[] = [];
        const search = (ids: Int32Array): Promise<WindowResult> =>
          searchWindow(ids, samples.userId, samples.ts, store, Math.max(1, threads) * 4, (task) => {
            const scratch = spare.pop();
            if (scratch) task.scratch = scratch;
            if (!pool) return Promise.resolve((inline as GsuSearcher).run(task));
            const transfer = [task.samples.buffer, task.groupStart.buffer, ...(scratch ? [scratch.counts.buffer, scratch.items.buffer, scratch.scores.buffer] : [])];
            return pool.run(task, transfer as ArrayBuffer[]);
          });
        let ids = nextWindow();
        pending = ids ? search(ids) : null;
        while (ids && pending) {
          // the next window is grouped and queued before this one is awaited, so the workers never wait for the
          // main thread between windows (at most three windows of results exist: searched, queued, being written)
          const following = nextWindow();
          const queued = following ? search(following) : null;
          let done: WindowResult;
          try {
            done = await pending;
          } catch (err) {
            queued?.catch(() => undefined);
            throw err;
          }
          pending = queued;
          for (let p = 0; p < ids.length; p++) {
            const r = done.results[done.resultOf[p]];
            const row = done.rowOf[p];
            const count = r.counts[row];
            if (count === 0) emptyRows++;
            entries += count;
            writer.add(ids[p], r.items, r.scores, row * k, count);
          }
          history += done.history;
          for (const r of done.results) {
            flops += r.flops;
            spare.push({ counts: new Int32Array(r.counts.buffer), items: new Int32Array(r.items.buffer), scores: new Float32Array(r.scores.buffer) });
          }
          onProgress({ phase: 'search-gsu', done: writer.rows, total });
          ids = following;
        }
        writer.close();
      } catch (err) {
        writer.abort();
        pending?.catch(() => undefined); // the window searched ahead is abandoned
        throw err;
      }
      stage.writeJson('config.json', fileConfig);
      const seconds = (performance.now() - started) / 1000;
      const rows = writer.rows;
      return {
        out: path.resolve(opts.out),
        file: stage.final('gsu.arrow'),
        mode: config.mode,
        k: config.k,
        splits: config.splits,
        shard: shard ? `${shard.index}/${shard.count}` : null,
        rows,
        empty_rows: emptyRows,
        mean_results: rows ? entries / rows : 0,
        mean_history: rows ? history / rows : 0,
        threads,
        fma,
        scorer,
        search_seconds: seconds,
        samples_per_s: seconds > 0 ? rows / seconds : 0,
        gflops: config.mode === 'soft' && seconds > 0 ? flops / seconds / 1e9 : null,
        config,
      };
    });
  } finally {
    await pool?.close();
  }
}

interface WindowResult {
  results: GsuTaskResult[];
  /** For window position p: which result and which row of it. */
  resultOf: Int32Array;
  rowOf: Int32Array;
  /** Σ history length (events before ts) over the window. */
  history: number;
}

/** Group a window's samples by user (each group time-ordered), split into ~`parts` balanced tasks, run them. */
async function searchWindow(
  ids: Int32Array,
  userId: Int32Array,
  ts: Float64Array,
  store: { range(u: number): [number, number]; historyBefore(u: number, ts: number, max: number): [number, number] },
  parts: number,
  runTask: (t: GsuTask) => Promise<GsuTaskResult>,
): Promise<WindowResult> {
  const order = Array.from(ids.keys()).sort((a, b) => userId[ids[a]] - userId[ids[b]] || ts[ids[a]] - ts[ids[b]] || ids[a] - ids[b]);
  // group boundaries and costs (history length × samples)
  const groupStart: number[] = [];
  const cost: number[] = [];
  let history = 0;
  for (let p = 0; p < order.length; p++) {
    const s = ids[order[p]];
    if (p === 0 || userId[ids[order[p - 1]]] !== userId[s]) {
      groupStart.push(p);
      cost.push(0);
    }
    const [a, b] = store.historyBefore(userId[s], ts[s], Number.MAX_SAFE_INTEGER);
    history += b - a;
    cost[cost.length - 1] += 64 + (b - a);
  }
  groupStart.push(order.length);
  const totalCost = cost.reduce((x, y) => x + y, 0);
  const tasks: { from: number; to: number }[] = [];
  let acc = 0;
  let from = 0;
  for (let g = 0; g < cost.length; g++) {
    acc += cost[g];
    if (acc >= totalCost / parts || g === cost.length - 1) {
      tasks.push({ from, to: g + 1 });
      from = g + 1;
      acc = 0;
    }
  }
  const resultOf = new Int32Array(ids.length);
  const rowOf = new Int32Array(ids.length);
  const promises = tasks.map(({ from: g0, to: g1 }, t) => {
    const p0 = groupStart[g0];
    const p1 = groupStart[g1];
    const samples = new Int32Array(p1 - p0);
    for (let p = p0; p < p1; p++) {
      samples[p - p0] = ids[order[p]];
      resultOf[order[p]] = t;
      rowOf[order[p]] = p - p0;
    }
    const starts = Int32Array.from(groupStart.slice(g0, g1 + 1), (x) => x - p0);
    return runTask({ samples, groupStart: starts });
  });
  return { results: await Promise.all(promises), resultOf, rowOf, history };
}

// ---- merge ---------------------------------------------------------------------------------------------

export interface GsuMergeResult {
  out: string;
  file: string;
  shards: number;
  rows: number;
}

/** Join the gsu.arrow files of shards 0..n−1 (each from `search-gsu --shard i/n`) into one, byte-identical to a single run. */
export async function mergeGsuShards(opts: { inputs: string[]; out: string }): Promise<GsuMergeResult> {
  if (opts.inputs.length === 0) throw new UsageError('merge needs at least one shard folder');
  const parts = opts.inputs.map((dir) => {
    const file = fs.existsSync(dir) && fs.statSync(dir).isDirectory() ? path.join(dir, 'gsu.arrow') : dir;
    if (!fs.existsSync(file)) throw new IoError(`${file}: no such file (expected a search-gsu --shard output)`);
    const f = readArrow(file, GSU);
    const cfgFile = path.join(path.dirname(file), 'config.json');
    // The settings, without the invocation record (each shard ran its own command line).
    let config: Record<string, unknown> | null = null;
    if (fs.existsSync(cfgFile)) {
      const { invocation: _ran, shard: _part, ...settings } = readJsonFile(cfgFile);
      config = settings;
    }
    const configText = config ? JSON.stringify(config) : null;
    return { file, f, config, configText };
  });
  const shardOf = parts.map(({ file, f }) => {
    const spec = f.metadata.shard;
    if (!spec || f.metadata.command !== 'search-gsu') throw new InputDataError('not a search-gsu --shard output (no shard in its metadata)', file);
    return { ...(parseShard(spec) as { index: number; count: number }), file };
  });
  checkShardIndices(shardOf.map((s) => ({ ...s, where: s.file })));
  const n = shardOf[0].count;
  const meta = unshardedMeta(parts[0].f.metadata);
  for (const p of parts) {
    if (JSON.stringify(unshardedMeta(p.f.metadata)) !== JSON.stringify(meta)) throw new UsageError(`${p.file}: written with other settings than ${parts[0].file} (metadata differs)`);
    if (p.configText !== parts[0].configText) throw new UsageError(`${p.file}: config.json differs from ${parts[0].file}`);
  }
  const k = Math.max(1, Number(JSON.parse(parts[0].configText ?? '{"k":1}').k) || 1);

  return OutputStage.run(opts.out, opts.inputs, async (stage) => {
    const writer = new GsuWriter(stage.file('gsu.arrow'), meta, k);
    try {
      const cursor = new Int32Array(parts.length);
      const cols = parts.map(({ f }) => ({ ids: f.columns.sample_id as Int32Array, items: f.columns.items as ListColumn<Int32Array>, scores: f.columns.scores as ListColumn<Float32Array> }));
      let last = -1;
      for (;;) {
        let best = -1;
        for (let s = 0; s < parts.length; s++) {
          if (cursor[s] < cols[s].ids.length && (best < 0 || cols[s].ids[cursor[s]] < cols[best].ids[cursor[best]])) best = s;
        }
        if (best < 0) break;
        const c = cols[best];
        const r = cursor[best]++;
        const id = c.ids[r];
        if (id <= last) throw new InputDataError(`sample_id ${id} repeated or out of order across shards`, parts[best].file, 'sample_id', r);
        last = id;
        const a = c.items.offsets[r];
        writer.add(id, c.items.values, c.scores.values, a, c.items.offsets[r + 1] - a);
      }
      writer.close();
    } catch (err) {
      writer.abort();
      throw err;
    }
    if (parts[0].config !== null) {
      const { command: _cmd, ...settings } = parts[0].config;
      stage.writeJson('config.json', settings);
    }
    return { out: path.resolve(opts.out), file: stage.final('gsu.arrow'), shards: n, rows: writer.rows };
  });
}
