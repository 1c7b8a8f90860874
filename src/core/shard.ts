/**
 * Sharding of data-parallel steps: `--shard i/n` runs one of n disjoint parts of a step (by user, or by item where
 * the work is per item) and writes a partial output folder; `gist merge` checks that the folders are shards
 * 0..n−1 of one run and joins them into exactly the files one process writes (byte for byte). Each step's merge
 * lives beside the step; this module holds what they share.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readArrow, type ArrowFile, type Columns, type DictColumn, type OutputMeta } from './arrow-io.js';
import type { TableSpec } from './schemas.js';
import { readJsonFile } from './config.js';
import { InputDataError, IoError, UsageError } from './errors.js';

export interface ShardSpec {
  index: number;
  count: number;
}

/** Parse "i/n" (0-based i); undefined → null (no sharding). */
export function parseShard(spec: string | undefined): ShardSpec | null {
  if (spec === undefined) return null;
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  if (!m) throw new UsageError(`--shard must look like i/n (e.g. 0/4), got "${spec}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new UsageError(`--shard ${spec}: need 0 ≤ i < n`);
  return { index, count };
}

export const shardLabel = (s: ShardSpec): string => `${s.index}/${s.count}`;

/** Whether a unit of work (a user id, an item id, a batch number) belongs to the shard; every unit without one. */
export const inShard = (unit: number, s: ShardSpec | null): boolean => s === null || unit % s.count === s.index;

/**
 * Rows 0..count−1 of shard `s` when the work runs in blocks of `block` rows (batches): block b goes to shard
 * b mod n, rows in order; every row without a shard. A shard's batches are then the very batches of one run, so
 * batch-dependent float rounding cannot tell a merged result from a single run's.
 */
export function blockRows(count: number, block: number, s: ShardSpec | null): Int32Array {
  if (s === null) return Int32Array.from({ length: count }, (_, i) => i);
  const rows: number[] = [];
  for (let b = s.index; b * block < count; b += s.count) for (let r = b * block; r < Math.min(count, (b + 1) * block); r++) rows.push(r);
  return Int32Array.from(rows);
}

/** One shard folder given to `gist merge`: its config.json (less the invocation) and the command that wrote it. */
export interface ShardPart {
  dir: string;
  command: string;
  shard: ShardSpec;
  /** config.json without `invocation` and `shard`: must be equal across the shards of one run. */
  config: Record<string, unknown>;
}

/** The shard folder's config.json: written by every `--shard` run with `command` and `shard`. */
export function readShardPart(input: string): ShardPart {
  if (!fs.existsSync(input)) throw new IoError(`${input}: no such folder (expected the output folder of a --shard run)`);
  if (!fs.statSync(input).isDirectory()) throw new InputDataError('not a shard folder (give the output folder of a --shard run)', input);
  const dir = input;
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) throw new InputDataError('no config.json: not the output folder of a --shard run', dir);
  const { invocation: _ran, shard, ...config } = readJsonFile(file);
  if (typeof shard !== 'string' || typeof config.command !== 'string') throw new InputDataError('not a --shard output (no shard in its config.json)', file, 'shard');
  return { dir, command: config.command, shard: parseShard(shard) as ShardSpec, config };
}

/**
 * Check that `parts` are shards 0..n−1 of one run of `command` (same n, each once, equal settings), ordered by
 * shard index. Returns them sorted and n.
 */
export function checkShardSet(parts: ShardPart[], command?: string): ShardPart[] {
  if (parts.length === 0) throw new UsageError('merge needs at least one shard folder');
  const first = parts[0];
  const settings = JSON.stringify(first.config);
  for (const p of parts) {
    if (command && p.command !== command) throw new UsageError(`${p.dir} is a shard of ${p.command}, not of ${command}`);
    if (p.command !== first.command) throw new UsageError(`${p.dir} is a shard of ${p.command}, ${first.dir} of ${first.command}`);
  }
  checkShardIndices(parts.map((p) => ({ ...p.shard, where: p.dir })));
  for (const p of parts) if (JSON.stringify(p.config) !== settings) throw new UsageError(`${p.dir}: config.json differs from ${first.dir} (shards of different runs)`);
  return [...parts].sort((a, b) => a.shard.index - b.shard.index);
}

/** Shards 0..n−1 of one n, each exactly once (`where` names each in messages). */
export function checkShardIndices(shards: readonly (ShardSpec & { where: string })[]): void {
  const n = shards[0].count;
  const seen: (string | undefined)[] = Array.from({ length: n }, () => undefined);
  for (const s of shards) {
    if (s.count !== n) throw new UsageError(`shard counts differ: ${shards[0].where} is one of ${n}, ${s.where} one of ${s.count}`);
    if (seen[s.index]) throw new UsageError(`shard ${shardLabel(s)} given twice (${seen[s.index]} and ${s.where})`);
    seen[s.index] = s.where;
  }
  const missing = seen.flatMap((v, i) => (v ? [] : [`${i}/${n}`]));
  if (missing.length) throw new UsageError(`missing shard(s) ${missing.join(', ')}`);
}

/**
 * Read one file of every shard (`name` in each shard folder) and check that their metadata agree up to the
 * shard; returns the files and the metadata the merged file carries (what one process writes).
 */
export function readShardFiles(parts: readonly ShardPart[], name: string, spec: TableSpec): { files: ArrowFile[]; meta: OutputMeta } {
  const files = parts.map((p) => readArrow(path.join(p.dir, name), spec));
  const meta = unshardedMeta(files[0].metadata);
  files.forEach((f, i) => {
    if (JSON.stringify(unshardedMeta(f.metadata)) !== JSON.stringify(meta)) throw new UsageError(`${path.join(parts[i].dir, name)}: written with other settings than ${path.join(parts[0].dir, name)} (metadata differs)`);
  });
  return { files, meta: meta as unknown as OutputMeta };
}

/** Arrow metadata of a shard's file without what differs between shards (`shard`) or is the writer's own (`gist.table`). */
export function unshardedMeta(meta: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(meta)) if (key !== 'shard' && key !== 'gist.table') out[key] = v;
  return out;
}

/**
 * The rows of the shards' tables in ascending order of the int32 `key` column (sample ids: disjoint across shards,
 * since each shard holds other users), every column gathered. Scalar, string and dictionary columns only.
 */
export function rowsByKey(files: readonly ArrowFile[], key: string, names: readonly string[]): Columns {
  const total = files.reduce((t, f) => t + f.numRows, 0);
  const src = new Int32Array(total);
  const at = new Int32Array(total);
  const ids = new Int32Array(total);
  let n = 0;
  files.forEach((f, s) => {
    const col = f.columns[key] as Int32Array;
    for (let r = 0; r < col.length; r++, n++) {
      ids[n] = col[r];
      src[n] = s;
      at[n] = r;
    }
  });
  const order = Int32Array.from({ length: total }, (_, i) => i).sort((a, b) => ids[a] - ids[b]);
  for (let i = 1; i < total; i++) if (ids[order[i]] === ids[order[i - 1]]) throw new InputDataError(`${key} ${ids[order[i]]} in two shards`, undefined, key);
  const out: Columns = {};
  for (const name of names) {
    const first = files[0].columns[name];
    if (first === undefined) continue;
    const cols = files.map((f) => f.columns[name]);
    if (Array.isArray(first)) out[name] = Array.from(order, (i) => (cols[src[i]] as string[])[at[i]]);
    else if ('codes' in first) {
      const values = first.values;
      for (const c of cols) if (JSON.stringify((c as DictColumn).values) !== JSON.stringify(values)) throw new InputDataError(`column ${name}: shards use different dictionaries`, undefined, name);
      out[name] = { codes: Int32Array.from(order, (i) => (cols[src[i]] as DictColumn).codes[at[i]]), values };
    } else if (ArrayBuffer.isView(first)) {
      const Typed = first.constructor as new (len: number) => Int8Array | Int32Array | Float32Array | Float64Array;
      const o = new Typed(total);
      for (let i = 0; i < total; i++) o[i] = (cols[src[order[i]]] as Int32Array)[at[order[i]]];
      out[name] = o;
    } else throw new Error(`rowsByKey: column ${name} is not a scalar column`);
  }
  return out;
}
