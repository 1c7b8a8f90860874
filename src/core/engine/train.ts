/**
 * One optimisation step over sparse embedding rows and dense parameters with a single
 * `tf.variableGrads` call, so the forward pass runs once.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DenseParams, EmbeddingBatch, SparseEmbedding } from './sparse-embedding.js';

export interface SparseBinding {
  table: SparseEmbedding;
  /** From `table.gatherBatch` / `gatherMany` for this step; disposed by `trainStep`. */
  batch: EmbeddingBatch;
}

export interface TrainStepOptions {
  dense?: readonly DenseParams[];
  sparse?: readonly SparseBinding[];
}

/**
 * Computes `loss()` and its gradients with respect to every sparse batch's rows and every dense
 * parameter, applies the row-sparse and dense optimizer steps, disposes the sparse batches and
 * all temporaries, and returns the loss value. `loss` must build its graph from
 * `batch.rows`/`batch.lookup()` and the dense variables, and return a scalar.
 */
export function trainStep(loss: () => tf.Scalar, opts: TrainStepOptions): number {
  const sparse = opts.sparse ?? [];
  const dense = opts.dense ?? [];
  const vars: tf.Variable[] = [...sparse.map((s) => s.batch.rows), ...dense.flatMap((d) => d.variables)];
  try {
    const { value, grads } = tf.variableGrads(loss, vars);
    try {
      for (const { table, batch } of sparse) {
        const g = grads[batch.rows.name];
        // A table whose rows did not reach the loss gets no gradient entry: nothing to update.
        if (g != null) table.applyGradient(batch.unique, g);
      }
      for (const d of dense) d.applyGradients(grads);
      return value.dataSync()[0];
    } finally {
      value.dispose();
      tf.dispose(Object.values(grads).filter((g): g is tf.Tensor => g != null));
    }
  } finally {
    for (const { batch } of sparse) batch.dispose();
  }
}
