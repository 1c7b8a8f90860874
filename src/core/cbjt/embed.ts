/**
 * `gist embed` (paper section 4, online deployment): joint representations u for new items from their
 * content alone — ct = F_C(v), bh = F_B(v), u = union(ct, bh) — with the trained models of train-content,
 * train-behavior and train-union. No retraining, no behaviour data needed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { requireRange } from '../config.js';
import { initBackend, type BackendName } from '../engine/backend.js';
import type { VectorColumn } from '../arrow-io.js';
import { InputDataError, UsageError } from '../errors.js';
import { noProgress, outputMeta, OutputStage, type OnProgress } from '../output.js';
import { blockRows, parseShard, shardLabel, readShardFiles, type ShardPart } from '../shard.js';
import { EMBEDDINGS } from '../schemas.js';
import { gatherRows, type ContentEncoder } from './encoder.js';
import { readContentItems, type ContentItems } from './items.js';
import { loadEncoder, loadUnion } from './model-files.js';
import { round6 } from './common.js';
import { unionEmbedAll } from './train-union.js';
import type { UnionModel } from './union.js';

export interface EmbedOptions {
  /** Union model folder (`UNION_OUT/model`); without it the encoders' ct/bh alone (their final encoding pass). */
  model?: string;
  /** Content encoder folder (`CONTENT_OUT/model`); needed unless the union model uses bh only. */
  contentModel?: string;
  /** Behavior encoder folder (`BEHAVIOR_OUT/model`); needed unless the union model uses ct only. */
  behaviorModel?: string;
  /** ITEMS-shaped Arrow file of the new items (ids need not be dense). */
  items: string;
  out: string;
  seed: number;
  backend: BackendName;
  /** Items per inference batch. */
  batchSize?: number;
  /** "i/n": blocks of batchSize rows, block b to shard b mod n; join with `gist merge`. */
  shard?: string;
  onProgress?: OnProgress;
}

export interface EmbedResult {
  items: number;
  dim: number;
  view: string;
  seconds: number;
  shard: string | null;
  outputs: { joint?: string; content?: string; behavior?: string };
}

/** ct, bh and u for a set of items, from already-loaded models (also used by tests and other commands). */
export function embedContentItems(
  items: ContentItems,
  union: UnionModel,
  content: ContentEncoder | null,
  behavior: ContentEncoder | null,
  batchSize = 2048,
): { ct: Float32Array | null; bh: Float32Array | null; u: Float32Array } {
  const needCt = union.arch.view !== 'behavior';
  const needBh = union.arch.view !== 'content';
  if (needCt && !content) throw new UsageError('this union model needs the content encoder (--content-model)');
  if (needBh && !behavior) throw new UsageError('this union model needs the behavior encoder (--behavior-model)');
  const ct = needCt ? (content as ContentEncoder).encodeAll((content as ContentEncoder).prepare(items), batchSize) : null;
  const bh = needBh ? (behavior as ContentEncoder).encodeAll((behavior as ContentEncoder).prepare(items), batchSize) : null;
  if (ct && content!.dim !== union.arch.contentDim) throw new UsageError(`content encoder gives ${content!.dim}-dim ct, the union model expects ${union.arch.contentDim}`);
  if (bh && behavior!.dim !== union.arch.behaviorDim) throw new UsageError(`behavior encoder gives ${behavior!.dim}-dim bh, the union model expects ${union.arch.behaviorDim}`);
  const u = unionEmbedAll(
    union,
    items.count,
    (rows) => [
      ct ? tf.tensor2d(gatherRows(ct, union.arch.contentDim, rows), [rows.length, union.arch.contentDim]) : null,
      bh ? tf.tensor2d(gatherRows(bh, union.arch.behaviorDim, rows), [rows.length, union.arch.behaviorDim]) : null,
    ],
    batchSize,
  );
  return { ct, bh, u };
}

