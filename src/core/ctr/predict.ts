/**
 * `gist predict`: score samples with a trained `train-ctr` model of any variant — the dataset's own samples, or new
 * ones from a file (user, item, ts; label optional) with histories from the prepared dataset. Variants that read
 * GSU results search the user's source sequence for each sample with the embeddings the model's GSU used (soft)
 * or by category (hard); ASI reads the model's joint embeddings. Writes predictions (Arrow, Parquet or CSV), the
 * searched gsu.arrow when one was needed, and config.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { encodeArrow, type Columns, type OutputMeta } from '../arrow-io.js';
import { readJsonFile } from '../config.js';
import { datasetIdentity, loadDataset, loadUserKeys, samplesInSplit, SPLIT_CODE, type Dataset, type Samples } from '../dataset.js';
import { initBackend, type BackendName } from '../engine/backend.js';
import { loadWeights } from '../engine/model-io.js';
import { InputDataError, IoError, UsageError } from '../errors.js';
import { noProgress, OutputStage, outputMeta, type OnProgress } from '../output.js';
import { parquetBytes } from '../parquet.js';
import { aliasedColumn, csvField, forEachTableRow } from '../prepare/delimited.js';
import { mergeGsuShards, searchGsu } from '../retrieval/gsu.js';
import { blockRows, parseShard, rowsByKey, shardLabel, readShardFiles, type ShardPart } from '../shard.js';
import { makeRng } from '../rng.js';
import { PREDICTED, SPLITS, type Split } from '../schemas.js';
import { CtrBatcher, historyLengthsBefore, searchedEventsOf } from './batcher.js';
import { resolveModelConfig, variantNeeds, type CtrModelConfig } from './config.js';
import { loadGsu, loadJoint } from './inputs.js';
import { CtrModel } from './model.js';
import { CTR_OUTPUTS } from './train.js';
import { scoreSamples, scoringOrder } from './trainer.js';
import { camelKeys } from '../keys.js';

export const PREDICT_FORMATS = ['arrow', 'parquet', 'csv'] as const;
/** Samples per scoring batch. */
const PREDICT_BATCH = 2048;
export type PredictFormat = (typeof PREDICT_FORMATS)[number];

export interface PredictOptions {
  /** A `train-ctr` output folder (model/, config.json). */
  model: string;
  /** The prepared dataset: items and histories (and the samples, without `samples`). */
  data: string;
  /** New samples (.csv, .tsv, .parquet): user/user_id, item/item_id, ts, label optional; gist's ids. */
  samples?: string;
  /** The dataset's own samples of these splits (without `samples`); default all. */
  splits?: Split[];
  /** Embeddings for the GSU (soft) instead of those the model's gsu.arrow was searched with. */
  embeddings?: string;
  /** Joint embeddings for ASI instead of those the model trained with. */
  joint?: string;
  out: string;
  format?: PredictFormat;
  seed: number;
  backend: BackendName;
  /** "i/n": only blocks b of the scoring order with b mod n = i (predictions.arrow whatever the format; `gist merge` writes it). */
  shard?: string;
  onProgress?: OnProgress;
}

export interface PredictResult {
  out: string;
  shard: string | null;
  predictions: string;
  format: PredictFormat;
  variant: string;
  asi: string;
  rows: number;
  mean_score: number;
  gsu: string | null;
  embeddings: string | null;
  joint: string | null;
  outputs: { predictions: string; gsu?: string; config: string };
}

/** A `train-ctr` output folder's model, its resolved config and the run's record (config.json). */
export async function loadCtrModel(modelOutDir: string): Promise<{ model: CtrModel; cfg: CtrModelConfig; record: Record<string, unknown> }> {
  const dir = path.join(modelOutDir, CTR_OUTPUTS.model);
  if (!fs.existsSync(dir)) throw new IoError(`${modelOutDir}: not a train-ctr output folder (no model/)`);
  const { weights, config } = await loadWeights(dir);
  const stored = camelKeys<{ model?: CtrModelConfig }>(config, false).model;
  const storedModel = stored && typeof stored === 'object' ? camelKeys<CtrModelConfig>(stored) : undefined;
  if (!storedModel) throw new InputDataError('no model config (not a train-ctr model folder)', path.join(dir, 'config.json'));
  const { numItems, numCategories, jointDim, ...flags } = storedModel;
  // A model saved before --simdist-norm existed used 'fraction'.
  const cfg: CtrModelConfig = { ...resolveModelConfig({ ...flags, simDistNorm: (flags as Partial<CtrModelConfig>).simDistNorm ?? 'fraction' }), numItems, numCategories, jointDim };
  const model = new CtrModel(cfg, makeRng(0), 1e-3);
  model.fromWeights(weights);
  const recordFile = path.join(modelOutDir, CTR_OUTPUTS.config);
  const record = fs.existsSync(recordFile) ? readJsonFile(recordFile) : {};
  return { model, cfg, record };
}

