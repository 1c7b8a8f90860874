/**
 * plantedNeighbourRecall on a seeded random world (not a test file): run as a script by planted.test.ts with and
 * without the native addon (GIST_NATIVE=0); prints the result and whether the addon was loaded.
 */
import type { Items } from '../../src/core/dataset.js';
import { plantedNeighbourRecall } from '../../src/core/evaluate/planted.js';
import { nativeKernels } from '../../src/core/retrieval/native.js';
import { makeRng } from '../../src/core/rng.js';

const rng = makeRng(21);
const n = 3000;
const dim = 37;
const items = { count: n, domain: Int8Array.from({ length: n }, () => (rng.next() < 0.7 ? 0 : 1)) } as unknown as Items;
const planted = { subtopic: Int32Array.from({ length: n }, () => rng.int(40)), topic: Int32Array.from({ length: n }, () => rng.int(8)) };
// some exact ties: a few items share a vector
const values = Float32Array.from({ length: n * dim }, () => rng.normal());
for (let i = 0; i < 50; i++) values.copyWithin(rng.int(n) * dim, rng.int(n) * dim, 0);
const has = Uint8Array.from({ length: n }, () => (rng.next() < 0.95 ? 1 : 0));
const result = [0, 1].map((domain) => plantedNeighbourRecall('e', { dim, values }, has, items, planted, [1, 10, 100], 200, makeRng(3), domain));
process.stdout.write(JSON.stringify({ native: nativeKernels() !== null, result }) + '\n');
