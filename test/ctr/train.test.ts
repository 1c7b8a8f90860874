import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readArrow } from '../../src/core/arrow-io.js';
import { trainCtr, type TrainCtrOptions, type TrainCtrResult } from '../../src/core/ctr/train.js';
import { InterruptedError, UsageError } from '../../src/core/errors.js';
import { EMBEDDINGS, PREDICTIONS } from '../../src/core/schemas.js';
import TrainCtrCommand from '../../src/commands/train-ctr.js';
import ExtractPairsCommand from '../../src/commands/extract-pairs.js';
import { TINY, tempDir } from './_data.js';

const BATCH = 128;
const STEPS_PER_EPOCH = Math.ceil(1419 / BATCH); // tiny: 1419 target training samples

function options(out: string, extra: Partial<TrainCtrOptions> = {}): TrainCtrOptions {
  return {
    dataDir: TINY,
    outDir: out,
    domain: 'target',
    variant: 'din',
    asi: 'none',
    model: { embeddingDim: 8, attentionHidden: 16, tower: [32, 16], maxHistory: 50 },
    train: { epochs: 3, batchSize: BATCH, lr: 0.005, patience: 5 },
    seed: 11,
    backend: 'wasm',
    resume: false,
    ...extra,
  };
}

/** shouldStop that fires before training step `n` (counting from 0 across the run). */
function stopBefore(n: number): () => boolean {
  let calls = 0;
  return () => calls++ >= n;
}

const bytes = (f: string): Buffer => fs.readFileSync(f);

