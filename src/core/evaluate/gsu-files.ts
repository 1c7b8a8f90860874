/**
 * `gist evaluate --gsu`: each GSU file read from end to end batch by batch (`readArrowBatches`), never whole. The
 * paper-shaped run's three files hold 100M results each (800 MB): loading them whole cost evaluate ~6 s of fresh
 * memory and 2.4 GB at its peak, where the page cache hands the same bytes over in a fraction of that.
 * Pass 1 summarises the scores and, on synthetic data, sums the planted-truth shares; pass 2 (once every file's
 * range is known) histograms the scores on one grid. Figures equal the whole-file computation's bit for bit
 * (rows come in sample order, as search-gsu and merge write them; any other order goes the whole-file way).
 */
import { readArrowBatches, type ListColumn } from '../arrow-io.js';
import { checkGsuRows, loadGsu } from '../ctr/inputs.js';
import type { Samples } from '../dataset.js';
import { GSU } from '../schemas.js';
import { PlantedShareSums, type Planted, type PlantedGsuShare, type PlantedHistoryCounts } from './planted.js';

/** What the planted-truth shares need: the target samples of the split, the items, the planted topics, the history counts. */
export interface GsuPlantedInput {
  samples: Samples;
  numItems: number;
  planted: Planted;
  history: PlantedHistoryCounts;
}

/** Pass 1 over one GSU file. */
export interface GsuFileSummary {
  /** Rows (samples searched). */
  samples: number;
  /** Results (scores) over all rows. */
  scores: number;
  sum: number;
  min: number;
  max: number;
  /** Share@k at 10 and every K the file's longest list reaches (planted input given), else null. */
  shares: { all: PlantedGsuShare[]; clicked: PlantedGsuShare[] } | null;
}

/** Thrown inside pass 1 when rows are not in sample order: the shares are then summed the whole-file way. */
class OutOfOrder extends Error {}

/** Pass 1: score count, sum, range and (synthetic data) the planted shares of one GSU file named `name`. */
export function summarizeGsuFile(file: string, name: string, ks: readonly number[], truth: GsuPlantedInput | null): GsuFileSummary {
  const candidateKs = [...new Set([10, ...ks])].sort((a, b) => a - b);
  const sums = truth ? new PlantedShareSums(truth.samples, truth.planted, candidateKs, truth.history) : null;
  const rowOfSample = truth ? new Int32Array(truth.samples.count).fill(-1) : null;
  const stats = { count: 0, sum: 0, min: Infinity, max: -Infinity };
  let longest = 0;
  let lastSample = -1;
  let numRows: number;
  try {
    ({ numRows } = readArrowBatches(file, GSU, (b) => {
      const ids = b.columns.sample_id as Int32Array;
      const items = b.columns.items as ListColumn<Int32Array>;
      addScores(stats, (b.columns.scores as ListColumn<Float32Array>).values);
      if (!truth || !sums || !rowOfSample) return;
      checkGsuRows(file, ids, items, b.columns.scores as ListColumn<Float32Array>, b.rowStart, truth.numItems, rowOfSample);
      const offs = items.offsets;
      for (let r = 0; r < b.length; r++) {
        if (ids[r] < lastSample) throw new OutOfOrder();
        lastSample = ids[r];
      }
      for (let r = 0; r < b.length; r++) {
        const found = offs[r + 1] - offs[r];
        longest = Math.max(longest, found);
        sums.add(ids[r], items.values, offs[r], found);
      }
    }));
  } catch (err) {
    if (!(err instanceof OutOfOrder) || !truth) throw err;
    return wholeFile(file, name, ks, truth);
  }
  const shares = sums ? sums.shares(name, gsuKs(ks, longest)) : null;
  return { samples: numRows, scores: stats.count, sum: stats.sum, min: stats.min, max: stats.max, shares };
}

/** K = 10 and every --ks a list of `longest` results can fill. */
function gsuKs(ks: readonly number[], longest: number): number[] {
  return [...new Set([10, ...ks.filter((k) => k <= longest)])].sort((a, b) => a - b);
}

/** Pass 1 with the file loaded whole: rows in another order than the samples'. */
function wholeFile(file: string, name: string, ks: readonly number[], truth: GsuPlantedInput): GsuFileSummary {
  const index = loadGsu(file, truth.samples.count, truth.numItems);
  const stats = { count: 0, sum: 0, min: Infinity, max: -Infinity };
  addScores(stats, index.scores);
  let longest = 0;
  for (let r = 0; r + 1 < index.offsets.length; r++) longest = Math.max(longest, index.offsets[r + 1] - index.offsets[r]);
  const sums = new PlantedShareSums(truth.samples, truth.planted, gsuKs(ks, longest), truth.history);
  sums.addIndex(index);
  return { samples: index.offsets.length - 1, scores: stats.count, sum: stats.sum, min: stats.min, max: stats.max, shares: sums.shares(name, gsuKs(ks, longest)) };
}

/** Scores into a running count, sum and range (in order: the sum is the whole-file loop's). */
function addScores(stats: { count: number; sum: number; min: number; max: number }, scores: Float32Array): void {
  let { sum, min, max } = stats;
  // indexed loops: `for…of` over these typed arrays (10^8 scores at the paper's shape) ran ~8 ns an element
  for (let j = 0; j < scores.length; j++) {
    const s = scores[j];
    sum += s;
    if (s < min) min = s;
    if (s > max) max = s;
  }
  Object.assign(stats, { count: stats.count + scores.length, sum, min, max });
}

/** Pass 2, after summarizeGsuFile read the file: counts of its scores in `bins` equal bins of [lo, hi] (the last bin closed). */
export function gsuScoreHistogram(file: string, lo: number, hi: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  const scoresOnly = { ...GSU, columns: GSU.columns.filter((c) => c.name === 'scores') };
  readArrowBatches(file, scoresOnly, (b) => {
    const scores = (b.columns.scores as ListColumn<Float32Array>).values;
    for (let j = 0; j < scores.length; j++) counts[Math.min(bins - 1, Math.floor(((scores[j] - lo) / (hi - lo)) * bins))]++;
  }, { checked: true }); // pass 1 checked them
  return counts;
}
