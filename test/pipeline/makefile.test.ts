// examples/Makefile runs as written on tiny data, and a second `make` does nothing (every decision, SIM hard's
// included, is recorded in files, not taken when make reads the Makefile).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI_ENV, ROOT, ensureBuilt } from '../_built-cli.js';

test('examples/Makefile: first make builds everything (SIM hard included), the second does nothing', () => {
  ensureBuilt();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-make-'));
  const vars = [
    `WORK=${work}`,
    "DATA_CMD=synth --preset tiny",
    'ESU_FLAGS=--theta 0.2 --candidates 5',
    'SOURCE_FLAGS=--epochs 1',
    'ENC_FLAGS=--epochs 1 --min-steps 0',
    'CTR_FLAGS=--epochs 1',
  ];
  const make = (): ReturnType<typeof spawnSync> => spawnSync('make', ['-f', 'examples/Makefile', ...vars], { cwd: ROOT, encoding: 'utf8', env: CLI_ENV, timeout: 600_000 });
  const first = make();
  assert.equal(first.status, 0, `${String(first.stdout).slice(-2000)}\n${String(first.stderr)}`);
  const metrics = JSON.parse(fs.readFileSync(path.join(work, 'eval', 'metrics.json'), 'utf8')) as { runs: { name: string }[] };
  assert.deepEqual(metrics.runs.map((r) => r.name).sort(), ['din', 'gist', 'sim-hard', 'sim-soft-attention', 'sim-soft-pooling']);
  const second = make();
  assert.equal(second.status, 0, String(second.stderr));
  assert.match(String(second.stdout), /Nothing to be done for 'all'/);
  assert.doesNotMatch(String(second.stdout), /bin\/run\.js/);
  fs.rmSync(work, { recursive: true, force: true });
});