/**
 * New samples from a table file: users and items by gist id (`user_id`, `item_id`) or, for imported data, by the
 * data's own ids (`user`, `item`: looked up in users.arrow / items.arrow's item_key); a time; a label when known.
 */
function readSamples(file: string, ds: Dataset, userKeys: string[] | null, domain: 'source' | 'target'): { samples: Samples; labelled: boolean } {
  const userOf = userKeys ? new Map(userKeys.map((k, i) => [k, i])) : null;
  const itemOf = ds.items.key ? new Map(ds.items.key.map((k, i) => [k, i])) : null;
  let byKey = { user: false, item: false };
  if (!fs.existsSync(file)) throw new IoError(`${file}: no such file (--samples)`);
  const names = { user: ['user_id', 'user'], item: ['item_id', 'item'], ts: ['ts'], label: ['label'] } as const;
  let col: Record<keyof typeof names, number> | null = null;
  const users: number[] = [];
  const items: number[] = [];
  const ts: number[] = [];
  const labels: number[] = [];
  const numUsers = ds.sequences.source.numUsers;
  forEachTableRow(file, (f, line) => {
    if (!col) {
      const header = f.map((n) => n.trim().toLowerCase());
      // A gist id column wins; `user`/`item` are the data's own ids when it kept them.
      byKey = { user: !header.includes('user_id') && userOf !== null, item: !header.includes('item_id') && itemOf !== null };
      const find = (k: keyof typeof names, required: boolean): number => aliasedColumn(header, k, names[k], file, required);
      col = { user: find('user', true), item: find('item', true), ts: find('ts', true), label: find('label', false) };
      return;
    }
    const int = (k: 'user' | 'item', max: number): number => {
      const keys = k === 'user' ? userOf : itemOf;
      if (byKey[k] && keys) {
        const id = keys.get((f[col![k]] ?? '').trim());
        if (id === undefined) throw new InputDataError(`${k} "${f[col![k]]}" is not in --data (its own ${k} ids)`, file, k, line);
        return id;
      }
      const v = Number(f[col![k]]);
      if (!Number.isInteger(v) || v < 0 || v >= max) throw new InputDataError(`${k} "${f[col![k]]}" is not a ${k} id of --data (0 … ${max - 1})`, file, k, line);
      return v;
    };
    users.push(int('user', Math.max(numUsers, ds.sequences.target.numUsers)));
    const item = int('item', ds.items.count);
    if (ds.items.domain[item] !== (domain === 'target' ? 1 : 0)) throw new InputDataError(`item ${item} is not a ${domain}-domain item (the model ranks ${domain} items)`, file, 'item', line);
    items.push(item);
    const t = Number(f[col.ts]);
    if (!Number.isFinite(t)) throw new InputDataError(`ts "${f[col.ts]}" is not a number`, file, 'ts', line);
    ts.push(t);
    const raw = col.label >= 0 ? (f[col.label] ?? '').trim() : '';
    if (raw !== '' && raw !== '0' && raw !== '1') throw new InputDataError(`label "${raw}" is not 0, 1 or empty`, file, 'label', line);
    labels.push(raw === '' ? -1 : Number(raw));
  });
  if (!col) throw new InputDataError('empty file (expected a header and samples)', file);
  const n = users.length;
  if (n === 0) throw new InputDataError('no samples', file);
  const samples: Samples = {
    domain,
    count: n,
    userId: Int32Array.from(users),
    itemId: Int32Array.from(items),
    ts: Float64Array.from(ts),
    label: Int8Array.from(labels, (l) => Math.max(l, 0)),
    split: new Int8Array(n).fill(SPLIT_CODE.test),
    pTrue: null,
  };
  return { samples, labelled: labels.every((l) => l >= 0) };
}

function resolveFormat(format: string | undefined): PredictFormat {
  const f = format ?? 'arrow';
  if (!(PREDICT_FORMATS as readonly string[]).includes(f)) throw new UsageError(`--format must be one of ${PREDICT_FORMATS.join(', ')}, got ${f}`);
  return f as PredictFormat;
}

