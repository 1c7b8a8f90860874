/**
 * Model save/load without tfjs-node's file handler. A model directory holds:
 *   weights.bin   all tensors, little-endian, concatenated (4-byte aligned)
 *   weights.json  manifest: format, version, byteLength, sha256 of weights.bin, and per tensor
 *                 {name, dtype, shape, offset, byteLength}
 *   config.json   the model's own config (opaque here)
 * Each file is written under a temporary name and renamed into place, so a failed save never
 * leaves a partial file; the manifest's sha256 catches a weights.bin/weights.json pair that does
 * not belong together.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT, GistError } from '../errors.js';
import { snakeKeys } from '../keys.js';

export type WeightDType = 'float32' | 'int32';

export interface WeightEntry {
  shape: number[];
  data: Float32Array | Int32Array;
}

export type WeightMap = Record<string, WeightEntry>;

interface ManifestEntry {
  name: string;
  dtype: WeightDType;
  shape: number[];
  offset: number;
  byteLength: number;
}

interface Manifest {
  format: typeof FORMAT;
  version: typeof VERSION;
  byteLength: number;
  sha256: string;
  weights: ManifestEntry[];
}

const FORMAT = 'gist-weights';
const VERSION = 1;
export const WEIGHTS_BIN = 'weights.bin';
export const WEIGHTS_JSON = 'weights.json';
export const CONFIG_JSON = 'config.json';

/** A model directory that is missing a file, truncated, or inconsistent; names the file. */
export class ModelFormatError extends GistError {
  override readonly exitCode = EXIT.invalidInput;
  override readonly code: string = 'MODEL_FORMAT';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function dtypeOf(data: Float32Array | Int32Array): WeightDType {
  return data instanceof Int32Array ? 'int32' : 'float32';
}

async function writeAtomic(file: string, data: string | Uint8Array): Promise<string> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, data);
  return tmp;
}

/**
 * Writes `weights` and `config` to `dir` (created if needed). All three files are written to
 * temporary names first and renamed only when every write succeeded.
 */
export async function saveWeights(dir: string, weights: WeightMap, config: object): Promise<void> {
  if (os.endianness() !== 'LE') throw new Error('model files are little-endian; big-endian hosts are not supported');
  const entries: ManifestEntry[] = [];
  let offset = 0;
  for (const [name, w] of Object.entries(weights)) {
    if (!(w.data instanceof Float32Array) && !(w.data instanceof Int32Array)) {
      throw new TypeError(`weight "${name}": data must be a Float32Array or Int32Array`);
    }
    if (!w.shape.every((d) => Number.isInteger(d) && d >= 0) || sizeOf(w.shape) !== w.data.length) {
      throw new RangeError(`weight "${name}": shape [${w.shape.join(', ')}] does not match ${w.data.length} values`);
    }
    entries.push({ name, dtype: dtypeOf(w.data), shape: [...w.shape], offset, byteLength: w.data.byteLength });
    offset += w.data.byteLength; // both dtypes are 4 bytes wide, so offsets stay aligned
  }
  const bin = new Uint8Array(offset);
  for (const e of entries) {
    const data = weights[e.name].data;
    bin.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), e.offset);
  }
  const manifest: Manifest = {
    format: FORMAT,
    version: VERSION,
    byteLength: bin.byteLength,
    sha256: createHash('sha256').update(bin).digest('hex'),
    weights: entries,
  };
  await fs.mkdir(dir, { recursive: true });
  const targets = [WEIGHTS_BIN, WEIGHTS_JSON, CONFIG_JSON].map((f) => path.join(dir, f));
  const temps: string[] = [];
  try {
    temps.push(await writeAtomic(targets[0], bin));
    temps.push(await writeAtomic(targets[1], JSON.stringify(manifest, null, 1) + '\n'));
    temps.push(await writeAtomic(targets[2], JSON.stringify(snakeKeys(config), null, 2) + '\n'));
    // weights.bin first: a crash between renames leaves a sha256 mismatch that load reports.
    for (let i = 0; i < temps.length; i++) await fs.rename(temps[i], targets[i]);
  } catch (err) {
    await Promise.all(temps.map((t) => fs.rm(t, { force: true })));
    throw err;
  }
}

