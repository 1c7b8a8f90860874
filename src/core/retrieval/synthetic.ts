/**
 * Synthetic lifelong-sequence data for retrieval tests and benchmarks: a prepared dataset folder (items with
 * categories, source sequences of a fixed length, target samples) plus a random unit-vector embeddings file.
 * Not a model of real behaviour; it exists to exercise search-gsu and build-index at controlled sizes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeArrow, type Columns } from '../arrow-io.js';
import { DATASET_FILES } from '../dataset.js';
import { makeRng } from '../rng.js';
import { EMBEDDINGS, ITEMS, SAMPLES, SEQUENCES } from '../schemas.js';

export interface SyntheticRetrievalSpec {
  users: number;
  /** Source events per user. */
  sourceLength: number;
  /** Target samples per user. */
  samplesPerUser: number;
  sourceItems: number;
  targetItems: number;
  categories: number;
  dim: number;
  seed: number;
  /**
   * Where target samples fall in time: 'after' puts them after the whole source sequence (every sample sees
   * all sourceLength events); 'within' spreads them from a little before the first event to a little after
   * the last.
   */
  sampleTime: 'after' | 'within';
  /** Integer times with repeats (ties in recency) instead of distinct times. */
  tiedTimes?: boolean;
  /** Draw item vectors from this many distinct vectors (ties in score); 0 = all distinct. */
  distinctVectors?: number;
  /** Write no category column. */
  noCategories?: boolean;
}

/** Write DIR/data (dataset) and DIR/embeddings.arrow; returns their paths. */
export function writeSyntheticRetrievalData(dir: string, spec: SyntheticRetrievalSpec): { data: string; embeddings: string } {
  const rng = makeRng(spec.seed);
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { recursive: true });
  const nItems = spec.sourceItems + spec.targetItems;
  const domainCodes = new Int32Array(nItems);
  for (let i = spec.sourceItems; i < nItems; i++) domainCodes[i] = 1;
  const catCodes = Int32Array.from({ length: nItems }, () => rng.int(spec.categories));
  const items: Columns = {
    item_id: Int32Array.from({ length: nItems }, (_, i) => i),
    domain: { codes: domainCodes, values: ['source', 'target'] },
    title: Array.from({ length: nItems }, (_, i) => `item ${i}`),
    text: Array.from({ length: nItems }, () => ''),
    source_count: new Int32Array(nItems),
    target_count: new Int32Array(nItems),
  };
  if (!spec.noCategories) items.category = { codes: catCodes, values: Array.from({ length: spec.categories }, (_, c) => `cat${c}`) };
  const meta = { command: 'synthetic-retrieval', version: '0', seed: spec.seed, config_hash: 'synthetic' };
  writeArrow(path.join(data, DATASET_FILES.items), ITEMS, items, meta);

  const L = spec.sourceLength;
  const srcOffsets = Int32Array.from({ length: spec.users + 1 }, (_, u) => u * L);
  const srcItems = new Int32Array(spec.users * L);
  const srcTs = new Float64Array(spec.users * L);
  for (let u = 0; u < spec.users; u++) {
    let t = 0;
    for (let j = 0; j < L; j++) {
      srcItems[u * L + j] = rng.int(spec.sourceItems);
      t += spec.tiedTimes ? (rng.next() < 0.5 ? 0 : 1) : 1 + rng.next();
      srcTs[u * L + j] = t;
    }
  }
  const userIds = Int32Array.from({ length: spec.users }, (_, u) => u);
  writeArrow(path.join(data, DATASET_FILES.sequences('source')), SEQUENCES, { user_id: userIds, items: { offsets: srcOffsets, values: srcItems }, ts: { offsets: srcOffsets, values: srcTs } }, meta);
  const empty = new Int32Array(spec.users + 1);
  writeArrow(path.join(data, DATASET_FILES.sequences('target')), SEQUENCES, { user_id: userIds, items: { offsets: empty, values: new Int32Array(0) }, ts: { offsets: empty, values: new Float64Array(0) } }, meta);

  // target samples, interleaved across users in time order (as a real log would be)
  const n = spec.users * spec.samplesPerUser;
  const raw = Array.from({ length: n }, (_, i) => {
    const u = i % spec.users;
    const span = L > 0 ? srcTs[u * L + L - 1] : 1;
    // 'within': from a little before the first event (empty history) to a little after the last
    const within = (rng.next() * 1.2 - 0.1) * span;
    const t = spec.sampleTime === 'after' ? span + 1 + rng.next() * 10 : spec.tiedTimes ? Math.floor(within) : within;
    return { u, t, item: spec.sourceItems + rng.int(spec.targetItems), split: rng.int(3) };
  }).sort((a, b) => a.t - b.t);
  const samples: Columns = {
    sample_id: Int32Array.from({ length: n }, (_, i) => i),
    user_id: Int32Array.from(raw, (r) => r.u),
    item_id: Int32Array.from(raw, (r) => r.item),
    ts: Float64Array.from(raw, (r) => r.t),
    label: Int8Array.from(raw, () => (rng.next() < 0.3 ? 1 : 0)),
    split: { codes: Int32Array.from(raw, (r) => r.split), values: ['train', 'valid', 'test'] },
  };
  writeArrow(path.join(data, DATASET_FILES.samples('target')), SAMPLES, samples, meta);
  const none: Columns = { sample_id: new Int32Array(0), user_id: new Int32Array(0), item_id: new Int32Array(0), ts: new Float64Array(0), label: new Int8Array(0), split: { codes: new Int32Array(0), values: ['train'] } };
  writeArrow(path.join(data, DATASET_FILES.samples('source')), SAMPLES, none, meta);
  fs.writeFileSync(
    path.join(data, DATASET_FILES.manifest),
    JSON.stringify({ name: 'synthetic-retrieval', format: 'gist-dataset', created_by: 'synthetic-retrieval', seed: spec.seed, counts: { items: nItems, users: spec.users, samples_target: n } }, null, 2),
  );

  const embeddings = path.join(dir, 'embeddings.arrow');
  writeArrow(embeddings, EMBEDDINGS, { item_id: Int32Array.from({ length: nItems }, (_, i) => i), vector: { dim: spec.dim, values: randomUnitVectors(nItems, spec.dim, spec.seed + 1, spec.distinctVectors ?? 0) } }, meta);
  return { data, embeddings };
}

/** n unit vectors (Gaussian directions) of dimension d, row-major; with `distinct` > 0 rows repeat among that many. */
export function randomUnitVectors(n: number, d: number, seed: number, distinct = 0): Float32Array {
  const rng = makeRng(seed);
  const base = distinct > 0 ? distinct : n;
  const out = new Float32Array(n * d);
  for (let i = 0; i < base && i < n; i++) {
    let ss = 0;
    for (let k = 0; k < d; k++) {
      const x = rng.normal();
      out[i * d + k] = x;
      ss += x * x;
    }
    const norm = Math.sqrt(ss) || 1;
    for (let k = 0; k < d; k++) out[i * d + k] /= norm;
  }
  for (let i = base; i < n; i++) out.copyWithin(i * d, (i % base) * d, (i % base) * d + d);
  return out;
}