/** The embeddings and mode the model's own gsu.arrow was searched with (its config.json beside it). */
function gsuSettingsOf(record: Record<string, unknown>, modelDir: string): { mode: 'soft' | 'hard'; k: number; embeddings: string | null } {
  const gsuFile = typeof record.gsu === 'string' ? record.gsu : null;
  const cfgFile = gsuFile ? path.join(path.dirname(gsuFile), 'config.json') : null;
  if (!cfgFile || !fs.existsSync(cfgFile)) throw new UsageError(`${modelDir} searched with a gsu.arrow whose config.json is not found (${cfgFile ?? 'none recorded'}); give --gsu-embeddings FILE`);
  const c = readJsonFile(cfgFile);
  return { mode: c.mode === 'hard' ? 'hard' : 'soft', k: typeof c.k === 'number' ? c.k : 100, embeddings: typeof c.embeddings === 'string' ? c.embeddings : null };
}

export async function predict(o: PredictOptions): Promise<PredictResult> {
  const onProgress = o.onProgress ?? noProgress;
  const format = resolveFormat(o.format);
  if (o.samples && o.splits) throw new UsageError('--split chooses among the dataset\'s own samples; with --samples FILE every row is scored');
  await initBackend(o.backend);
  const shard = parseShard(o.shard);
  const { model, cfg, record } = await loadCtrModel(o.model);
  const needs = variantNeeds(cfg.variant, cfg.asi);
  if (!needs.gsu && o.embeddings) throw new UsageError(`the model is ${cfg.variant}: it searches nothing, so --gsu-embeddings is not read; drop it`);
  if (!needs.joint && o.joint) throw new UsageError(`the model (${cfg.variant}, asi ${cfg.asi}) reads no joint embeddings; drop --embeddings`);
  const ds = loadDataset(o.data);
  const userKeys = loadUserKeys(o.data);
  if (ds.items.count !== cfg.numItems) throw new InputDataError(`--data has ${ds.items.count} items, the model was trained on ${cfg.numItems}`, path.join(o.data, 'items.arrow'));
  let samples: Samples;
  let rows: Int32Array;
  let labelled = true;
  if (o.samples) {
    ({ samples, labelled } = readSamples(o.samples, ds, userKeys, cfg.domain));
    rows = Int32Array.from({ length: samples.count }, (_, i) => i);
  } else {
    samples = ds.samples[cfg.domain];
    rows = samplesInSplit(samples, o.splits ?? SPLITS);
  }
  if (shard) {
    // Whole scoring batches of one run (blocks of its length-sorted order, block b to shard b mod n): the shard
    // scores exactly the batches a single run does, so the merged scores are its bits.
    const order = scoringOrder(historyLengthsBefore(samples, ds.sequences[cfg.domain], cfg.maxHistory, rows));
    const all = rows;
    rows = Int32Array.from(blockRows(order.length, PREDICT_BATCH, shard), (p) => all[order[p]]).sort();
  }
  if (needs.gsu && cfg.domain !== 'target') throw new UsageError('GSU search is for target-domain models');

  return OutputStage.run(o.out, [o.data, o.model], async (stage) => {
    let gsuFile: string | null = null;
    let embeddings: string | null = null;
    if (needs.gsu) {
      const settings = gsuSettingsOf(record, o.model);
      embeddings = settings.mode === 'soft' ? (o.embeddings ?? settings.embeddings) : null;
      if (settings.mode === 'soft' && !embeddings) throw new UsageError('the model\'s GSU searched embeddings that are not recorded; give --gsu-embeddings FILE');
      // The search stages its own output inside ours; its gsu.arrow then moves (no copy) to OUT/gsu.arrow.
      const searchDir = stage.file('gsu-search');
      try {
        const only = shard ? { rows, shard: shardLabel(shard) } : undefined;
        const r = await searchGsu({ data: o.data, embeddings: embeddings ?? undefined, out: searchDir, config: { mode: settings.mode, k: Math.max(settings.k, cfg.maxSearch) }, seed: o.seed, samples, only, onProgress });
        gsuFile = stage.file('gsu.arrow');
        fs.renameSync(r.file, gsuFile);
      } finally {
        fs.rmSync(searchDir, { recursive: true, force: true });
      }
    }
    const jointFile = needs.joint ? (o.joint ?? (typeof record.joint === 'string' ? record.joint : null)) : null;
    if (needs.joint && !jointFile) throw new UsageError('the model\'s joint embeddings are not recorded; give --embeddings FILE');
    const gsu = gsuFile ? loadGsu(gsuFile, samples.count, ds.items.count) : null;
    const joint = jointFile ? loadJoint(jointFile, ds.items.count, ds.dir) : null;
    model.bindData(ds.items.category, joint);
    const searchedEvents = searchedEventsOf(cfg, samples, () => historyLengthsBefore(samples, ds.sequences.source, Infinity));
    const batcher = new CtrBatcher(cfg, { items: ds.items, samples, history: ds.sequences[cfg.domain], gsu, joint, searchedEvents }, PREDICT_BATCH);
    const scores = scoreSamples(model, batcher, rows, PREDICT_BATCH, onProgress, 'predict');

    const columns: Columns = {
      sample_id: rows,
      user_id: Int32Array.from(rows, (i) => samples.userId[i]),
      item_id: Int32Array.from(rows, (i) => samples.itemId[i]),
      ts: Float64Array.from(rows, (i) => samples.ts[i]),
      score: scores,
    };
    if (labelled) columns.label = Int8Array.from(rows, (i) => samples.label[i]);
    if (!o.samples) columns.split = { codes: Int32Array.from(rows, (i) => samples.split[i]), values: [...SPLITS] };
    if (userKeys) columns.user_key = Array.from(rows, (i) => userKeys[samples.userId[i]]);
    if (ds.items.key) columns.item_key = Array.from(rows, (i) => ds.items.key![samples.itemId[i]]);
    const meta = { ...outputMeta('predict', o.seed, { model: cfg, samples: o.samples ?? null, splits: o.splits ?? null }, datasetIdentity(o.data)), ...(shard ? { shard: shardLabel(shard) } : {}) };
    // A shard writes Arrow (what `gist merge` reads); the merge writes the format asked for.
    const name = writePredictions(stage, columns, meta, shard ? 'arrow' : format);
    let sum = 0;
    for (const s of scores) sum += s;
    const config = { command: 'predict', seed: o.seed, backend: o.backend, model: path.resolve(o.model), data: path.resolve(o.data), samples: o.samples ? path.resolve(o.samples) : null, embeddings, joint: jointFile, format, ...(shard ? { shard: shardLabel(shard) } : {}) };
    return {
      out: path.resolve(o.out),
      shard: shard ? shardLabel(shard) : null,
      predictions: stage.final(name),
      format,
      variant: cfg.variant,
      asi: cfg.asi,
      rows: rows.length,
      mean_score: rows.length ? sum / rows.length : 0,
      gsu: gsuFile ? stage.final('gsu.arrow') : null,
      embeddings: embeddings ? path.resolve(embeddings) : null,
      joint: jointFile ? path.resolve(jointFile) : null,
      outputs: { predictions: stage.final(name), ...(gsuFile ? { gsu: stage.final('gsu.arrow') } : {}), config: stage.writeJson('config.json', config) },
    };
  });
}

