// `train-* --config FILE` repeats a run from the config.json it wrote; every config.json records the invocation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, CLI_ENV, ensureBuilt, ROOT } from '../_built-cli.js';

const FIXTURE = path.join(ROOT, 'fixtures', 'tiny');
const gist = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: CLI_ENV });
const json = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;

test('train-ctr and train-content --config: the recorded settings and seed, flags given override them', () => {
  ensureBuilt();
  const w = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-record-'));
  assert.equal(gist(w, 'train-ctr', '-d', FIXTURE, '-o', 'a', '--epochs', '1', '--lr', '0.01', '--tower', '32,8', '--seed', '3', '-q').status, 0);
  const again = gist(w, 'train-ctr', '-d', FIXTURE, '-o', 'b', '--config', 'a/config.json', '-q');
  assert.equal(again.status, 0, again.stderr);
  const [a, b] = [json(path.join(w, 'a', 'config.json')), json(path.join(w, 'b', 'config.json'))];
  assert.deepEqual([b.model, b.train, b.seed], [a.model, a.train, a.seed]);
  assert.ok(fs.readFileSync(path.join(w, 'a', 'predictions.arrow')).equals(fs.readFileSync(path.join(w, 'b', 'predictions.arrow'))), 'the same run, byte for byte');
  const inv = b.invocation as { command_line: string; gist_version: string; started_at: string };
  assert.equal(inv.command_line, `gist train-ctr -d ${FIXTURE} -o b --config a/config.json -q`);
  assert.match(inv.gist_version, /^\d+\.\d+\.\d+/);
  assert.ok(Number.isFinite(Date.parse(inv.started_at)));
  // A flag given beside --config wins; the rest still come from the record.
  assert.equal(gist(w, 'train-ctr', '-d', FIXTURE, '-o', 'c', '--config', 'a/config.json', '--lr', '0.002', '--seed', '5', '-q').status, 0);
  const c = json(path.join(w, 'c', 'config.json'));
  assert.equal((c.train as { lr: number }).lr, 0.002);
  assert.deepEqual((c.model as { tower: number[] }).tower, [32, 8]);
  assert.equal(c.seed, 5);
  // Encoders: the `config` section, minus the figures recorded beside it.
  assert.equal(gist(w, 'train-content', '-d', FIXTURE, '-o', 'ca', '--epochs', '1', '--min-steps', '0', '--dim', '16', '-q').status, 0);
  const cb = gist(w, 'train-content', '-d', FIXTURE, '-o', 'cb', '--config', 'ca/config.json', '-q');
  assert.equal(cb.status, 0, cb.stderr);
  assert.deepEqual(json(path.join(w, 'cb', 'config.json')).config, json(path.join(w, 'ca', 'config.json')).config);
  // Sidecars spell keys in snake_case; a record in the camelCase of earlier versions still repeats the run.
  const camelCaseKey = /"[a-z]+[A-Z][A-Za-z0-9]*":/;
  for (const f of ['a/config.json', 'a/model/config.json', 'ca/config.json', 'ca/model/config.json']) assert.doesNotMatch(fs.readFileSync(path.join(w, f), 'utf8'), camelCaseKey, f);
  const legacy = JSON.parse(fs.readFileSync(path.join(w, 'a', 'config.json'), 'utf8').replace(/"([a-z]+(?:_[a-z0-9]+)+)":/g, (_m, k: string) => `"${k.replace(/_([a-z0-9])/g, (_x, c: string) => c.toUpperCase())}":`)) as Record<string, unknown>;
  assert.equal((legacy.model as Record<string, unknown>).embeddingDim, (a.model as Record<string, unknown>).embedding_dim);
  fs.writeFileSync(path.join(w, 'legacy.json'), JSON.stringify(legacy));
  assert.equal(gist(w, 'train-ctr', '-d', FIXTURE, '-o', 'd', '--config', 'legacy.json', '-q').status, 0);
  assert.ok(fs.readFileSync(path.join(w, 'a', 'predictions.arrow')).equals(fs.readFileSync(path.join(w, 'd', 'predictions.arrow'))), 'a camelCase record repeats the run too');
  // Another command's record is refused, naming the file.
  const wrong = gist(w, 'train-content', '-d', FIXTURE, '-o', 'x', '--config', 'a/config.json');
  assert.equal(wrong.status, 3);
  assert.equal(wrong.stderr.trim(), 'error: a/config.json: a config.json of train-ctr, not of train-content');
  fs.rmSync(w, { recursive: true, force: true });
});
