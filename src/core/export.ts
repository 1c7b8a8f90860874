/**
 * `gist export`: one domain's samples as a flat CSV/TSV file with each sample's history joined in (`^`-separated
 * item ids and times, strictly before the sample's ts, most recent last), or as Parquet with those histories as
 * list columns (EXPORTED_SAMPLES), so other tools (FuxiCTR, pandas, DuckDB, PyTorch) train and evaluate on exactly
 * the same samples and splits.
 */
import * as path from 'node:path';
import { requireRange } from './config.js';
import { loadDataset, loadUserKeys, type Dataset, type Samples, type SequenceStore } from './dataset.js';
import { UsageError } from './errors.js';
import { noProgress, type OnProgress } from './output.js';
import { FileSink, isStdout, sinkTarget, type SinkTarget } from './sink.js';
import { tableFromIPC } from 'apache-arrow';
import { encodeArrow, type Columns, type ListColumn } from './arrow-io.js';
import { parquetBytes } from './parquet.js';
import { csvField } from './prepare/delimited.js';
import { VERSION } from './version.js';
import { DOMAINS, EXPORTED_SAMPLES, SPLITS, type Domain, type Split } from './schemas.js';
import { inShard, parseShard } from './shard.js';
import { loadGsu, type GsuIndex } from './ctr/inputs.js';

export const EXPORT_FORMATS = ['csv', 'tsv', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  /** Prepared dataset folder. */
  data: string;
  /** Output file; `-` = standard output. */
  out: string;
  /** Which domain's samples. */
  domain: string;
  /** csv | tsv | parquet; inferred from the output file's extension when absent. */
  format?: string;
  /** Most recent same-domain events per sample (hist_items / hist_ts). */
  maxHistory: number;
  /** Most recent other-domain events per sample (cross_items / cross_ts); 0 leaves those columns out. */
  crossHistory: number;
  /** Splits to export (default all). */
  splits?: string[];
  /** A gsu.arrow of these target samples: its items and scores are joined as gsu_items / gsu_scores. */
  gsu?: string;
  /** "i/n": only the users with user_id mod n = i — one part of a multi-file dataset (no merge: readers take the folder). */
  shard?: string;
}

export interface ExportResult {
  out: string;
  format: ExportFormat;
  domain: Domain;
  rows: number;
  columns: string[];
  max_history: number;
  cross_history: number;
}

/** Rows per write: keeps the output buffer small however large the dataset. */
const ROWS_PER_WRITE = 20_000;

/** Extensions that name a format; an output named with one of them must get that format. */
const FORMAT_OF_EXTENSION: Record<string, ExportFormat> = { csv: 'csv', tsv: 'tsv', parquet: 'parquet' };

/** The format: --format, else the file's extension, else csv for stdout, a device or a pipe (no name to go by). */
function resolveFormat(out: string, format: string | undefined, target: SinkTarget): ExportFormat {
  const ext = target.kind === 'atomic' ? path.extname(out).slice(1).toLowerCase() : '';
  const fromName = FORMAT_OF_EXTENSION[ext];
  const f = (format ?? fromName ?? (target.kind === 'atomic' ? '' : 'csv')).toLowerCase();
  if (!(EXPORT_FORMATS as readonly string[]).includes(f)) {
    throw new UsageError(format ? `unknown --format "${format}" (known: ${EXPORT_FORMATS.join(', ')})` : `cannot tell the format from "${out}": add --format csv|tsv or use a .csv/.tsv file name`);
  }
  if (fromName && fromName !== f) throw new UsageError(`--format ${f} does not match the file name "${out}" (.${ext}); rename the file or drop --format`);
  return f as ExportFormat;
}

function joined(store: SequenceStore, start: number, end: number, ts: boolean): string {
  let s = '';
  for (let j = start; j < end; j++) s += (j > start ? '^' : '') + (ts ? store.ts[j] : store.items[j]);
  return s;
}

