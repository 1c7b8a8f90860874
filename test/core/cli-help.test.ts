// `gist help`, `-h`, and an unknown command: one line with "did you mean", a JSON error under --json, exit 2;
// one log line per training epoch on a non-terminal stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, CLI_ENV, ensureBuilt, ROOT } from '../_built-cli.js';
import { closestCommand, editDistance } from '../../src/hooks/command-not-found.js';

const gist = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: CLI_ENV });

test('closestCommand: small typos find the command, unrelated words find none', () => {
  assert.equal(editDistance('exprt', 'export'), 1);
  const ids = ['export', 'evaluate', 'train-ctr', 'train-union', 'search-gsu'];
  assert.equal(closestCommand('exprt', ids), 'export');
  assert.equal(closestCommand('train-ctrl', ids), 'train-ctr');
  assert.equal(closestCommand('serch-gsu', ids), 'search-gsu');
  assert.equal(closestCommand('zzzz', ids), null);
});

test('gist help, -h, help COMMAND and an unknown command', () => {
  ensureBuilt();
  for (const args of [['help'], ['-h'], ['--help']]) {
    const r = gist(...args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /COMMANDS[\s\S]*train-ctr/);
  }
  for (const args of [['help', 'export'], ['export', '-h']]) {
    const r = gist(...args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /USAGE\s+\$ gist export/);
  }
  const typo = gist('exprt', '--data', 'x');
  assert.equal(typo.status, 2);
  assert.equal(typo.stderr.trim(), 'error: unknown command "exprt"; did you mean "export"? (`gist --help` lists the commands)');
  const json = gist('exprt', '--json');
  assert.equal(json.status, 2);
  assert.deepEqual(JSON.parse(json.stdout).error, { code: 'USAGE', message: 'unknown command "exprt"; did you mean "export"? (`gist --help` lists the commands)', exitCode: 2 });
});

test('training prints one line per epoch on stderr when it is not a terminal (logs), none under --json or -q', () => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-epoch-lines-'));
  const fixture = path.join(ROOT, 'fixtures', 'tiny');
  const r = gist('train-ctr', '-d', fixture, '-o', path.join(dir, 'a'), '--epochs', '2');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0], /^epoch 1\/2: loss \d\.\d{4} valid AUC \d\.\d{4}( \(best\))? \d+\.\d s$/);
  const enc = gist('train-content', '-d', fixture, '-o', path.join(dir, 'c'), '--epochs', '2', '--min-steps', '0');
  assert.deepEqual(enc.stderr.trim().split('\n').map((l) => l.replace(/loss .*/, '')), ['train-content: epoch 1/2 ', 'train-content: epoch 2/2 ']);
  for (const quiet of ['--json', '-q']) {
    const q = gist('train-ctr', '-d', fixture, '-o', path.join(dir, `q${quiet}`), '--epochs', '2', quiet);
    assert.equal(q.status, 0);
    assert.equal(q.stderr, '', quiet);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('renamed flags: the old names still work with a deprecation warning; --split is repeatable or comma-separated', () => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-renamed-'));
  const fixture = path.join(ROOT, 'fixtures', 'tiny');
  const splitsOf = (out: string) => (JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as { splits: string[] }).splits;
  const a = gist('search-gsu', '-d', fixture, '--mode', 'hard', '--split', 'test', '--split', 'valid', '-o', path.join(dir, 'a'), '-q');
  assert.equal(a.status, 0, a.stderr);
  const b = gist('search-gsu', '-d', fixture, '--mode', 'hard', '--splits', 'valid,test', '-o', path.join(dir, 'b'), '-q');
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stderr, /"--splits" flag has been deprecated\. Use "--split"/);
  assert.deepEqual(splitsOf(path.join(dir, 'a')), ['valid', 'test']);
  assert.deepEqual(splitsOf(path.join(dir, 'b')), ['valid', 'test']);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('bin/dev.js runs the commands from src (not the built dist), with the help plugin', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin', 'dev.js'), 'help', 'build-index'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', DEBUG: 'oclif:config:*' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /HNSW index/);
  // oclif's debug log names each command module it imports: gist's must be the sources
  const own = r.stderr.split('\n').filter((l) => l.includes('(import)') && (l.includes(path.join(ROOT, 'src')) || l.includes(path.join(ROOT, 'dist'))));
  assert.ok(own.length > 0, 'oclif reports the command files it imports');
  for (const l of own) assert.ok(l.includes(path.join(ROOT, 'src', 'commands')) && l.endsWith('.ts'), l);
});
