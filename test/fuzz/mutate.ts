/**
 * Seeded mutators for the fuzzer: byte-level mutations of binary (Arrow) files and line/field-level mutations
 * of delimited text. Every mutation returns the steps it applied as short strings, so a finding can be read
 * (and, with the same seed and case number, reproduced) without the mutated bytes.
 */
import { makeRng, type Rng } from '../../src/core/rng.js';

export type { Rng };

/** The case's own random stream: depends only on the run seed and the case number. */
export function caseRng(seed: number, caseIndex: number): Rng {
  return makeRng(seed).fork(`case-${caseIndex}`);
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

/** 1 mutation most of the time, sometimes a few stacked (geometric). */
export function mutationCount(rng: Rng, max = 6): number {
  let n = 1;
  while (n < max && rng.next() < 0.35) n++;
  return n;
}

export interface Mutated<T> {
  data: T;
  steps: string[];
}

const BYTES = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe, 0x10, 0x40];

/** Values written over 32-bit fields (lengths, offsets, counts, flatbuffer vtable offsets). */
function int32Values(orig: number, fileLength: number): number[] {
  return [0, -1, 1, 0x7fffffff, -0x80000000, 0x40000000, 0x10000, 0xffff, orig + 1, orig - 1, orig + 8, orig - 8, orig * 2, orig * 16, fileLength, fileLength + 8, -orig];
}

/** Values written over 64-bit fields (IPC Buffer offset/length, FieldNode length/null_count): [lo, hi]. */
const INT64_VALUES: readonly [number, number][] = [
  [0, 0],
  [0xffffffff, 0xffffffff], // -1
  [0x7fffffff, 0], // 2^31 − 1
  [0x80000000, 0], // 2^31
  [0, 1], // 2^32
  [0xffffffff, 0x7fffffff], // 2^63 − 1
  [0, 0x80000000], // −2^63
  [0, 0x200000], // 2^53
  [0x10000000, 0], // 256 MiB
  [1, 0],
  [8, 0],
];

function insertAt(a: Uint8Array, at: number, chunk: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + chunk.length);
  out.set(a.subarray(0, at), 0);
  out.set(chunk, at);
  out.set(a.subarray(at), at + chunk.length);
  return out;
}

function deleteRange(a: Uint8Array, at: number, len: number): Uint8Array {
  const out = new Uint8Array(a.length - len);
  out.set(a.subarray(0, at), 0);
  out.set(a.subarray(at + len), at);
  return out;
}

/** A chunk length: mostly small, sometimes large. */
function chunkLen(rng: Rng, max: number): number {
  if (max <= 1) return max;
  const cap = rng.next() < 0.8 ? Math.min(max, 64) : max;
  return 1 + rng.int(cap);
}

