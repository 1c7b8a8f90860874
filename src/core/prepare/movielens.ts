/**
 * MovieLens (ml-latest-small layout: movies.csv, ratings.csv, tags.csv) split into two domains by genre:
 * target = movies with any of the target genres, source = the rest. Real Unix timestamps.
 *
 * - Every rating is a behaviour event in the user's sequence of its domain (what the user watched).
 * - Labels: rating ≥ 4 → 1, rating ≤ 2.5 → 0, ratings in between give no sample; each positive gets sampled
 *   negatives. Each user's labelled events are split by time per domain (last testShare → test, the validShare
 *   before → valid); a global time cut would leave test users without training history.
 * - title = movie title; text = genres and tags; category = first genre (null for "(no genres listed)").
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DOMAIN_CODE } from '../dataset.js';
import { GrowableFloat64, GrowableInt32, type DatasetParts } from '../dataset-writer.js';
import { InputDataError, UsageError } from '../errors.js';
import type { Rng } from '../rng.js';
import { forEachRow, parseHeader } from './delimited.js';
import { datasetFromEvents, type EventSplitConfig } from './events.js';

export interface MovieLensConfig extends EventSplitConfig {
  /** Genres that make a movie a target-domain item. */
  targetGenres: string[];
  /** Ratings at or above this are clicks. */
  positiveMin: number;
  /** Ratings at or below this are real negatives. */
  negativeMax: number;
}

export const DEFAULT_MOVIELENS_CONFIG: MovieLensConfig = {
  targetGenres: ['Animation', 'Children'],
  positiveMin: 4,
  negativeMax: 2.5,
  negatives: 4,
  validShare: 0.1,
  testShare: 0.1,
};

const NO_GENRES = '(no genres listed)';

function numberField(value: string | undefined, file: string, column: string, line: number, integer: boolean): number {
  const s = (value ?? '').trim();
  const x = s === '' ? NaN : Number(s);
  if (!Number.isFinite(x) || (integer && !Number.isInteger(x))) throw new InputDataError(`${integer ? 'non-integer' : 'non-numeric'} ${column} "${value ?? ''}"`, file, column, line);
  return x;
}

export interface MovieLensImport {
  parts: DatasetParts;
  notes: string[];
}

