/**
 * CSV / TSV reading for importers: RFC 4180 quoting (a field is quoted only when it starts with `"`; `""` is a
 * literal quote; quoted fields may hold separators and newlines), CRLF or LF, a UTF-8 BOM. Files are read in
 * blocks, so input size is not bounded by string limits. Rows come with their 1-based starting line number.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputDataError, IoError } from '../errors.js';
import { forEachParquetRow, isParquetPath } from '../parquet.js';

export type RowHandler = (fields: string[], line: number) => void;

const BLOCK_BYTES = 8 << 20;

/** Separator implied by a file name: tab for .tsv/.txt, comma for .csv. */
export function separatorOf(file: string): string {
  return path.extname(file).toLowerCase() === '.csv' ? ',' : '\t';
}

/** Open a file for reading or throw an IoError naming it. */
export function openForReading(file: string): number {
  try {
    if (fs.statSync(file).isDirectory()) throw new IoError(`${file}: is a directory, expected a file`);
    return fs.openSync(file, 'r');
  } catch (err) {
    if (err instanceof IoError) throw err;
    throw new IoError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Read a whole text file (small inputs), as an IoError when it cannot be read. */
export function readText(file: string): string {
  const fd = openForReading(file);
  try {
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

interface QuotedRow {
  fields: string[];
  newlines: number;
  next: number;
}

/** Parse one row that contains a quote, starting at `start`; null when the text ends before the row does. */
function parseQuotedRow(text: string, start: number, sep: string, final: boolean, file: string, line: number): QuotedRow | null {
  const fields: string[] = [];
  let j = start;
  let newlines = 0;
  for (;;) {
    let value: string;
    if (text.charCodeAt(j) === 34 /* " */) {
      value = '';
      let k = j + 1;
      for (;;) {
        const q = text.indexOf('"', k);
        if (q < 0) {
          if (!final) return null;
          throw new InputDataError('unterminated quoted field', file, undefined, line);
        }
        if (q + 1 >= text.length && !final) return null;
        value += text.slice(k, q);
        if (text.charCodeAt(q + 1) === 34) {
          value += '"';
          k = q + 2;
          continue;
        }
        k = q + 1;
        break;
      }
      for (let c = value.indexOf('\n'); c >= 0; c = value.indexOf('\n', c + 1)) newlines++;
      // Anything between the closing quote and the next separator is kept literally (lenient).
      let end = k;
      while (end < text.length && text[end] !== sep && text[end] !== '\n') end++;
      if (end === text.length && !final) return null;
      value += text.slice(k, end).replace(/\r$/, '');
      j = end;
    } else {
      let end = j;
      while (end < text.length && text[end] !== sep && text[end] !== '\n') end++;
      if (end === text.length && !final) return null;
      value = text.slice(j, end).replace(/\r$/, '');
      j = end;
    }
    fields.push(value);
    if (j >= text.length) return { fields, newlines, next: j };
    if (text[j] === '\n') return { fields, newlines, next: j + 1 };
    j++; // separator
  }
}

/**
 * Call `onRow(fields, line)` for every non-blank row of a delimited file. Throws IoError when the file cannot
 * be read and InputDataError (with the line) for an unterminated quote.
 */
export function forEachRow(file: string, sep: string, onRow: RowHandler): void {
  const fd = openForReading(file);
  const decoder = new TextDecoder('utf-8');
  const buf = Buffer.allocUnsafe(BLOCK_BYTES);
  let carry = '';
  let line = 1;
  let first = true;
  try {
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, BLOCK_BYTES, null);
      } catch (err) {
        throw new IoError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      const final = n === 0;
      let text = carry + (final ? decoder.decode() : decoder.decode(buf.subarray(0, n), { stream: true }));
      if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
      let i = 0;
      while (i < text.length) {
        const nl = text.indexOf('\n', i);
        if (nl < 0 && !final) break;
        const lineEnd = nl < 0 ? text.length : nl;
        let row = text.slice(i, lineEnd);
        if (row.indexOf('"') < 0) {
          if (row.endsWith('\r')) row = row.slice(0, -1);
          if (row.length > 0) onRow(row.split(sep), line);
          line++;
          i = lineEnd + 1;
          continue;
        }
        const parsed = parseQuotedRow(text, i, sep, final, file, line);
        if (!parsed) break;
        onRow(parsed.fields, line);
        line += parsed.newlines + 1;
        i = parsed.next;
      }
      carry = text.slice(i);
      if (final) break;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Rows of a table file, header first: .parquet through the Parquet reader (cells as text, rows numbered from 1
 * after the header's 0), anything else as delimited text (tab, or comma for .csv; rows are file lines).
 */
export function forEachTableRow(file: string, onRow: RowHandler): void {
  if (isParquetPath(file)) forEachParquetRow(file, onRow);
  else forEachRow(file, separatorOf(file), onRow);
}

/**
 * Where column `name` is in a lower-cased header: the first of `aliases` present (a gist id column such as
 * `item_id` listed before the data's own `item` wins); −1 when none is and the column is optional.
 */
export function aliasedColumn(header: readonly string[], name: string, aliases: readonly string[], file: string, required = true): number {
  for (const alias of aliases) if (header.includes(alias)) return header.indexOf(alias);
  if (required) throw new InputDataError(`missing column "${name}" (expected ${aliases.join(' or ')}; have ${header.join(', ')})`, file, name);
  return -1;
}

/** A field for writing CSV/TSV: quoted (RFC 4180) when it holds the separator, a quote or a line break. */
export function csvField(v: string, sep = ','): string {
  return v.includes(sep) || /["\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** A header-indexed view of a delimited file's columns. */
export interface Header {
  /** Column index by lower-case name. */
  index: Map<string, number>;
  names: string[];
}

export function parseHeader(fields: string[], file: string, required: readonly string[], known: readonly string[]): Header {
  const names = fields.map((f) => f.trim().toLowerCase());
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    if (index.has(n)) throw new InputDataError(`duplicate column "${n}" in the header`, file, n, 1);
    index.set(n, i);
  });
  for (const r of required) if (!index.has(r)) throw new InputDataError(`missing column "${r}" in the header (expected ${known.join(', ')})`, file, r, 1);
  for (const n of names) if (!known.includes(n)) throw new InputDataError(`unknown column "${n}" (expected ${known.join(', ')})`, file, n, 1);
  return { index, names };
}