/** Apply one random byte-level mutation; `other` is a second corpus file for splicing. */
export function mutateBytesOnce(rng: Rng, input: Uint8Array, other: Uint8Array): Mutated<Uint8Array> {
  const a = new Uint8Array(input); // copy: never mutate the corpus
  const n = a.length;
  const pos = (): number => rng.int(Math.max(n, 1));
  const op = n === 0 ? 'splice' : pick(rng, ['bitflip', 'bitflip', 'byte', 'int32', 'int32', 'int32', 'int64', 'int64', 'truncate', 'dup', 'delete', 'splice', 'overwrite', 'zero', 'ascii'] as const);
  const view = new DataView(a.buffer, a.byteOffset, a.byteLength);
  switch (op) {
    case 'bitflip': {
      const p = pos();
      const bit = rng.int(8);
      a[p] ^= 1 << bit;
      return { data: a, steps: [`bitflip@${p}.${bit}`] };
    }
    case 'byte': {
      const p = pos();
      const v = pick(rng, BYTES);
      a[p] = v;
      return { data: a, steps: [`byte@${p}=0x${v.toString(16)}`] };
    }
    case 'int32': {
      if (n < 4) return { data: a, steps: ['int32(skip: short)'] };
      const p = rng.int(Math.floor(n / 4)) * 4;
      const orig = view.getInt32(p, true);
      const v = pick(rng, int32Values(orig, n)) | 0;
      view.setInt32(p, v, true);
      return { data: a, steps: [`int32@${p}:${orig}->${v}`] };
    }
    case 'int64': {
      if (n < 8) return { data: a, steps: ['int64(skip: short)'] };
      const p = rng.int(Math.floor(n / 8)) * 8;
      const [lo, hi] = pick(rng, INT64_VALUES);
      view.setUint32(p, lo >>> 0, true);
      view.setUint32(p + 4, hi >>> 0, true);
      return { data: a, steps: [`int64@${p}=0x${hi.toString(16)}_${lo.toString(16).padStart(8, '0')}`] };
    }
    case 'truncate': {
      // Near the end (footer), near the start (magic, schema) or anywhere.
      const r = rng.next();
      const at = r < 0.4 ? Math.max(0, n - 1 - rng.int(Math.min(n, 64))) : r < 0.6 ? rng.int(Math.min(n, 64)) : rng.int(n);
      return { data: a.slice(0, at), steps: [`truncate@${at}/${n}`] };
    }
    case 'dup': {
      const at = pos();
      const len = chunkLen(rng, n - at);
      const to = rng.int(n + 1);
      return { data: insertAt(a, to, a.slice(at, at + len)), steps: [`dup[${at}+${len}]->${to}`] };
    }
    case 'delete': {
      const at = pos();
      const len = chunkLen(rng, n - at);
      return { data: deleteRange(a, at, len), steps: [`delete[${at}+${len}]`] };
    }
    case 'splice': {
      // Head of this file + tail of the other, cut at 8-aligned points half the time.
      const align = rng.next() < 0.5 ? 8 : 1;
      const cut = Math.floor(rng.int(n + 1) / align) * align;
      const from = Math.floor(rng.int(other.length + 1) / align) * align;
      const out = new Uint8Array(cut + other.length - from);
      out.set(a.subarray(0, cut), 0);
      out.set(other.subarray(from), cut);
      return { data: out, steps: [`splice(head ${cut} + other from ${from})`] };
    }
    case 'overwrite': {
      if (other.length === 0) return { data: a, steps: ['overwrite(skip)'] };
      const at = pos();
      const from = rng.int(other.length);
      const len = Math.min(chunkLen(rng, other.length - from), n - at);
      a.set(other.subarray(from, from + len), at);
      return { data: a, steps: [`overwrite[${at}+${len}]<-other@${from}`] };
    }
    case 'zero': {
      const at = pos();
      const len = chunkLen(rng, n - at);
      a.fill(0, at, at + len);
      return { data: a, steps: [`zero[${at}+${len}]`] };
    }
    case 'ascii': {
      // A CSV line pasted in: what a text file renamed .arrow looks like.
      const at = pos();
      const text = new TextEncoder().encode(pick(rng, ['item_id,domain,title\n0,source,apple\n', 'ARROW1', '\n', 'PAR1']));
      const out = a.slice();
      out.set(text.subarray(0, Math.max(0, n - at)), at);
      return { data: out, steps: [`ascii@${at}`] };
    }
  }
}

export function mutateBytes(rng: Rng, input: Uint8Array, other: Uint8Array): Mutated<Uint8Array> {
  let data = input;
  const steps: string[] = [];
  const k = mutationCount(rng);
  for (let i = 0; i < k; i++) {
    const m = mutateBytesOnce(rng, data, other);
    data = m.data;
    steps.push(...m.steps);
  }
  return { data, steps };
}

/** Field values that break parsers: numbers at type limits, non-numbers, quotes, separators, odd unicode. */
export const INTERESTING_FIELDS: readonly string[] = [
  '',
  ' ',
  '-1',
  '0',
  '1',
  '2',
  '-0',
  '0.5',
  '1.5',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '1e-400',
  '2147483647',
  '2147483648',
  '4294967296',
  '9007199254740993',
  '99999999999999999999999',
  '0x1f',
  '1_000',
  '"',
  '""',
  '"a,b"',
  '"a\tb"',
  '"unterminated',
  'a"b',
  'source',
  'target',
  'food',
  'kitchen',
  'train',
  '(no genres listed)',
  'Animation',
  'Animation|Children',
  '2024-02-30',
  '1970-01-01T00:00:00Z',
  '2024-13-45T99:99',
  '\u0000',
  '\uFFFD',
  '\uD800',
  '\uFEFF',
  '\r',
  'x'.repeat(5000),
  '1,2,3',
  '1,,2',
  '0 0 0',
  '1 NaN',
  '3000000000',
];

