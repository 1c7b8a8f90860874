/** Shared helpers for the CTR and pairs tests (not a test file): fixture paths and GSU / joint files built in-test. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeArrow } from '../../src/core/arrow-io.js';
import type { Dataset } from '../../src/core/dataset.js';
import { makeRng } from '../../src/core/rng.js';
import { EMBEDDINGS, GSU } from '../../src/core/schemas.js';

export const TINY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/tiny');

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `gist-${prefix}-`));
}

/** Random unit vectors for every item (a stand-in for joint.arrow). */
export function writeJoint(file: string, numItems: number, dim: number, seed: number): Float32Array {
  const rng = makeRng(seed);
  const values = new Float32Array(numItems * dim);
  for (let i = 0; i < numItems; i++) {
    let n = 0;
    for (let k = 0; k < dim; k++) {
      const x = rng.normal();
      values[i * dim + k] = x;
      n += x * x;
    }
    for (let k = 0; k < dim; k++) values[i * dim + k] /= Math.sqrt(n);
  }
  writeArrow(file, EMBEDDINGS, { item_id: Int32Array.from({ length: numItems }, (_, i) => i), vector: { dim, values } }, { command: 'test' });
  return values;
}

/**
 * A soft-search gsu.arrow: for every target sample, the top-K events of the user's source sequence before the
 * sample's time by cosine with the target item (joint vectors), scores descending.
 */
export function writeGsu(file: string, ds: Dataset, joint: Float32Array, dim: number, k: number): void {
  const samples = ds.samples.target;
  const store = ds.sequences.source;
  const offsets = new Int32Array(samples.count + 1);
  const items: number[] = [];
  const scores: number[] = [];
  for (let s = 0; s < samples.count; s++) {
    const [lo, hi] = store.historyBefore(samples.userId[s], samples.ts[s], 1 << 30);
    const t = samples.itemId[s];
    const cand: [number, number][] = [];
    for (let e = lo; e < hi; e++) {
      const it = store.items[e];
      let c = 0;
      for (let q = 0; q < dim; q++) c += joint[t * dim + q] * joint[it * dim + q];
      cand.push([c, it]);
    }
    cand.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (const [c, it] of cand.slice(0, k)) {
      items.push(it);
      scores.push(c);
    }
    offsets[s + 1] = items.length;
  }
  writeArrow(
    file,
    GSU,
    { sample_id: Int32Array.from({ length: samples.count }, (_, i) => i), items: { offsets, values: Int32Array.from(items) }, scores: { offsets, values: Float32Array.from(scores) } },
    { command: 'test' },
  );
}
