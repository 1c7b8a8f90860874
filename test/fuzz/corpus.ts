/**
 * The fuzzer's seed corpus, built in memory and deterministic (independent of the fuzz seed): valid Arrow files
 * of every table spec (file and stream format, empty and multi-batch variants), a small valid prepared dataset
 * folder, and small valid inputs of every importer (food-kitchen, movielens, tsv/csv).
 */
import { RecordBatch, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { encodeArrow, type Columns } from '../../src/core/arrow-io.js';
import { makeRng, type Rng } from '../../src/core/rng.js';
import { ALL_SPECS, EMBEDDINGS, ESU_SAMPLES, EVAL_RANKS, EXPORTED_SAMPLES, GSU, PREDICTED, USERS, ITEMS, PAIRS, PLANTED, PREDICTIONS, SAMPLES, SEQUENCES, type TableSpec } from '../../src/core/schemas.js';

const META = { command: 'fuzz', version: '0.0.0', seed: 1, config_hash: '0000000000000000' };

export interface ArrowSeed {
  name: string;
  spec: TableSpec;
  bytes: Uint8Array;
}

function csr<T extends Int32Array | Float32Array | Float64Array>(lengths: number[], make: (n: number) => T, value: (row: number, k: number) => number): { offsets: Int32Array; values: T } {
  const offsets = new Int32Array(lengths.length + 1);
  lengths.forEach((l, r) => (offsets[r + 1] = offsets[r] + l));
  const values = make(offsets[lengths.length]);
  for (let r = 0; r < lengths.length; r++) for (let k = 0; k < lengths[r]; k++) values[offsets[r] + k] = value(r, k);
  return { offsets, values };
}

/** Valid columns of `spec` with `n` rows (ids dense, times ascending, values in range). */
export function validColumns(spec: TableSpec, n: number, rng: Rng, numItems = Math.max(n, 4)): Columns {
  const ids = Int32Array.from({ length: n }, (_, i) => i);
  const ints = (hi: number): Int32Array => Int32Array.from({ length: n }, () => rng.int(hi));
  const labels = Int8Array.from({ length: n }, () => rng.int(2));
  const split = (values: string[]) => ({ codes: Int32Array.from({ length: n }, () => rng.int(values.length)), values });
  const lens = Array.from({ length: n }, () => rng.int(5));
  switch (spec.name) {
    case ITEMS.name:
      return {
        item_id: ids,
        domain: { codes: Int32Array.from({ length: n }, (_, i) => (i < n / 2 ? 0 : 1)), values: ['source', 'target'] },
        title: Array.from({ length: n }, (_, i) => `item ${i} «${'ab'.repeat(i % 3)}»`),
        text: Array.from({ length: n }, (_, i) => (i % 2 ? 'genre a | tag' : '')),
        category: { codes: Int32Array.from({ length: n }, (_, i) => (i % 3 === 2 ? -1 : i % 2)), values: ['c0', 'c1'] },
        content: { dim: 3, values: Float32Array.from({ length: n * 3 }, () => rng.normal()) },
        source_count: ints(10),
        target_count: ints(10),
      };
    case SEQUENCES.name:
      return {
        user_id: ids,
        items: csr(lens, (k) => new Int32Array(k), () => rng.int(numItems)),
        ts: csr(lens, (k) => new Float64Array(k), (r, k) => 1000 * r + 10 * k),
      };
    case SAMPLES.name:
      return {
        sample_id: ids,
        user_id: ints(5),
        item_id: ints(numItems),
        ts: Float64Array.from({ length: n }, (_, i) => 5 + 100 * i),
        label: labels,
        split: split(['train', 'valid', 'test']),
        p_true: Float32Array.from({ length: n }, () => rng.next()),
      };
    case EMBEDDINGS.name:
      return { item_id: ids, vector: { dim: 4, values: Float32Array.from({ length: n * 4 }, () => rng.normal()) } };
    case PAIRS.name:
      return {
        target_item: ints(numItems),
        related_item: ints(numItems),
        attention: Float32Array.from({ length: n }, () => rng.next()),
        count: Int32Array.from({ length: n }, () => 1 + rng.int(3)),
        split: split(['train', 'valid', 'test']),
      };
    case ESU_SAMPLES.name:
      return {
        sample_id: ids,
        status: Int8Array.from({ length: n }, () => rng.int(3)),
        target_item: ints(numItems),
        related_item: ints(numItems),
        attention: Float32Array.from({ length: n }, () => rng.next()),
        history_length: Int32Array.from({ length: n }, () => rng.int(50)),
        ts: Float64Array.from({ length: n }, (_, i) => 10 * i),
        split: Int8Array.from({ length: n }, () => rng.int(3)),
      };
    case EVAL_RANKS.name:
      return {
        row: ids,
        embedding: Array.from({ length: n }, (_, i) => `e${i % 2}`),
        pair: ids,
        greater: Int32Array.from({ length: n }, () => rng.int(10) - 1),
        ties: Int32Array.from({ length: n }, () => rng.int(3)),
      };
    case PREDICTIONS.name:
      return {
        sample_id: ids,
        user_id: ints(5),
        item_id: ints(numItems),
        label: labels,
        score: Float32Array.from({ length: n }, () => rng.next()),
        split: split(['valid', 'test']),
      };
    case GSU.name:
      return {
        sample_id: ids,
        items: csr(lens, (k) => new Int32Array(k), () => rng.int(numItems)),
        scores: csr(lens, (k) => new Float32Array(k), (_r, k) => 1 - k / 10),
      };
    case PLANTED.name:
      return { item_id: ids, topic: ints(4), subtopic: ints(12) };
    case USERS.name:
      return { user_id: ids, user_key: Array.from({ length: n }, (_, i) => `u${i}`) };
    case PREDICTED.name:
      return { sample_id: ids, user_id: ints(5), item_id: ints(numItems), ts: Float64Array.from({ length: n }, (_, i) => 5 + 100 * i), score: Float32Array.from({ length: n }, () => rng.next()), label: labels };
    case EXPORTED_SAMPLES.name:
      return {
        sample_id: ids,
        user_id: ints(5),
        item_id: ints(numItems),
        label: labels,
        split: split(['train', 'valid', 'test']),
        ts: Float64Array.from({ length: n }, (_, i) => 5 + 100 * i),
        hist_items: csr(lens, (k) => new Int32Array(k), () => rng.int(numItems)),
        hist_ts: csr(lens, (k) => new Float64Array(k), (_r, k) => k),
      };
    default:
      throw new Error(`corpus: no generator for spec ${spec.name}`);
  }
}

/** Two encoded tables of the same spec joined into one multi-batch table (stream and file format). */
function multiBatch(spec: TableSpec, rng: Rng): { stream: Uint8Array; file: Uint8Array | null } {
  const a = tableFromIPC(encodeArrow(spec, validColumns(spec, 3, rng), META));
  const b = tableFromIPC(encodeArrow(spec, validColumns(spec, 4, rng), META));
  const joined = new Table(a.schema, [...a.batches, ...b.batches.map((batch) => new RecordBatch(a.schema, batch.data))]);
  const stream = tableToIPC(joined, 'stream');
  let file: Uint8Array | null = null;
  try {
    file = tableToIPC(joined, 'file');
    tableFromIPC(file); // a file with replacement dictionaries is not valid; keep only what reads back
  } catch {
    file = null;
  }
  return { stream, file };
}

export function arrowCorpus(): ArrowSeed[] {
  const rng = makeRng(20250707);
  const out: ArrowSeed[] = [];
  for (const spec of ALL_SPECS) {
    const small = encodeArrow(spec, validColumns(spec, 5, rng), META);
    out.push({ name: `${spec.name}-small`, spec, bytes: small });
    out.push({ name: `${spec.name}-empty`, spec, bytes: encodeArrow(spec, validColumns(spec, 0, rng), META) });
    out.push({ name: `${spec.name}-medium`, spec, bytes: encodeArrow(spec, validColumns(spec, 40, rng), META) });
    out.push({ name: `${spec.name}-stream`, spec, bytes: tableToIPC(tableFromIPC(small), 'stream') });
    const mb = multiBatch(spec, rng);
    out.push({ name: `${spec.name}-multibatch-stream`, spec, bytes: mb.stream });
    if (mb.file) out.push({ name: `${spec.name}-multibatch-file`, spec, bytes: mb.file });
  }
  return out;
}

/** A small valid prepared dataset: file name → bytes (Arrow) or text (dataset.json). */
export function datasetCorpus(): Map<string, Uint8Array> {
  const rng = makeRng(7);
  const numItems = 12; // 0..5 source, 6..11 target
  const domainCodes = Int32Array.from({ length: numItems }, (_, i) => (i < 6 ? 0 : 1));
  const files = new Map<string, Uint8Array>();
  files.set(
    'items.arrow',
    encodeArrow(
      ITEMS,
      {
        item_id: Int32Array.from({ length: numItems }, (_, i) => i),
        domain: { codes: domainCodes, values: ['source', 'target'] },
        title: Array.from({ length: numItems }, (_, i) => `title ${i}`),
        text: Array.from({ length: numItems }, (_, i) => `text ${i % 3}`),
        category: { codes: Int32Array.from({ length: numItems }, (_, i) => (i % 4 === 3 ? -1 : i % 3)), values: ['a', 'b', 'c'] },
        content: { dim: 2, values: Float32Array.from({ length: numItems * 2 }, () => rng.normal()) },
        source_count: Int32Array.from({ length: numItems }, (_, i) => (i < 6 ? 1 + rng.int(4) : 0)),
        target_count: Int32Array.from({ length: numItems }, (_, i) => (i >= 6 ? 1 + rng.int(4) : 0)),
      },
      META,
    ),
  );
  for (const [domain, lo] of [
    ['source', 0],
    ['target', 6],
  ] as const) {
    const users = [0, 1, 2, 4];
    const lens = [3, 1, 4, 2];
    files.set(
      `sequences_${domain}.arrow`,
      encodeArrow(
        SEQUENCES,
        {
          user_id: Int32Array.from(users),
          items: csr(lens, (k) => new Int32Array(k), () => lo + rng.int(6)),
          ts: csr(lens, (k) => new Float64Array(k), (_r, k) => 100 * k + (domain === 'target' ? 50 : 0)),
        },
        META,
      ),
    );
    const n = 10;
    files.set(
      `samples_${domain}.arrow`,
      encodeArrow(
        SAMPLES,
        {
          sample_id: Int32Array.from({ length: n }, (_, i) => i),
          user_id: Int32Array.from({ length: n }, () => rng.int(5)),
          item_id: Int32Array.from({ length: n }, () => lo + rng.int(6)),
          ts: Float64Array.from({ length: n }, (_, i) => 40 * i),
          label: Int8Array.from({ length: n }, (_, i) => i % 2),
          split: { codes: Int32Array.from({ length: n }, (_, i) => (i < 6 ? 0 : i < 8 ? 1 : 2)), values: ['train', 'valid', 'test'] },
        },
        META,
      ),
    );
  }
  const manifest = { name: 'fuzz', format: 'synthetic', created_by: 'fuzz', seed: 7, counts: { items: numItems, users: 5 }, notes: ['fuzz corpus'] };
  files.set('dataset.json', new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n'));
  return files;
}

export interface TextInput {
  format: 'food-kitchen' | 'movielens' | 'tsv';
  name: string;
  /** file name → contents */
  files: Record<string, string>;
}

function foodKitchen(): TextInput {
  const items = ['item_id\tdomain\tasin\ttitle'];
  for (let i = 0; i < 16; i++) items.push(`${i}\t${i % 2 ? 'food' : 'kitchen'}\tB00${i}X\t${i % 2 ? 'Snack' : 'Pan'} ${i}${i === 5 ? '\twith\ttabs' : ''}`);
  const line = (uid: number, ids: number[]): string => `${uid}\t${ids.join(',')}`;
  return {
    format: 'food-kitchen',
    name: 'food-kitchen',
    files: {
      'items.tsv': items.join('\n') + '\n',
      'train_overlap.txt': [line(1, [0, 1, 2, 3, 5, 7]), line(2, [4, 9, 6, 11, 8, 13]), line(3, [1, 2, 3, 15, 10])].join('\n') + '\n',
      'valid.txt': [line(4, [2, 1, 4, 3, 5]), line(5, [7, 0, 9])].join('\n') + '\n',
      'test.txt': [line(6, [6, 5, 8, 7, 11]), line(7, [13, 14, 15])].join('\r\n') + '\r\n',
      'train_A.txt': [line(8, [1, 3, 5]), line(9, [7, 9])].join('\n') + '\n',
      'train_B.txt': [line(10, [0, 2, 4]), line(11, [6, 8, 10, 12])].join('\n'),
    },
  };
}

function movieLens(): TextInput {
  const movies = [
    'movieId,title,genres',
    '1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy',
    '2,Jumanji (1995),Adventure|Children|Fantasy',
    '3,"Heat, the (1995)",Action|Crime|Thriller',
    '5,Sabrina (1995),Comedy|Romance',
    '7,"The ""Quoted"" Movie (2000)",Drama',
    '9,Nothing (1999),(no genres listed)',
    '11,Cars (2006),Animation|Children',
    '13,Alien (1979),Horror|Sci-Fi',
  ];
  const ratings = ['userId,movieId,rating,timestamp'];
  const r = makeRng(3);
  const ids = [1, 2, 3, 5, 7, 9, 11, 13];
  for (let u = 1; u <= 6; u++) for (let k = 0; k < 7; k++) ratings.push(`${u},${ids[r.int(ids.length)]},${(1 + r.int(9)) / 2},${964980000 + 1000 * u + 37 * k}`);
  const tags = ['userId,movieId,tag,timestamp', '2,1,funny,1445714994', '2,3,"slow, long",1445714996', '3,11,pixar,1445714999'];
  return { format: 'movielens', name: 'movielens', files: { 'movies.csv': movies.join('\n') + '\n', 'ratings.csv': ratings.join('\n') + '\n', 'tags.csv': tags.join('\r\n') + '\r\n' } };
}

function tsv(ext: 'tsv' | 'csv'): TextInput {
  const sep = ext === 'tsv' ? '\t' : ',';
  const q = (s: string): string => (ext === 'csv' && (s.includes(',') || s.includes('"')) ? `"${s.replace(/"/g, '""')}"` : s);
  const items = [['item', 'domain', 'title', 'text', 'category', 'content'].join(sep)];
  for (let i = 0; i < 12; i++) items.push([`it${i}`, i < 6 ? 'source' : 'target', q(`Title, ${i}`), q(i % 2 ? 'some "text"' : ''), i % 3 ? `cat${i % 3}` : '', `${i / 10} ${1 - i / 10} 0.5`].join(sep));
  const events = [['user', 'item', 'ts', 'domain', 'label'].join(sep)];
  const r = makeRng(5);
  for (let u = 0; u < 6; u++) {
    for (let k = 0; k < 8; k++) {
      const it = r.int(12);
      const ts = k % 3 === 0 ? `2024-01-${String(10 + k).padStart(2, '0')}T10:00:00Z` : String(1704067200 + 86400 * k + u);
      events.push([`user-${u}`, `it${it}`, ts, it < 6 ? 'source' : 'target', pick3(r)].join(sep));
    }
  }
  return { format: 'tsv', name: `tsv-${ext}`, files: { [`items.${ext}`]: items.join('\n') + '\n', [`events.${ext}`]: events.join('\n') + '\n' } };
}

function pick3(r: Rng): string {
  return ['1', '0', '', '1'][r.int(4)];
}

export function textCorpus(): TextInput[] {
  return [foodKitchen(), movieLens(), tsv('tsv'), tsv('csv')];
}
