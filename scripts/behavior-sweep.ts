/**
 * Development aid: retrain the behaviour encoder with each config, then the union (defaults) on the work folder's
 * ESU pairs, and score against planted truth on the VALID split (joint GSU share@10 clicked / all, P@10 of joint u
 * and of the behaviour encoder itself).
 * Usage: node --import tsx scripts/behavior-sweep.ts WORK SEED '{"name":{...train-behavior config...}, ...}' [UNION_JSON]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { trainBehavior } from '../src/core/cbjt/train-behavior.js';
import { trainUnion } from '../src/core/cbjt/train-union.js';
import { loadGsu } from '../src/core/ctr/inputs.js';
import { loadDataset, SPLIT_CODE } from '../src/core/dataset.js';
import { gsuPlantedShares, plantedNeighbourRecall, readPlanted } from '../src/core/evaluate/planted.js';
import { loadEmbeddings } from '../src/core/evaluate/inputs.js';
import { searchGsu } from '../src/core/retrieval/gsu.js';
import { makeRng } from '../src/core/rng.js';

const [work, seedText, json, unionJson] = process.argv.slice(2);
const seed = Number(seedText);
const variants = JSON.parse(json) as Record<string, Record<string, unknown>>;
const unionConfig = unionJson ? (JSON.parse(unionJson) as Record<string, unknown>) : {};
const data = path.join(work, 'data');
const ds = loadDataset(data);
const planted = readPlanted(data, ds.items.count)!;
const p10 = (name: string, file: string): number => {
  const e = loadEmbeddings(file, ds.items.count);
  return plantedNeighbourRecall(name, e.vectors, e.has, ds.items, planted, [10], 300, makeRng(1)).precision['10'];
};
for (const [name, config] of Object.entries(variants)) {
  const out = path.join('/tmp/sweep-behavior', path.basename(work), name);
  fs.rmSync(out, { recursive: true, force: true });
  const t0 = Date.now();
  const b = await trainBehavior({ data, idEmbeddings: path.join(work, 'source', 'id_embeddings.arrow'), contentModel: path.join(work, 'content', 'model'), out: path.join(out, 'behavior'), config, seed, backend: 'wasm' });
  const union = path.join(out, 'union');
  await trainUnion({ data, content: path.join(work, 'content', 'content.arrow'), behavior: b.outputs.behavior, pairs: path.join(work, 'pairs-esu', 'pairs.arrow'), out: union, config: unionConfig, seed, backend: 'wasm' });
  await searchGsu({ data, embeddings: path.join(union, 'joint.arrow'), out: path.join(union, 'gsu'), config: { mode: 'soft', k: 100 }, seed });
  const gsu = loadGsu(path.join(union, 'gsu', 'gsu.arrow'), ds.samples.target.count, ds.items.count);
  const shares = gsuPlantedShares(name, gsu, ds.samples.target, ds.sequences.source, planted, SPLIT_CODE.valid, [10]);
  const [c] = shares.clicked;
  const [a] = shares.all;
  console.log(`${name}: aligned ${b.aligned_items} (min ${b.min_count}) | valid sub@10 clicked ${c.subtopic.toFixed(3)} all ${a.subtopic.toFixed(3)} | P@10 joint ${p10(name, path.join(union, 'joint.arrow')).toFixed(3)} behaviour ${p10(name, b.outputs.behavior).toFixed(3)} | ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
