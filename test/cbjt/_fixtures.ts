/** Small in-test catalogues for the CBJT tests (not a test file: the glob only runs *.test.ts). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeArrow } from '../../src/core/arrow-io.js';
import { makeRng } from '../../src/core/rng.js';
import { EMBEDDINGS, ITEMS, PAIRS } from '../../src/core/schemas.js';

export const TOPICS = [
  ['apple', 'pear', 'plum', 'fruit', 'orchard'],
  ['pan', 'skillet', 'wok', 'fry', 'iron'],
  ['coffee', 'espresso', 'bean', 'roast', 'grinder'],
  ['knife', 'blade', 'chef', 'steel', 'sharpen'],
  ['tea', 'green', 'leaf', 'kettle', 'brew'],
  ['pasta', 'noodle', 'spaghetti', 'sauce', 'italian'],
];

export interface TinyCatalogue {
  dir: string;
  /** Topic of each item. */
  topic: number[];
  /** 0 = source, 1 = target. */
  domain: number[];
  count: number;
  contentDim: number;
}

/**
 * A prepared-dataset folder with only items.arrow (all the CBJT commands read): `perTopic` items per topic
 * and domain; titles are topic words plus a unique word, text is the topic's first word, content vectors are
 * the topic direction plus noise. Items whose index ends in 9 are cold (no interactions).
 */
export function makeCatalogue(opts: { perTopic?: number; contentDim?: number; withText?: boolean; seed?: number } = {}): TinyCatalogue {
  const perTopic = opts.perTopic ?? 8;
  const contentDim = opts.contentDim ?? 0;
  const rng = makeRng(opts.seed ?? 3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-cbjt-'));
  const title: string[] = [];
  const text: string[] = [];
  const topic: number[] = [];
  const domain: number[] = [];
  const content: number[] = [];
  const sourceCount: number[] = [];
  const targetCount: number[] = [];
  for (let d = 0; d < 2; d++) {
    for (let t = 0; t < TOPICS.length; t++) {
      for (let k = 0; k < perTopic; k++) {
        const i = title.length;
        const words = TOPICS[t];
        title.push(`${words[rng.int(5)]} ${words[rng.int(5)]} ${words[rng.int(5)]} item${i}`);
        text.push(opts.withText === false ? '' : `${words[0]} ${words[3]}`);
        topic.push(t);
        domain.push(d);
        for (let c = 0; c < contentDim; c++) content.push((c % TOPICS.length === t ? 1 : 0) + 0.3 * rng.normal());
        const cold = i % 10 === 9;
        sourceCount.push(d === 0 && !cold ? 1 + rng.int(50) : 0);
        targetCount.push(d === 1 && !cold ? 1 + rng.int(20) : 0);
      }
    }
  }
  const n = title.length;
  writeArrow(
    path.join(dir, 'items.arrow'),
    ITEMS,
    {
      item_id: Int32Array.from({ length: n }, (_, i) => i),
      domain: { codes: Int32Array.from(domain), values: ['source', 'target'] },
      title,
      text,
      ...(contentDim > 0 ? { content: { dim: contentDim, values: Float32Array.from(content) } } : {}),
      source_count: Int32Array.from(sourceCount),
      target_count: Int32Array.from(targetCount),
    },
    {},
  );
  fs.writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify({ name: 'cbjt-test' }));
  return { dir, topic, domain, count: n, contentDim };
}

/** id_embeddings.arrow for source items with interactions: topic direction plus noise (dim 8). */
export function writeIdEmbeddings(cat: TinyCatalogue, file: string, dim = 8): void {
  const rng = makeRng(5);
  const ids: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < cat.count; i++) {
    if (cat.domain[i] !== 0 || i % 10 === 9) continue;
    ids.push(i);
    for (let c = 0; c < dim; c++) values.push((c === cat.topic[i] ? 2 : 0) + 0.2 * rng.normal());
  }
  writeArrow(file, EMBEDDINGS, { item_id: Int32Array.from(ids), vector: { dim, values: Float32Array.from(values) } }, {});
}

/**
 * pairs.arrow: target item → source item of the same topic; cold items never appear. Rows alternate
 * train/valid/test in a 4:1:1 pattern.
 */
export function writePairs(cat: TinyCatalogue, file: string, perTarget = 3, withSplit = true): void {
  const rng = makeRng(9);
  const left: number[] = [];
  const right: number[] = [];
  for (let i = 0; i < cat.count; i++) {
    if (cat.domain[i] !== 1 || i % 10 === 9) continue;
    const candidates = [];
    for (let j = 0; j < cat.count; j++) if (cat.domain[j] === 0 && cat.topic[j] === cat.topic[i] && j % 10 !== 9) candidates.push(j);
    for (let k = 0; k < perTarget; k++) {
      left.push(i);
      right.push(candidates[rng.int(candidates.length)]);
    }
  }
  const n = left.length;
  const codes = Int32Array.from({ length: n }, (_, r) => [0, 0, 0, 0, 1, 2][r % 6]);
  writeArrow(
    file,
    PAIRS,
    {
      target_item: Int32Array.from(left),
      related_item: Int32Array.from(right),
      attention: new Float32Array(n).fill(0.6),
      count: new Int32Array(n).fill(1),
      ...(withSplit ? { split: { codes, values: ['train', 'valid', 'test'] } } : {}),
    },
    {},
  );
}

/** Small, fast encoder settings for tests. */
export const FAST_ENCODER = { dim: 16, bagDim: 16, hidden: 32, buckets: 2048, minSteps: 0 } as const;
