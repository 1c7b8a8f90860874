/**
 * Generic input so users can bring their own data: a folder with items and events tables, each as .tsv, .csv or
 * .parquet (the first found in that order). Tab-separated for .tsv, comma-separated for .csv (RFC 4180 quoting),
 * each with a header row; Parquet columns by name (content may be a list of floats, ts a timestamp or date).
 *
 * items:  item (any string id, unique), domain (source|target) — required;
 *         title, text, category (empty = unknown), content (space-separated floats, same length on every row) — optional.
 * events: user (any string id), item (an id from items), ts (number, e.g. Unix seconds, or an ISO-8601 date) — required;
 *         domain (source|target, must match the item's), label (1 click, 0 shown-not-clicked, empty = behaviour only) — optional.
 *
 * Without a label column every event is a click. Clicks and unlabelled events form the behaviour sequences;
 * label-0 rows are samples only. Samples are split per user and domain by time (as for movielens) and each click
 * gets popularity-sampled negatives. Error rows are file lines for text (header = line 1) and data rows from 1 for Parquet.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DOMAIN_CODE } from '../dataset.js';
import { GrowableFloat64, GrowableInt32, type DatasetParts } from '../dataset-writer.js';
import { InputDataError, IoError, UsageError } from '../errors.js';
import type { Rng } from '../rng.js';
import { DOMAINS, type Domain } from '../schemas.js';
import { forEachTableRow, parseHeader } from './delimited.js';
import { datasetFromEvents, type EventSplitConfig } from './events.js';

export type TsvConfig = EventSplitConfig;
export const DEFAULT_TSV_CONFIG: TsvConfig = { negatives: 4, validShare: 0.1, testShare: 0.1 };

export const TSV_ITEM_COLUMNS = ['item', 'domain', 'title', 'text', 'category', 'content'] as const;
export const TSV_EVENT_COLUMNS = ['user', 'item', 'ts', 'domain', 'label'] as const;

/** items.tsv, else items.csv, else items.parquet, in dir (IoError when none exists). */
export function findTable(dir: string, base: string): string {
  for (const ext of ['.tsv', '.csv', '.parquet']) {
    const f = path.join(dir, base + ext);
    if (fs.existsSync(f)) return f;
  }
  throw new IoError(`${path.join(dir, base + '.tsv')}: no such file (expected ${base}.tsv, ${base}.csv or ${base}.parquet in ${dir})`);
}


function parseDomain(value: string, file: string, line: number): number {
  const d = value.trim().toLowerCase();
  if (!(DOMAINS as readonly string[]).includes(d)) throw new InputDataError(`domain "${value}" is not source or target`, file, 'domain', line);
  return DOMAIN_CODE[d as Domain];
}

/** Seconds from a number or an ISO-8601 date. */
function parseTime(value: string, file: string, line: number): number {
  const s = value.trim();
  if (s === '') throw new InputDataError('empty ts', file, 'ts', line);
  const x = Number(s);
  if (Number.isFinite(x)) return x;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : NaN;
  if (!Number.isFinite(ms)) throw new InputDataError(`ts "${value}" is neither a number nor an ISO-8601 date`, file, 'ts', line);
  return ms / 1000;
}

export interface TsvImport {
  parts: DatasetParts;
  notes: string[];
}

