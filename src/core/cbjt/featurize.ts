/**
 * Text featurizer for the content encoders (eq. 4): lower-cased word tokens plus character n-grams of each
 * word with boundary markers ("<word>"), hashed with 32-bit FNV-1a over UTF-8 bytes into `buckets` rows of an
 * embedding bag. Stable across runs, platforms and Node versions (no dictionary to fit or save).
 */
import type { Rng } from '../rng.js';

export interface TextFeaturizerConfig {
  /** Hash buckets = rows of the embedding-bag table. */
  buckets: number;
  /** Character n-gram length (0 = word tokens only). */
  ngram: number;
  /** At most this many tokens per text (words first, in order, then their n-grams are cut off). */
  maxTokens: number;
}

export const DEFAULT_TEXT_FEATURIZER_CONFIG: TextFeaturizerConfig = {
  buckets: 65_536,
  ngram: 3,
  maxTokens: 256,
};

/** Token bags of many texts in CSR form: text r has bucket ids ids[offsets[r]..offsets[r+1]) (never empty). */
export interface TokenBags {
  offsets: Int32Array;
  ids: Int32Array;
  /** 1 where the text had no word at all (its bag holds only the EMPTY token). */
  empty: Uint8Array;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over the UTF-8 bytes of `s`, starting from `h` (chain calls to hash a prefix + string). */
export function fnv1a(s: string, h = FNV_OFFSET): number {
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) {
      h = Math.imul(h ^ cp, FNV_PRIME);
    } else if (cp < 0x800) {
      h = Math.imul(h ^ (0xc0 | (cp >> 6)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
    } else if (cp < 0x10000) {
      h = Math.imul(h ^ (0xe0 | (cp >> 12)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
    } else {
      h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
    }
  }
  return h >>> 0;
}

// Word tokens and n-grams hash in separate namespaces, so the word "the" and the 3-gram "the" differ.
const WORD_SEED = fnv1a('w\u0000');
const GRAM_SEED = fnv1a('g\u0000');
const EMPTY_TOKEN = fnv1a('\u0000empty');

const WORD_RE = /[\p{L}\p{N}]+/gu;

/** Lower-cased word tokens (runs of Unicode letters/digits). */
export function words(text: string): string[] {
  return text.toLowerCase().match(WORD_RE) ?? [];
}

/** Token strings of a text, for inspection and tests: `w:word` and `g:<gram`. */
export function tokenStrings(text: string, ngram: number, maxTokens = Infinity): string[] {
  const out: string[] = [];
  const ws = words(text);
  for (const w of ws) if (out.length < maxTokens) out.push(`w:${w}`);
  if (ngram > 0) {
    for (const w of ws) {
      const chars = Array.from(`<${w}>`);
      if (chars.length <= ngram) {
        if (out.length < maxTokens) out.push(`g:${chars.join('')}`);
        continue;
      }
      for (let i = 0; i + ngram <= chars.length && out.length < maxTokens; i++) out.push(`g:${chars.slice(i, i + ngram).join('')}`);
    }
  }
  return out;
}

/** Bucket ids of one text (duplicates kept: the bag is a mean weighted by occurrence). */
export function hashText(text: string, cfg: TextFeaturizerConfig): { ids: number[]; empty: boolean } {
  const ids: number[] = [];
  const ws = words(text);
  for (const w of ws) {
    if (ids.length >= cfg.maxTokens) break;
    ids.push(fnv1a(w, WORD_SEED) % cfg.buckets);
  }
  if (cfg.ngram > 0) {
    outer: for (const w of ws) {
      const chars = Array.from(`<${w}>`);
      if (chars.length <= cfg.ngram) {
        if (ids.length >= cfg.maxTokens) break;
        ids.push(fnv1a(chars.join(''), GRAM_SEED) % cfg.buckets);
        continue;
      }
      for (let i = 0; i + cfg.ngram <= chars.length; i++) {
        if (ids.length >= cfg.maxTokens) break outer;
        ids.push(fnv1a(chars.slice(i, i + cfg.ngram).join(''), GRAM_SEED) % cfg.buckets);
      }
    }
  }
  if (ids.length === 0) return { ids: [EMPTY_TOKEN % cfg.buckets], empty: true };
  return { ids, empty: false };
}

/** Featurize many texts into CSR token bags. */
export function featurizeTexts(texts: readonly string[], cfg: TextFeaturizerConfig): TokenBags {
  const offsets = new Int32Array(texts.length + 1);
  const empty = new Uint8Array(texts.length);
  const parts: number[][] = [];
  let total = 0;
  for (let r = 0; r < texts.length; r++) {
    const h = hashText(texts[r], cfg);
    parts.push(h.ids);
    empty[r] = h.empty ? 1 : 0;
    total += h.ids.length;
    offsets[r + 1] = total;
  }
  const ids = new Int32Array(total);
  for (let r = 0; r < parts.length; r++) ids.set(parts[r], offsets[r]);
  return { offsets, ids, empty };
}

/** Join two text fields into one (for a single text view over title and text). */
export function joinFields(a: readonly string[], b: readonly string[]): string[] {
  return a.map((t, i) => (b[i] ? `${t} ${b[i]}` : t));
}

/**
 * A batch of bags for rows `rows`, optionally with token dropout (each token kept with probability 1 − p,
 * at least one kept per bag): the augmentation used when an item has a single text view.
 */
export function batchBags(bags: TokenBags, rows: ArrayLike<number>, dropout = 0, rng?: Rng): { ids: Int32Array; segments: Int32Array; counts: Float32Array } {
  const ids: number[] = [];
  const segments: number[] = [];
  const counts = new Float32Array(rows.length);
  for (let b = 0; b < rows.length; b++) {
    const r = rows[b];
    const s = bags.offsets[r];
    const e = bags.offsets[r + 1];
    let kept = 0;
    if (dropout > 0 && rng && e - s > 1) {
      const forced = s + rng.int(e - s); // one token always survives
      for (let j = s; j < e; j++) {
        if (j === forced || rng.next() >= dropout) {
          ids.push(bags.ids[j]);
          segments.push(b);
          kept++;
        }
      }
    } else {
      for (let j = s; j < e; j++) {
        ids.push(bags.ids[j]);
        segments.push(b);
      }
      kept = e - s;
    }
    counts[b] = kept;
  }
  return { ids: Int32Array.from(ids), segments: Int32Array.from(segments), counts };
}
