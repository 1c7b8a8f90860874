import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { searchGsu } from '../../src/core/retrieval/gsu.js';
import { HnswIndex } from '../../src/core/retrieval/hnsw.js';
import { buildShardWithHnswlibNode, type ShardBuildTask } from '../../src/core/retrieval/hnsw-shard.js';
import { randomUnitVectors } from '../../src/core/retrieval/synthetic.js';
import * as os from 'node:os';
import { nativeKernels, nativeThreads, scorerName, THREAD_SHARE_REREAD_MS } from '../../src/core/retrieval/native.js';
import { compareHnswToHnswlibNode, compareNativeToWasm, hnswFixture } from './_native-compare.js';
import { makeData, readGsu } from './_reference.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

// `npm install` builds the addon (scripts/build-native.mjs); CI sets GIST_REQUIRE_NATIVE=1 so a failed build fails there.
test('the native addon is built and loads', () => {
  const { scorer, reason } = scorerName();
  assert.match(scorer, /^native-(avx512|avx2|scalar)$/, `native kernels unavailable: ${reason}`);
  assert.ok(nativeKernels());
});

test('nativeThreads follows the pipeline\'s share file while it changes, then GIST_THREADS, then the cores', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-share-'));
  const file = path.join(dir, '.thread-share');
  const before = { share: process.env.GIST_THREAD_SHARE, threads: process.env.GIST_THREADS };
  const wait = (): Promise<void> => new Promise((r) => setTimeout(r, THREAD_SHARE_REREAD_MS + 20));
  try {
    process.env.GIST_THREADS = '5';
    process.env.GIST_THREAD_SHARE = file;
    assert.equal(nativeThreads(), 5, 'no share file yet: GIST_THREADS');
    await wait();
    fs.writeFileSync(file, '3\n');
    await wait();
    assert.equal(nativeThreads(), 3);
    fs.writeFileSync(file, '1\n');
    assert.equal(nativeThreads(), 3, 're-read at most every THREAD_SHARE_REREAD_MS');
    await wait();
    assert.equal(nativeThreads(), 1);
    fs.writeFileSync(file, 'two');
    await wait();
    assert.equal(nativeThreads(), 5, 'unreadable share: GIST_THREADS');
    fs.rmSync(file);
    delete process.env.GIST_THREADS;
    await wait();
    assert.equal(nativeThreads(), Math.max(1, Math.min(os.availableParallelism(), 4)), 'neither: one per core up to 4');
  } finally {
    for (const [k, v] of [['GIST_THREAD_SHARE', before.share], ['GIST_THREADS', before.threads]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// the in-process comparison (default SIMD path) is computed once and shared by the tests below
let defaultPath: ReturnType<typeof compareNativeToWasm> | undefined;
const compareDefaultPath = (): ReturnType<typeof compareNativeToWasm> => (defaultPath ??= compareNativeToWasm());

test('native gsuTopK agrees with the wasm kernel + JS collector (scores to a few ulps, order, ties, limits)', () => {
  const r = compareDefaultPath();
  assert.equal(r.cases, 28);
  assert.deepEqual(r.mismatches, []);
});

const variants: [string, Record<string, string>][] = [
  ['the avx2 path', { GIST_NATIVE_ISA: 'avx2' }],
  ['the scalar path', { GIST_NATIVE_ISA: 'scalar' }],
  ['no seeded thresholds', { GIST_GSU_SEED: 'off' }],
  ['seeded thresholds that fail and are redone', { GIST_GSU_SEED: 'high' }],
  ['the avx2 path with failing seeds', { GIST_NATIVE_ISA: 'avx2', GIST_GSU_SEED: 'high' }],
];
for (const [name, env] of variants) {
  test(`${name} gives bit-identical results to the default path`, () => {
    const here = compareDefaultPath();
    const p = spawnSync(process.execPath, ['--import', 'tsx', 'test/retrieval/_native-compare.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    assert.equal(p.status, 0, p.stderr);
    const r = JSON.parse(p.stdout.trim().split('\n').pop() as string) as { isa: string; mismatches: string[]; cases: number; digest: string };
    if (env.GIST_NATIVE_ISA) assert.equal(r.isa, env.GIST_NATIVE_ISA);
    assert.deepEqual(r.mismatches, []);
    assert.equal(r.digest, here.digest, `${name}: results differ from ${here.isa}'s`);
  });
}

test('search-gsu with the native and the wasm scorer: the same rows, items and scores up to float rounding', async () => {
  const { dir, data, embeddings } = makeData('native-vs-wasm', { distinctVectors: 9, users: 20, sourceLength: 400, samplesPerUser: 40 });
  const nat = await searchGsu({ data, embeddings, out: path.join(dir, 'native'), config: { k: 25 }, threads: 0, seed: 1 });
  assert.match(nat.scorer ?? '', /^native-/);
  const script = `
    import { searchGsu } from './src/core/retrieval/gsu.ts';
    const r = await searchGsu({ data: ${JSON.stringify(data)}, embeddings: ${JSON.stringify(embeddings)}, out: ${JSON.stringify(path.join(dir, 'wasm'))}, config: { k: 25 }, threads: 2, seed: 1 });
    console.log(r.scorer);`;
  const p = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, GIST_NATIVE: '0' } });
  assert.equal(p.status, 0, p.stderr);
  assert.equal(p.stdout.trim().split('\n').pop(), 'wasm-simd');
  // nine distinct vectors: scores come in separated groups of exact ties, so items must match one for one
  const a = readGsu(path.join(dir, 'native', 'gsu.arrow'));
  const b = readGsu(path.join(dir, 'wasm', 'gsu.arrow'));
  assert.deepEqual(a.ids, b.ids);
  assert.deepEqual(a.items, b.items);
  a.scores.forEach((row, i) => row.forEach((x, t) => assert.ok(Math.abs(x - b.scores[i][t]) <= 2e-6, `row ${i} entry ${t}: ${x} vs ${b.scores[i][t]}`)));
});

test('adviseHugePages covers the 2 MiB-aligned interior of an array and is harmless elsewhere', () => {
  const native = nativeKernels();
  assert.ok(native);
  const big = new Float32Array(3 << 20); // 12 MiB: at least 8 MiB of whole huge pages inside
  const advised = native.adviseHugePages(big);
  if (process.platform === 'linux') assert.ok(advised >= 8 << 20 && advised <= 12 << 20, String(advised));
  assert.equal(native.adviseHugePages(new Float32Array(16)), 0); // smaller than a huge page
  big[big.length - 1] = 1; // still ordinary memory
  assert.equal(big[big.length - 1], 1);
});

test('native HNSW batch search agrees with hnswlib-node (exactly with hnswlib\'s own distances)', async () => {
  // default path (AVX-512 distances here): near-ties may swap; GIST_NATIVE_ISA=avx2 uses hnswlib's SSE distances
  const here = await compareHnswToHnswlibNode();
  assert.deepEqual(here.problems, []);
  const p = spawnSync(process.execPath, ['--import', 'tsx', 'test/retrieval/_native-compare.ts', '--hnsw'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, GIST_NATIVE_ISA: 'avx2' },
  });
  assert.equal(p.status, 0, p.stderr);
  const r = JSON.parse(p.stdout.trim().split('\n').pop() as string) as { isa: string; exact: boolean; problems: string[] };
  assert.equal(r.isa, 'sse');
  assert.equal(r.exact, true);
  assert.deepEqual(r.problems, []);
});

test('native hnswBuild writes hnswlib-node\'s shard file byte for byte: new shards, extensions, ties, an updated label', () => {
  const native = nativeKernels();
  assert.ok(native, 'the addon is built (first test)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-hnsw-build-'));
  try {
    // dims: a multiple of 16, of 4 only, and neither (hnswlib's three SSE kernels); 150 distinct vectors among 400
    // give exact distance ties, so the heaps' tie order is exercised too
    for (const [dim, m, efc, seed] of [[64, 16, 100, 42], [24, 8, 40, 7], [37, 5, 30, 2 ** 31 + 3]] as const) {
      const all = randomUnitVectors(700, dim, seed % 1000, 150);
      const labels = Int32Array.from({ length: 700 }, (_, i) => 3 * i + 1);
      labels[650] = labels[10]; // extending with a label already present: hnswlib's update path
      const task = (lo: number, hi: number, from: string | null, file: string): ShardBuildTask => ({
        type: 'build', dim, m, efConstruction: efc, seed, vectors: all.slice(lo * dim, hi * dim), labels: labels.slice(lo, hi), from, file,
      });
      const dims = Int32Array.of(dim, m, efc, seed);
      const f = (name: string): string => path.join(dir, `${dim}-${name}.bin`);
      assert.equal(buildShardWithHnswlibNode(task(0, 400, null, f('js'))), 400);
      assert.equal(native.hnswBuild(all.slice(0, 400 * dim), labels.slice(0, 400), dims, null, f('native')), 400);
      assert.ok(fs.readFileSync(f('js')).equals(fs.readFileSync(f('native'))), `dim ${dim}: new shard`);
      assert.equal(buildShardWithHnswlibNode(task(400, 700, f('js'), f('js2'))), 699);
      assert.equal(native.hnswBuild(all.slice(400 * dim), labels.slice(400), dims, f('native'), f('native2')), 699);
      assert.ok(fs.readFileSync(f('js2')).equals(fs.readFileSync(f('native2'))), `dim ${dim}: extended shard`);
    }
    const v = randomUnitVectors(4, 8, 1);
    assert.throws(() => native.hnswBuild(v, Int32Array.of(0, 1, 2, 3), Int32Array.of(8, 4, 10, 1), path.join(dir, 'missing.bin'), path.join(dir, 'x.bin')), /hnswBuild/);
    assert.throws(() => native.hnswBuild(v, Int32Array.of(0, 1, 2), Int32Array.of(8, 4, 10, 1), null, path.join(dir, 'x.bin')), /hnswBuild/);
    assert.throws(() => native.hnswBuild(v, Int32Array.of(0, 1, 2, -3), Int32Array.of(8, 4, 10, 1), null, path.join(dir, 'x.bin')), /non-negative/);
    assert.ok(!fs.existsSync(path.join(dir, 'x.bin')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('native HNSW search (hnswlib\'s searchKnn replayed with batched distances) returns exactly hnswlib\'s results, on both distance kernels', () => {
  const run = (env: Record<string, string>): { isa: string; digest: string } => {
    const p = spawnSync(process.execPath, ['--import', 'tsx', 'test/retrieval/_native-compare.ts', '--hnsw-digest'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(p.status, 0, p.stderr);
    return JSON.parse(p.stdout.trim().split('\n').pop() as string) as { isa: string; digest: string };
  };
  const isas = new Set<string>();
  for (const isa of [{}, { GIST_NATIVE_ISA: 'avx2' }] as Record<string, string>[]) {
    const replica = run(isa);
    const own = run({ ...isa, GIST_HNSW_REPLICA: '0' });
    assert.equal(replica.isa, own.isa);
    assert.equal(replica.digest, own.digest, `distance kernel ${replica.isa}`);
    isas.add(replica.isa);
  }
  assert.ok(isas.has('sse'), 'hnswlib\'s SSE kernel compared');
});

test('a closed HNSW handle and a missing shard file fail cleanly', async () => {
  const { files, dim, queries } = await hnswFixture();
  const index = await HnswIndex.openFiles(files, dim, 30, 1);
  await index.close();
  await assert.rejects(index.search(queries, 5), /index closed/);
  assert.throws(() => nativeKernels()?.hnswOpen([files[0] + '.missing'], dim, 10), /hnswOpen/);
});
