/** The built CLI (`bin/run.js` over dist/) for tests that run gist as a user would; builds once if dist/ is stale. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const BIN = path.join(ROOT, 'bin', 'run.js');
/** Child environment: no inherited NODE_OPTIONS (the test runner's tsx loader must not reach the built CLI). */
export const CLI_ENV = { ...process.env, NODE_OPTIONS: '' };

/** `npm run build` unless every command under src/commands has a built counterpart and the manifest exists. */
export function ensureBuilt(): void {
  const built = fs.existsSync(path.join(ROOT, 'oclif.manifest.json')) && fs.readdirSync(path.join(ROOT, 'src', 'commands')).every((f) => fs.existsSync(path.join(ROOT, 'dist', 'commands', f.replace(/\.ts$/, '.js'))));
  if (built) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}
