/** Brute-force references and small fixtures for the retrieval tests (not a test file). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readArrow, type ListColumn, type VectorColumn } from '../../src/core/arrow-io.js';
import { loadDataset } from '../../src/core/dataset.js';
import { EMBEDDINGS, GSU } from '../../src/core/schemas.js';
import { writeSyntheticRetrievalData, type SyntheticRetrievalSpec } from '../../src/core/retrieval/synthetic.js';

export function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `gist-retrieval-${tag}-`));
}

export const SMALL: SyntheticRetrievalSpec = {
  users: 14,
  sourceLength: 150,
  samplesPerUser: 6,
  sourceItems: 120,
  targetItems: 30,
  categories: 4,
  dim: 13,
  seed: 7,
  sampleTime: 'within',
};

export function makeData(tag: string, spec: Partial<SyntheticRetrievalSpec> = {}): { dir: string; data: string; embeddings: string } {
  const dir = tmpDir(tag);
  return { dir, ...writeSyntheticRetrievalData(dir, { ...SMALL, ...spec }) };
}

export interface GsuRows {
  ids: Int32Array;
  items: number[][];
  scores: number[][];
}

export function readGsu(file: string): GsuRows {
  const f = readArrow(file, GSU);
  const items = f.columns.items as ListColumn<Int32Array>;
  const scores = f.columns.scores as ListColumn<Float32Array>;
  const rows = (c: ListColumn<Int32Array> | ListColumn<Float32Array>): number[][] =>
    Array.from({ length: f.numRows }, (_, r) => Array.from(c.values.subarray(c.offsets[r], c.offsets[r + 1])));
  return { ids: f.columns.sample_id as Int32Array, items: rows(items), scores: rows(scores) };
}

/** Unit vectors by item id, in float64, straight from the file. */
function vectorsById(file: string): Map<number, Float64Array> {
  const f = readArrow(file, EMBEDDINGS);
  const ids = f.columns.item_id as Int32Array;
  const v = f.columns.vector as VectorColumn;
  const out = new Map<number, Float64Array>();
  for (let r = 0; r < ids.length; r++) {
    const x = Float64Array.from(v.values.subarray(r * v.dim, (r + 1) * v.dim));
    const n = Math.hypot(...x) || 1;
    out.set(ids[r], x.map((a) => a / n));
  }
  return out;
}

/**
 * The GSU by definition: for each target sample, all the user's source events with ts < sample ts, scored
 * by cosine (soft) or filtered by category (hard, score 1), sorted by score desc, ts desc, item asc, position
 * desc, first K.
 */
export function bruteForceGsu(data: string, embeddings: string | null, k: number, mode: 'soft' | 'hard'): GsuRows {
  const ds = loadDataset(data);
  const vec = embeddings ? vectorsById(embeddings) : null;
  const s = ds.samples.target;
  const store = ds.sequences.source;
  const cat = ds.items.category;
  const out: GsuRows = { ids: new Int32Array(s.count), items: [], scores: [] };
  for (let i = 0; i < s.count; i++) {
    out.ids[i] = i;
    const [a, b] = store.range(s.userId[i]);
    const cand: { score: number; ts: number; item: number; pos: number }[] = [];
    for (let j = a; j < b; j++) {
      if (!(store.ts[j] < s.ts[i])) continue;
      const item = store.items[j];
      if (mode === 'hard') {
        if (cat && cat[item] >= 0 && cat[item] === cat[s.itemId[i]]) cand.push({ score: 1, ts: store.ts[j], item, pos: j });
      } else {
        const q = vec!.get(s.itemId[i])!;
        const e = vec!.get(item)!;
        let dot = 0;
        for (let x = 0; x < q.length; x++) dot += q[x] * e[x];
        cand.push({ score: Math.fround(dot), ts: store.ts[j], item, pos: j });
      }
    }
    cand.sort((x, y) => y.score - x.score || y.ts - x.ts || x.item - y.item || y.pos - x.pos);
    const top = cand.slice(0, k);
    out.items.push(top.map((c) => c.item));
    out.scores.push(top.map((c) => c.score));
  }
  return out;
}
