// Every data-parallel step shards (`--shard i/n`) and `gist merge` gives the single run's files byte for byte:
// n = 1, 2, 3 and more shards than users (or item blocks); bad shard sets are refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { embedItems } from '../../src/core/cbjt/embed.js';
import { trainContent } from '../../src/core/cbjt/train-content.js';
import { trainUnion } from '../../src/core/cbjt/train-union.js';
import { predict } from '../../src/core/ctr/predict.js';
import { trainCtr } from '../../src/core/ctr/train.js';
import { UsageError } from '../../src/core/errors.js';
import { evaluate } from '../../src/core/evaluate/evaluate.js';
import { mergeShards } from '../../src/core/merge.js';
import { extractEsuPairs, extractEsuShard, type EsuOptions } from '../../src/core/pairs/esu.js';
import { searchGsu } from '../../src/core/retrieval/gsu.js';

const TINY = path.resolve(import.meta.dirname, '../../fixtures/tiny');
const USERS = 60; // fixtures/tiny
let w: string;
const at = (...p: string[]) => path.join(w, ...p);
const bytes = (f: string) => fs.readFileSync(f);
const same = (a: string, b: string, what: string) => assert.ok(bytes(a).equals(bytes(b)), `${what}: ${a} and ${b} differ`);
/** stats.json up to the paths of its own outputs. */
const statsOf = (dir: string) => fs.readFileSync(path.join(dir, 'stats.json'), 'utf8').split(dir).join('OUT');

async function shardsOf(n: number, name: string, run: (shard: string, out: string) => Promise<unknown>): Promise<string> {
  const dirs: string[] = [];
  for (let i = 0; i < n; i++) {
    dirs.push(at(`${name}-${n}-${i}`));
    await run(`${i}/${n}`, dirs[i]);
  }
  // Order of the folders on the command line does not matter.
  const out = at(`${name}-${n}-merged`);
  await mergeShards({ inputs: [...dirs].reverse(), out });
  return out;
}

before(async () => {
  w = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-shards-'));
  const common = { dataDir: TINY, seed: 7, backend: 'wasm' as const, resume: false, train: { epochs: 1 }, model: { embeddingDim: 8, tower: [16] } };
  await trainCtr({ ...common, outDir: at('source'), domain: 'source', variant: 'din', asi: 'none' });
  await trainCtr({ ...common, outDir: at('din'), domain: 'target', variant: 'din', asi: 'none' });
  await searchGsu({ data: TINY, out: at('gsu-hard'), config: { mode: 'hard', k: 20 }, seed: 7 });
  await trainCtr({ ...common, outDir: at('sim-hard'), domain: 'target', variant: 'sim-hard', asi: 'none', gsuFile: at('gsu-hard', 'gsu.arrow') });
  await trainContent({ data: TINY, out: at('content'), config: { epochs: 1, minSteps: 0, dim: 16 }, seed: 7, backend: 'wasm' });
});
after(() => (process.env.KEEP_SHARDS ? undefined : fs.rmSync(w, { recursive: true, force: true })));

const esu = (out: string): EsuOptions => ({ dataDir: TINY, modelDir: at('source'), outDir: out, theta: 0.2, includeNegatives: false, splits: ['train', 'valid', 'test'], buckets: 8, minHistory: 1, candidates: 5, batchSize: 64, seed: 7, backend: 'wasm' });

test('extract-pairs (ESU): n shards merged = the single run (pairs.arrow, stats.json), n = 1, 2, 3, more than users', async () => {
  const one = await extractEsuPairs(esu(at('esu')));
  assert.ok(one.pairs > 0);
  for (const n of [1, 2, 3, USERS + 1]) {
    const merged = await shardsOf(n, 'esu', (shard, out) => extractEsuShard({ ...esu(out), shard }));
    same(at('esu', 'pairs.arrow'), path.join(merged, 'pairs.arrow'), `ESU, ${n} shards`);
    assert.equal(statsOf(merged), statsOf(at('esu')), `stats.json, ${n} shards`);
  }
});

test('search-gsu: n shards merged = the single run, n = 1, 2, 3, more than users', async () => {
  const gsu = (out: string, shard?: string) => searchGsu({ data: TINY, embeddings: at('content', 'content.arrow'), out, config: { k: 10 }, shard, threads: 0, seed: 7 });
  await gsu(at('gsu'));
  for (const n of [1, 2, 3, USERS + 1]) {
    const merged = await shardsOf(n, 'gsu', (shard, out) => gsu(out, shard));
    same(at('gsu', 'gsu.arrow'), path.join(merged, 'gsu.arrow'), `search-gsu, ${n} shards`);
  }
});

