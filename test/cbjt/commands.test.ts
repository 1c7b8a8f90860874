import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeCatalogue, writeIdEmbeddings, writePairs } from './_fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs `gist <command> ...args` from sources in a child process (no build, no manifest). */
function gist(command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const runner = `import { handle } from '@oclif/core'; const { default: C } = await import('./src/commands/${command}.ts'); await C.run(process.argv.slice(1), { root: process.cwd() }).catch(handle);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', runner, '--', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const FAST = ['--bag-dim', '8', '--hidden', '16', '--buckets', '1024', '--min-steps', '0', '--epochs', '2', '--batch-size', '32'];

test('commands chain through --json with the documented shapes and exit codes', () => {
  const cat = makeCatalogue({ perTopic: 4 });
  const work = cat.dir;
  writeIdEmbeddings(cat, path.join(work, 'id.arrow'));
  writePairs(cat, path.join(work, 'pairs.arrow'), 2);

  const c = gist('train-content', ['--data', work, '--out', path.join(work, 'content'), '--dim', '8', ...FAST, '--json']);
  assert.equal(c.status, 0, c.stderr);
  const content = JSON.parse(c.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(content).sort(), ['dim', 'epochs', 'final_loss', 'items', 'outputs', 'seconds', 'temperature', 'trained_items', 'view_mode'].sort());
  assert.equal(content.view_mode, 'title|text');
  assert.deepEqual(Object.keys(content.outputs as object).sort(), ['config', 'content', 'loss_curve', 'model']);

  const b = gist('train-behavior', ['--data', work, '--id-embeddings', path.join(work, 'id.arrow'), '--out', path.join(work, 'behavior'), ...FAST, '--min-count', '1', '--json']);
  assert.equal(b.status, 0, b.stderr);
  const behavior = JSON.parse(b.stdout) as Record<string, unknown>;
  assert.equal(behavior.min_count, 1);
  assert.equal(behavior.min_count_rule, 'flag');

  const unionArgs = ['--data', work, '--content', path.join(work, 'content', 'content.arrow'), '--behavior', path.join(work, 'behavior', 'behavior.arrow'), '--pairs', path.join(work, 'pairs.arrow')];
  const u = gist('train-union', [...unionArgs, '--out', path.join(work, 'union'), '--no-gate', '--hidden', '16', '--epochs', '1', '--min-steps', '0', '--eval-pairs', path.join(work, 'pairs.arrow'), '--json']);
  assert.equal(u.status, 0, u.stderr);
  const union = JSON.parse(u.stdout) as { gate: boolean; cross: boolean; pairs_used: number; recall: { recall: Record<string, number> } };
  assert.equal(union.gate, false);
  assert.equal(union.cross, true);
  assert.deepEqual(Object.keys(union.recall.recall), ['recall@10', 'recall@100', 'recall@1000']);

  const e = gist('embed', ['--union-model', path.join(work, 'union', 'model'), '--content-model', path.join(work, 'content', 'model'), '--behavior-model', path.join(work, 'behavior', 'model'), '--items', path.join(work, 'items.arrow'), '--out', path.join(work, 'embed'), '--json']);
  assert.equal(e.status, 0, e.stderr);
  assert.equal((JSON.parse(e.stdout) as { items: number }).items, cat.count);

  // Usage errors exit 2, bad model folders exit 3.
  assert.equal(gist('train-content', ['--data', work, '--out', path.join(work, 'x'), '--views', 'pictures']).status, 2);
  const bad = gist('embed', ['--union-model', path.join(work, 'content', 'model'), '--items', path.join(work, 'items.arrow'), '--out', path.join(work, 'x'), '--json']);
  assert.equal(bad.status, 3);
  assert.match(bad.stdout, /not a gist union model/);
  fs.rmSync(work, { recursive: true, force: true });
});
