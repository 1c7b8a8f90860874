import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Dictionary, Int8, Utf8 } from 'apache-arrow';
import { readArrow, type DictColumn } from '../../src/core/arrow-io.js';
import { loadDataset, loadSequences } from '../../src/core/dataset.js';
import { SequenceFileWriter, writeDataset, writeTable, type DatasetParts, type ItemsPart } from '../../src/core/dataset-writer.js';
import { outputMeta, OutputStage } from '../../src/core/output.js';
import { SAMPLES } from '../../src/core/schemas.js';
import { tmpDir } from './_helpers.js';

const meta = outputMeta('test', 1, {});

function bigSamples(n: number) {
  const split = new Int32Array(n);
  for (let i = 0; i < n; i++) split[i] = i % 3;
  return {
    sample_id: Int32Array.from({ length: n }, (_, i) => i),
    user_id: new Int32Array(n),
    item_id: new Int32Array(n),
    ts: Float64Array.from({ length: n }, (_, i) => i),
    label: new Int8Array(n),
    split: { codes: split, values: ['train', 'valid', 'test'] } as DictColumn,
  };
}

test('writeTable: more than one batch with a dictionary column reads back; bytes do not depend on earlier Arrow work', () => {
  const dir = tmpDir();
  try {
    const n = 300_000; // > one 262,144-row batch
    const a = path.join(dir, 'a.arrow');
    const b = path.join(dir, 'b.arrow');
    writeTable(a, SAMPLES, bigSamples(n), meta);
    // arrow-js numbers dictionaries from a process-wide counter: create some, then write again.
    for (let k = 0; k < 5; k++) new Dictionary(new Utf8(), new Int8());
    writeTable(b, SAMPLES, bigSamples(n), meta);
    assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)));
    const f = readArrow(a, SAMPLES);
    assert.equal(f.numRows, n);
    const split = f.columns.split as DictColumn;
    assert.equal(split.values[split.codes[n - 1]], ['train', 'valid', 'test'][(n - 1) % 3]);
    assert.equal(f.metadata.command, 'test');
    // An empty table is still a valid file.
    writeTable(path.join(dir, 'empty.arrow'), SAMPLES, bigSamples(0), meta);
    assert.equal(readArrow(path.join(dir, 'empty.arrow'), SAMPLES).numRows, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function tinyItems(): ItemsPart {
  return {
    domain: Int8Array.from([0, 0, 1, 1]),
    title: ['s0', 's1', 't2', 't3'],
    text: ['', '', '', ''],
    category: null,
    content: { dim: 2, values: Float32Array.from([1, 0, 0, 1, 1, 1, 0, 0]) },
    sourceCount: Int32Array.from([1, 1, 0, 0]),
    targetCount: Int32Array.from([0, 0, 1, 1]),
  };
}

test('SequenceFileWriter: chunks stream into one file that loads as one store', () => {
  const dir = tmpDir();
  try {
    const file = path.join(dir, 'seq.arrow');
    const w = new SequenceFileWriter(file, 'source', tinyItems(), meta);
    w.append({ userId: Int32Array.from([0, 2]), offsets: Int32Array.from([0, 2, 3]), items: Int32Array.from([0, 1, 1]), ts: Float64Array.from([1, 2, 5]) });
    w.append({ userId: Int32Array.from([5]), offsets: Int32Array.from([0, 2]), items: Int32Array.from([1, 0]), ts: Float64Array.from([3, 3]) });
    assert.throws(() => w.append({ userId: Int32Array.from([4]), offsets: Int32Array.from([0, 1]), items: Int32Array.from([0]), ts: Float64Array.from([1]) }), /out of user order/);
    const written = w.close();
    assert.deepEqual([Array.from(written.userId), written.events, written.maxLen], [[0, 2, 5], 5, 2]);
    const store = loadSequences(file, 'source', 4);
    assert.deepEqual(store.range(5), [3, 5]);
    assert.deepEqual(Array.from(store.items), [0, 1, 1, 1, 0]);
    assert.deepEqual(store.range(1), [0, 0]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('writeDataset: round trip through loadDataset; importer bugs are refused before anything is written', async () => {
  const dir = tmpDir();
  try {
    const parts: DatasetParts = {
      items: tinyItems(),
      sequences: {
        source: { userId: Int32Array.from([0]), offsets: Int32Array.from([0, 2]), items: Int32Array.from([0, 1]), ts: Float64Array.from([1, 2]) },
        target: { userId: Int32Array.from([0, 1]), offsets: Int32Array.from([0, 1, 2]), items: Int32Array.from([2, 3]), ts: Float64Array.from([3, 1]) },
      },
      samples: {
        source: { userId: Int32Array.from([0]), itemId: Int32Array.from([1]), ts: Float64Array.from([2]), label: Int8Array.from([1]), split: Int8Array.from([0]), pTrue: null },
        target: { userId: Int32Array.from([0, 0, 1]), itemId: Int32Array.from([2, 3, 3]), ts: Float64Array.from([3, 3, 1]), label: Int8Array.from([1, 0, 1]), split: Int8Array.from([0, 0, 2]), pTrue: Float32Array.from([0.9, 0.1, 0.5]) },
      },
    };
    const info = { name: 'mini', format: 'test', command: 'test', seed: 1, config: { a: 1 }, notes: ['hello'] };
    const summary = await OutputStage.run(path.join(dir, 'ok'), [], (stage) => writeDataset(stage, parts, info));
    assert.deepEqual(summary.users, { total: 2, source: 1, target: 2, overlapping: 1, overlapping_by_split: { train: 1, valid: 0, test: 0 } });
    const ds = loadDataset(path.join(dir, 'ok'));
    assert.deepEqual(ds.manifest.notes, ['hello']);
    assert.equal(ds.manifest.counts.samples_target_test, 1);
    assert.deepEqual(Array.from(ds.samples.target.pTrue!), Array.from(Float32Array.from([0.9, 0.1, 0.5])));
    assert.deepEqual(Array.from(ds.items.content!.values), Array.from(tinyItems().content!.values));
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'ok', 'config.json'), 'utf8')), { a: 1 });

    const wrongDomain = { ...parts, sequences: { ...parts.sequences, source: { ...parts.sequences.source, items: Int32Array.from([0, 2]) } } };
    await assert.rejects(OutputStage.run(path.join(dir, 'bad'), [], (stage) => writeDataset(stage, wrongDomain, info)), /belongs to the other domain/);
    assert.ok(!fs.existsSync(path.join(dir, 'bad')), 'a failed run removes the output folder it created');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
