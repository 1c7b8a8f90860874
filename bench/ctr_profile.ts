/**
 * Where a `gist train-ctr` step goes, on the bench's synthetic data (bench/ctr.ts): batch assembly, embedding
 * row gathers, forward (timed separately, as trainBatch builds it), backward (the rest of tf.variableGrads),
 * row-sparse Adam on the tables, dense Adam, and the
 * tfjs kernels that dominate forward + backward (tf.profile; its per-kernel times exclude the engine's own
 * bookkeeping, which shows as "untracked").
 *
 *   node --import tsx bench/ctr_profile.ts [din_small|gist] [steps]
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/core/engine/backend.js';
import { DenseParams, SparseEmbedding } from '../src/core/engine/sparse-embedding.js';
import type { CtrBatch } from '../src/core/ctr/batcher.js';
import { DEFAULT_CTR_TRAIN_CONFIG } from '../src/core/ctr/config.js';
import { CtrModel } from '../src/core/ctr/model.js';
import { makeRng } from '../src/core/rng.js';
import { benchBatcher, CTR_BENCH_SHAPE, syntheticCtrData, type CtrBenchName } from './ctr.js';

const name = (process.argv[2] ?? 'din_small') as CtrBenchName;
const steps = Number(process.argv[3] ?? 4);
await initBackend('wasm');
const B = CTR_BENCH_SHAPE.batch;
const pool = 4;
const data = syntheticCtrData(name, pool * B, 42);
const batcher = benchBatcher(data, B);
const order = Int32Array.from({ length: pool * B }, (_, i) => i);
const model = new CtrModel(data.cfg, makeRng(42).fork('init'), DEFAULT_CTR_TRAIN_CONFIG.lr);
model.bindData(data.items.category, data.joint);

// Time the engine's pieces by wrapping their prototypes (bench only; nothing else changes).
const acc: Record<string, number> = { gatherMany: 0, sparseAdam: 0, denseAdam: 0 };
function wrap<T extends object>(proto: T, method: keyof T & string, key: string): void {
  const orig = proto[method] as unknown as (...a: unknown[]) => unknown;
  (proto as Record<string, unknown>)[method] = function (this: unknown, ...a: unknown[]) {
    const t0 = performance.now();
    try {
      return orig.apply(this, a);
    } finally {
      acc[key] += performance.now() - t0;
    }
  };
}
wrap(SparseEmbedding.prototype, 'gatherMany', 'gatherMany');
wrap(SparseEmbedding.prototype, 'applyGradient', 'sparseAdam');
wrap(DenseParams.prototype, 'applyGradients', 'denseAdam');

const fill = (i: number) => batcher.fill(order, (i % pool) * B, (i % pool) * B + B);

/**
 * The forward pass of trainBatch on its own (same gathers from an EmbeddingBatch, same constants, same loss),
 * through the model's private helpers: a profiling aid that mirrors model.ts and must follow it if it changes.
 */
type Privates = { constants(b: CtrBatch): Parameters<CtrModel['forward']>[1]; categoryIds(ids: Int32Array): Int32Array };
function forwardOnly(batch: CtrBatch): void {
  const m = model as unknown as Privates;
  const Bn = batch.size;
  const hist = batch.hist;
  const search = model.needs.search !== 'none' ? batch.search : null;
  const parts: { ids: Int32Array; shape?: number[] }[] = [{ ids: batch.targetItems }, { ids: hist.items, shape: [Bn, hist.len] }];
  if (search) parts.push({ ids: search.items, shape: [Bn, search.len] });
  const pad = (seq: CtrBatch['hist']): Int32Array => Int32Array.from(seq.bins as Int32Array, (b, i) => (seq.mask[i] > 0 ? b : -1));
  const itemB = model.item.gatherMany(parts);
  const catB = model.category ? model.category.gatherMany(parts.map((p) => ({ ids: m.categoryIds(p.ids), shape: p.shape }))) : null;
  const simParts = model.simScore ? [{ ids: pad(hist), shape: [Bn, hist.len] }, ...(search ? [{ ids: pad(search), shape: [Bn, search.len] }] : [])] : [];
  const simB = model.simScore ? model.simScore.gatherMany(simParts) : null;
  const labels = tf.tensor1d(Float32Array.from(batch.labels));
  const t0 = performance.now();
  tf.tidy(() => {
    const look = (i: number): tf.Tensor => (catB ? tf.add(itemB.lookup(i), catB.lookup(i)) : itemB.lookup(i));
    const c = m.constants(batch);
    const { logits } = model.forward(
      { target: look(0) as tf.Tensor2D, hist: look(1) as tf.Tensor3D, histSide: simB ? (simB.lookup(0) as tf.Tensor3D) : null, search: search ? (look(2) as tf.Tensor3D) : null, searchSide: simB && search ? (simB.lookup(1) as tf.Tensor3D) : null },
      c,
    );
    return tf.losses.sigmoidCrossEntropy(labels, logits);
  });
  forwardMs += performance.now() - t0;
  itemB.dispose();
  catB?.dispose();
  simB?.dispose();
  labels.dispose();
}
for (let i = 0; i < 2; i++) model.trainBatch(fill(i)); // warm-up
for (const k of Object.keys(acc)) acc[k] = 0;
let fillMs = 0;
let totalMs = 0;
let forwardMs = 0;
for (let i = 0; i < steps; i++) {
  let t0 = performance.now();
  const batch = fill(i);
  fillMs += performance.now() - t0;
  t0 = performance.now();
  forwardOnly(batch);
  t0 = performance.now();
  model.trainBatch(batch);
  totalMs += performance.now() - t0;
}
const per = (x: number) => Math.round((10 * x) / steps) / 10;
const fwdBwd = totalMs - acc.gatherMany - acc.sparseAdam - acc.denseAdam;
const phases = {
  fill: per(fillMs),
  train_batch_total: per(totalMs),
  gather_rows: per(acc.gatherMany),
  forward: per(forwardMs),
  backward: per(fwdBwd - forwardMs),
  sparse_adam: per(acc.sparseAdam),
  dense_adam: per(acc.denseAdam),
};

// Kernel-level view of one training step.
const batch = fill(0);
const prof = await tf.profile(() => {
  model.trainBatch(batch);
});
const byKernel = new Map<string, { ms: number; calls: number }>();
let kernelMs = 0;
for (const k of prof.kernels) {
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += ms;
  e.calls += 1;
  byKernel.set(k.name, e);
  kernelMs += ms;
}
const top = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20).map(([k, v]) => ({ kernel: k, ms: Math.round(v.ms * 10) / 10, calls: v.calls }));
process.stdout.write(JSON.stringify({ config: name, steps, ms_per_step: phases, kernels_total_ms: Math.round(kernelMs), kernel_calls: prof.kernels.length, top_kernels: top }, null, 2) + '\n');
model.dispose();
