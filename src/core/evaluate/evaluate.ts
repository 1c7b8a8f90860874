/**
 * `gist evaluate`: AUC, gAUC, logloss and AUC gain of CTR runs (paper Table 1), AUC by item popularity
 * (Table 7), exact Recall@K of embeddings with guidance pairs as truth (Tables 3 and 5), GSU score
 * histograms, training curves, an HTML report and the CI regression gate.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isStdout, writeOutputFile } from '../sink.js';
import { DATASET_FILES, DOMAIN_CODE, loadDataset, loadItems, requireSameDataset, SPLIT_CODE, type Dataset, type Items } from '../dataset.js';
import { makeRng } from '../rng.js';
import { plantedHistoryCounts, plantedNeighbourRecall, readPlanted, type Planted, type PlantedHistoryCounts } from './planted.js';
import { InputDataError, IoError, UsageError } from '../errors.js';
import { auc, gauc, logloss, rocCurve } from '../metrics.js';
import { currentInvocation, noProgress, outputMeta, OutputStage, type OnProgress } from '../output.js';
import { VERSION } from '../version.js';
import { checkGate, readBaselineMetrics } from './gate.js';
import { gsuScoreHistogram, summarizeGsuFile } from './gsu-files.js';
import { loadEmbeddings, loadPredictions, loadTruthPairs, parseNamedPaths, readCurve, type Curve, type SplitPredictions } from './inputs.js';
import { pairedTest } from './paired.js';
import { defaultPopularityThreshold, popularityGroups } from './popularity.js';
import { pairRanks, recallFromRanks, type PairRanks } from './recall.js';
import { readArrow } from '../arrow-io.js';
import { EVAL_RANKS } from '../schemas.js';
import { inShard, parseShard, rowsByKey, shardLabel, readShardFiles, type ShardPart, type ShardSpec } from '../shard.js';
import { renderReportHtml, type ReportData } from './report-html.js';
import { nullable, type PlantedMetrics, type EvaluateResult, type GsuSummary, type RecallMetrics, type RunMetrics } from './result.js';

export const EVAL_SPLITS = ['test', 'valid'] as const;

export interface EvaluateOptions {
  /** predictions files: `NAME=path/predictions.arrow`, a plain path (name = parent folder) or a run folder */
  predictions: string[];
  /** split of the predictions to score */
  split: (typeof EVAL_SPLITS)[number];
  /** run the AUC gains are relative to; default `din`, else `ctr-din`, else the first run */
  baselineRun?: string;
  /** prepared dataset folder: item popularity (items.arrow target_count) and item domains for Recall@K */
  data?: string;
  /** low-interaction = items with target_count below this; default the median target_count of target items with count > 0 */
  popularityThreshold?: number;
  /** GSU files (`NAME=gsu.arrow`) whose similarity scores are histogrammed */
  gsu: string[];
  /** embedding files (`NAME=file.arrow`) scored by Recall@K */
  embeddings: string[];
  /** pairs.arrow used as Recall@K truth */
  pairs?: string;
  /**
   * PAIRS files the embeddings were trained on (their train-split rows; all rows without a split column):
   * truth pairs that are also training pairs, in either orientation, are dropped. The train-split rows of
   * `pairs` itself are always excluded; this adds a truth file's training counterparts (e.g. pairs-esu next
   * to a separately extracted pairs-truth, pairs-swing for a Swing-trained model).
   */
  trainPairs?: string[];
  /** K values reported for Recall@K */
  ks: number[];
  /** metrics.json to gate against (a previous `--json` / `--save-metrics` output) */
  baselineMetrics?: string;
  /** largest allowed absolute drop of any tracked metric */
  maxDrop: number;
  /** write the self-contained HTML report here */
  html?: string;
  /** write the result JSON here */
  saveMetrics?: string;
  /**
   * "i/n": only Recall@K's scoring half, for the truth pairs with index mod n = i, written to `out`/ranks.arrow
   * (`gist merge` joins the shards; `ranks` reads the result).
   */
  shard?: string;
  /** the folder a shard writes (with `shard`) */
  out?: string;
  /** a merged ranks folder (or ranks.arrow): Recall@K from these ranks instead of scoring the pairs again */
  ranks?: string;
}

/** Defaults of the options flags leave out. */
export const DEFAULT_EVALUATE_OPTIONS: EvaluateOptions = {
  predictions: [],
  split: 'test',
  gsu: [],
  embeddings: [],
  ks: [10, 100, 1000],
  maxDrop: 0.002,
};

