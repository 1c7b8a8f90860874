/** Typed configs: defaults merged with user overrides; an unknown or mistyped key is a usage error, never ignored. */
import * as fs from 'node:fs';
import { InputDataError, IoError, UsageError } from './errors.js';
import { camelKeys, snakeKey } from './keys.js';

/**
 * Merge `overrides` onto `defaults`, recursing into object-valued keys. Keys must exist in the defaults and
 * have the same type; `undefined` overrides keep the default. An empty-object default is an open section
 * whose keys the owning module validates with its own resolver.
 */
export function resolveConfig<T extends object>(defaults: T, overrides: Partial<T> | Record<string, unknown>, where = 'config'): T {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    // Messages name keys as files spell them (snake_case).
    if (!(key in out)) throw new UsageError(`${where}: unknown key "${snakeKey(key)}" (known: ${Object.keys(out).map(snakeKey).join(', ')})`);
    const def = out[key];
    if (def !== null && value !== null && typeof def !== typeof value) throw new UsageError(`${where}: "${snakeKey(key)}" must be a ${typeof def}, got ${JSON.stringify(value)}`);
    const open = def && typeof def === 'object' && !Array.isArray(def) && Object.keys(def).length === 0;
    if (!open && def && typeof def === 'object' && !Array.isArray(def) && value && typeof value === 'object' && !Array.isArray(value)) {
      out[key] = resolveConfig(def as object, value as Record<string, unknown>, `${where}.${snakeKey(key)}`);
    } else out[key] = value;
  }
  return out as T;
}

/** Read a JSON config file (e.g. `--config FILE`). */
export function readJsonFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new IoError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('top level must be an object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new InputDataError(`invalid JSON (${(err as Error).message})`, file);
  }
}

/**
 * Settings recorded in an earlier run's config.json (`train-* --config FILE`): the file must come from `command`;
 * `section` (e.g. "config", "model", "train") is returned with only the keys `defaults` knows, so the figures a run
 * records beside its settings (epochs_run, coverage, ...) are left out. The recorded seed comes back too.
 */
export function recordedConfig<T extends object>(file: string, command: string, section: string, defaults: T): { settings: Partial<T>; seed: number | undefined } {
  const doc = readJsonFile(file);
  if (doc.command !== command) throw new InputDataError(`a config.json of ${typeof doc.command === 'string' ? doc.command : 'something else'}, not of ${command}`, file);
  const raw = camelKeys(doc[section]);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InputDataError(`no "${section}" settings`, file, section);
  const settings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) if (k in defaults) settings[k] = v;
  return { settings: settings as Partial<T>, seed: typeof doc.seed === 'number' ? doc.seed : undefined };
}

/** Range checks shared by commands, each a one-line usage error. */
export function requireRange(name: string, value: number, lo: number, hi: number, loOpen = false, hiOpen = false): number {
  const okLo = loOpen ? value > lo : value >= lo;
  const okHi = hiOpen ? value < hi : value <= hi;
  if (!Number.isFinite(value) || !okLo || !okHi) throw new UsageError(`${name} must be in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${value}`);
  return value;
}
