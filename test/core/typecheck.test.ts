// The bench, the scripts and the tests run through tsx, which strips types without checking them, and the build
// compiles src/ only: a change to a core interface could break `npm run bench` silently (it did once: the CTR
// bench's batcher inputs). `npm run typecheck` covers src/, bench/, scripts/ and test/; this runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

test('src/, bench/, scripts/ and test/ type-check (npm run typecheck)', () => {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.check.json')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc -p tsconfig.check.json:\n${r.stdout}${r.stderr}`);
});
