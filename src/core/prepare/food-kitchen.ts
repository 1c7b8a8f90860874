/**
 * Amazon Food–Kitchen importer (LLMCDSR's data/food-kitchen). Target = Food, source = Kitchen. A user's mixed
 * sequence has no timestamps, so an event's time is its position in that sequence (0, 1, 2, ...).
 *
 * - Overlapping users (train_overlap.txt → train, valid.txt → valid, test.txt → test): every Food interaction
 *   after the user's first Food item is a positive target sample; its history is the user's events at earlier
 *   positions. Valid/test users' sequences are stored too (they are those samples' histories).
 * - Single-domain users (train_A.txt Food-only, train_B.txt Kitchen-only) add training events and item counts.
 * - Source samples: every Kitchen interaction after the user's first Kitchen item of train_overlap / train_B
 *   users, split train, except the last one of a seeded ~sourceValidShare of those users, split valid (so the
 *   source model has a validation AUC). Valid/test users get no source samples.
 * - Item counts and negative-sampling popularity use the training files only (train_A, train_B, train_overlap,
 *   minus the held-out source valid positives).
 */
import * as path from 'node:path';
import { DOMAIN_CODE, SPLIT_CODE } from '../dataset.js';
import { GrowableFloat64, GrowableInt32, type DatasetParts } from '../dataset-writer.js';
import { InputDataError } from '../errors.js';
import type { Rng } from '../rng.js';
import { readText } from './delimited.js';
import { buildSequences } from './events.js';
import { addSampledNegatives, PopularitySampler, userItemIndex, type LabelledSamples } from './negatives.js';

export interface FoodKitchenConfig {
  /** Sampled negatives per positive, in both domains. */
  negatives: number;
  /** Share of source-sample users whose last Kitchen positive is held out as source validation. */
  sourceValidShare: number;
}

export const DEFAULT_FOOD_KITCHEN_CONFIG: FoodKitchenConfig = { negatives: 4, sourceValidShare: 0.1 };

/** The user files in the order their users get global ids, with the target split their samples take. */
const USER_FILES = [
  { file: 'train_overlap.txt', split: SPLIT_CODE.train, samples: true, training: true },
  { file: 'valid.txt', split: SPLIT_CODE.valid, samples: true, training: false },
  { file: 'test.txt', split: SPLIT_CODE.test, samples: true, training: false },
  { file: 'train_A.txt', split: SPLIT_CODE.train, samples: false, training: true },
  { file: 'train_B.txt', split: SPLIT_CODE.train, samples: false, training: true },
] as const;

export interface FoodKitchenCatalogue {
  domain: Int8Array;
  title: string[];
  /** Amazon ASIN of each item. */
  asin: string[];
}

/** items.tsv: `item_id<TAB>domain<TAB>asin<TAB>title`, a header line, ids 0..N−1 in order, domain food|kitchen. */
export function readFoodKitchenItems(file: string): FoodKitchenCatalogue {
  const lines = readText(file).split('\n');
  const domain: number[] = [];
  const title: string[] = [];
  const asin: string[] = [];
  lines.forEach((raw, k) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    const f = line.split('\t');
    if (k === 0 && !/^\d+$/.test(f[0].trim())) return; // header
    if (f.length < 4) throw new InputDataError(`expected 4 tab-separated fields (item_id, domain, asin, title), got ${f.length}`, file, undefined, k + 1);
    const id = f[0].trim();
    if (!/^\d+$/.test(id)) throw new InputDataError(`non-numeric item id "${id}"`, file, 'item_id', k + 1);
    if (Number(id) !== domain.length) throw new InputDataError(`item id ${id} out of order (expected ${domain.length}: ids must be 0..N-1 in order)`, file, 'item_id', k + 1);
    const d = f[1].trim().toLowerCase();
    if (d !== 'food' && d !== 'kitchen') throw new InputDataError(`domain "${f[1]}" is not food or kitchen`, file, 'domain', k + 1);
    domain.push(d === 'food' ? DOMAIN_CODE.target : DOMAIN_CODE.source);
    title.push(f.slice(3).join('\t').trim());
    asin.push(f[2].trim());
  });
  if (domain.length === 0) throw new InputDataError('no items', file);
  return { domain: Int8Array.from(domain), title, asin };
}

/** A user file: `uid<TAB>comma-separated item ids`, one user per line; calls onUser with the items and the uid. */
export function readFoodKitchenUsers(file: string, numItems: number, onUser: (items: Int32Array, uid: string) => void): void {
  const text = readText(file);
  const seen = new Set<number>();
  let start = 0;
  let lineNo = 0;
  const items = new GrowableInt32();
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const tab = line.indexOf('\t');
    if (tab < 0) throw new InputDataError('expected "uid<TAB>item ids"', file, undefined, lineNo);
    const uid = line.slice(0, tab).trim();
    if (!/^\d+$/.test(uid)) throw new InputDataError(`non-numeric user id "${uid}"`, file, 'uid', lineNo);
    if (seen.has(Number(uid))) throw new InputDataError(`duplicate user id ${uid}`, file, 'uid', lineNo);
    seen.add(Number(uid));
    items.length = 0;
    let value = 0;
    let digits = 0;
    let tokenStart = tab + 1;
    for (let c = tab + 1; c <= line.length; c++) {
      const ch = c < line.length ? line.charCodeAt(c) : 44;
      if (ch >= 48 && ch <= 57) {
        value = value * 10 + (ch - 48);
        digits++;
      } else if (ch === 44 /* , */) {
        const token = line.slice(tokenStart, c).trim();
        if (digits === 0 || token.length !== digits) {
          throw new InputDataError(token === '' ? 'empty item id' : `non-numeric item id "${token}"`, file, 'items', lineNo);
        }
        if (value >= numItems) throw new InputDataError(`item id ${value} out of range (items.tsv has ${numItems} items)`, file, 'items', lineNo);
        items.push(value);
        value = 0;
        digits = 0;
        tokenStart = c + 1;
      } else if (ch !== 32 && ch !== 9) {
        digits = -1e9; // any other character makes the token invalid
      }
    }
    onUser(items.toArray(), uid);
  }
}

