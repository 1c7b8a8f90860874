/**
 * Parquet in and out through `parquet-wasm` (Parquet ↔ Arrow IPC in WebAssembly), so Parquet is only a container
 * around the Arrow tables the rest of gist already reads and writes. Chosen over `hyparquet` (read-only; its writer
 * is a separate 0.x package that rebuilds columns row by row) and `@duckdb/node-api` (a native SQL engine for a job
 * that is a format conversion): parquet-wasm reads and writes, speaks Arrow directly, and needs no native build.
 * The WebAssembly module is loaded on first use, so commands that never touch Parquet start as fast as before.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { DataType, tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { InputDataError, IoError } from './errors.js';

interface ParquetWasm {
  readParquet(bytes: Uint8Array): { intoIPCStream(): Uint8Array };
  writeParquet(table: unknown, props?: unknown): Uint8Array;
  Table: { fromIPCStream(bytes: Uint8Array): unknown };
  WriterPropertiesBuilder: new () => { setCompression(c: number): { build(): unknown } };
  Compression: Record<string, number>;
}

let wasm: ParquetWasm | null = null;
function parquetWasm(): ParquetWasm {
  wasm ??= createRequire(import.meta.url)('parquet-wasm/node') as ParquetWasm;
  return wasm;
}

export function isParquetPath(file: string): boolean {
  return /\.parquet$/i.test(file);
}

/** Read a whole Parquet file as an Arrow table (IoError when unreadable, InputDataError when not Parquet). */
export function readParquetTable(file: string): Table {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new IoError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return tableFromIPC(parquetWasm().readParquet(bytes).intoIPCStream());
  } catch (err) {
    throw new InputDataError(`not a readable Parquet file (${err instanceof Error ? err.message : String(err)})`, file);
  }
}

/** Encode an Arrow table as Parquet bytes (Snappy-compressed, one row group per record batch). */
export function parquetBytes(table: Table): Uint8Array {
  const pw = parquetWasm();
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).build();
  return pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, 'stream')), props);
}

/** One cell as the text a CSV would have held: lists space-separated, times in seconds, null empty. */
function cellText(v: unknown, type: DataType): string {
  if (v === null || v === undefined) return '';
  if (DataType.isTimestamp(type) || DataType.isDate(type)) return String(Number(v) / 1000);
  if (typeof v === 'object' && v !== null && 'toArray' in v) return Array.from((v as { toArray(): ArrayLike<unknown> }).toArray(), String).join(' ');
  return String(v);
}

/**
 * Call `onRow(fields, row)` for a Parquet file as the delimited reader does for text: first the header (column
 * names, row 0), then every row's cells as text (row 1 = first data row), so importers validate both alike.
 */
export function forEachParquetRow(file: string, onRow: (fields: string[], row: number) => void): void {
  const table = readParquetTable(file);
  const fields = table.schema.fields;
  onRow(fields.map((f) => f.name), 0);
  const columns = fields.map((f) => table.getChild(f.name)!);
  for (let r = 0; r < table.numRows; r++) onRow(columns.map((c, j) => cellText(c.get(r), fields[j].type)), r + 1);
}