export function exportSamples(opts: ExportOptions, onProgress: OnProgress = noProgress): ExportResult {
  const target = sinkTarget(opts.out);
  const format = resolveFormat(opts.out, opts.format, target);
  if (!(DOMAINS as readonly string[]).includes(opts.domain)) throw new UsageError(`unknown --domain "${opts.domain}" (known: ${DOMAINS.join(', ')})`);
  const domain = opts.domain as Domain;
  requireRange('--max-history', opts.maxHistory, 0, 1_000_000);
  requireRange('--cross-history', opts.crossHistory, 0, 1_000_000);
  const splits = opts.splits ?? [...SPLITS];
  for (const s of splits) if (!(SPLITS as readonly string[]).includes(s)) throw new UsageError(`unknown split "${s}" (known: ${SPLITS.join(', ')})`);
  const keep = SPLITS.map((s) => splits.includes(s));
  const shard = parseShard(opts.shard);

  const ds = loadDataset(opts.data);
  if (opts.gsu && domain !== 'target') throw new UsageError('--gsu joins the GSU of target samples: use --domain target');
  const gsu = opts.gsu ? loadGsu(opts.gsu, ds.samples.target.count, ds.items.count, opts.data) : null;
  const exported = (i: number): boolean => keep[samples.split[i]] && inShard(samples.userId[i], shard);
  const samples = ds.samples[domain];
  const own = ds.sequences[domain];
  const other = ds.sequences[domain === 'target' ? 'source' : 'target'];
  const sep = format === 'tsv' ? '\t' : ',';
  const columns = ['sample_id', 'user_id', 'item_id', 'label', 'split', 'ts', 'hist_items', 'hist_ts'];
  if (opts.crossHistory > 0) columns.push('cross_items', 'cross_ts');
  if (gsu) columns.push('gsu_items', 'gsu_scores');
  if (samples.pTrue) columns.push('p_true');
  // The user's own ids (imported data), so rows join back to their catalogue.
  const userKeys = loadUserKeys(opts.data);
  const itemKeys = ds.items.key;
  if (userKeys) columns.push('user_key');
  if (itemKeys) columns.push('item_key');

  if (format === 'parquet') {
    const rows = writeParquetExport({ opts, ds, samples, own, other, exported, gsu, columns, target, userKeys }, onProgress);
    onProgress({ phase: 'export', done: samples.count, total: samples.count });
    return { out: isStdout(opts.out) ? opts.out : path.resolve(opts.out), format, domain, rows, columns, max_history: opts.maxHistory, cross_history: opts.crossHistory };
  }
  const sink = FileSink.open(opts.out, target);
  let rows = 0;
  try {
    let buf = columns.join(sep) + '\n';
    for (let i = 0; i < samples.count; i++) {
      if (!exported(i)) continue;
      const u = samples.userId[i];
      const t = samples.ts[i];
      const [a, b] = own.historyBefore(u, t, opts.maxHistory);
      let line = `${i}${sep}${u}${sep}${samples.itemId[i]}${sep}${samples.label[i]}${sep}${SPLITS[samples.split[i]] as Split}${sep}${t}${sep}${joined(own, a, b, false)}${sep}${joined(own, a, b, true)}`;
      if (opts.crossHistory > 0) {
        const [c, d] = other.historyBefore(u, t, opts.crossHistory);
        line += `${sep}${joined(other, c, d, false)}${sep}${joined(other, c, d, true)}`;
      }
      if (gsu) {
        const r = gsu.rowOfSample[i];
        const [a2, b2] = r < 0 ? [0, 0] : [gsu.offsets[r], gsu.offsets[r + 1]];
        line += `${sep}${Array.from(gsu.items.subarray(a2, b2)).join('^')}${sep}${Array.from(gsu.scores.subarray(a2, b2), (x) => Number(x.toPrecision(6))).join('^')}`;
      }
      if (samples.pTrue) line += `${sep}${Number(samples.pTrue[i].toPrecision(6))}`;
      if (userKeys) line += sep + csvField(userKeys[u], sep);
      if (itemKeys) line += sep + csvField(itemKeys[samples.itemId[i]], sep);
      buf += line + '\n';
      rows++;
      if (rows % ROWS_PER_WRITE === 0) {
        sink.write(buf);
        buf = '';
        onProgress({ phase: 'export', done: i + 1, total: samples.count });
      }
    }
    sink.write(buf);
    sink.commit();
  } catch (err) {
    sink.abort();
    throw err;
  }
  onProgress({ phase: 'export', done: samples.count, total: samples.count });
  return { out: isStdout(opts.out) ? opts.out : path.resolve(opts.out), format, domain, rows, columns, max_history: opts.maxHistory, cross_history: opts.crossHistory };
}

