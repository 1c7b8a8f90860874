/**
 * Model folders of the CBJT commands (`OUT/model/`): weights through the engine's saveWeights/loadWeights,
 * and a config.json naming the model kind and its architecture, so `gist embed` can rebuild it.
 */
import { loadWeights, ModelFormatError, saveWeights, CONFIG_JSON } from '../engine/model-io.js';
import { makeRng } from '../rng.js';
import { ContentEncoder, VIEW_MODES, type EncoderArchitecture } from './encoder.js';
import { UnionModel, type UnionArchitecture } from './union.js';
import * as path from 'node:path';
import { camelKeys } from '../keys.js';

export type EncoderRole = 'content' | 'behavior';

export interface EncoderModelConfig {
  kind: 'gist-cbjt-encoder';
  role: EncoderRole;
  architecture: EncoderArchitecture;
}

export interface UnionModelConfig {
  kind: 'gist-cbjt-union';
  architecture: UnionArchitecture;
}

export async function saveEncoder(dir: string, encoder: ContentEncoder, role: EncoderRole): Promise<void> {
  const config: EncoderModelConfig = { kind: 'gist-cbjt-encoder', role, architecture: encoder.arch };
  await saveWeights(dir, encoder.toWeights(), config);
}

export async function saveUnion(dir: string, model: UnionModel): Promise<void> {
  const config: UnionModelConfig = { kind: 'gist-cbjt-union', architecture: model.arch };
  await saveWeights(dir, model.params.toWeights(false), config);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function positiveInt(file: string, obj: Record<string, unknown>, key: string, allowZero = false): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1)) throw new ModelFormatError(file, `architecture.${key} must be a ${allowZero ? 'non-negative' : 'positive'} integer`);
  return v;
}

/** Load an encoder folder written by `gist train-content` / `gist train-behavior`. */
export async function loadEncoder(dir: string, expectedRole?: EncoderRole, learningRate?: number): Promise<{ encoder: ContentEncoder; role: EncoderRole }> {
  const { weights, config: stored } = await loadWeights(dir);
  const config = camelKeys(stored);
  const file = path.join(dir, CONFIG_JSON);
  if (!isObject(config) || config.kind !== 'gist-cbjt-encoder') throw new ModelFormatError(file, 'not a gist content/behavior encoder (kind gist-cbjt-encoder)');
  const role = config.role;
  if (role !== 'content' && role !== 'behavior') throw new ModelFormatError(file, `unknown encoder role ${JSON.stringify(role)}`);
  if (expectedRole && role !== expectedRole) throw new ModelFormatError(file, `is a ${role} encoder, expected a ${expectedRole} encoder`);
  const a = config.architecture;
  if (!isObject(a) || !isObject(a.featurizer)) throw new ModelFormatError(file, 'architecture is missing');
  if (!(VIEW_MODES as readonly unknown[]).includes(a.viewMode)) throw new ModelFormatError(file, `unknown view mode ${JSON.stringify(a.viewMode)}`);
  const arch: EncoderArchitecture = {
    viewMode: a.viewMode as EncoderArchitecture['viewMode'],
    featurizer: {
      buckets: positiveInt(file, a.featurizer, 'buckets'),
      ngram: positiveInt(file, a.featurizer, 'ngram', true),
      maxTokens: positiveInt(file, a.featurizer, 'maxTokens'),
    },
    bagDim: positiveInt(file, a, 'bagDim'),
    hidden: positiveInt(file, a, 'hidden'),
    dim: positiveInt(file, a, 'dim'),
    contentDim: positiveInt(file, a, 'contentDim', true),
  };
  const encoder = new ContentEncoder(arch, makeRng(0), learningRate);
  try {
    encoder.fromWeights(weights);
  } catch (err) {
    encoder.dispose();
    throw err;
  }
  return { encoder, role };
}

/** Load a union model folder written by `gist train-union`. */
export async function loadUnion(dir: string): Promise<UnionModel> {
  const { weights, config: stored } = await loadWeights(dir);
  const config = camelKeys(stored);
  const file = path.join(dir, CONFIG_JSON);
  if (!isObject(config) || config.kind !== 'gist-cbjt-union' || !isObject(config.architecture)) throw new ModelFormatError(file, 'not a gist union model (kind gist-cbjt-union)');
  const a = config.architecture;
  if (a.view !== 'joint' && a.view !== 'content' && a.view !== 'behavior') throw new ModelFormatError(file, `unknown view ${JSON.stringify(a.view)}`);
  if (typeof a.gate !== 'boolean' || typeof a.cross !== 'boolean') throw new ModelFormatError(file, 'architecture.gate and .cross must be booleans');
  const arch: UnionArchitecture = {
    view: a.view,
    gate: a.gate,
    cross: a.cross,
    contentDim: positiveInt(file, a, 'contentDim', true),
    behaviorDim: positiveInt(file, a, 'behaviorDim', true),
    gateHidden: positiveInt(file, a, 'gateHidden'),
    hidden: positiveInt(file, a, 'hidden'),
    dim: positiveInt(file, a, 'dim'),
  };
  const model = new UnionModel(arch, makeRng(0));
  try {
    model.params.fromWeights(weights);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}
