import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DOMAIN_CODE, loadDataset, loadUserKeys, SPLIT_CODE } from '../../src/core/dataset.js';
import { predict } from '../../src/core/ctr/predict.js';
import { trainCtr } from '../../src/core/ctr/train.js';
import { exportSamples } from '../../src/core/export.js';
import { evaluate } from '../../src/core/evaluate/evaluate.js';
import { InputDataError, IoError } from '../../src/core/errors.js';
import { forEachRow } from '../../src/core/prepare/delimited.js';
import { prepareDataset } from '../../src/core/prepare/index.js';
import { parquetBytes } from '../../src/core/parquet.js';
import { Field, Float32, Int8, List, Table, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { tmpDir } from './_helpers.js';

/** A small generic input: 3 source + 4 target items, 2 users, labelled target events, behaviour-only source events. */
function writeInput(dir: string, ext: 'tsv' | 'csv'): void {
  const sep = ext === 'tsv' ? '\t' : ',';
  const q = (s: string): string => (ext === 'csv' && /[,"]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const items = [
    ['item', 'domain', 'title', 'text', 'category', 'content'],
    ['s1', 'source', 'Pan, 12"', 'cast iron', 'cookware', '1 0'],
    ['s2', 'source', 'Knife', 'steel', 'cutlery', '0 1'],
    ['s3', 'source', 'Kettle', '', '', '0.5 0.5'],
    ['t1', 'target', 'Tea', 'green', 'drinks', '1 1'],
    ['t2', 'target', 'Coffee', 'beans', 'drinks', '2 0'],
    ['t3', 'target', 'Honey', 'sweet', 'spreads', '0 2'],
    ['t4', 'target', 'Jam', 'sweet', 'spreads', '1 2'],
  ];
  const events = [
    ['user', 'item', 'ts', 'domain', 'label'],
    ['ann', 's1', '100', 'source', ''],
    ['ann', 's2', '150', 'source', ''],
    ['ann', 't1', '200', 'target', '1'],
    ['ann', 't2', '300', 'target', '0'],
    ['ann', 't3', '400', 'target', '1'],
    ['ann', 't1', '500', 'target', '1'],
    ['ann', 't2', '2020-01-01T00:10:00Z', 'target', '1'],
    ['bob', 's3', '50', 'source', ''],
    ['bob', 't4', '60', 'target', '1'],
  ];
  fs.writeFileSync(path.join(dir, `items.${ext}`), items.map((r) => r.map(q).join(sep)).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, `events.${ext}`), events.map((r) => r.map(q).join(sep)).join('\r\n') + '\r\n');
}

for (const ext of ['tsv', 'csv'] as const) {
  test(`tsv format (${ext}): items, behaviour sequences, labelled samples and negatives`, async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'out');
    try {
      writeInput(dir, ext);
      const r = await prepareDataset({ format: 'tsv', input: dir, out, seed: 3, negatives: 1, validShare: 0.2, testShare: 0.2 });
      const ds = loadDataset(out);
      assert.equal(ds.items.count, 7);
      assert.equal(ds.items.title[0], 'Pan, 12"');
      assert.deepEqual(ds.items.categoryNames, ['cookware', 'cutlery', 'drinks', 'spreads']);
      assert.equal(ds.items.category![2], -1, 'empty category is unknown');
      assert.deepEqual(Array.from(ds.items.content!.values.subarray(0, 4)), [1, 0, 0, 1]);
      assert.equal(r.counts.users.total, 2);
      assert.equal(r.counts.users.overlapping, 2);
      // Label-0 rows are samples only; clicks and unlabelled rows are behaviour.
      assert.equal(r.counts.events.target, 5);
      assert.equal(r.counts.events.source, 3);
      const t = ds.samples.target;
      // ann has 5 labelled target events: 3 train, 1 valid, 1 test (the ISO date is the latest).
      const annTest = Array.from({ length: t.count }, (_, i) => i).filter((i) => t.userId[i] === 0 && t.split[i] === SPLIT_CODE.test && t.label[i] === 1);
      assert.equal(annTest.length, 1);
      assert.equal(t.ts[annTest[0]], Date.parse('2020-01-01T00:10:00Z') / 1000);
      assert.equal(r.counts.samples.source.train.samples, 0, 'unlabelled source events give no samples');
      for (let i = 0; i < t.count; i++) assert.equal(ds.items.domain[t.itemId[i]], DOMAIN_CODE.target);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('tsv format: errors name file, line and column; missing files are I/O errors', async () => {
  const dir = tmpDir();
  const out = path.join(dir, 'out');
  try {
    writeInput(dir, 'tsv');
    fs.appendFileSync(path.join(dir, 'events.tsv'), 'bob\tnope\t70\ttarget\t1\r\n');
    await assert.rejects(prepareDataset({ format: 'tsv', input: dir, out, seed: 1 }), (e: Error) => e instanceof InputDataError && /events\.tsv, column item, row 11: item "nope" is not in items\.tsv/.test(e.message));
    writeInput(dir, 'tsv');
    fs.appendFileSync(path.join(dir, 'events.tsv'), 'bob\tt1\t70\tsource\t1\r\n');
    await assert.rejects(prepareDataset({ format: 'tsv', input: dir, out, seed: 1 }), (e: Error) => e instanceof InputDataError && /column domain, row 11/.test(e.message));
    writeInput(dir, 'tsv');
    fs.appendFileSync(path.join(dir, 'events.tsv'), 'bob\tt1\tyesterday\ttarget\t1\r\n');
    await assert.rejects(prepareDataset({ format: 'tsv', input: dir, out, seed: 1 }), /column ts, row 11: ts "yesterday"/);
    writeInput(dir, 'tsv');
    fs.appendFileSync(path.join(dir, 'items.tsv'), 't9\ttarget\tX\t\t\t1\n');
    await assert.rejects(prepareDataset({ format: 'tsv', input: dir, out, seed: 1 }), /items\.tsv, column content, row 9: content has 1 values, expected 2/);
    fs.rmSync(path.join(dir, 'events.tsv'));
    await assert.rejects(prepareDataset({ format: 'tsv', input: dir, out, seed: 1 }), (e: Error) => e instanceof IoError && /expected events\.tsv, events\.csv or events\.parquet/.test(e.message));
    assert.ok(!fs.existsSync(out) || fs.readdirSync(out).length === 0, 'nothing partial is written');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('delimited reader: RFC 4180 quotes, embedded newlines, BOM, blank lines, block boundaries', () => {
  const dir = tmpDir();
  try {
    const f = path.join(dir, 'x.csv');
    const long = 'y'.repeat(9 << 20); // longer than one read block
    fs.writeFileSync(f, `\uFEFFa,b\n"x, ""q""","multi\nline"\n\n${long},2\nlast,"open`);
    const rows: [string[], number][] = [];
    assert.throws(() => forEachRow(f, ',', (r, l) => rows.push([r, l])), /x\.csv, row 6: unterminated quoted field/);
    assert.deepEqual(rows.slice(0, 2), [[['a', 'b'], 1], [['x, "q"', 'multi\nline'], 2]]);
    assert.equal(rows[2][0][0].length, long.length);
    assert.equal(rows[2][1], 5);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The same input as Parquet: typed columns where Parquet has them (ts a timestamp, content a list of floats). */
function writeParquetInput(dir: string): void {
  writeInput(dir, 'tsv');
  const rows = (file: string): string[][] => fs.readFileSync(path.join(dir, file), 'utf8').trim().split(/\r?\n/).map((l) => l.split('\t'));
  const [ih, ...items] = rows('items.tsv');
  const [eh, ...events] = rows('events.tsv');
  const col = (header: string[], body: string[][], name: string): string[] => body.map((r) => r[header.indexOf(name)]);
  const strings = (xs: string[]) => vectorFromArray(xs.map((x) => (x === '' ? null : x)), new Utf8());
  const itemTable = new Table({
    item: strings(col(ih, items, 'item')),
    domain: strings(col(ih, items, 'domain')),
    title: strings(col(ih, items, 'title')),
    text: strings(col(ih, items, 'text')),
    category: strings(col(ih, items, 'category')),
    content: vectorFromArray(col(ih, items, 'content').map((c) => c.split(' ').map(Number)), new List(new Field('item', new Float32(), true))),
  });
  const ts = col(eh, events, 'ts').map((t) => (/^\d+$/.test(t) ? Number(t) * 1000 : Date.parse(t)));
  const eventTable = new Table({
    user: strings(col(eh, events, 'user')),
    item: strings(col(eh, events, 'item')),
    ts: vectorFromArray(ts.map((ms) => new Date(ms)), new TimestampMillisecond()),
    domain: strings(col(eh, events, 'domain')),
    label: vectorFromArray(col(eh, events, 'label').map((l) => (l === '' ? null : Number(l))), new Int8()),
  });
  fs.rmSync(path.join(dir, 'items.tsv'));
  fs.rmSync(path.join(dir, 'events.tsv'));
  fs.writeFileSync(path.join(dir, 'items.parquet'), parquetBytes(itemTable));
  fs.writeFileSync(path.join(dir, 'events.parquet'), parquetBytes(eventTable));
}

test('tsv format from Parquet (items.parquet, events.parquet): the same dataset as from TSV', async () => {
  const dir = tmpDir();
  try {
    const fromTsv = path.join(dir, 'tsv-in');
    const fromParquet = path.join(dir, 'parquet-in');
    fs.mkdirSync(fromTsv);
    fs.mkdirSync(fromParquet);
    writeInput(fromTsv, 'tsv');
    writeParquetInput(fromParquet);
    const opts = { format: 'tsv', seed: 3, negatives: 1, validShare: 0.2, testShare: 0.2 } as const;
    await prepareDataset({ ...opts, input: fromTsv, out: path.join(dir, 'a') });
    await prepareDataset({ ...opts, input: fromParquet, out: path.join(dir, 'b') });
    const a = loadDataset(path.join(dir, 'a'));
    const b = loadDataset(path.join(dir, 'b'));
    assert.deepEqual(b.items.title, a.items.title);
    assert.deepEqual(b.items.categoryNames, a.items.categoryNames);
    assert.deepEqual(Array.from(b.items.content!.values), Array.from(a.items.content!.values));
    for (const d of ['source', 'target'] as const) {
      assert.deepEqual(Array.from(b.samples[d].itemId), Array.from(a.samples[d].itemId), d);
      assert.deepEqual(Array.from(b.samples[d].ts), Array.from(a.samples[d].ts), d);
      assert.deepEqual(Array.from(b.samples[d].label), Array.from(a.samples[d].label), d);
      assert.deepEqual(Array.from(b.sequences[d].items), Array.from(a.sequences[d].items), d);
    }
    // A bad value in Parquet names the file, column and data row (1 = first row).
    const bad = new Table({ item: vectorFromArray(['x', 'y'], new Utf8()), domain: vectorFromArray(['source', 'sideways'], new Utf8()) });
    fs.writeFileSync(path.join(fromParquet, 'items.parquet'), parquetBytes(bad));
    await assert.rejects(prepareDataset({ ...opts, input: fromParquet, out: path.join(dir, 'c') }), (e: unknown) => e instanceof InputDataError && /items\.parquet, column domain, row 2: domain "sideways"/.test((e as Error).message));
    fs.writeFileSync(path.join(fromParquet, 'items.parquet'), 'not parquet');
    await assert.rejects(prepareDataset({ ...opts, input: fromParquet, out: path.join(dir, 'c') }), (e: unknown) => e instanceof InputDataError && /items\.parquet: not a readable Parquet file/.test((e as Error).message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('prepare keeps the data\'s own ids (items.arrow item_key, users.arrow); export and predict carry them', async () => {
  const dir = tmpDir();
  try {
    writeInput(dir, 'csv');
    const out = path.join(dir, 'out');
    await prepareDataset({ format: 'tsv', input: dir, out, seed: 3, negatives: 1, validShare: 0.2, testShare: 0.2 });
    const ds = loadDataset(out);
    assert.deepEqual(ds.items.key, ['s1', 's2', 's3', 't1', 't2', 't3', 't4']);
    assert.deepEqual(loadUserKeys(out), ['ann', 'bob']);
    const csv = path.join(dir, 'export.csv');
    exportSamples({ data: out, out: csv, domain: 'target', maxHistory: 3, crossHistory: 0 });
    const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
    const header = lines[0].split(',');
    assert.deepEqual(header.slice(-2), ['user_key', 'item_key']);
    const s = ds.samples.target;
    lines.slice(1).forEach((l, i) => {
      const f = l.split(',');
      assert.equal(f[f.length - 2], ['ann', 'bob'][s.userId[i]]);
      assert.equal(f[f.length - 1], ds.items.key![s.itemId[i]]);
    });
    // predict: samples named by the data's own ids score as the same samples named by gist ids.
    const model = path.join(dir, 'din');
    await trainCtr({ dataDir: out, outDir: model, domain: 'target', variant: 'din', asi: 'none', model: { tower: [8] }, train: { epochs: 1 }, seed: 1, backend: 'wasm', resume: false });
    const byKey = path.join(dir, 'by-key.csv');
    const byId = path.join(dir, 'by-id.csv');
    fs.writeFileSync(byKey, 'user,item,ts\nann,t3,450\nbob,t1,70\n');
    fs.writeFileSync(byId, `user_id,item_id,ts\n0,${ds.items.key!.indexOf('t3')},450\n1,${ds.items.key!.indexOf('t1')},70\n`);
    const a = await predict({ model, data: out, samples: byKey, out: path.join(dir, 'pa'), format: 'csv', seed: 1, backend: 'wasm' });
    const b = await predict({ model, data: out, samples: byId, out: path.join(dir, 'pb'), format: 'csv', seed: 1, backend: 'wasm' });
    const pa = fs.readFileSync(a.predictions, 'utf8');
    assert.equal(pa, fs.readFileSync(b.predictions, 'utf8'));
    assert.match(pa, /^sample_id,user_id,item_id,ts,score,user_key,item_key\n0,0,\d+,450,[\d.e-]+,ann,t3\n1,1,\d+,70,[\d.e-]+,bob,t1\n$/);
    // evaluate: another tool's predictions naming items by the data's own ids score like the same by gist ids.
    const lab = (i: number) => s.label[i];
    const ext = (byItemKey: boolean) => ['user,item,label,score,split', ...Array.from({ length: s.count }, (_, i) => `${['ann', 'bob'][s.userId[i]]},${byItemKey ? ds.items.key![s.itemId[i]] : s.itemId[i]},${lab(i)},${((i * 37) % 100) / 100},${['train', 'valid', 'test'][s.split[i]]}`)].join('\n') + '\n';
    fs.writeFileSync(path.join(dir, 'ext-key.csv'), ext(true));
    fs.writeFileSync(path.join(dir, 'ext-id.csv'), ext(false).replace('user,item,', 'user,item_id,'));
    const ev = await evaluate({ predictions: [path.join(dir, 'ext-key.csv'), `byid=${path.join(dir, 'ext-id.csv')}`], data: out, split: 'test' });
    assert.ok(ev.runs[0].n > 0 && ev.runs[0].n === ev.runs[1].n);
    assert.equal(ev.runs[0].auc, ev.runs[1].auc);
    assert.deepEqual(ev.runs[0].popularity, ev.runs[1].popularity);
    fs.writeFileSync(byKey, 'user,item,ts\ncarol,t3,450\n');
    await assert.rejects(predict({ model, data: out, samples: byKey, out: path.join(dir, 'pc'), seed: 1, backend: 'wasm' }), /by-key\.csv, column user, row 2: user "carol" is not in --data/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
