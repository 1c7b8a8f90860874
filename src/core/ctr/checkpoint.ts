/**
 * Training checkpoints for `--resume`: weights with optimizer state (dense Adam and the row-sparse Adam
 * slots), the best epoch's weights, and the loop state (epoch, step within the epoch, running loss,
 * curve, early stopping), all in one model folder written by the engine's saveWeights. `latest.json`
 * names the current folder and is replaced atomically last, so a crash mid-save leaves the previous
 * checkpoint in force.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../arrow-io.js';
import { loadWeights, saveWeights, type WeightMap } from '../engine/model-io.js';
import { InputDataError, UsageError } from '../errors.js';
import { camelKeys } from '../keys.js';

/** Per-epoch training record (curve.json). */
export interface EpochRecord {
  epoch: number;
  loss: number;
  valid_auc: number;
  seconds: number;
  samples_per_s: number;
}

export interface LoopState {
  /** Hash of everything that must match for a resume (model, training, data, seed). */
  configHash: string;
  /** Epoch in progress (0-based) and the next step in it. */
  epoch: number;
  step: number;
  lossSum: number;
  lossCount: number;
  /** Seconds spent training (and evaluating) the epoch in progress so far. */
  epochSeconds: number;
  trainSeconds: number;
  trainSamples: number;
  curve: EpochRecord[];
  bestEpoch: number;
  bestMetric: number;
  badEpochs: number;
  /** Early stopping fired or the last epoch ran. */
  done: boolean;
}

const LATEST = 'latest.json';
const BEST_PREFIX = 'best:';

export function freshState(configHash: string): LoopState {
  return {
    configHash,
    epoch: 0,
    step: 0,
    lossSum: 0,
    lossCount: 0,
    epochSeconds: 0,
    trainSeconds: 0,
    trainSamples: 0,
    curve: [],
    bestEpoch: -1,
    bestMetric: -Infinity,
    badEpochs: 0,
    done: false,
  };
}

/** Save weights (with optimizer), best weights and loop state; then point latest.json at them. */
export async function saveCheckpoint(dir: string, weights: WeightMap, best: WeightMap | null, state: LoopState): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const previous = readLatest(dir);
  const seq = (previous?.seq ?? 0) + 1;
  const name = `ckpt-${seq}`;
  const all: WeightMap = { ...weights };
  if (best) for (const [k, v] of Object.entries(best)) all[BEST_PREFIX + k] = v;
  await saveWeights(path.join(dir, name), all, { state, hasBest: best !== null });
  writeFileAtomic(path.join(dir, LATEST), JSON.stringify({ seq, folder: name }) + '\n');
  for (const entry of fs.readdirSync(dir)) {
    if (entry.startsWith('ckpt-') && entry !== name) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
}

function readLatest(dir: string): { seq: number; folder: string } | null {
  const file = path.join(dir, LATEST);
  if (!fs.existsSync(file)) return null;
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as { seq?: unknown; folder?: unknown };
    if (typeof v.seq !== 'number' || typeof v.folder !== 'string') throw new Error('missing seq/folder');
    return { seq: v.seq, folder: v.folder };
  } catch (err) {
    throw new InputDataError(`unreadable checkpoint pointer (${(err as Error).message})`, file);
  }
}

export function hasCheckpoint(dir: string): boolean {
  return readLatest(dir) !== null;
}

/** Load the latest checkpoint; its config hash must match the run being resumed. */
export async function loadCheckpoint(dir: string, configHash: string): Promise<{ weights: WeightMap; best: WeightMap | null; state: LoopState }> {
  const latest = readLatest(dir);
  if (!latest) throw new UsageError(`--resume: no checkpoint in ${dir} (train without --resume first)`);
  const { weights: all, config } = await loadWeights(path.join(dir, latest.folder));
  // The loop state's own keys, not its curve's (EpochRecord keys are snake_case in code too).
  const top = camelKeys<{ state?: unknown; hasBest?: boolean }>(config, false);
  const meta = { ...top, state: top.state === undefined ? undefined : camelKeys<LoopState>(top.state, false) };
  if (!meta.state || typeof meta.state.epoch !== 'number') throw new InputDataError('checkpoint has no loop state', path.join(dir, latest.folder, 'config.json'));
  if (meta.state.configHash !== configHash) {
    throw new UsageError(`--resume: the checkpoint in ${dir} was made with a different configuration (model, training flags, data or seed); rerun with the same flags or without --resume`);
  }
  const weights: WeightMap = {};
  const best: WeightMap = {};
  for (const [k, v] of Object.entries(all)) {
    if (k.startsWith(BEST_PREFIX)) best[k.slice(BEST_PREFIX.length)] = v;
    else weights[k] = v;
  }
  const state = meta.state;
  // JSON has no Infinity: restore the "no best yet" sentinel.
  if (state.bestMetric === null) state.bestMetric = -Infinity;
  return { weights, best: meta.hasBest ? best : null, state };
}
