/** Small synthetic evaluation inputs laid out like a pipeline work folder (not a test file). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeArrow } from '../../src/core/arrow-io.js';
import { makeRng } from '../../src/core/rng.js';
import { EMBEDDINGS, GSU, ITEMS, PAIRS, PREDICTIONS } from '../../src/core/schemas.js';

const META = { command: 'test', version: '0', seed: 1, config_hash: 'test' };

export interface EvalFixture {
  work: string;
  data: string;
  predictions: { din: string; gist: string };
  embeddings: { joint: string; content: string };
  pairs: string;
  gsu: { joint: string; hard: string };
}

export function tmpDir(prefix = 'gist-eval-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * 2000 source items (0..1999) and 100 target items (2000..2099); target_count grows with the id so popularity
 * groups are well defined. gist's scores separate the labels better than din's; the joint embedding
 * puts each pair's related item close to its target, the content one only roughly.
 */
export function makeEvalFixture(work = tmpDir()): EvalFixture {
  const rng = makeRng(7);
  const numSource = 2000;
  const numTarget = 100;
  const n = numSource + numTarget;
  const data = path.join(work, 'data');
  fs.mkdirSync(data, { recursive: true });
  const domain = Int32Array.from({ length: n }, (_, i) => (i < numSource ? 0 : 1));
  writeArrow(
    path.join(data, 'items.arrow'),
    ITEMS,
    {
      item_id: Int32Array.from({ length: n }, (_, i) => i),
      domain: { codes: domain, values: ['source', 'target'] },
      title: Array.from({ length: n }, (_, i) => `item ${i}`),
      text: Array.from({ length: n }, () => ''),
      source_count: Int32Array.from({ length: n }, (_, i) => (i < numSource ? 5 + i : 0)),
      target_count: Int32Array.from({ length: n }, (_, i) => (i < numSource ? 0 : (i - numSource) % 50)),
    },
    META,
  );

  // Predictions: 600 samples (400 test, 200 valid), 60 users.
  const rows = 600;
  const users = Int32Array.from({ length: rows }, (_, i) => i % 60);
  const items = Int32Array.from({ length: rows }, () => numSource + rng.int(numTarget));
  const labels = Int8Array.from({ length: rows }, () => (rng.next() < 0.3 ? 1 : 0));
  const split = { codes: Int32Array.from({ length: rows }, (_, i) => (i < 400 ? 1 : 0)), values: ['valid', 'test'] }; // 400 test, 200 valid
  const scoresFor = (noise: number): Float32Array => Float32Array.from(labels, (l) => Math.min(0.99, Math.max(0.01, 0.3 + (l ? 0.15 : -0.05) + noise * (rng.next() - 0.5))));
  const writeRun = (name: string, noise: number, curve: { loss: number[]; auc: number[] }): string => {
    const dir = path.join(work, name);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'predictions.arrow');
    writeArrow(file, PREDICTIONS, { sample_id: Int32Array.from({ length: rows }, (_, i) => i), user_id: users, item_id: items, label: labels, score: scoresFor(noise), split }, META);
    fs.writeFileSync(path.join(dir, 'curve.json'), JSON.stringify({ epochs: curve.loss.map((loss, i) => ({ epoch: i + 1, loss, valid_auc: curve.auc[i] })) }));
    return file;
  };
  const din = writeRun('ctr-din', 0.9, { loss: [0.62, 0.58, 0.56, 0.55], auc: [0.66, 0.69, 0.7, 0.705] });
  const gist = writeRun('ctr-gist', 0.6, { loss: [0.6, 0.55, 0.52, 0.51], auc: [0.68, 0.72, 0.74, 0.745] });

  // Pairs: each target item t's related source item is (t * 7) % 2000; valid/test pairs are the truth.
  const target = Int32Array.from({ length: numTarget }, (_, i) => numSource + i);
  const related = Int32Array.from(target, (t) => (t * 7) % numSource);
  const pairsDir = path.join(work, 'pairs-esu');
  fs.mkdirSync(pairsDir, { recursive: true });
  const pairs = path.join(pairsDir, 'pairs.arrow');
  writeArrow(pairs, PAIRS, { target_item: target, related_item: related, attention: new Float32Array(numTarget).fill(0.5), count: new Int32Array(numTarget).fill(1), split: { codes: Int32Array.from({ length: numTarget }, (_, i) => i % 3), values: ['train', 'valid', 'test'] } }, META);

  const dim = 16;
  const writeEmb = (dirName: string, file: string, closeness: number, withCurve: boolean): string => {
    const vec = new Float32Array(n * dim);
    for (let i = 0; i < vec.length; i++) vec[i] = rng.normal();
    for (let j = 0; j < numTarget; j++) {
      const t = target[j];
      const r = related[j];
      for (let k = 0; k < dim; k++) vec[t * dim + k] = closeness * vec[r * dim + k] + (1 - closeness) * vec[t * dim + k];
    }
    const dir = path.join(work, dirName);
    fs.mkdirSync(dir, { recursive: true });
    const out = path.join(dir, file);
    writeArrow(out, EMBEDDINGS, { item_id: Int32Array.from({ length: n }, (_, i) => i), vector: { dim, values: vec } }, META);
    if (withCurve) fs.writeFileSync(path.join(dir, 'loss_curve.json'), JSON.stringify({ steps: Array.from({ length: 50 }, (_, s) => ({ step: (s + 1) * 10, loss: 2.5 * Math.exp(-s / 15) + 0.4 + 0.05 * Math.sin(s) })) }));
    return out;
  };
  const joint = writeEmb('union', 'joint.arrow', 0.4, true);
  const content = writeEmb('content', 'content.arrow', 0.28, false);

  const writeGsu = (dirName: string, hard: boolean): string => {
    const samples = 200;
    const k = 10;
    const offsets = Int32Array.from({ length: samples + 1 }, (_, i) => i * k);
    const ids = Int32Array.from({ length: samples * k }, () => rng.int(numSource));
    const scores = Float32Array.from({ length: samples * k }, () => (hard ? 1 : Math.max(-1, Math.min(1, 0.45 + 0.2 * rng.normal()))));
    const dir = path.join(work, dirName);
    fs.mkdirSync(dir, { recursive: true });
    const out = path.join(dir, 'gsu.arrow');
    writeArrow(out, GSU, { sample_id: Int32Array.from({ length: samples }, (_, i) => i), items: { offsets, values: ids }, scores: { offsets, values: scores } }, META);
    return out;
  };
  return {
    work,
    data,
    predictions: { din, gist },
    embeddings: { joint, content },
    pairs,
    gsu: { joint: writeGsu('gsu-joint', false), hard: writeGsu('gsu-hard', true) },
  };
}

/** Write a predictions file from explicit columns (all rows in `split`). */
export function writePredictions(file: string, cols: { user: number[]; item: number[]; label: number[]; score: number[] }, split = 'test'): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const n = cols.label.length;
  writeArrow(
    file,
    PREDICTIONS,
    {
      sample_id: Int32Array.from({ length: n }, (_, i) => i),
      user_id: Int32Array.from(cols.user),
      item_id: Int32Array.from(cols.item),
      label: Int8Array.from(cols.label),
      score: Float32Array.from(cols.score),
      split: { codes: new Int32Array(n), values: [split] },
    },
    META,
  );
  return file;
}