export interface FoodKitchenImport {
  parts: DatasetParts;
  notes: string[];
}

export function importFoodKitchen(dir: string, cfg: FoodKitchenConfig, rng: Rng): FoodKitchenImport {
  const catalogue = readFoodKitchenItems(path.join(dir, 'items.tsv'));
  const numItems = catalogue.domain.length;
  const isTarget = (item: number): boolean => catalogue.domain[item] === DOMAIN_CODE.target;

  const evUser = new GrowableInt32();
  const evItem = new GrowableInt32();
  const evTs = new GrowableFloat64();
  const targetCount = new Int32Array(numItems);
  const sourceCount = new Int32Array(numItems);
  const tgt = { user: new GrowableInt32(), item: new GrowableInt32(), ts: new GrowableFloat64(), split: [] as number[] };
  const src = { user: new GrowableInt32(), item: new GrowableInt32(), ts: new GrowableFloat64() };
  let numUsers = 0;
  // A user's own id: the file and its uid ((file, uid) is one user here, as it is one gist user id).
  const userKeys: string[] = [];
  for (const spec of USER_FILES) {
    readFoodKitchenUsers(path.join(dir, spec.file), numItems, (items, uid) => {
      const u = numUsers++;
      userKeys.push(`${spec.file.replace(/\.txt$/, '')}:${uid}`);
      let seenTarget = false;
      let seenSource = false;
      for (let p = 0; p < items.length; p++) {
        const it = items[p];
        evUser.push(u);
        evItem.push(it);
        evTs.push(p);
        if (isTarget(it)) {
          if (spec.training) targetCount[it]++;
          if (spec.samples && seenTarget) {
            tgt.user.push(u);
            tgt.item.push(it);
            tgt.ts.push(p);
            tgt.split.push(spec.split);
          }
          seenTarget = true;
        } else {
          if (spec.training) sourceCount[it]++;
          if (spec.training && seenSource) {
            src.user.push(u);
            src.item.push(it);
            src.ts.push(p);
          }
          seenSource = true;
        }
      }
    });
  }

  // Source validation: the last Kitchen positive of a seeded share of the users that have source samples.
  const srcUser = src.user.toArray();
  const srcItem = src.item.toArray();
  const srcSplit = new Int8Array(srcUser.length);
  const lastOf = new Map<number, number>();
  for (let k = 0; k < srcUser.length; k++) lastOf.set(srcUser[k], k);
  const candidates = Int32Array.from(lastOf.keys()).sort();
  rng.fork('source-valid-users').shuffle(candidates);
  const heldOut = Math.round(candidates.length * cfg.sourceValidShare);
  for (let k = 0; k < heldOut; k++) {
    const row = lastOf.get(candidates[k])!;
    srcSplit[row] = SPLIT_CODE.valid;
    sourceCount[srcItem[row]]--;
  }

  const user = evUser.toArray();
  const item = evItem.toArray();
  const ts = evTs.toArray();
  const all = new Int32Array(user.length);
  for (let i = 0; i < all.length; i++) all[i] = i;
  const sequences = buildSequences(numUsers, user, item, ts, all, catalogue.domain);
  const own = userItemIndex(numUsers, [{ user, item }]);

  const domainItems = (code: number): Int32Array => {
    const out: number[] = [];
    for (let i = 0; i < numItems; i++) if (catalogue.domain[i] === code) out.push(i);
    return Int32Array.from(out);
  };
  const tgtLabelled: LabelledSamples = {
    userId: tgt.user.toArray(),
    itemId: tgt.item.toArray(),
    ts: tgt.ts.toArray(),
    label: new Int8Array(tgt.user.length).fill(1),
    split: Int8Array.from(tgt.split),
  };
  const srcLabelled: LabelledSamples = { userId: srcUser, itemId: srcItem, ts: src.ts.toArray(), label: new Int8Array(srcUser.length).fill(1), split: srcSplit };
  const targetSamples = addSampledNegatives(tgtLabelled, cfg.negatives, new PopularitySampler(domainItems(DOMAIN_CODE.target), targetCount), own, numItems, rng.fork('negatives:target'));
  const sourceSamples = addSampledNegatives(srcLabelled, cfg.negatives, new PopularitySampler(domainItems(DOMAIN_CODE.source), sourceCount), own, numItems, rng.fork('negatives:source'));

  return {
    parts: {
      items: { domain: catalogue.domain, title: catalogue.title, text: new Array<string>(numItems).fill(''), category: null, content: null, sourceCount, targetCount, key: catalogue.asin },
      sequences,
      samples: { source: sourceSamples, target: targetSamples },
      userKeys,
    },
    notes: [
      'Amazon Food (target) / Kitchen (source); ts is the position in the user\'s mixed sequence.',
      'No categories in this dataset: hard search (category match) is not available.',
      'No item text beyond titles; text is empty.',
      `Target samples: Food interactions after each overlapping user's first Food item, ${cfg.negatives} popularity-sampled negatives each.`,
      `Source samples: Kitchen interactions of train_overlap/train_B users after their first Kitchen item; the last one of ${Math.round(cfg.sourceValidShare * 100)}% of those users is split valid; no source test split.`,
    ],
  };
}