/** predictions.<format> from PREDICTED columns; returns the file name. */
function writePredictions(stage: OutputStage, columns: Columns, meta: OutputMeta, format: PredictFormat): string {
  const name = `predictions.${format}`;
  const bytes = encodeArrow(PREDICTED, columns, meta);
  if (format === 'arrow') stage.writeText(name, bytes);
  else if (format === 'parquet') stage.writeText(name, parquetBytes(tableFromIPC(bytes)));
  else {
    const names = Object.keys(columns);
    const t = tableFromIPC(bytes);
    const cols = names.map((c) => t.getChild(c)!);
    let text = names.join(',') + '\n';
    for (let r = 0; r < t.numRows; r++) text += cols.map((c) => csvField(String(c.get(r)))).join(',') + '\n';
    stage.writeText(name, text);
  }
  return name;
}

/** `gist merge` of `predict --shard i/n` folders: rows back in sample order, in the format asked for, with the GSU rows merged too. */
export async function mergePredictShards(parts: ShardPart[], out: string): Promise<{ file: string; rows: number }> {
  const { files, meta } = readShardFiles(parts, 'predictions.arrow', PREDICTED);
  // One run writes its rows in ascending sample_id; the shards hold disjoint users, so disjoint samples.
  const columns = rowsByKey(files, 'sample_id', PREDICTED.columns.map((c) => c.name));
  const total = (columns.sample_id as Int32Array).length;
  const { shard: _part, ...config } = parts[0].config;
  const format = resolveFormat(config.format as string);
  const gsuShards = parts.map((p) => path.join(p.dir, 'gsu.arrow'));
  return OutputStage.run(out, parts.map((p) => p.dir), async (stage) => {
    const name = writePredictions(stage, columns, meta, format);
    if (gsuShards.every((f) => fs.existsSync(f))) {
      const mergeDir = stage.file('gsu-merge');
      try {
        const r = await mergeGsuShards({ inputs: gsuShards, out: mergeDir });
        fs.renameSync(r.file, stage.file('gsu.arrow'));
      } finally {
        fs.rmSync(mergeDir, { recursive: true, force: true });
      }
    }
    stage.writeJson('config.json', config);
    return { file: stage.final(name), rows: total };
  });
}
