/**
 * Development aid: an "oracle" embeddings file from a synthetic dataset's planted truth, to measure how much of the
 * DIN→oracle gap a perfect GSU could close. Vector = [a·onehot(sub-topic); b·onehot(topic)], so cosine is 1 within a
 * sub-topic, b²/(a²+b²) within a topic, 0 otherwise.
 * Usage: node --import tsx scripts/planted-embeddings.ts DATA_DIR OUT.arrow [topicWeight=0.5]
 */
import { writeArrow } from '../src/core/arrow-io.js';
import { loadDataset } from '../src/core/dataset.js';
import { readPlanted } from '../src/core/evaluate/planted.js';
import { EMBEDDINGS } from '../src/core/schemas.js';

const [data, out, tw] = process.argv.slice(2);
const b = Number(tw ?? 0.5);
const ds = loadDataset(data);
const planted = readPlanted(data, ds.items.count)!;
const n = ds.items.count;
let topics = 0;
let subs = 0;
for (let i = 0; i < n; i++) {
  topics = Math.max(topics, planted.topic[i] + 1);
  subs = Math.max(subs, planted.subtopic[i] + 1);
}
const d = subs + topics;
const values = new Float32Array(n * d);
const norm = Math.sqrt(1 + b * b);
for (let i = 0; i < n; i++) {
  values[i * d + planted.subtopic[i]] = 1 / norm;
  values[i * d + subs + planted.topic[i]] = b / norm;
}
writeArrow(out, EMBEDDINGS, { item_id: Int32Array.from({ length: n }, (_, i) => i), vector: { dim: d, values } }, { command: 'planted-embeddings', version: '0', seed: 0, config_hash: 'planted' });
console.log(`${out}: ${n} items, dim ${d}`);
