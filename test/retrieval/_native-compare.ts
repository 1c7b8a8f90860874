/**
 * Native gsuTopK against the WebAssembly kernel + JS collector on random cases (not a test file). Imported by
 * native.test.ts, and run as a script (`node --import tsx test/retrieval/_native-compare.ts`) in child processes
 * with GIST_NATIVE_ISA set, since the SIMD path is chosen when the addon loads. Prints {cases, mismatches, isa,
 * digest}: the digest covers every native result bit, so the ISA paths can be compared exactly.
 *
 * The two kernels sum dot products in different orders (native: one fma chain; wasm: four strided partial
 * sums), so scores may differ in the last bits. Agreement means: the same number of results, scores equal
 * position by position within SCORE_TOL, and every item scoring clearly above the K-th score (by more than
 * SCORE_TOL) returned by both; near-ties may come back in either order.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeArrow } from '../../src/core/arrow-io.js';
import { HnswIndex, buildIndex, readIndexManifest } from '../../src/core/retrieval/hnsw.js';
import { ShardSet } from '../../src/core/retrieval/hnsw-shard.js';
import { nativeKernels } from '../../src/core/retrieval/native.js';
import { QUERY_BLOCK, ScoreKernel, createScoreSpace, type ScoreSpace } from '../../src/core/retrieval/score-kernel.js';
import { TopKCollector, scoreTopK } from '../../src/core/retrieval/topk.js';
import { randomUnitVectors } from '../../src/core/retrieval/synthetic.js';
import { makeRng } from '../../src/core/rng.js';
import { EMBEDDINGS } from '../../src/core/schemas.js';
import { tmpDir } from './_reference.js';

interface TopK {
  items: Int32Array;
  scores: Float32Array;
  counts: Int32Array;
}

/** The wasm path, QUERY_BLOCK queries at a time. */
function wasmTopK(space: ScoreSpace, qrows: Int32Array, cand: Int32Array, recency: Float64Array | null, limit: Int32Array, k: number): TopK {
  const kernel = new ScoreKernel(space, 0);
  const collector = new TopKCollector(k);
  const nq = qrows.length;
  const out: TopK = { items: new Int32Array(nq * k), scores: new Float32Array(nq * k), counts: new Int32Array(nq) };
  const cols = new Int32Array(k);
  const colLimit = new Int32Array(QUERY_BLOCK);
  for (let c = 0; c < nq; c += QUERY_BLOCK) {
    const n = Math.min(QUERY_BLOCK, nq - c);
    collector.reset({ item: cand, recency });
    for (let i = 0; i < n; i++) {
      kernel.setQueryRow(i, qrows[c + i]);
      colLimit[i] = limit[c + i];
    }
    kernel.clearQueries(n, n + 2);
    scoreTopK(kernel, n, cand, colLimit, collector);
    for (let i = 0; i < n; i++) {
      const got = collector.drain(i, cols, 0, out.scores, (c + i) * k);
      for (let t = 0; t < got; t++) out.items[(c + i) * k + t] = cand[cols[t]];
      out.counts[c + i] = got;
    }
  }
  return out;
}

export interface CompareReport {
  cases: number;
  mismatches: string[];
  isa: string;
  /** sha256 over every native result (items, score bits, counts). */
  digest: string;
}

/** Largest |native − wasm| score difference allowed (unit vectors, ≤ 70 dims: a few float ulps). */
export const SCORE_TOL = 2e-6;

/**
 * Why query q's native and wasm top-K disagree beyond near-ties, or null. `strict`: the table holds a few distinct
 * vectors, so scores come in well-separated groups of exact ties and the order (recency, item id, position)
 * must match item for item.
 */
function disagreement(got: TopK, want: TopK, q: number, k: number, strict: boolean): string | null {
  if (got.counts[q] !== want.counts[q]) return `count ${got.counts[q]} vs ${want.counts[q]}`;
  const n = want.counts[q];
  const a = q * k;
  if (strict) for (let t = 0; t < n; t++) if (got.items[a + t] !== want.items[a + t]) return `item at ${t}: ${got.items[a + t]} vs ${want.items[a + t]}`;
  for (let t = 0; t < n; t++) if (Math.abs(got.scores[a + t] - want.scores[a + t]) > SCORE_TOL) return `score at ${t}: ${got.scores[a + t]} vs ${want.scores[a + t]}`;
  if (n === 0) return null;
  const last = Math.min(got.scores[a + n - 1], want.scores[a + n - 1]);
  const clear = (r: TopK): number[] => Array.from(r.items.subarray(a, a + n)).filter((_, t) => r.scores[a + t] > last + SCORE_TOL).sort((x, y) => x - y);
  const [x, y] = [clear(got), clear(want)];
  const missing = y.filter((it) => !x.includes(it));
  return missing.length ? `items ${missing.join(',')} missing` : null;
}