/** Names tried, in order, for the default baseline run. */
const DEFAULT_BASELINE_NAMES = ['din', 'ctr-din'];

const HIST_BINS = 40;

function checkOptions(o: EvaluateOptions): void {
  if (!o.predictions.length && !o.embeddings.length && !o.gsu.length) {
    throw new UsageError('nothing to evaluate: give predictions files, --embeddings with --pairs, or --gsu');
  }
  if (o.embeddings.length && !o.pairs && !o.data) throw new UsageError('--embeddings needs --pairs pairs.arrow (the Recall@K truth), or --data with planted truth (synthetic)');
  if (o.pairs && !o.embeddings.length) throw new UsageError('--pairs is only used with --embeddings NAME=file.arrow');
  if (o.trainPairs?.length && !o.pairs) throw new UsageError('--train-pairs is only used with --pairs (it filters the Recall@K truth)');
  if (o.popularityThreshold !== undefined && !o.data) throw new UsageError('--popularity-threshold needs --data DIR (item popularity comes from items.arrow)');
  if (o.popularityThreshold !== undefined && !(o.popularityThreshold > 0 && Number.isFinite(o.popularityThreshold))) {
    throw new UsageError(`--popularity-threshold must be a positive number, got ${o.popularityThreshold}`);
  }
  if (!(o.maxDrop >= 0 && Number.isFinite(o.maxDrop))) throw new UsageError(`--max-drop must be ≥ 0, got ${o.maxDrop}`);
  if (!o.ks.length || o.ks.some((k) => !Number.isInteger(k) || k < 1)) throw new UsageError(`--ks must be positive integers, got ${o.ks.join(',')}`);
  if (!(EVAL_SPLITS as readonly string[]).includes(o.split)) throw new UsageError(`--split must be test or valid, got ${o.split}`);
  if (o.shard !== undefined) {
    if (!o.out) throw new UsageError('--shard writes ranks.arrow into --out DIR: give --out');
    if (!o.embeddings.length || !o.pairs) throw new UsageError('--shard shards Recall@K scoring: give --embeddings and --pairs');
    if (o.predictions.length || o.gsu.length || o.html || o.saveMetrics || o.baselineMetrics || o.ranks) throw new UsageError('--shard scores Recall@K pairs only: predictions, --gsu, --html, --save-metrics, --baseline-metrics and --ranks belong to the evaluate that reads the merged ranks (--ranks DIR)');
  } else if (o.out) throw new UsageError('--out is for --shard (the ranks of one shard)');
  if (o.ranks && !o.pairs) throw new UsageError('--ranks replaces the scoring of --pairs: give --embeddings and --pairs as the shards had them');
}

function loadDataItems(dir: string): Items {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new IoError(`${dir}: no such dataset folder (--data)`);
  return loadItems(path.join(dir, DATASET_FILES.items));
}

function gainPct(a: number | null, base: number | null): number | null {
  return a === null || base === null || base === 0 ? null : ((a - base) / base) * 100;
}

/** K values for the Recall@K curve: 1, 1.5, 2, 3, 5, 7 × 10^e up to the largest K, plus the requested ones. */
function curveKs(ks: readonly number[]): number[] {
  const maxK = Math.max(...ks);
  const out = new Set(ks);
  for (let e = 0; 10 ** e <= maxK; e++) for (const m of [1, 1.5, 2, 3, 5, 7]) if (Math.round(m * 10 ** e) <= maxK) out.add(Math.round(m * 10 ** e));
  return [...out].sort((a, b) => a - b);
}

/** Item domain most related items belong to (candidates for Recall@K are that domain's items). */
function relatedDomain(items: Items, related: Int32Array): number {
  const counts = [0, 0];
  for (const r of related) if (r < items.count) counts[items.domain[r]]++;
  return counts[DOMAIN_CODE.target] > counts[DOMAIN_CODE.source] ? DOMAIN_CODE.target : DOMAIN_CODE.source;
}