export async function embedItems(opts: EmbedOptions): Promise<EmbedResult> {
  const t0 = performance.now();
  const batchSize = opts.batchSize ?? 2048;
  requireRange('--batch-size', batchSize, 1, 1 << 20);
  const shard = parseShard(opts.shard);
  const onProgress = opts.onProgress ?? noProgress;
  await initBackend(opts.backend);
  const union = opts.model ? await loadUnion(opts.model) : null;
  let content: ContentEncoder | null = null;
  let behavior: ContentEncoder | null = null;
  try {
    if (!union && !opts.contentModel && !opts.behaviorModel) throw new UsageError('give --union-model (joint u), or --content-model and/or --behavior-model (their ct/bh alone)');
    if (union && union.arch.view !== 'behavior' && !opts.contentModel) throw new UsageError(`--content-model is required: the union model (view ${union.arch.view}) uses ct`);
    if (union && union.arch.view !== 'content' && !opts.behaviorModel) throw new UsageError(`--behavior-model is required: the union model (view ${union.arch.view}) uses bh`);
    if (union?.arch.view === 'content' && opts.behaviorModel) throw new UsageError('the union model (view content) reads no bh: drop --behavior-model');
    if (union?.arch.view === 'behavior' && opts.contentModel) throw new UsageError('the union model (view behavior) reads no ct: drop --content-model');
    if (opts.contentModel) content = (await loadEncoder(opts.contentModel, 'content')).encoder;
    if (opts.behaviorModel) behavior = (await loadEncoder(opts.behaviorModel, 'behavior')).encoder;
    const all = readContentItems(opts.items);
    // A shard takes whole inference batches (blocks of --batch-size rows, block b to shard b mod n), so every
    // batch is the one a single run computes and the merged vectors are its bytes.
    const items = shard ? pickItems(all, blockRows(all.count, batchSize, shard)) : all;
    onProgress({ phase: 'embed', done: 0, total: 1 });
    const { ct, bh, u } = union ? embedContentItems(items, union, content, behavior, batchSize) : { ct: content?.encodeAll(content.prepare(items), batchSize) ?? null, bh: behavior?.encodeAll(behavior.prepare(items), batchSize) ?? null, u: null };
    onProgress({ phase: 'embed', done: 1, total: 1 });
    const config = { model: opts.model ?? null, content_model: opts.contentModel ?? null, behavior_model: opts.behaviorModel ?? null, items: opts.items, batch_size: batchSize };
    const view = union?.arch.view ?? (content && behavior ? 'encoders' : content ? 'content-encoder' : 'behavior-encoder');
    const dim = union?.arch.dim ?? (content ?? (behavior as ContentEncoder)).dim;
    const meta = { ...outputMeta('embed', opts.seed, config, { view, dim }), ...(shard ? { shard: shardLabel(shard) } : {}) };
    return await OutputStage.run(opts.out, [], (stage) => {
      const outputs: EmbedResult['outputs'] = {};
      if (u && union) outputs.joint = stage.writeArrow(EMBED_FILES.joint, EMBEDDINGS, { item_id: items.itemId, vector: { dim: union.arch.dim, values: u } }, meta);
      if (ct && content) outputs.content = stage.writeArrow(EMBED_FILES.content, EMBEDDINGS, { item_id: items.itemId, vector: { dim: content.dim, values: ct } }, meta);
      if (bh && behavior) outputs.behavior = stage.writeArrow(EMBED_FILES.behavior, EMBEDDINGS, { item_id: items.itemId, vector: { dim: behavior.dim, values: bh } }, meta);
      stage.writeJson('config.json', { command: 'embed', seed: opts.seed, backend: opts.backend, config, ...(shard ? { shard: shardLabel(shard) } : {}) });
      return { items: items.count, dim, view, shard: shard ? shardLabel(shard) : null, seconds: round6((performance.now() - t0) / 1000), outputs };
    });
  } finally {
    union?.dispose();
    content?.dispose();
    behavior?.dispose();
  }
}

/** The files `gist embed` writes, each an EMBEDDINGS table in the items file's row order. */
export const EMBED_FILES = { joint: 'joint.arrow', content: 'content.arrow', behavior: 'behavior.arrow' } as const;

function pickItems(items: ContentItems, rows: Int32Array): ContentItems {
  const content = items.content ? { dim: items.content.dim, values: gatherRows(items.content.values, items.content.dim, rows) } : null;
  return { count: rows.length, itemId: Int32Array.from(rows, (r) => items.itemId[r]), title: Array.from(rows, (r) => items.title[r]), text: Array.from(rows, (r) => items.text[r]), content };
}

/** `gist merge` of `embed --shard i/n` folders: each file's blocks back in row order, as one run writes them. */
export async function mergeEmbedShards(parts: ShardPart[], out: string): Promise<{ file: string; rows: number }> {
  const batch = (parts[0].config.config as { batch_size: number }).batch_size;
  const names = Object.values(EMBED_FILES).filter((f) => fs.existsSync(path.join(parts[0].dir, f)));
  return OutputStage.run(out, parts.map((p) => p.dir), (stage) => {
    let main = '';
    let rows = 0;
    for (const name of names) {
      const { files, meta } = readShardFiles(parts, name, EMBEDDINGS);
      const vec = (f: (typeof files)[number]) => f.columns.vector as VectorColumn;
      const dim = vec(files[0]).dim;
      const total = files.reduce((t, f) => t + f.numRows, 0);
      const itemId = new Int32Array(total);
      const values = new Float32Array(total * dim);
      const taken = new Int32Array(parts.length);
      for (let b = 0, at = 0; at < total; b++) {
        const s = b % parts.length;
        const f = files[s];
        const n = Math.min(batch, f.numRows - taken[s]);
        if (n <= 0) throw new InputDataError(`shard ${s}/${parts.length} ends early (block ${b} missing): not a complete set of embed shards`, path.join(parts[s].dir, name));
        itemId.set((f.columns.item_id as Int32Array).subarray(taken[s], taken[s] + n), at);
        values.set(vec(f).values.subarray(taken[s] * dim, (taken[s] + n) * dim), at * dim);
        taken[s] += n;
        at += n;
      }
      const file = stage.writeArrow(name, EMBEDDINGS, { item_id: itemId, vector: { dim, values } }, meta);
      if (!main) [main, rows] = [file, total];
    }
    const { shard: _part, ...config } = parts[0].config;
    stage.writeJson('config.json', config);
    return { file: main, rows };
  });
}