/** Random tables (dims 1–70, some with few distinct vectors: ties), query counts 1–100, uneven limits (some in time order), histories to 9,000. */
export function compareNativeToWasm(seed = 3): CompareReport {
  const native = nativeKernels();
  if (!native) throw new Error('native addon not loaded');
  const rng = makeRng(seed);
  const mismatches: string[] = [];
  const digest = createHash('sha256');
  let cases = 0;
  for (const [dim, rows, L, nq, k, distinct, timeOrder] of [
    [64, 3000, 2000, 32, 100, 0, 0],
    [64, 500, 1500, 17, 50, 7, 0],
    [13, 400, 700, 5, 30, 0, 0],
    [1, 50, 300, 9, 20, 0, 0],
    [70, 2000, 1200, 100, 100, 0, 0],
    [8, 200, 900, 40, 64, 5, 0],
    [32, 1000, 60, 16, 100, 0, 0],
    [24, 900, 1100, 33, 1, 0, 0],
    // 47 queries (tiles of 320, 256 and 32 lanes in turn), K = 199, no seeding: many lanes pass, so the AVX-512
    // pass log fills across tiles of different sizes (its flush once checked only the last tile's size and wrote
    // past the log: found on the paper-shaped run, reproduced by AddressSanitizer on this shape)
    [64, 3000, 1483, 47, 199, 0, 0],
    // K = 400 among heavy ties: a query drains more than the 512 entries the AVX-512 rank sort takes
    [16, 600, 3000, 24, 400, 5, 0],
    // long histories (≥ 8 K, K ≥ 32): queries start from thresholds seeded by a sample of columns
    [16, 3000, 6000, 40, 50, 0, 0],
    [16, 800, 5000, 20, 40, 6, 0],
    // samples in time order (as a user's come): limits rise across the query registers, so the longer registers
    // run on alone past the shorter ones' longest limit
    [32, 2000, 2500, 70, 100, 0, 1],
    [16, 600, 9000, 37, 60, 4, 1],
  ] as const) {
    const space = createScoreSpace(rows, dim, 1, (table, dp) => {
      const basis = Array.from({ length: distinct || rows }, () => Array.from({ length: dim }, () => rng.next() - 0.5));
      for (let r = 0; r < rows; r++) {
        const v = basis[distinct ? rng.int(distinct) : r];
        const norm = Math.hypot(...v) || 1;
        for (let d = 0; d < dim; d++) table[r * dp + d] = v[d] / norm;
      }
    });
    const table = new Float32Array(space.memory.buffer, 0, (rows + 1) * space.dp);
    for (const withRecency of [true, false]) {
      cases++;
      const cand = Int32Array.from({ length: L }, () => rng.int(rows));
      const recency = withRecency ? Float64Array.from({ length: L }, (_, j) => Math.floor(j / 4)) : null; // time ties too
      const qrows = Int32Array.from({ length: nq }, () => rng.int(rows));
      const limit = Int32Array.from({ length: nq }, (_, q) => (q % 3 === 0 ? L : q % 5 === 1 ? 0 : rng.int(L + 1)));
      if (timeOrder) limit.sort();
      const want = wasmTopK(space, qrows, cand, recency, limit, k);
      const got: TopK = { items: new Int32Array(nq * k), scores: new Float32Array(nq * k), counts: new Int32Array(nq) };
      native.gsuTopK(table, space.dp, qrows, cand, recency, limit, k, got.items, got.scores, got.counts);
      digest.update(new Uint8Array(got.items.buffer)).update(new Uint8Array(got.scores.buffer)).update(new Uint8Array(got.counts.buffer));
      for (let q = 0; q < nq; q++) {
        const why = disagreement(got, want, q, k, distinct > 0);
        if (why) mismatches.push(`dim ${dim} nq ${nq} k ${k} recency ${withRecency} query ${q}: ${why}`);
      }
    }
  }
  return { cases, mismatches, isa: native.isa(), digest: digest.digest('hex') };
}

