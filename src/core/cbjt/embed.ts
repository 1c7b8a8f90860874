/**
 * `gist embed` (paper section 4, online deployment): joint representations u for new items from their
 * content alone — ct = F_C(v), bh = F_B(v), u = union(ct, bh) — with the trained models of train-content,
 * train-behavior and train-union. No retraining, no behaviour data needed.
 */
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { requireRange } from '../config.js';
import { initBackend, type BackendName } from '../engine/backend.js';
import { UsageError } from '../errors.js';
import { noProgress, outputMeta, OutputStage, type OnProgress } from '../output.js';
import { EMBEDDINGS } from '../schemas.js';
import { gatherRows, type ContentEncoder } from './encoder.js';
import { readContentItems, type ContentItems } from './items.js';
import { loadEncoder, loadUnion } from './model-files.js';
import { round6 } from './common.js';
import { unionEmbedAll } from './train-union.js';
import type { UnionModel } from './union.js';

export interface EmbedOptions {
  /** Union model folder (`UNION_OUT/model`). */
  model: string;
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
  onProgress?: OnProgress;
}

export interface EmbedResult {
  items: number;
  dim: number;
  view: string;
  seconds: number;
  outputs: { joint: string; content?: string; behavior?: string };
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
  const onProgress = opts.onProgress ?? noProgress;
  await initBackend(opts.backend);
  const union = await loadUnion(opts.model);
  let content: ContentEncoder | null = null;
  let behavior: ContentEncoder | null = null;
  try {
    if (union.arch.view !== 'behavior') {
      if (!opts.contentModel) throw new UsageError(`--content-model is required: the union model (view ${union.arch.view}) uses ct`);
      content = (await loadEncoder(opts.contentModel, 'content')).encoder;
    }
    if (union.arch.view !== 'content') {
      if (!opts.behaviorModel) throw new UsageError(`--behavior-model is required: the union model (view ${union.arch.view}) uses bh`);
      behavior = (await loadEncoder(opts.behaviorModel, 'behavior')).encoder;
    }
    const items = readContentItems(opts.items);
    onProgress({ phase: 'embed', done: 0, total: 1 });
    const { ct, bh, u } = embedContentItems(items, union, content, behavior, batchSize);
    onProgress({ phase: 'embed', done: 1, total: 1 });
    const config = { model: opts.model, content_model: opts.contentModel ?? null, behavior_model: opts.behaviorModel ?? null, items: opts.items, batch_size: batchSize };
    const meta = outputMeta('embed', opts.seed, config, { view: union.arch.view, dim: union.arch.dim });
    return await OutputStage.run(opts.out, [], (stage) => {
      const outputs: EmbedResult['outputs'] = {
        joint: stage.writeArrow('joint.arrow', EMBEDDINGS, { item_id: items.itemId, vector: { dim: union.arch.dim, values: u } }, meta),
      };
      if (ct) outputs.content = stage.writeArrow('content.arrow', EMBEDDINGS, { item_id: items.itemId, vector: { dim: union.arch.contentDim, values: ct } }, meta);
      if (bh) outputs.behavior = stage.writeArrow('behavior.arrow', EMBEDDINGS, { item_id: items.itemId, vector: { dim: union.arch.behaviorDim, values: bh } }, meta);
      stage.writeJson('config.json', { command: 'embed', seed: opts.seed, backend: opts.backend, config });
      return { items: items.count, dim: union.arch.dim, view: union.arch.view, seconds: round6((performance.now() - t0) / 1000), outputs };
    });
  } finally {
    union.dispose();
    content?.dispose();
    behavior?.dispose();
  }
}
