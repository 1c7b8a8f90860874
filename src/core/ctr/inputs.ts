/** Side inputs of the cross-domain CTR variants: the GSU's searched items (gsu.arrow) and joint embeddings (joint.arrow). */
import { readArrow, type ListColumn, type VectorColumn } from '../arrow-io.js';
import { requireSameDataset, requireSameItems } from '../dataset.js';
import { InputDataError } from '../errors.js';
import { EMBEDDINGS, GSU } from '../schemas.js';

/** Top-K searched source items per target sample, CSR by gsu.arrow row, with a sample → row index. */
export interface GsuIndex {
  file: string;
  /** Row of each sample id in the CSR arrays, −1 when the GSU returned nothing for it. */
  rowOfSample: Int32Array;
  offsets: Int32Array;
  items: Int32Array;
  scores: Float32Array;
  /** The file's Arrow metadata (dataset identity, seed, ...). */
  metadata: Record<string, string>;
}

/** `dataDir`: the dataset the ids must refer to; a gsu.arrow computed from another one is refused first. */
export function loadGsu(file: string, numSamples: number, numItems: number, dataDir?: string): GsuIndex {
  const f = readArrow(file, GSU);
  if (dataDir !== undefined) requireSameDataset(file, f.metadata, dataDir);
  const ids = f.columns.sample_id as Int32Array;
  const items = f.columns.items as ListColumn<Int32Array>;
  const scores = f.columns.scores as ListColumn<Float32Array>;
  const rowOfSample = new Int32Array(numSamples).fill(-1);
  checkGsuRows(file, ids, items, scores, 0, numItems, rowOfSample);
  return { file, rowOfSample, offsets: items.offsets, items: items.values, scores: scores.values, metadata: f.metadata };
}

/**
 * gsu.arrow's rows against the dataset, for rows read from file row `rowBase` on (a whole file, or one batch): each
 * sample id in range and once (rowOfSample, one entry per sample, −1 until its row is seen, gets the file row), its
 * items and scores lists of one length, every item id in range.
 */
export function checkGsuRows(file: string, ids: Int32Array, items: ListColumn<Int32Array>, scores: ListColumn<Float32Array>, rowBase: number, numItems: number, rowOfSample: Int32Array): void {
  const numSamples = rowOfSample.length;
  for (let r = 0; r < ids.length; r++) {
    const s = ids[r];
    if (s >= numSamples) throw new InputDataError(`sample_id ${s} out of range (${numSamples} target samples): gsu.arrow belongs to another dataset`, file, 'sample_id', rowBase + r);
    if (rowOfSample[s] >= 0) throw new InputDataError(`duplicate sample_id ${s}`, file, 'sample_id', rowBase + r);
    rowOfSample[s] = rowBase + r;
    if (items.offsets[r] !== scores.offsets[r] || items.offsets[r + 1] !== scores.offsets[r + 1]) throw new InputDataError('items and scores lists differ in length', file, 'scores', rowBase + r);
  }
  for (let j = 0; j < items.values.length; j++) {
    if (items.values[j] >= numItems) throw new InputDataError(`item id ${items.values[j]} out of range (${numItems} items)`, file, 'items');
  }
}

/** L2-normalised joint embeddings addressed by item id; `rowOf[item]` = −1 when the item has none. */
export interface JointTable {
  file: string;
  dim: number;
  rowOf: Int32Array;
  values: Float32Array;
  metadata: Record<string, string>;
}

export function loadJoint(file: string, numItems: number, dataDir?: string): JointTable {
  const f = readArrow(file, EMBEDDINGS);
  if (dataDir !== undefined) requireSameItems(file, f.metadata, dataDir);
  const ids = f.columns.item_id as Int32Array;
  const vec = f.columns.vector as VectorColumn;
  const dim = vec.dim;
  if (dim < 1) throw new InputDataError('vector width is 0', file, 'vector');
  const rowOf = new Int32Array(numItems).fill(-1);
  const values = new Float32Array(ids.length * dim);
  for (let r = 0; r < ids.length; r++) {
    const item = ids[r];
    if (item >= numItems) throw new InputDataError(`item id ${item} out of range (${numItems} items): joint.arrow belongs to another dataset`, file, 'item_id', r);
    if (rowOf[item] >= 0) throw new InputDataError(`duplicate item_id ${item}`, file, 'item_id', r);
    rowOf[item] = r;
    let norm = 0;
    for (let k = 0; k < dim; k++) norm += vec.values[r * dim + k] ** 2;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let k = 0; k < dim; k++) values[r * dim + k] = vec.values[r * dim + k] * inv;
  }
  return { file, dim, rowOf, values, metadata: f.metadata };
}
