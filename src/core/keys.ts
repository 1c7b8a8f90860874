/**
 * Key case of the JSON gist writes and reads. Sidecars (config.json, stats.json, model folders) use snake_case
 * keys, like every `--json` result; the code's settings objects use camelCase. Readers convert back, and accept
 * either spelling, so files written before 0.2 (camelCase) still load.
 */

const CAMEL_KEY = /^[a-z][a-zA-Z0-9]*$/;
const SNAKE_KEY = /^[a-z][a-z0-9_]*$/;

/** `embeddingDim` → `embedding_dim`; keys that are not identifiers (names, numbers) are left as they are. */
export function snakeKey(key: string): string {
  return CAMEL_KEY.test(key) ? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : key;
}

/** `embedding_dim` → `embeddingDim`; a camelCase key is returned unchanged. */
export function camelKey(key: string): string {
  return SNAKE_KEY.test(key) ? key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()) : key;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null; // not Dates, typed arrays, Maps (JSON has their own forms)
}

function mapKeys(v: unknown, rename: (k: string) => string, deep: boolean, open = new Set<object>()): unknown {
  if (!Array.isArray(v) && !isPlainObject(v)) return v;
  // A cycle fails as JSON.stringify would, rather than overflowing the stack.
  if (open.has(v)) throw new TypeError('Converting circular structure to JSON');
  open.add(v);
  try {
    if (Array.isArray(v)) return deep ? v.map((x) => mapKeys(x, rename, deep, open)) : v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[rename(k)] = deep ? mapKeys(x, rename, deep, open) : x;
    return out;
  } finally {
    open.delete(v);
  }
}

/** A copy of `v` with every object key (deep, through arrays) in snake_case. */
export function snakeKeys<T>(v: T): T {
  return mapKeys(v, snakeKey, true) as T;
}

/** A copy of `v` with object keys in camelCase: every level (`deep`) or the top one only. */
export function camelKeys<T = unknown>(v: unknown, deep = true): T {
  return mapKeys(v, camelKey, deep) as T;
}
