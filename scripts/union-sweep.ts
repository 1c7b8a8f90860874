/**
 * Development aid: train union variants on a pipeline work folder's inputs and score each against planted truth
 * on the VALID split (joint GSU share@10 over clicked and all samples, cross-domain P@10).
 * Usage: node --import tsx scripts/union-sweep.ts WORK PAIRS.arrow '{"name":{...union config...}, ...}'
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { trainUnion } from '../src/core/cbjt/train-union.js';
import { loadGsu } from '../src/core/ctr/inputs.js';
import { loadDataset, SPLIT_CODE } from '../src/core/dataset.js';
import { gsuPlantedShares, plantedNeighbourRecall, readPlanted } from '../src/core/evaluate/planted.js';
import { loadEmbeddings } from '../src/core/evaluate/inputs.js';
import { searchGsu } from '../src/core/retrieval/gsu.js';
import { makeRng } from '../src/core/rng.js';

const [work, pairs, json] = process.argv.slice(2);
const variants = JSON.parse(json) as Record<string, Record<string, unknown>>;
const data = path.join(work, 'data');
const ds = loadDataset(data);
const planted = readPlanted(data, ds.items.count)!;
for (const [name, config] of Object.entries(variants)) {
  const out = path.join('/tmp/sweep', path.basename(work), name);
  fs.rmSync(out, { recursive: true, force: true });
  const t0 = Date.now();
  await trainUnion({ data, content: path.join(work, 'content', 'content.arrow'), behavior: path.join(work, 'behavior', 'behavior.arrow'), pairs, out, config, seed: 42, backend: 'wasm' });
  await searchGsu({ data, embeddings: path.join(out, 'joint.arrow'), out: path.join(out, 'gsu'), config: { mode: 'soft', k: 100 }, seed: 42 });
  const gsu = loadGsu(path.join(out, 'gsu', 'gsu.arrow'), ds.samples.target.count, ds.items.count);
  const shares = gsuPlantedShares(name, gsu, ds.samples.target, ds.sequences.source, planted, SPLIT_CODE.valid, [10]);
  const [c] = shares.clicked;
  const [a] = shares.all;
  const e = loadEmbeddings(path.join(out, 'joint.arrow'), ds.items.count);
  const r = plantedNeighbourRecall(name, e.vectors, e.has, ds.items, planted, [10], 300, makeRng(1));
  console.log(`${name}: valid sub@10 clicked ${c.subtopic.toFixed(3)} all ${a.subtopic.toFixed(3)} | P@10 ${r.precision['10'].toFixed(3)} | ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
