/**
 * `gist export`: one domain's samples as a flat CSV/TSV file with each sample's history joined in (`^`-separated
 * item ids and times, strictly before the sample's ts, most recent last), so other tools (FuxiCTR, pandas, DuckDB)
 * train and evaluate on exactly the same samples and splits.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requireRange } from './config.js';
import { loadDataset, type SequenceStore } from './dataset.js';
import { IoError, UsageError } from './errors.js';
import { noProgress, type OnProgress } from './output.js';
import { DOMAINS, SPLITS, type Domain, type Split } from './schemas.js';

export const EXPORT_FORMATS = ['csv', 'tsv', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  /** Prepared dataset folder. */
  data: string;
  /** Output file. */
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

function resolveFormat(out: string, format: string | undefined): ExportFormat {
  const f = (format ?? path.extname(out).slice(1)).toLowerCase();
  if (!(EXPORT_FORMATS as readonly string[]).includes(f)) {
    throw new UsageError(format ? `unknown --format "${format}" (known: ${EXPORT_FORMATS.join(', ')})` : `cannot tell the format from "${out}": add --format csv|tsv or use a .csv/.tsv file name`);
  }
  if (f === 'parquet') throw new UsageError('parquet export needs a Parquet writer package, which is not installed; use --format csv (pandas, DuckDB and FuxiCTR read it directly)');
  return f as ExportFormat;
}

function joined(store: SequenceStore, start: number, end: number, ts: boolean): string {
  let s = '';
  for (let j = start; j < end; j++) s += (j > start ? '^' : '') + (ts ? store.ts[j] : store.items[j]);
  return s;
}

export function exportSamples(opts: ExportOptions, onProgress: OnProgress = noProgress): ExportResult {
  const format = resolveFormat(opts.out, opts.format);
  if (!(DOMAINS as readonly string[]).includes(opts.domain)) throw new UsageError(`unknown --domain "${opts.domain}" (known: ${DOMAINS.join(', ')})`);
  const domain = opts.domain as Domain;
  requireRange('--max-history', opts.maxHistory, 0, 1_000_000);
  requireRange('--cross-history', opts.crossHistory, 0, 1_000_000);
  const splits = opts.splits ?? [...SPLITS];
  for (const s of splits) if (!(SPLITS as readonly string[]).includes(s)) throw new UsageError(`unknown split "${s}" (known: ${SPLITS.join(', ')})`);
  const keep = SPLITS.map((s) => splits.includes(s));

  const ds = loadDataset(opts.data);
  const samples = ds.samples[domain];
  const own = ds.sequences[domain];
  const other = ds.sequences[domain === 'target' ? 'source' : 'target'];
  const sep = format === 'tsv' ? '\t' : ',';
  const columns = ['sample_id', 'user_id', 'item_id', 'label', 'split', 'ts', 'hist_items', 'hist_ts'];
  if (opts.crossHistory > 0) columns.push('cross_items', 'cross_ts');
  if (samples.pTrue) columns.push('p_true');

  const outDir = path.dirname(path.resolve(opts.out));
  const tmp = path.join(outDir, `.${path.basename(opts.out)}.tmp-${process.pid}`);
  let fd: number;
  try {
    fs.mkdirSync(outDir, { recursive: true });
    fd = fs.openSync(tmp, 'w');
  } catch (err) {
    throw new IoError(`${opts.out}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let rows = 0;
  try {
    let buf = columns.join(sep) + '\n';
    for (let i = 0; i < samples.count; i++) {
      if (!keep[samples.split[i]]) continue;
      const u = samples.userId[i];
      const t = samples.ts[i];
      const [a, b] = own.historyBefore(u, t, opts.maxHistory);
      let line = `${i}${sep}${u}${sep}${samples.itemId[i]}${sep}${samples.label[i]}${sep}${SPLITS[samples.split[i]] as Split}${sep}${t}${sep}${joined(own, a, b, false)}${sep}${joined(own, a, b, true)}`;
      if (opts.crossHistory > 0) {
        const [c, d] = other.historyBefore(u, t, opts.crossHistory);
        line += `${sep}${joined(other, c, d, false)}${sep}${joined(other, c, d, true)}`;
      }
      if (samples.pTrue) line += `${sep}${Number(samples.pTrue[i].toPrecision(6))}`;
      buf += line + '\n';
      rows++;
      if (rows % ROWS_PER_WRITE === 0) {
        fs.writeSync(fd, buf);
        buf = '';
        onProgress({ phase: 'export', done: i + 1, total: samples.count });
      }
    }
    fs.writeSync(fd, buf);
    fs.closeSync(fd);
    fs.renameSync(tmp, opts.out);
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(tmp, { force: true });
    const e = err as NodeJS.ErrnoException;
    if (e.code) throw new IoError(`${opts.out}: cannot write (${e.code})`);
    throw err;
  }
  onProgress({ phase: 'export', done: samples.count, total: samples.count });
  return { out: opts.out, format, domain, rows, columns, max_history: opts.maxHistory, cross_history: opts.crossHistory };
}