/** Histories as Arrow list columns (offsets + values), gathered for the kept samples. */
function listColumns(store: SequenceStore, samples: Samples, idx: Int32Array, maxEvents: number): { items: ListColumn<Int32Array>; ts: ListColumn<Float64Array> } {
  const offsets = new Int32Array(idx.length + 1);
  for (let r = 0; r < idx.length; r++) {
    const [a, b] = store.historyBefore(samples.userId[idx[r]], samples.ts[idx[r]], maxEvents);
    offsets[r + 1] = offsets[r] + (b - a);
  }
  const items = new Int32Array(offsets[idx.length]);
  const ts = new Float64Array(offsets[idx.length]);
  for (let r = 0; r < idx.length; r++) {
    const [a, b] = store.historyBefore(samples.userId[idx[r]], samples.ts[idx[r]], maxEvents);
    items.set(store.items.subarray(a, b), offsets[r]);
    ts.set(store.ts.subarray(a, b), offsets[r]);
  }
  return { items: { offsets, values: items }, ts: { offsets, values: ts } };
}

/** The Parquet export: the EXPORTED_SAMPLES table (lists, not ^-joined text), written as one file. */
/** What the Parquet export needs of exportSamples's resolved inputs. */
interface ParquetExport {
  opts: ExportOptions;
  ds: Dataset;
  samples: Samples;
  own: SequenceStore;
  other: SequenceStore;
  exported: (sample: number) => boolean;
  gsu: GsuIndex | null;
  columns: string[];
  target: SinkTarget;
  userKeys: string[] | null;
}

function writeParquetExport({ opts, ds, samples, own, other, exported, gsu, columns, target, userKeys }: ParquetExport, onProgress: OnProgress): number {
  const rows: number[] = [];
  for (let i = 0; i < samples.count; i++) if (exported(i)) rows.push(i);
  const idx = Int32Array.from(rows);
  onProgress({ phase: 'export', done: 0, total: samples.count });
  const hist = listColumns(own, samples, idx, opts.maxHistory);
  const cols: Columns = {
    sample_id: idx,
    user_id: Int32Array.from(idx, (i) => samples.userId[i]),
    item_id: Int32Array.from(idx, (i) => samples.itemId[i]),
    label: Int8Array.from(idx, (i) => samples.label[i]),
    split: { codes: Int32Array.from(idx, (i) => samples.split[i]), values: [...SPLITS] },
    ts: Float64Array.from(idx, (i) => samples.ts[i]),
    hist_items: hist.items,
    hist_ts: hist.ts,
  };
  if (opts.crossHistory > 0) {
    const cross = listColumns(other, samples, idx, opts.crossHistory);
    cols.cross_items = cross.items;
    cols.cross_ts = cross.ts;
  }
  if (gsu) Object.assign(cols, gsuColumns(gsu, idx));
  if (samples.pTrue) cols.p_true = Float32Array.from(idx, (i) => samples.pTrue![i]);
  if (userKeys) cols.user_key = Array.from(idx, (i) => userKeys[samples.userId[i]]);
  if (ds.items.key) cols.item_key = Array.from(idx, (i) => ds.items.key![samples.itemId[i]]);
  const table = tableFromIPC(encodeArrow(EXPORTED_SAMPLES, cols, { command: 'export', version: VERSION }));
  const written = table.schema.fields.map((f) => f.name);
  if (written.join(',') !== columns.join(',')) throw new Error(`export: parquet columns ${written.join(',')} differ from ${columns.join(',')}`);
  const sink = FileSink.open(opts.out, target);
  try {
    sink.write(parquetBytes(table));
    sink.commit();
  } catch (err) {
    sink.abort();
    throw err;
  }
  return idx.length;
}

/** The GSU's items and scores of the exported samples as list columns (empty lists for samples it has no row for). */
function gsuColumns(gsu: GsuIndex, idx: Int32Array): { gsu_items: ListColumn<Int32Array>; gsu_scores: ListColumn<Float32Array> } {
  const offsets = new Int32Array(idx.length + 1);
  const span = (s: number): [number, number] => (gsu.rowOfSample[s] < 0 ? [0, 0] : [gsu.offsets[gsu.rowOfSample[s]], gsu.offsets[gsu.rowOfSample[s] + 1]]);
  for (let r = 0; r < idx.length; r++) {
    const [a, b] = span(idx[r]);
    offsets[r + 1] = offsets[r] + (b - a);
  }
  const items = new Int32Array(offsets[idx.length]);
  const scores = new Float32Array(offsets[idx.length]);
  for (let r = 0; r < idx.length; r++) {
    const [a, b] = span(idx[r]);
    items.set(gsu.items.subarray(a, b), offsets[r]);
    scores.set(gsu.scores.subarray(a, b), offsets[r]);
  }
  return { gsu_items: { offsets, values: items }, gsu_scores: { offsets, values: scores } };
}