/** Compute every metric, check the gate, write --save-metrics / --html; the gate verdict is returned, not thrown. */
export async function evaluate(options: Partial<EvaluateOptions>, onProgress: OnProgress = noProgress): Promise<EvaluateResult> {
  const o: EvaluateOptions = { ...DEFAULT_EVALUATE_OPTIONS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  checkOptions(o);
  const ks = [...new Set(o.ks)].sort((a, b) => a - b);
  const warnings: string[] = [];
  const items = o.data ? loadDataItems(o.data) : null;
  const baselineDoc = o.baselineMetrics ? readBaselineMetrics(o.baselineMetrics) : null;
  const invocation = currentInvocation();
  const header = { dataset: o.data ? path.resolve(o.data) : null, commandLine: invocation?.command_line ?? null, date: invocation?.started_at ?? new Date().toISOString() };
  const report: Omit<ReportData, 'result'> = { roc: [], recallCurves: [], gsuHist: [], ctrCurves: [], embeddingCurves: [], version: VERSION, header };
  const addCurve = (list: { name: string; curve: Curve }[], name: string, file: string): void => {
    const c = readCurve(file);
    if (typeof c === 'string') warnings.push(c);
    else if (c) list.push({ name, curve: c });
  };

  // CTR runs
  const runsIn = parseNamedPaths(o.predictions, 'predictions.arrow', 'predictions');
  const threshold = items ? (o.popularityThreshold ?? defaultPopularityThreshold(items.targetCount, items.domain, DOMAIN_CODE.target)) : null;
  const runs: RunMetrics[] = [];
  const predictions = new Map<string, SplitPredictions>();
  runsIn.forEach((r, i) => {
    onProgress({ phase: 'predictions', done: i, total: runsIn.length, info: r.name });
    const p = loadPredictions(r.file, o.split, items?.key ?? null);
    if (o.data) requireSameDataset(r.file, p.metadata, o.data);
    let positives = 0;
    for (let j = 0; j < p.label.length; j++) positives += p.label[j];
    let popularity: RunMetrics['popularity'] = null;
    if (items && threshold !== null) {
      for (let j = 0; j < p.itemId.length; j++) {
        if (p.itemId[j] >= items.count) throw new InputDataError(`item id ${p.itemId[j]} is not in --data ${o.data} (${items.count} items)`, r.file, 'item_id');
      }
      const g = popularityGroups(p.itemId, p.label, p.score, items.targetCount, threshold);
      popularity = { threshold, low: { auc: nullable(g.low.auc), n: g.low.n, auc_gain_pct: null }, high: { auc: nullable(g.high.auc), n: g.high.n, auc_gain_pct: null } };
    }
    runs.push({ name: r.name, file: path.resolve(r.file), auc: nullable(auc(p.label, p.score)), gauc: nullable(gauc(p.userId, p.label, p.score)), logloss: nullable(logloss(p.label, p.score)), auc_gain_pct: null, n: p.label.length, positives, popularity, auc_vs_baseline: null });
    predictions.set(r.name, p);
    report.roc.push({ name: r.name, ...rocCurve(p.label, p.score) });
    addCurve(report.ctrCurves, r.name, path.join(path.dirname(r.file), 'curve.json'));
  });
  if (runsIn.length) onProgress({ phase: 'predictions', done: runsIn.length, total: runsIn.length });
  let baseline: string | null = null;
  if (runs.length) {
    if (o.baselineRun !== undefined && !runs.some((r) => r.name === o.baselineRun)) {
      throw new UsageError(`--baseline-run ${o.baselineRun}: no such run (runs: ${runs.map((r) => r.name).join(', ')})`);
    }
    baseline = o.baselineRun ?? DEFAULT_BASELINE_NAMES.find((n) => runs.some((r) => r.name === n)) ?? runs[0].name;
    const b = runs.find((r) => r.name === baseline)!;
    for (const r of runs) {
      r.auc_gain_pct = gainPct(r.auc, b.auc);
      if (r !== b) {
        const t = pairedTest(predictions.get(r.name)!, predictions.get(b.name)!);
        if (typeof t === 'string') warnings.push(`${r.name} vs ${b.name}: no paired AUC test (${t})`);
        else r.auc_vs_baseline = t;
      }
      if (r.popularity && b.popularity) {
        r.popularity.low.auc_gain_pct = gainPct(r.popularity.low.auc, b.popularity.low.auc);
        r.popularity.high.auc_gain_pct = gainPct(r.popularity.high.auc, b.popularity.high.auc);
      }
    }
  }

  // Recall@K of embeddings
  const recall: RecallMetrics[] = [];
  const shard = parseShard(o.shard);
  const ranksIn = o.ranks ? readRanks(o.ranks, o) : null;
  const shardRows: { embedding: string[]; pair: number[]; greater: number[]; ties: number[] } = { embedding: [], pair: [], greater: [], ties: [] };
  if (o.embeddings.length && o.pairs) {
    const truth = loadTruthPairs(o.pairs, o.trainPairs ?? []);
    if (truth.heldOut === 0) warnings.push(`Recall@K truth: ${o.pairs} has no valid/test pairs; recall is n/a (null)`);
    else if (truth.target.length === 0) warnings.push(`Recall@K truth: no held-out pairs left in ${o.pairs} once training pairs are left out; recall is n/a (null)`);
    for (const e of parseNamedPaths(o.embeddings, 'embeddings.arrow', '--embeddings')) {
      const emb = loadEmbeddings(e.file, items?.count);
      const rows = emb.has.length;
      const keep: number[] = [];
      // Self-pairs cannot be retrieved (the query is never its own candidate); targets without a vector cannot be queried.
      for (let i = 0; i < truth.target.length; i++) if (truth.target[i] !== truth.related[i] && truth.target[i] < rows && emb.has[truth.target[i]]) keep.push(i);
      const target = Int32Array.from(keep, (i) => truth.target[i]);
      const related = Int32Array.from(keep, (i) => truth.related[i]);
      const domain = items ? relatedDomain(items, related) : -1;
      const cands: number[] = [];
      for (let id = 0; id < rows; id++) if (emb.has[id] && (domain < 0 || items!.domain[id] === domain)) cands.push(id);
      if (shard) {
        // This shard's pairs only; their ranks are computed exactly as in one run (each pair on its own).
        const mine = Int32Array.from({ length: target.length }, (_, i) => i).filter((i) => inShard(i, shard));
        const part = pairRanks(emb.vectors, { target: mine.map((i) => target[i]), related: mine.map((i) => related[i]) }, Int32Array.from(cands), (p) => onProgress({ ...p, info: e.name }));
        mine.forEach((i, j) => {
          shardRows.embedding.push(e.name);
          shardRows.pair.push(i);
          shardRows.greater.push(part.greater[j]);
          shardRows.ties.push(part.ties[j]);
        });
        continue;
      }
      const ranks = ranksIn ? ranksOf(ranksIn, e.name, keep.length, o.ranks as string) : pairRanks(emb.vectors, { target, related }, Int32Array.from(cands), (p) => onProgress({ ...p, info: e.name }));
      const atK = recallFromRanks(ranks, ks);
      // K at or past the candidate count retrieves every candidate: recall 1 there measures nothing.
      const tooLarge = ks.filter((k) => k >= cands.length);
      if (tooLarge.length) warnings.push(`Recall@K of ${e.name}: K ${tooLarge.join(', ')} ≥ its ${cands.length} candidates; n/a`);
      recall.push({
        name: e.name,
        file: path.resolve(e.file),
        recall: Object.fromEntries(Object.entries(atK).map(([k, v]) => [k, Number(k) >= cands.length ? null : nullable(v)])),
        pairs: keep.length,
        skipped_pairs: truth.target.length - keep.length,
        candidates: cands.length,
        truth: truth.truth,
        truth_pairs_dropped_overlap: truth.droppedOverlap,
      });
      if (keep.length) {
        const grid = curveKs(ks);
        const r = recallFromRanks(ranks, grid);
        report.recallCurves.push({ name: e.name, ks: grid, recall: grid.map((k) => r[String(k)]), marked: ks });
      }
      addCurve(report.embeddingCurves, e.name, path.join(path.dirname(e.file), 'loss_curve.json'));
    }
  }

  if (shard) return (await writeRanksShard(o, shard, shardRows)) as unknown as EvaluateResult;

  // GSU similarity scores, and (synthetic data) the planted-truth shares of each GSU file from the same read: the
  // paper-shaped run's three files hold 100M results each, read batch by batch (gsu-files.ts).
  const truth = o.data ? loadPlantedTruth(o.data, o.split, onProgress) : null;
  const planted: PlantedMetrics | null = truth ? { gsu: [], gsu_clicked: [], embeddings: [] } : null;
  const gsu: GsuSummary[] = [];
  const gsuFiles = parseNamedPaths(o.gsu, 'gsu.arrow', '--gsu');
  for (const g of gsuFiles) {
    const input = truth ? { samples: truth.ds.samples.target, numItems: truth.ds.items.count, planted: truth.planted, history: historyCounts(truth) } : null;
    const p = summarizeGsuFile(g.file, g.name, ks, input);
    if (p.shares && planted) {
      planted.gsu.push(...p.shares.all);
      planted.gsu_clicked.push(...p.shares.clicked);
    }
    gsu.push({ name: g.name, file: path.resolve(g.file), samples: p.samples, scores: p.scores, mean: nullable(p.sum / p.scores), min: nullable(p.min), max: nullable(p.max) });
  }
  if (gsu.length) {
    // One bin grid for every GSU file so the histograms compare directly.
    let lo = Math.min(...gsu.map((g) => g.min ?? Infinity));
    let hi = Math.max(...gsu.map((g) => g.max ?? -Infinity));
    if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
    if (hi - lo < 1e-6) [lo, hi] = [lo - 0.5, hi + 0.5];
    const edges = Array.from({ length: HIST_BINS + 1 }, (_, b) => lo + ((hi - lo) * b) / HIST_BINS);
    for (const [i, g] of gsuFiles.entries()) report.gsuHist.push({ name: g.name, edges, counts: gsuScoreHistogram(g.file, lo, hi, HIST_BINS), mean: gsu[i].mean });
  }

  if (truth && planted) {
    for (const e of parseNamedPaths(o.embeddings, 'embeddings.arrow', '--embeddings')) planted.embeddings.push(plantedEmbeddingRecall(truth, e.name, e.file, ks));
    onProgress({ phase: 'planted truth', done: 1, total: 1 });
  }
  if (o.embeddings.length && !o.pairs && !planted) throw new UsageError('--embeddings needs --pairs pairs.arrow (the Recall@K truth): --data has no planted truth');
  const result: EvaluateResult = { split: o.split, baseline, runs, recall, gsu, ...(planted ? { planted } : {}), warnings, outputs: {} };
  if (baselineDoc && o.baselineMetrics) result.gate = checkGate(result, baselineDoc, o.maxDrop, o.baselineMetrics);
  // Key order of the JSON: gate before warnings/outputs.
  const ordered: EvaluateResult = { split: result.split, baseline: result.baseline, runs, recall, gsu, ...(planted ? { planted } : {}), ...(result.gate ? { gate: result.gate } : {}), warnings, outputs: {} };
  if (o.html) ordered.outputs.html = isStdout(o.html) ? o.html : path.resolve(o.html);
  if (o.saveMetrics) ordered.outputs.metrics = isStdout(o.saveMetrics) ? o.saveMetrics : path.resolve(o.saveMetrics);
  if (o.saveMetrics) writeOutputFile(o.saveMetrics, JSON.stringify(ordered, null, 2) + '\n');
  if (o.html) writeOutputFile(o.html, renderReportHtml({ ...report, result: ordered }));
  return ordered;
}

/** What `evaluate --shard i/n` returns: the ranks of its share of the truth pairs. */
export interface EvaluateShardResult {
  shard: string;
  pairs: number;
  outputs: { ranks: string };
}

/** The settings that decide the ranks: shards of one run, and the evaluate reading them, must agree on them. */
function ranksSettings(o: EvaluateOptions): Record<string, unknown> {
  const embeddings = parseNamedPaths(o.embeddings, 'embeddings.arrow', '--embeddings').map((e) => `${e.name}=${path.resolve(e.file)}`);
  return { command: 'evaluate', embeddings, pairs: path.resolve(o.pairs as string), train_pairs: (o.trainPairs ?? []).map((f) => path.resolve(f)), data: o.data ? path.resolve(o.data) : null };
}

async function writeRanksShard(o: EvaluateOptions, shard: ShardSpec, r: { embedding: string[]; pair: number[]; greater: number[]; ties: number[] }): Promise<EvaluateShardResult> {
  // Row key: the embedding's place in --embeddings, then the pair: the order of one run's ranks.
  const names = parseNamedPaths(o.embeddings, 'embeddings.arrow', '--embeddings').map((e) => e.name);
  const rowKey = Int32Array.from(r.pair, (p, i) => (names.indexOf(r.embedding[i]) << 24) | p);
  if (r.pair.some((p) => p >= 1 << 24) || names.length > 127) throw new UsageError('evaluate --shard: at most 127 embeddings and 16M truth pairs');
  const settings = ranksSettings(o);
  const meta = outputMeta('evaluate', 0, settings);
  return OutputStage.run(o.out as string, [], (stage) => {
    const file = stage.writeArrow(RANKS_FILE, EVAL_RANKS, { row: rowKey, embedding: r.embedding, pair: Int32Array.from(r.pair), greater: Int32Array.from(r.greater), ties: Int32Array.from(r.ties) }, { ...meta, shard: shardLabel(shard) });
    stage.writeJson('config.json', { ...settings, shard: shardLabel(shard) });
    return { shard: shardLabel(shard), pairs: r.pair.length, outputs: { ranks: file } };
  });
}

export const RANKS_FILE = 'ranks.arrow';

/** `gist merge` of `evaluate --shard i/n` folders: one ranks.arrow in the order of one run. */
export async function mergeRanksShards(parts: ShardPart[], out: string): Promise<{ file: string; rows: number }> {
  const { files, meta } = readShardFiles(parts, RANKS_FILE, EVAL_RANKS);
  const columns = rowsByKey(files, 'row', EVAL_RANKS.columns.map((c) => c.name));
  const { shard: _part, ...config } = parts[0].config;
  return OutputStage.run(out, parts.map((p) => p.dir), (stage) => {
    const file = stage.writeArrow(RANKS_FILE, EVAL_RANKS, columns, meta);
    stage.writeJson('config.json', config);
    return { file, rows: (columns.row as Int32Array).length };
  });
}

function readRanks(input: string, o: EvaluateOptions): { file: string; embedding: string[]; pair: Int32Array; greater: Int32Array; ties: Int32Array } {
  const file = input.endsWith('.arrow') ? input : path.join(input, RANKS_FILE);
  if (!fs.existsSync(file)) throw new IoError(`${file}: no such file (--ranks: a gist merge of evaluate --shard folders)`);
  const f = readArrow(file, EVAL_RANKS);
  if (f.metadata.shard !== undefined) throw new InputDataError(`one shard (${f.metadata.shard}) of the ranks: merge every shard with gist merge first`, file);
  if (f.metadata.config_hash !== outputMeta('evaluate', 0, ranksSettings(o)).config_hash) throw new UsageError(`--ranks ${file} was scored with other --embeddings, --pairs, --train-pairs or --data than given here`);
  return { file, embedding: f.columns.embedding as string[], pair: f.columns.pair as Int32Array, greater: f.columns.greater as Int32Array, ties: f.columns.ties as Int32Array };
}

function ranksOf(r: ReturnType<typeof readRanks>, name: string, pairs: number, where: string): PairRanks {
  const greater = new Int32Array(pairs);
  const ties = new Int32Array(pairs);
  const seen = new Uint8Array(pairs);
  for (let i = 0; i < r.pair.length; i++) {
    if (r.embedding[i] !== name) continue;
    const p = r.pair[i];
    if (p >= pairs || seen[p]) throw new InputDataError(`pair ${p} of ${name} out of range or repeated`, r.file, 'pair', i);
    seen[p] = 1;
    greater[p] = r.greater[i];
    ties[p] = r.ties[i];
  }
  if (seen.some((x) => x === 0)) throw new InputDataError(`${name}: not every truth pair has a rank (${where} is from another run)`, r.file);
  return { greater, ties };
}

/** Planted-truth diagnostics when --data is synthetic (planted.arrow): its dataset and planted topics, loaded once. */
interface PlantedTruth {
  ds: Dataset;
  planted: Planted;
  split: number;
  /** The split's history counts, made by the first GSU that needs them and shared by the others. */
  history?: PlantedHistoryCounts;
}

function loadPlantedTruth(dir: string, split: EvaluateOptions['split'], onProgress: OnProgress): PlantedTruth | null {
  if (!fs.existsSync(path.join(dir, DATASET_FILES.planted))) return null;
  onProgress({ phase: 'planted truth', done: 0, total: 1 });
  const ds = loadDataset(dir, { sequences: [] }); // the source sequences are read batch by batch for the counts
  return { ds, planted: readPlanted(dir, ds.items.count) as Planted, split: SPLIT_CODE[split] }; // present: checked above
}

/** The split's planted history counts, counted by the first GSU file that needs them and shared by the others. */
function historyCounts(t: PlantedTruth): PlantedHistoryCounts {
  return (t.history ??= plantedHistoryCounts(t.ds.samples.target, path.join(t.ds.dir, DATASET_FILES.sequences('source')), t.planted, t.split));
}

/** Each embedding's recall of planted neighbours (same sub-topic, across domains). */
function plantedEmbeddingRecall(t: PlantedTruth, name: string, file: string, ks: readonly number[]): PlantedMetrics['embeddings'][number] {
  const emb = loadEmbeddings(file, t.ds.items.count);
  return plantedNeighbourRecall(name, emb.vectors, emb.has, t.ds.items, t.planted, ks, PLANTED_QUERIES, makeRng(PLANTED_QUERY_SEED));
}

/** Target items queried for the planted-neighbour recall (a fixed sample, so runs compare). */
const PLANTED_QUERIES = 500;
const PLANTED_QUERY_SEED = 1;