/** A 3-shard index of 900 random 24-d vectors (item ids 1, 3, 5, …) and 60 held-out queries, scaled, one zero. */
export async function hnswFixture(): Promise<{ files: string[]; dim: number; queries: Float32Array }> {
  const dir = tmpDir('native-hnsw');
  const n = 900;
  const dim = 24;
  const all = randomUnitVectors(n + 60, dim, 17, 0);
  const file = path.join(dir, 'emb.arrow');
  writeArrow(file, EMBEDDINGS, { item_id: Int32Array.from({ length: n }, (_, i) => i * 2 + 1), vector: { dim, values: all.subarray(0, n * dim) } }, { test: 1 });
  await buildIndex({ embeddings: file, out: path.join(dir, 'index'), config: { m: 8, efConstruction: 40, ef: 30, shards: 3 }, seed: 5, threads: 2 });
  const files = readIndexManifest(path.join(dir, 'index')).shards.map((s) => path.join(dir, 'index', s.file));
  const queries = all.slice(n * dim).map((x, i) => x * (1 + (i % 3)));
  queries.fill(0, 0, dim);
  return { files, dim, queries };
}

/**
 * Native batched HNSW search vs hnswlib-node one query at a time (hnsw-shard.ts ShardSet), k = 1, 10, 400 (more
 * than a shard holds). With hnswlib's own distances ("sse") the results must be identical; with gist's AVX-512
 * distances, distances within 1e-5 position by position and ≥ 99% of the labels shared.
 */
export async function compareHnswToHnswlibNode(): Promise<{ isa: string; exact: boolean; problems: string[] }> {
  const native = nativeKernels();
  if (!native) throw new Error('native addon not loaded');
  const { files, dim, queries } = await hnswFixture();
  const exact = native.hnswIsa() === 'sse';
  const problems: string[] = [];
  for (const k of [1, 10, 400]) {
    const want = new ShardSet(files, dim, 30).search({ type: 'search', queries, k });
    const index = await HnswIndex.openFiles(files, dim, 30, 2);
    const got = await index.search(queries, k);
    await index.close();
    if (exact) {
      if (!got.labels.every((x, i) => x === want.labels[i])) problems.push(`k ${k}: labels differ`);
      if (!got.distances.every((x, i) => Object.is(x, want.distances[i]))) problems.push(`k ${k}: distances differ`);
      continue;
    }
    if (!got.distances.every((x, i) => (x === Infinity && want.distances[i] === Infinity) || Math.abs(x - want.distances[i]) <= 1e-5)) problems.push(`k ${k}: distances differ beyond 1e-5`);
    let shared = 0;
    let total = 0;
    for (let q = 0; q < queries.length / dim; q++) {
      const w = new Set(Array.from(want.labels.subarray(q * k, q * k + k)).filter((x) => x >= 0));
      total += w.size;
      for (const x of got.labels.subarray(q * k, q * k + k)) if (w.has(x)) shared++;
    }
    if (shared < 0.99 * total) problems.push(`k ${k}: only ${shared}/${total} labels shared`);
  }
  return { isa: native.hnswIsa(), exact, problems };
}

/**
 * A digest of the native batched search's results (labels and distance bits) on the fixture and on a shard of
 * 2,000 64-d vectors among which only 500 are distinct (exact distance ties), k = 1, 10, 100, 400 (past a fixture
 * shard's size, so ef = k); run with GIST_HNSW_REPLICA=0 it is hnswlib's own searchKnn's.
 */
export async function hnswSearchDigest(): Promise<{ isa: string; digest: string }> {
  const native = nativeKernels();
  if (!native) throw new Error('native addon not loaded');
  const hash = createHash('sha256');
  const cases = [await hnswFixture()];
  const dir = tmpDir('native-hnsw-ties');
  const all = randomUnitVectors(2_060, 64, 9, 500);
  const file = path.join(dir, 'e.arrow');
  writeArrow(file, EMBEDDINGS, { item_id: Int32Array.from({ length: 2_000 }, (_, i) => i), vector: { dim: 64, values: all.subarray(0, 2_000 * 64) } }, { config_hash: 't' });
  await buildIndex({ embeddings: file, out: path.join(dir, 'index'), config: { m: 12, efConstruction: 60, ef: 40, shards: 1 }, seed: 3, threads: 1 });
  cases.push({ files: readIndexManifest(path.join(dir, 'index')).shards.map((s) => path.join(dir, 'index', s.file)), dim: 64, queries: all.slice(2_000 * 64) });
  for (const { files, dim, queries } of cases)
    for (const k of [1, 10, 100, 400]) {
      const index = await HnswIndex.openFiles(files, dim, 30, 2);
      const got = await index.search(queries, k);
      await index.close();
      hash.update(Buffer.from(got.labels.buffer)).update(Buffer.from(got.distances.buffer));
    }
  return { isa: native.hnswIsa(), digest: hash.digest('hex') };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = process.argv.includes('--hnsw') ? await compareHnswToHnswlibNode() : process.argv.includes('--hnsw-digest') ? await hnswSearchDigest() : compareNativeToWasm();
  process.stdout.write(JSON.stringify(report) + '\n');
}
