import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { loadDataset, SPLIT_CODE, type Dataset } from '../../src/core/dataset.js';
import { UsageError } from '../../src/core/errors.js';
import { exportSamples, type ExportResult } from '../../src/core/export.js';
import { readParquetTable } from '../../src/core/parquet.js';
import { gist, ROOT, tmpDir } from './_helpers.js';

const FIXTURE = path.join(ROOT, 'fixtures', 'tiny');
let work: string;
let ds: Dataset;

before(() => {
  work = tmpDir();
  ds = loadDataset(FIXTURE);
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

function readRows(file: string, sep: string): { header: string[]; rows: string[][] } {
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  return { header: lines[0].split(sep), rows: lines.slice(1).map((l) => l.split(sep)) };
}

test('export csv: one row per target sample with its ^-joined history strictly before ts', () => {
  const out = path.join(work, 'target.csv');
  const r = exportSamples({ data: FIXTURE, out, domain: 'target', maxHistory: 3, crossHistory: 0 });
  const { header, rows } = readRows(out, ',');
  assert.deepEqual(header, ['sample_id', 'user_id', 'item_id', 'label', 'split', 'ts', 'hist_items', 'hist_ts', 'p_true']);
  assert.deepEqual(r.columns, header);
  assert.equal(rows.length, ds.samples.target.count);
  const s = ds.samples.target;
  const store = ds.sequences.target;
  for (const i of [0, 1, 777, s.count - 1]) {
    const row = rows[i];
    const [a, b] = store.historyBefore(s.userId[i], s.ts[i], 3);
    assert.deepEqual(row.slice(0, 6), [String(i), String(s.userId[i]), String(s.itemId[i]), String(s.label[i]), ['train', 'valid', 'test'][s.split[i]], String(s.ts[i])]);
    assert.equal(row[6], Array.from(store.items.subarray(a, b)).join('^'));
    assert.equal(row[7], Array.from(store.ts.subarray(a, b)).join('^'));
    assert.ok(Math.abs(Number(row[8]) - s.pTrue![i]) < 1e-5);
    for (const t of row[7] ? row[7].split('^') : []) assert.ok(Number(t) < s.ts[i]);
  }
  // The first sample of a user has no history: empty fields, not a missing column.
  assert.equal(rows[0][6], '');
  assert.ok(rows.some((row) => row[6].split('^').length === 3));
});

test('export tsv: --split filter and cross-domain history columns', () => {
  const out = path.join(work, 'test.tsv');
  const r = exportSamples({ data: FIXTURE, out, domain: 'target', maxHistory: 10, crossHistory: 4, splits: ['test'] });
  const { header, rows } = readRows(out, '\t');
  assert.equal(r.format, 'tsv');
  assert.deepEqual(header.slice(6, 10), ['hist_items', 'hist_ts', 'cross_items', 'cross_ts']);
  const testIds = Array.from({ length: ds.samples.target.count }, (_, i) => i).filter((i) => ds.samples.target.split[i] === SPLIT_CODE.test);
  assert.deepEqual(rows.map((row) => Number(row[0])), testIds);
  const i = testIds[5];
  const [a, b] = ds.sequences.source.historyBefore(ds.samples.target.userId[i], ds.samples.target.ts[i], 4);
  assert.equal(b - a, 4);
  assert.equal(rows[5][8], Array.from(ds.sequences.source.items.subarray(a, b)).join('^'));
});

test('export parquet: the CSV export rows, histories as typed lists', () => {
  const csv = path.join(work, 'both.csv');
  const pq = path.join(work, 'both.parquet');
  exportSamples({ data: FIXTURE, out: csv, domain: 'target', maxHistory: 4, crossHistory: 3, splits: ['valid', 'test'] });
  const r = exportSamples({ data: FIXTURE, out: pq, domain: 'target', maxHistory: 4, crossHistory: 3, splits: ['valid', 'test'] });
  assert.equal(r.format, 'parquet');
  assert.equal(Buffer.from(fs.readFileSync(pq).subarray(0, 4)).toString(), 'PAR1');
  const t = readParquetTable(pq);
  const { header, rows } = readRows(csv, ',');
  assert.deepEqual(t.schema.fields.map((f) => f.name), header);
  assert.deepEqual(r.columns, header);
  assert.equal(t.numRows, rows.length);
  assert.equal(String(t.schema.fields[header.indexOf('hist_items')].type), 'List<Int32>');
  for (const i of [0, 7, rows.length - 1]) {
    const row = t.get(i)!.toJSON() as Record<string, unknown>;
    for (const [j, name] of header.entries()) {
      const v = row[name];
      const text = v !== null && typeof v === 'object' && 'toArray' in v ? Array.from((v as { toArray(): ArrayLike<number> }).toArray()).join('^') : name === 'p_true' ? String(Number((v as number).toPrecision(6))) : String(v);
      assert.equal(text, rows[i][j], `row ${i} ${name}`);
    }
  }
});

test('export: unknown formats are usage errors; nothing is written', () => {
  assert.throws(() => exportSamples({ data: FIXTURE, out: path.join(work, 'x.json'), domain: 'target', maxHistory: 5, crossHistory: 0 }), /cannot tell the format/);
  assert.throws(() => exportSamples({ data: FIXTURE, out: path.join(work, 'x.csv'), domain: 'both', maxHistory: 5, crossHistory: 0 }), UsageError);
  assert.ok(!fs.existsSync(path.join(work, 'x.json')) && !fs.existsSync(path.join(work, 'x.csv')));
});

test('gist export --json (source domain, FILE argument)', () => {
  const out = path.join(work, 'source.csv');
  const r = gist('export', [out, '--data', FIXTURE, '--domain', 'source', '--max-history', '2', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as ExportResult;
  assert.equal(result.rows, ds.samples.source.count);
  assert.equal(readRows(out, ',').rows.length, ds.samples.source.count);
  const missing = gist('export', ['--data', path.join(work, 'nope'), '--out', out]);
  assert.equal(missing.status, 4, missing.stderr);
});

test('export --out -: CSV on stdout, the summary on stderr; --json beside it is a usage error', () => {
  const r = gist('export', ['--data', FIXTURE, '--split', 'test', '--max-history', '2', '--out', '-']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'sample_id,user_id,item_id,label,split,ts,hist_items,hist_ts,p_true');
  assert.equal(lines.length - 1, Array.from(ds.samples.target.split).filter((s) => s === SPLIT_CODE.test).length);
  assert.match(r.stderr, /^-: \d+ target samples/);
  assert.ok(!fs.existsSync(path.join(ROOT, '-')) && !fs.existsSync('-'), 'no file named "-"');
  const both = gist('export', ['--data', FIXTURE, '--out', '-', '--json']);
  assert.equal(both.status, 2);
  assert.equal(JSON.parse(both.stdout).error.code, 'USAGE');
});

test('export through /dev/stdout and a symlink: writes through, never replaces the link', () => {
  const dev = gist('export', ['--data', FIXTURE, '--split', 'test', '--out', '/dev/stdout', '-q']);
  assert.equal(dev.status, 0, dev.stderr);
  assert.match(dev.stdout, /^sample_id,user_id/);
  assert.ok(fs.lstatSync('/dev/stdout').isSymbolicLink(), '/dev/stdout is still a symlink');
  const real = path.join(work, 'real.csv');
  const link = path.join(work, 'link.csv');
  fs.writeFileSync(real, 'old\n');
  fs.symlinkSync(real, link);
  const r = gist('export', ['--data', FIXTURE, '--split', 'test', '--out', link, '-q']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the link stays a link');
  assert.match(fs.readFileSync(real, 'utf8'), /^sample_id,/);
  const dangling = path.join(work, 'dangling.csv');
  fs.symlinkSync(path.join(work, 'missing', 'x.csv'), dangling);
  const d = gist('export', ['--data', FIXTURE, '--out', dangling]);
  assert.equal(d.status, 4, d.stderr);
  assert.match(d.stderr, /symbolic link to a missing path/);
  const folder = gist('export', ['--data', FIXTURE, '--out', work, '--format', 'csv']);
  assert.equal(folder.status, 4, folder.stderr);
  assert.match(folder.stderr, /is a folder/);
});

test('export: --format that contradicts the file extension is refused (exit 2), nothing written', () => {
  const out = path.join(work, 'mismatch.csv');
  const r = gist('export', ['--data', FIXTURE, '--out', out, '--format', 'tsv']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--format tsv does not match the file name/);
  assert.ok(!fs.existsSync(out));
});

test('a flag-parsing error under --json is a USAGE error with one clean line', () => {
  const r = gist('export', ['--data', FIXTURE, '--out', path.join(work, 'p.csv'), '--max-history', 'abc', '--json']);
  assert.equal(r.status, 2);
  const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string; exitCode: number } };
  assert.equal(error.code, 'USAGE');
  assert.equal(error.exitCode, 2);
  assert.match(error.message, /^Parsing --max-history: Expected an integer/);
  assert.ok(!error.message.includes('\n'));
});

test('export --gsu joins the searched items and scores; --shard parts together are the whole export (a Parquet dataset folder)', async () => {
  const { searchGsu } = await import('../../src/core/retrieval/gsu.js');
  const g = await searchGsu({ data: FIXTURE, out: path.join(work, 'gsu-hard'), config: { mode: 'hard', k: 7 }, seed: 1 });
  const whole = path.join(work, 'with-gsu.parquet');
  const r = exportSamples({ data: FIXTURE, out: whole, domain: 'target', maxHistory: 5, crossHistory: 0, gsu: g.file });
  assert.deepEqual(r.columns.slice(8, 10), ['gsu_items', 'gsu_scores']);
  const t = readParquetTable(whole);
  const { loadGsu } = await import('../../src/core/ctr/inputs.js');
  const gsu = loadGsu(g.file, ds.samples.target.count, ds.items.count);
  for (const i of [0, 11, t.numRows - 1]) {
    const row = t.get(i)!.toJSON() as { sample_id: number; gsu_items: { toArray(): Int32Array }; gsu_scores: { toArray(): Float32Array } };
    const at = gsu.rowOfSample[row.sample_id];
    assert.deepEqual(Array.from(row.gsu_items.toArray()), Array.from(gsu.items.subarray(gsu.offsets[at], gsu.offsets[at + 1])), `row ${i}`);
    assert.equal(row.gsu_scores.toArray().length, row.gsu_items.toArray().length);
  }
  // Parts by user: disjoint, together every row once; a reader takes the folder.
  const seen = new Set<number>();
  for (let i = 0; i < 3; i++) {
    const part = path.join(work, 'parts', `part-${i}-of-3.parquet`);
    fs.mkdirSync(path.dirname(part), { recursive: true });
    exportSamples({ data: FIXTURE, out: part, domain: 'target', maxHistory: 5, crossHistory: 0, gsu: g.file, shard: `${i}/3` });
    const p = readParquetTable(part);
    for (let r2 = 0; r2 < p.numRows; r2++) {
      const row = p.get(r2)!.toJSON() as { sample_id: number; user_id: number };
      assert.equal(row.user_id % 3, i);
      assert.ok(!seen.has(row.sample_id));
      seen.add(row.sample_id);
    }
  }
  assert.equal(seen.size, t.numRows);
  assert.throws(() => exportSamples({ data: FIXTURE, out: path.join(work, 'x.csv'), domain: 'source', maxHistory: 5, crossHistory: 0, gsu: g.file }), UsageError);
});