export function importMovieLens(dir: string, cfg: MovieLensConfig, rng: Rng): MovieLensImport {
  // movies.csv → dense item ids in file order.
  const moviesFile = path.join(dir, 'movies.csv');
  const itemOf = new Map<number, number>();
  const titles: string[] = [];
  const genres: string[][] = [];
  let header = true;
  forEachRow(moviesFile, ',', (f, line) => {
    if (header) {
      parseHeader(f, moviesFile, ['movieid', 'title', 'genres'], ['movieid', 'title', 'genres']);
      header = false;
      return;
    }
    if (f.length !== 3) throw new InputDataError(`expected 3 fields (movieId,title,genres), got ${f.length}`, moviesFile, undefined, line);
    const id = numberField(f[0], moviesFile, 'movieId', line, true);
    if (itemOf.has(id)) throw new InputDataError(`duplicate movieId ${id}`, moviesFile, 'movieId', line);
    itemOf.set(id, titles.length);
    titles.push(f[1].trim());
    const g = f[2].trim();
    genres.push(g === '' || g === NO_GENRES ? [] : g.split('|'));
  });
  const numItems = titles.length;
  if (numItems === 0) throw new InputDataError('no movies', moviesFile);

  const known = new Set(genres.flat());
  for (const g of cfg.targetGenres) {
    if (!known.has(g)) throw new UsageError(`--target-genres: unknown genre "${g}" (known: ${[...known].sort().join(', ')})`);
  }
  const targetSet = new Set(cfg.targetGenres);
  const domain = new Int8Array(numItems);
  for (let i = 0; i < numItems; i++) domain[i] = genres[i].some((g) => targetSet.has(g)) ? DOMAIN_CODE.target : DOMAIN_CODE.source;

  // tags.csv (optional) → text.
  const tags: string[][] = titles.map(() => []);
  const tagsFile = path.join(dir, 'tags.csv');
  header = true;
  if (fs.existsSync(tagsFile)) {
    forEachRow(tagsFile, ',', (f, line) => {
      if (header) {
        parseHeader(f, tagsFile, ['movieid', 'tag'], ['userid', 'movieid', 'tag', 'timestamp']);
        header = false;
        return;
      }
      if (f.length !== 4) throw new InputDataError(`expected 4 fields (userId,movieId,tag,timestamp), got ${f.length}`, tagsFile, undefined, line);
      const item = itemOf.get(numberField(f[1], tagsFile, 'movieId', line, true));
      if (item === undefined) throw new InputDataError(`movieId ${f[1]} is not in movies.csv`, tagsFile, 'movieId', line);
      const tag = f[2].trim();
      if (tag && !tags[item].some((t) => t.toLowerCase() === tag.toLowerCase())) tags[item].push(tag);
    });
  }

  // ratings.csv → events.
  const ratingsFile = path.join(dir, 'ratings.csv');
  const userOf = new Map<number, number>();
  const user = new GrowableInt32();
  const item = new GrowableInt32();
  const ts = new GrowableFloat64();
  const labels: number[] = [];
  header = true;
  forEachRow(ratingsFile, ',', (f, line) => {
    if (header) {
      parseHeader(f, ratingsFile, ['userid', 'movieid', 'rating', 'timestamp'], ['userid', 'movieid', 'rating', 'timestamp']);
      header = false;
      return;
    }
    if (f.length !== 4) throw new InputDataError(`expected 4 fields (userId,movieId,rating,timestamp), got ${f.length}`, ratingsFile, undefined, line);
    const uid = numberField(f[0], ratingsFile, 'userId', line, true);
    const it = itemOf.get(numberField(f[1], ratingsFile, 'movieId', line, true));
    if (it === undefined) throw new InputDataError(`movieId ${f[1]} is not in movies.csv`, ratingsFile, 'movieId', line);
    const rating = numberField(f[2], ratingsFile, 'rating', line, false);
    const t = numberField(f[3], ratingsFile, 'timestamp', line, false);
    let u = userOf.get(uid);
    if (u === undefined) userOf.set(uid, (u = userOf.size));
    user.push(u);
    item.push(it);
    ts.push(t);
    labels.push(rating >= cfg.positiveMin ? 1 : rating <= cfg.negativeMax ? 0 : -1);
  });
  if (user.length === 0) throw new InputDataError('no ratings', ratingsFile);

  // Dense user ids in ascending original id order (stable and independent of file order).
  const remap = new Int32Array(userOf.size);
  [...userOf.keys()].sort((a, b) => a - b).forEach((uid, dense) => (remap[userOf.get(uid)!] = dense));
  const users = user.toArray();
  for (let i = 0; i < users.length; i++) users[i] = remap[users[i]];

  const categoryNames = [...known].sort();
  const catIndex = new Map(categoryNames.map((g, k) => [g, k]));
  const parts = datasetFromEvents(
    {
      domain,
      title: titles,
      text: genres.map((g, i) => [g.join(' '), tags[i].join(', ')].filter((s) => s !== '').join(' | ')),
      category: { codes: Int32Array.from(genres, (g) => (g.length ? catIndex.get(g[0])! : -1)), values: categoryNames },
      content: null,
    },
    { numUsers: userOf.size, user: users, item: item.toArray(), ts: ts.toArray(), label: Int8Array.from(labels), inSequence: new Uint8Array(users.length).fill(1) },
    cfg,
    rng,
  );
  parts.items.key = [...itemOf.keys()].map(String);
  parts.userKeys = [...userOf.keys()].sort((a, b) => a - b).map(String);
  return {
    parts,
    notes: [
      `MovieLens split by genre: target = movies with any of ${cfg.targetGenres.join(', ')}; source = the rest.`,
      'Sequences hold every rated movie (behaviour); labels: rating >= 4 -> 1, <= 2.5 -> 0, others give no sample.',
      `Per user and domain, the last ${cfg.testShare * 100}% of labelled events (by time) are test and the ${cfg.validShare * 100}% before are valid; ${cfg.negatives} popularity-sampled negatives per positive.`,
      'category = first genre; text = genres | tags.',
    ],
  };
}