const INTERESTING_CHARS = ['\t', ',', '"', '\n', '\r', '\r\n', '\u0000', '\uFEFF', '\uFFFD', ' ', '|', '\\', '-', '.', 'e'];

/** Apply one mutation to delimited text (`sep` is the field separator of the file). */
export function mutateTextOnce(rng: Rng, text: string, sep: string): Mutated<string> {
  const lines = text.split('\n');
  const li = (): number => rng.int(lines.length);
  const op = pick(rng, ['field', 'field', 'field', 'field', 'char', 'delline', 'dupline', 'swaplines', 'truncate', 'bitflip', 'dropcol', 'addcol', 'empty', 'crlf', 'joinlines'] as const);
  switch (op) {
    case 'field': {
      const l = li();
      const fields = lines[l].split(sep);
      const f = rng.int(fields.length);
      const v = pick(rng, INTERESTING_FIELDS);
      fields[f] = v;
      lines[l] = fields.join(sep);
      return { data: lines.join('\n'), steps: [`field L${l + 1}#${f}=${JSON.stringify(v.length > 20 ? v.slice(0, 8) + `…(${v.length})` : v)}`] };
    }
    case 'char': {
      const p = rng.int(text.length + 1);
      const c = pick(rng, INTERESTING_CHARS);
      return { data: text.slice(0, p) + c + text.slice(p), steps: [`char@${p}=${JSON.stringify(c)}`] };
    }
    case 'delline': {
      const l = li();
      lines.splice(l, 1);
      return { data: lines.join('\n'), steps: [`delline L${l + 1}`] };
    }
    case 'dupline': {
      const l = li();
      const to = rng.int(lines.length + 1);
      lines.splice(to, 0, lines[l]);
      return { data: lines.join('\n'), steps: [`dupline L${l + 1}->L${to + 1}`] };
    }
    case 'swaplines': {
      const a = li();
      const b = li();
      [lines[a], lines[b]] = [lines[b], lines[a]];
      return { data: lines.join('\n'), steps: [`swap L${a + 1}<->L${b + 1}`] };
    }
    case 'truncate': {
      const p = rng.int(text.length + 1);
      return { data: text.slice(0, p), steps: [`truncate@${p}/${text.length}`] };
    }
    case 'bitflip': {
      // Flip a bit of the UTF-8 bytes; invalid sequences decode as U+FFFD, which is what a reader sees.
      const bytes = Buffer.from(text, 'utf8');
      if (bytes.length === 0) return { data: text, steps: ['bitflip(skip: empty)'] };
      const p = rng.int(bytes.length);
      const bit = rng.int(8);
      bytes[p] ^= 1 << bit;
      return { data: bytes.toString('utf8'), steps: [`bitflip@${p}.${bit}`] };
    }
    case 'dropcol': {
      const f = rng.int(lines[0].split(sep).length);
      const l = rng.next() < 0.5 ? 0 : li();
      const fields = lines[l].split(sep);
      fields.splice(f, 1);
      lines[l] = fields.join(sep);
      return { data: lines.join('\n'), steps: [`dropcol L${l + 1}#${f}`] };
    }
    case 'addcol': {
      const l = rng.next() < 0.5 ? 0 : li();
      const v = pick(rng, ['extra', 'item', 'domain', 'label', 'ts', '', '1']);
      lines[l] = lines[l] + sep + v;
      return { data: lines.join('\n'), steps: [`addcol L${l + 1}=${JSON.stringify(v)}`] };
    }
    case 'empty':
      return { data: rng.next() < 0.5 ? '' : lines[0] + '\n', steps: ['empty'] };
    case 'crlf':
      return { data: text.replace(/\n/g, '\r\n'), steps: ['crlf'] };
    case 'joinlines': {
      const l = rng.int(Math.max(lines.length - 1, 1));
      if (lines.length < 2) return { data: text, steps: ['joinlines(skip)'] };
      lines.splice(l, 2, lines[l] + pick(rng, [sep, '', ' ']) + lines[l + 1]);
      return { data: lines.join('\n'), steps: [`joinlines L${l + 1}`] };
    }
  }
}

export function mutateText(rng: Rng, text: string, sep: string): Mutated<string> {
  let data = text;
  const steps: string[] = [];
  const k = mutationCount(rng, 4);
  for (let i = 0; i < k; i++) {
    const m = mutateTextOnce(rng, data, sep);
    data = m.data;
    steps.push(...m.steps);
  }
  return { data, steps };
}
