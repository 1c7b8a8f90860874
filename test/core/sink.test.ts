import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { IoError } from '../../src/core/errors.js';
import { OutputStage } from '../../src/core/output.js';
import { BIN, CLI_ENV, ensureBuilt, ROOT } from '../_built-cli.js';
import { FileSink, makeDirs, sinkTarget, writeOutputFile } from '../../src/core/sink.js';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'gist-sink-'));

test('sinkTarget: - is stdout, new and regular files are atomic, links resolve, devices write through, folders refuse', () => {
  const dir = tmp();
  assert.deepEqual(sinkTarget('-'), { kind: 'stdout' });
  assert.deepEqual(sinkTarget(path.join(dir, 'new.txt')), { kind: 'atomic', final: path.join(dir, 'new.txt') });
  fs.writeFileSync(path.join(dir, 'a.txt'), 'x');
  fs.symlinkSync(path.join(dir, 'a.txt'), path.join(dir, 'l.txt'));
  assert.deepEqual(sinkTarget(path.join(dir, 'l.txt')), { kind: 'atomic', final: fs.realpathSync(path.join(dir, 'a.txt')) });
  assert.deepEqual(sinkTarget('/dev/null'), { kind: 'through', path: '/dev/null' });
  assert.throws(() => sinkTarget(dir), (e: Error) => e instanceof IoError && /is a folder/.test(e.message));
  fs.rmSync(dir, { recursive: true });
});

test('writeOutputFile through a symlink keeps the link; a FIFO is written through; abort leaves nothing', () => {
  const dir = tmp();
  const real = path.join(dir, 'real.json');
  const link = path.join(dir, 'link.json');
  fs.writeFileSync(real, 'old');
  fs.symlinkSync(real, link);
  writeOutputFile(link, 'new');
  assert.ok(fs.lstatSync(link).isSymbolicLink());
  assert.equal(fs.readFileSync(real, 'utf8'), 'new');
  writeOutputFile('/dev/null', 'discarded');
  assert.ok(fs.statSync('/dev/null').isCharacterDevice());

  const fifo = path.join(dir, 'pipe');
  if (spawnSync('mkfifo', [fifo]).status === 0) {
    const sinkModule = path.resolve(import.meta.dirname, '../../src/core/sink.ts');
    const writer = `node --import tsx -e "const { writeOutputFile } = await import('${sinkModule}'); writeOutputFile('${fifo}', 'through the pipe')"`;
    const reader = spawnSync('sh', ['-c', `cat '${fifo}' > '${path.join(dir, 'got')}' & ${writer}; wait`], { cwd: path.resolve(import.meta.dirname, '../..'), encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    assert.equal(reader.status, 0, reader.stderr);
    assert.equal(fs.readFileSync(path.join(dir, 'got'), 'utf8'), 'through the pipe');
    assert.ok(fs.statSync(fifo).isFIFO(), 'the FIFO was not replaced by a file');
  }

  const partial = path.join(dir, 'partial.csv');
  const sink = FileSink.open(partial);
  sink.write('half');
  sink.abort();
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('partial')), []);
  fs.rmSync(dir, { recursive: true });
});

test('OutputStage.commit refuses to rename over a symlink the user put in OUT, before moving anything', () => {
  const dir = tmp();
  const elsewhere = path.join(dir, 'precious.json');
  fs.writeFileSync(elsewhere, 'keep');
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  fs.symlinkSync(elsewhere, path.join(out, 'b.json'));
  const stage = OutputStage.open(out);
  stage.writeJson('a.json', { a: 1 });
  stage.writeJson('b.json', { b: 2 });
  assert.throws(() => stage.commit(), (e: Error) => e instanceof IoError && /not a regular file \(a symbolic link\)/.test(e.message));
  assert.ok(fs.lstatSync(path.join(out, 'b.json')).isSymbolicLink());
  assert.equal(fs.readFileSync(elsewhere, 'utf8'), 'keep');
  assert.ok(!fs.existsSync(path.join(out, 'a.json')), 'nothing moved');
  fs.rmSync(dir, { recursive: true });
});

test('makeDirs: nested folders, a file in the chain is ENOTDIR, and /proc/x fails at once instead of spinning', () => {
  const dir = tmp();
  makeDirs(path.join(dir, 'a', 'b', 'c'));
  assert.ok(fs.statSync(path.join(dir, 'a', 'b', 'c')).isDirectory());
  makeDirs(path.join(dir, 'a', 'b'));
  fs.writeFileSync(path.join(dir, 'f'), '');
  assert.throws(() => makeDirs(path.join(dir, 'f', 'g')), (e: NodeJS.ErrnoException) => e.code === 'ENOTDIR');
  if (fs.existsSync('/proc/self')) assert.throws(() => makeDirs('/proc/gist-no-such/x'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  fs.rmSync(dir, { recursive: true });
});

test('gist synth --out /proc/x: exit 4 with one line, no hang', () => {
  ensureBuilt();
  const r = spawnSync(process.execPath, [BIN, 'synth', '--preset', 'tiny', '--out', '/proc/gist-x', '-q'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: CLI_ENV });
  assert.equal(r.status, 4, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /\/proc\/gist-x: cannot write output folder \(ENOENT\)/);
});
