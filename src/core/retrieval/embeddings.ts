/** An embeddings file (EMBEDDINGS table) loaded for retrieval: unit vectors, indexed by item id. */
import { readArrow, type VectorColumn } from '../arrow-io.js';
import { InputDataError } from '../errors.js';
import { EMBEDDINGS } from '../schemas.js';
import { createScoreSpace, type ScoreSpace } from './score-kernel.js';

export interface EmbeddingTable {
  file: string;
  dim: number;
  /** Item id of each row, file order. */
  ids: Int32Array;
  /** Row-major [rows × dim], every non-zero row L2-normalised. */
  vectors: Float32Array;
  /** File row of each item id (−1: no vector); length = max item id + 1. */
  rowOf: Int32Array;
  /** Rows that were not unit length on input (normalised on load). */
  renormalised: number;
  /** Rows that are all zeros (cosine 0 with everything). */
  zeroRows: number;
  metadata: Record<string, string>;
}

/** Relative deviation from unit length tolerated before a row is re-normalised. */
const UNIT_TOLERANCE = 1e-4;

/** Read an EMBEDDINGS file, check ids and dimension, and L2-normalise rows that are not unit length. */
export function loadEmbeddings(file: string, expectedDim?: number): EmbeddingTable {
  const f = readArrow(file, EMBEDDINGS);
  const ids = f.columns.item_id as Int32Array;
  const vec = f.columns.vector as VectorColumn;
  const dim = vec.dim;
  if (f.numRows > 0 && dim < 1) throw new InputDataError('vectors have dimension 0', file, 'vector');
  if (expectedDim !== undefined && f.numRows > 0 && dim !== expectedDim) throw new InputDataError(`dimension ${dim} does not match the expected ${expectedDim}`, file, 'vector');
  let maxId = -1;
  for (let r = 0; r < ids.length; r++) maxId = Math.max(maxId, ids[r]);
  const rowOf = new Int32Array(maxId + 1).fill(-1);
  for (let r = 0; r < ids.length; r++) {
    if (rowOf[ids[r]] >= 0) throw new InputDataError(`duplicate item_id ${ids[r]} (first at row ${rowOf[ids[r]]})`, file, 'item_id', r);
    rowOf[ids[r]] = r;
  }
  const vectors = new Float32Array(vec.values); // own copy: normalised in place
  let renormalised = 0;
  let zeroRows = 0;
  for (let r = 0; r < ids.length; r++) {
    const o = r * dim;
    let ss = 0;
    for (let k = 0; k < dim; k++) ss += vectors[o + k] * vectors[o + k];
    if (ss === 0) {
      zeroRows++;
      continue;
    }
    const norm = Math.sqrt(ss);
    if (Math.abs(norm - 1) > UNIT_TOLERANCE) {
      renormalised++;
      for (let k = 0; k < dim; k++) vectors[o + k] /= norm;
    }
  }
  return { file, dim, ids, vectors, rowOf, renormalised, zeroRows, metadata: f.metadata };
}

/** True when item `id` has a vector. */
export function hasVector(t: EmbeddingTable, id: number): boolean {
  return id >= 0 && id < t.rowOf.length && t.rowOf[id] >= 0;
}

/** Throw an InputDataError naming the file and the first needed item without a vector. */
export function requireVectors(t: EmbeddingTable, items: ArrayLike<number>, neededBy: (i: number) => string): void {
  for (let i = 0; i < items.length; i++) {
    if (!hasVector(t, items[i])) throw new InputDataError(`no vector for item ${items[i]} (needed by ${neededBy(i)})`, t.file, 'item_id');
  }
}

/**
 * A shared score table whose row r is item r's unit vector (zeros where the file has none), for
 * `numItems` rows, with scratch room for `threads` threads.
 */
export function scoreSpaceByItem(t: EmbeddingTable, numItems: number, threads: number): ScoreSpace {
  return createScoreSpace(numItems, t.dim, threads, (table, dp) => {
    const n = Math.min(numItems, t.rowOf.length);
    for (let item = 0; item < n; item++) {
      const r = t.rowOf[item];
      if (r >= 0) table.set(t.vectors.subarray(r * t.dim, (r + 1) * t.dim), item * dp);
    }
  });
}