describe('train-ctr', () => {
  let dir: string;
  let full: TrainCtrResult;

  before(async () => {
    dir = tempDir('ctr-train');
    full = await trainCtr(options(path.join(dir, 'full')));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes model, predictions (valid + test), curve, config and beats item popularity', () => {
    const out = path.join(dir, 'full');
    for (const f of ['model/weights.bin', 'model/weights.json', 'model/config.json', 'predictions.arrow', 'curve.json', 'config.json', 'checkpoint/latest.json']) assert.ok(fs.existsSync(path.join(out, f)), f);
    assert.equal(fs.existsSync(path.join(out, 'id_embeddings.arrow')), false, 'target models export no ID embeddings');
    const p = readArrow(path.join(out, 'predictions.arrow'), PREDICTIONS);
    assert.equal(p.numRows, full.valid.n + full.test.n);
    const curve = JSON.parse(fs.readFileSync(path.join(out, 'curve.json'), 'utf8')) as { epochs: { epoch: number; loss: number; valid_auc: number; seconds: number; samples_per_s: number }[] };
    assert.equal(curve.epochs.length, 3);
    for (const e of curve.epochs) assert.ok(e.loss > 0 && e.valid_auc > 0 && e.seconds > 0 && e.samples_per_s > 0);
    assert.ok(full.test.auc > full.popularity_baseline_test_auc, `DIN ${full.test.auc} vs popularity ${full.popularity_baseline_test_auc}`);
    assert.ok(full.valid.auc > 0.6, `valid AUC ${full.valid.auc}`);
    assert.equal(tf.memory().numTensors, 0, 'no tensors left after training');
  });

  for (const [label, stopAt] of [
    ['after epoch 1', STEPS_PER_EPOCH],
    ['mid-epoch 2', STEPS_PER_EPOCH + 5],
  ] as const) {
    it(`--resume after a stop ${label} ends with the same weights and predictions as an uninterrupted run`, async () => {
      const out = path.join(dir, `resumed-${stopAt}`);
      await assert.rejects(trainCtr(options(out, { shouldStop: stopBefore(stopAt) })), (err: unknown) => err instanceof InterruptedError && err.exitCode === 130);
      assert.ok(fs.existsSync(path.join(out, 'checkpoint/latest.json')), 'checkpoint saved on interruption');
      assert.equal(fs.existsSync(path.join(out, 'predictions.arrow')), false, 'no partial outputs');
      const resumed = await trainCtr(options(out, { resume: true }));
      assert.deepEqual(bytes(path.join(out, 'model/weights.bin')), bytes(path.join(dir, 'full/model/weights.bin')));
      assert.deepEqual(bytes(path.join(out, 'predictions.arrow')), bytes(path.join(dir, 'full/predictions.arrow')));
      assert.equal(resumed.test.auc, full.test.auc);
      assert.deepEqual(
        resumed.valid,
        full.valid,
      );
    });
  }

  it('--resume refuses a checkpoint made with other flags, and a folder without one', async () => {
    await assert.rejects(trainCtr(options(path.join(dir, 'resumed-' + STEPS_PER_EPOCH), { resume: true, train: { epochs: 3, batchSize: 64, lr: 0.005, patience: 5 } })), UsageError);
    await assert.rejects(trainCtr(options(path.join(dir, 'nothing-here'), { resume: true })), /no checkpoint/);
  });

  it('the source model exports its item ID embeddings for the source items', async () => {
    const out = path.join(dir, 'source');
    const r = await trainCtr(options(out, { domain: 'source', train: { epochs: 1, batchSize: BATCH, lr: 0.005, patience: 5 } }));
    const e = readArrow(path.join(out, 'id_embeddings.arrow'), EMBEDDINGS);
    assert.equal(e.numRows, 200); // tiny: 200 source items
    assert.equal((e.columns.vector as { dim: number }).dim, 8);
    assert.ok(Number.isFinite(r.valid.auc));
  });

  it('the commands map flags to the core and return the documented JSON shapes', async () => {
    const root = path.resolve(TINY, '../..');
    const src = path.join(dir, 'cmd-source');
    const r = (await TrainCtrCommand.run(['--data', TINY, '--domain', 'source', '--out', src, '--epochs', '1', '--embedding-dim', '8', '--tower', '16', '--lr', '0.01', '--quiet'], root)) as TrainCtrResult;
    for (const k of ['domain', 'variant', 'asi', 'best_epoch', 'valid', 'test', 'popularity_baseline_test_auc', 'samples_per_s', 'kernels', 'epochs', 'outputs']) assert.ok(k in r, k);
    assert.deepEqual(Object.keys(r.valid).sort(), ['auc', 'gauc', 'logloss', 'n']);
    assert.ok(r.outputs.id_embeddings?.endsWith('id_embeddings.arrow'));
    const cfg = JSON.parse(fs.readFileSync(path.join(src, 'config.json'), 'utf8')) as { model: { embedding_dim: number; tower: number[]; max_history: number }; train: { lr: number } };
    assert.deepEqual([cfg.model.embedding_dim, cfg.model.tower, cfg.model.max_history, cfg.train.lr], [8, [16], 100, 0.01]);
    const esu = (await ExtractPairsCommand.run(['--data', TINY, '--method', 'esu', '--model', src, '--theta', '0.3', '--out', path.join(dir, 'cmd-esu'), '--quiet'], root)) as unknown as Record<string, unknown>;
    for (const k of ['method', 'pairs', 'theta', 'max_attention', 'by_theta', 'outputs']) assert.ok(k in esu, k);
    assert.deepEqual(Object.keys(esu.by_theta as object), ['0.2', '0.3', '0.4', '0.5']);
    const swing = (await ExtractPairsCommand.run(['--data', TINY, '--method', 'swing', '--top-n', '3', '--out', path.join(dir, 'cmd-swing'), '--quiet'], root)) as unknown as Record<string, unknown>;
    assert.equal(swing.method, 'swing');
    // A usage error exits 2 with a one-line message on stderr.
    const write = process.stderr.write.bind(process.stderr);
    let stderr = '';
    process.stderr.write = ((chunk: string | Uint8Array): boolean => {
      stderr += String(chunk);
      return true;
    }) as typeof process.stderr.write;
    try {
      await assert.rejects(TrainCtrCommand.run(['--data', TINY, '--domain', 'target', '--variant', 'sim-hard', '--out', path.join(dir, 'cmd-bad'), '--quiet'], root), (err: unknown) => (err as { oclif?: { exit?: number } }).oclif?.exit === 2);
    } finally {
      process.stderr.write = write;
      process.exitCode = 0;
    }
    assert.match(stderr, /needs --gsu/);
  });
});