export function importTsv(dir: string, cfg: TsvConfig, rng: Rng): TsvImport {
  const itemsFile = findTable(dir, 'items');
  const eventsFile = findTable(dir, 'events');

  const itemOf = new Map<string, number>();
  const domain: number[] = [];
  const title: string[] = [];
  const text: string[] = [];
  const categoryCodes: number[] = [];
  const categoryNames: string[] = [];
  const categoryIndex = new Map<string, number>();
  const content: number[] = [];
  let dim = -1;
  let col: Map<string, number> | null = null;
  forEachTableRow(itemsFile, (f, line) => {
    if (!col) {
      col = parseHeader(f, itemsFile, ['item', 'domain'], TSV_ITEM_COLUMNS).index;
      return;
    }
    const c = col;
    const get = (name: string): string => (c.has(name) ? (f[c.get(name)!] ?? '') : '');
    if (f.length !== c.size) throw new InputDataError(`expected ${c.size} fields, got ${f.length}`, itemsFile, undefined, line);
    const id = get('item').trim();
    if (id === '') throw new InputDataError('empty item id', itemsFile, 'item', line);
    if (itemOf.has(id)) throw new InputDataError(`duplicate item id "${id}"`, itemsFile, 'item', line);
    itemOf.set(id, domain.length);
    domain.push(parseDomain(get('domain'), itemsFile, line));
    title.push(get('title').trim());
    text.push(get('text').trim());
    const cat = get('category').trim();
    if (cat === '') categoryCodes.push(-1);
    else {
      let k = categoryIndex.get(cat);
      if (k === undefined) {
        categoryIndex.set(cat, (k = categoryNames.length));
        categoryNames.push(cat);
      }
      categoryCodes.push(k);
    }
    if (c.has('content')) {
      const parts = get('content').trim().split(/\s+/).filter((s) => s !== '');
      if (dim < 0) dim = parts.length;
      if (parts.length === 0 || parts.length !== dim) throw new InputDataError(`content has ${parts.length} values, expected ${dim > 0 ? dim : 'at least 1'}`, itemsFile, 'content', line);
      for (const p of parts) {
        const x = Number(p);
        if (!Number.isFinite(x)) throw new InputDataError(`non-numeric content value "${p}"`, itemsFile, 'content', line);
        content.push(x);
      }
    }
  });
  if (!col) throw new InputDataError('empty file (expected a header row and items)', itemsFile);
  const itemCols: Map<string, number> = col;
  const numItems = domain.length;
  if (numItems === 0) throw new InputDataError('no items', itemsFile);

  const userOf = new Map<string, number>();
  const user = new GrowableInt32();
  const item = new GrowableInt32();
  const ts = new GrowableFloat64();
  const labels: number[] = [];
  let hasLabel = false;
  col = null;
  forEachTableRow(eventsFile, (f, line) => {
    if (!col) {
      col = parseHeader(f, eventsFile, ['user', 'item', 'ts'], TSV_EVENT_COLUMNS).index;
      hasLabel = col.has('label');
      return;
    }
    const c = col;
    const get = (name: string): string => (c.has(name) ? (f[c.get(name)!] ?? '') : '');
    if (f.length !== c.size) throw new InputDataError(`expected ${c.size} fields, got ${f.length}`, eventsFile, undefined, line);
    const uid = get('user').trim();
    if (uid === '') throw new InputDataError('empty user id', eventsFile, 'user', line);
    const it = itemOf.get(get('item').trim());
    if (it === undefined) throw new InputDataError(`item "${get('item')}" is not in ${path.basename(itemsFile)}`, eventsFile, 'item', line);
    if (c.has('domain') && parseDomain(get('domain'), eventsFile, line) !== domain[it]) {
      throw new InputDataError(`domain "${get('domain')}" differs from item "${get('item')}"'s domain in ${path.basename(itemsFile)}`, eventsFile, 'domain', line);
    }
    let label = 1;
    if (hasLabel) {
      const l = get('label').trim();
      label = l === '' ? -1 : l === '1' ? 1 : l === '0' ? 0 : NaN;
      if (Number.isNaN(label)) throw new InputDataError(`label "${l}" is not 1, 0 or empty`, eventsFile, 'label', line);
    }
    let u = userOf.get(uid);
    if (u === undefined) userOf.set(uid, (u = userOf.size));
    user.push(u);
    item.push(it);
    ts.push(parseTime(get('ts'), eventsFile, line));
    labels.push(label);
  });
  if (!col || user.length === 0) throw new InputDataError('no events (expected a header row and events)', eventsFile);

  const label = Int8Array.from(labels);
  const inSequence = Uint8Array.from(label, (l) => (l === 0 ? 0 : 1));
  const parts = datasetFromEvents(
    {
      domain: Int8Array.from(domain),
      title,
      text,
      category: itemCols.has('category') ? { codes: Int32Array.from(categoryCodes), values: categoryNames } : null,
      content: itemCols.has('content') ? { dim, values: Float32Array.from(content) } : null,
    },
    { numUsers: userOf.size, user: user.toArray(), item: item.toArray(), ts: ts.toArray(), label, inSequence },
    cfg,
    rng,
  );
  parts.items.key = [...itemOf.keys()];
  parts.userKeys = [...userOf.keys()];
  return {
    parts,
    notes: [
      `Generic input from ${path.basename(itemsFile)} and ${path.basename(eventsFile)}.`,
      hasLabel ? 'Labels from the label column (1 click, 0 not clicked, empty behaviour only).' : 'No label column: every event is a click.',
      `Per user and domain, the last ${cfg.testShare * 100}% of labelled events (by time) are test and the ${cfg.validShare * 100}% before are valid; ${cfg.negatives} popularity-sampled negatives per click.`,
      ...(itemCols.has('category') ? [] : ['No category column: hard search (category match) is not available.']),
    ],
  };
}
