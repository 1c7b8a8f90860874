// Ctrl-C through the real process: `gist train-ctr` gets SIGINT after its first checkpoint, exits 130 with one
// line and no outputs, and `--resume` then ends with the same weights and predictions as an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { BIN as bin, CLI_ENV, ROOT as root, ensureBuilt } from '../_built-cli.js';

function trainArgs(out: string): string[] {
  return [bin, 'train-ctr', '--data', 'fixtures/tiny', '--domain', 'target', '--epochs', '8', '--patience', '8', '--batch-size', '16', '--seed', '11', '--quiet', '--out', out];
}


/** Start training, send SIGINT once the first epoch's checkpoint exists, resolve with exit code and stderr. */
function interruptAfterFirstCheckpoint(out: string): Promise<{ code: number | null; stderr: string; signalled: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, trainArgs(out), { cwd: root, env: CLI_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let signalled = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const poll = setInterval(() => {
      if (!signalled && fs.existsSync(path.join(out, 'checkpoint', 'latest.json'))) {
        signalled = true;
        child.kill('SIGINT');
      }
    }, 10);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, stderr, signalled });
    });
  });
}

test('SIGINT during train-ctr saves a checkpoint and exits 130; --resume matches an uninterrupted run byte for byte', async () => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-sigint-'));
  const interrupted = path.join(dir, 'interrupted');
  const stop = await interruptAfterFirstCheckpoint(interrupted);
  assert.ok(stop.signalled, `training finished before the first checkpoint was seen (exit ${stop.code})`);
  assert.equal(stop.code, 130, stop.stderr);
  assert.equal(stop.stderr.trim().split('\n').length, 1, stop.stderr);
  assert.match(stop.stderr, /interrupted in epoch \d+, step \d+\/\d+; checkpoint saved .*--resume/);
  assert.equal(fs.existsSync(path.join(interrupted, 'predictions.arrow')), false, 'no outputs from an interrupted run');
  assert.equal(fs.existsSync(path.join(interrupted, 'model')), false, 'no model from an interrupted run');

  const resumed = spawnSync(process.execPath, [...trainArgs(interrupted), '--resume'], { cwd: root, env: CLI_ENV, encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  const full = path.join(dir, 'full');
  const straight = spawnSync(process.execPath, trainArgs(full), { cwd: root, env: CLI_ENV, encoding: 'utf8' });
  assert.equal(straight.status, 0, straight.stderr);
  for (const f of ['model/weights.bin', 'predictions.arrow']) {
    assert.ok(fs.readFileSync(path.join(interrupted, f)).equals(fs.readFileSync(path.join(full, f))), `${f} differs after interrupt + resume`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