test('embed: n shards of item blocks merged = the single run, with the union model and with an encoder alone', async () => {
  await extractEsuPairs(esu(at('pairs')));
  await trainUnion({ data: TINY, content: at('content', 'content.arrow'), pairs: at('pairs', 'pairs.arrow'), out: at('union'), config: { view: 'content', epochs: 1, minSteps: 0, dim: 8 }, seed: 7, backend: 'wasm' });
  const items = path.join(TINY, 'items.arrow');
  const runs = [
    { name: 'union', opts: { model: at('union', 'model'), contentModel: at('content', 'model') }, files: ['joint.arrow', 'content.arrow'] },
    { name: 'encoder', opts: { contentModel: at('content', 'model') }, files: ['content.arrow'] },
  ];
  for (const r of runs) {
    await embedItems({ ...r.opts, items, out: at(`embed-${r.name}`), batchSize: 64, seed: 7, backend: 'wasm' });
    // 300 items in blocks of 64: 5 blocks, so 7 shards leave two empty.
    for (const n of [1, 2, 3, 7]) {
      const merged = await shardsOf(n, `embed-${r.name}`, (shard, out) => embedItems({ ...r.opts, items, out, batchSize: 64, shard, seed: 7, backend: 'wasm' }));
      for (const f of r.files) same(at(`embed-${r.name}`, f), path.join(merged, f), `embed ${r.name} ${f}, ${n} shards`);
    }
  }
  // The encoder's own final pass: embed reproduces train-content's content.arrow vectors.
  const { readArrow } = await import('../../src/core/arrow-io.js');
  const { EMBEDDINGS } = await import('../../src/core/schemas.js');
  const v = (f: string) => (readArrow(f, EMBEDDINGS).columns.vector as { values: Float32Array }).values;
  await embedItems({ contentModel: at('content', 'model'), items, out: at('embed-2048'), seed: 7, backend: 'wasm' });
  assert.deepEqual(v(at('embed-2048', 'content.arrow')), v(at('content', 'content.arrow')));
});

test('predict: n shards merged = the single run (predictions in every format, and the GSU it searched)', async () => {
  for (const [model, format] of [['din', 'arrow'], ['sim-hard', 'csv']] as const) {
    const name = `predict-${model}`;
    await predict({ model: at(model), data: TINY, out: at(name), format, seed: 7, backend: 'wasm' });
    for (const n of [1, 2, 3, USERS + 1]) {
      const merged = await shardsOf(n, name, (shard, out) => predict({ model: at(model), data: TINY, out, format, shard, seed: 7, backend: 'wasm' }));
      same(at(name, `predictions.${format}`), path.join(merged, `predictions.${format}`), `${name}, ${n} shards`);
      if (model === 'sim-hard') same(at(name, 'gsu.arrow'), path.join(merged, 'gsu.arrow'), `${name} gsu.arrow, ${n} shards`);
    }
  }
});

test('evaluate: Recall@K ranks scored in shards, merged, give the metrics of one evaluate', async () => {
  const opts = { data: TINY, embeddings: [`content=${at('content', 'content.arrow')}`, `joint=${at('embed-union', 'joint.arrow')}`], pairs: at('esu', 'pairs.arrow'), ks: [5, 20] };
  const plain = await evaluate({ ...opts, predictions: [at('din', 'predictions.arrow')] });
  assert.ok(plain.recall.length === 2 && plain.recall[0].pairs > 0);
  const merged = [1, 2, 3, 400].map((n) => ({ n, dir: '' }));
  for (const m of merged) m.dir = await shardsOf(m.n, 'ranks', (shard, out) => evaluate({ ...opts, shard, out }));
  for (const m of merged) same(path.join(merged[0].dir, 'ranks.arrow'), path.join(m.dir, 'ranks.arrow'), `ranks, ${m.n} shards`);
  const ranked = await evaluate({ ...opts, predictions: [at('din', 'predictions.arrow')], ranks: merged[2].dir });
  assert.deepEqual(ranked.recall, plain.recall);
  assert.deepEqual(ranked.runs, plain.runs);
  await assert.rejects(evaluate({ ...opts, embeddings: opts.embeddings.slice(0, 1), ranks: merged[2].dir }), /other --embeddings/);
});

test('gist merge refuses incomplete, repeated, mixed or unsharded folders', async () => {
  const s = (n: number, i: number) => at(`esu-${n}-${i}`);
  await assert.rejects(mergeShards({ inputs: [s(3, 0), s(3, 1)], out: at('bad') }), /missing shard\(s\) 2\/3/);
  await assert.rejects(mergeShards({ inputs: [s(2, 0), s(2, 0), s(2, 1)], out: at('bad') }), /given twice/);
  await assert.rejects(mergeShards({ inputs: [s(2, 0), s(3, 1), s(3, 2)], out: at('bad') }), /shard counts differ/);
  await assert.rejects(mergeShards({ inputs: [s(2, 0), at('predict-din-2-1')], out: at('bad') }), /is a shard of predict/);
  await extractEsuShard({ ...esu(at('esu-other-1')), theta: 0.3, shard: '1/2' });
  await assert.rejects(mergeShards({ inputs: [s(2, 0), at('esu-other-1')], out: at('bad') }), /differs/);
  await assert.rejects(mergeShards({ inputs: [at('esu')], out: at('bad') }), /not a --shard output/);
  await assert.rejects(mergeShards({ inputs: [], out: at('bad') }), UsageError);
  assert.ok(!fs.existsSync(at('bad')), 'nothing written');
});