async function readFileOr(dir: string, name: string): Promise<Buffer> {
  try {
    return await fs.readFile(path.join(dir, name));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelFormatError(path.join(dir, name), code === 'ENOENT' ? 'missing' : `unreadable (${code ?? String(err)})`);
  }
}

function parseJson(file: string, buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch (err) {
    throw new ModelFormatError(file, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkManifest(file: string, raw: unknown): Manifest {
  const bad = (detail: string): never => {
    throw new ModelFormatError(file, detail);
  };
  if (!isObject(raw)) return bad('manifest is not an object');
  if (raw.format !== FORMAT) bad(`format is ${JSON.stringify(raw.format)}, expected "${FORMAT}"`);
  if (raw.version !== VERSION) bad(`version ${JSON.stringify(raw.version)} is not supported (expected ${VERSION})`);
  if (typeof raw.byteLength !== 'number' || !Number.isInteger(raw.byteLength) || raw.byteLength < 0) bad('byteLength is missing or invalid');
  if (typeof raw.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(raw.sha256)) bad('sha256 is missing or invalid');
  if (!Array.isArray(raw.weights)) return bad('weights list is missing');
  const names = new Set<string>();
  const weights: ManifestEntry[] = raw.weights.map((e: unknown, i: number) => {
    if (!isObject(e) || typeof e.name !== 'string') return bad(`weights[${i}] has no name`);
    const where = `weight "${e.name}"`;
    if (names.has(e.name)) bad(`${where} appears twice`);
    names.add(e.name);
    if (e.dtype !== 'float32' && e.dtype !== 'int32') bad(`${where} has unsupported dtype ${JSON.stringify(e.dtype)}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d): d is number => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
      return bad(`${where} has an invalid shape`);
    }
    const { offset, byteLength } = e;
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset % 4 !== 0) return bad(`${where} has an invalid offset`);
    if (typeof byteLength !== 'number' || byteLength !== sizeOf(shape) * 4) return bad(`${where}: byteLength does not match shape [${shape.join(', ')}]`);
    if (offset + byteLength > (raw.byteLength as number)) bad(`${where} extends past the end of ${WEIGHTS_BIN}`);
    return { name: e.name, dtype: e.dtype as WeightDType, shape, offset, byteLength };
  });
  return { format: FORMAT, version: VERSION, byteLength: raw.byteLength as number, sha256: raw.sha256 as string, weights };
}

/**
 * Reads a directory written by `saveWeights`. Throws `ModelFormatError` (exit code 3) naming the
 * offending file when a file is missing, unparsable, truncated or does not match the manifest.
 * `config` is returned as parsed JSON; the caller validates its own fields.
 */
export async function loadWeights(dir: string): Promise<{ weights: WeightMap; config: unknown }> {
  const manifestFile = path.join(dir, WEIGHTS_JSON);
  const binFile = path.join(dir, WEIGHTS_BIN);
  const configFile = path.join(dir, CONFIG_JSON);
  const manifest = checkManifest(manifestFile, parseJson(manifestFile, await readFileOr(dir, WEIGHTS_JSON)));
  const config = parseJson(configFile, await readFileOr(dir, CONFIG_JSON));
  const bin = await readFileOr(dir, WEIGHTS_BIN);
  if (bin.byteLength !== manifest.byteLength) {
    throw new ModelFormatError(binFile, `${bin.byteLength} bytes, manifest says ${manifest.byteLength} (truncated or from another save)`);
  }
  if (createHash('sha256').update(bin).digest('hex') !== manifest.sha256) {
    throw new ModelFormatError(binFile, `contents do not match the sha256 in ${WEIGHTS_JSON} (corrupt or from another save)`);
  }
  const weights: WeightMap = {};
  for (const e of manifest.weights) {
    // Copy into a fresh, aligned buffer: Buffer slices may share a pool at odd offsets.
    const bytes = bin.buffer.slice(bin.byteOffset + e.offset, bin.byteOffset + e.offset + e.byteLength);
    weights[e.name] = { shape: e.shape, data: e.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes) };
  }
  return { weights, config };
}
