// Every example in every command's --help runs as written on a demo-shaped work folder (the tiny fixture through
// the fast pipeline config) — except the few listed in NOT_RUN, each with the reason, and none silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, CLI_ENV, ensureBuilt, ROOT } from '../_built-cli.js';

/** Examples not run here (matched by command and a fragment), and why. */
const NOT_RUN: { command: string; has: string; why: string }[] = [
  { command: 'pipeline', has: '--data synthetic', why: 'the demo itself and its rerun from a step (`npm run demo`, minutes)' },
  { command: 'pipeline', has: 'food-kitchen', why: 'real data, ~20 min (README, real-data section)' },
  { command: 'prepare', has: 'food-kitchen', why: 'real data outside the project (test/data/food-kitchen.test.ts covers the importer)' },
  { command: 'prepare', has: 'movielens', why: 'real data outside the project (test/data/movielens.test.ts covers the importer)' },
  { command: 'train-content', has: 'work/fk', why: 'needs the Food–Kitchen folders of the real-data run' },
  { command: 'train-behavior', has: 'work/fk', why: 'needs the Food–Kitchen folders of the real-data run' },
];

/** Commands in the order their outputs feed each other (examples that replace the data run last). */
const ORDER = ['info', 'export', 'train-content', 'train-behavior', 'train-union', 'embed', 'build-index', 'search-gsu', 'merge', 'train-ctr', 'predict', 'extract-pairs', 'evaluate', 'prepare', 'pipeline', 'synth'];

test('every --help example runs as written on a demo-shaped work folder', { timeout: 900_000 }, () => {
  ensureBuilt();
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, { examples?: string[] }> };
  const ids = Object.keys(manifest.commands).filter((id) => !id.startsWith('autocomplete'));
  assert.deepEqual([...ids].sort(), [...ORDER].sort(), 'ORDER lists every command');
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-examples-'));
  // A demo-shaped work folder from the tiny fixture, the fixtures copied (an example regenerates fixtures/tiny),
  // a user's own data folder for `prepare --format tsv --input my-data`.
  fs.cpSync(path.join(ROOT, 'fixtures'), path.join(cwd, 'fixtures'), { recursive: true });
  const gist = (cmd: string) => spawnSync('sh', ['-c', cmd], { cwd, encoding: 'utf8', env: { ...CLI_ENV, GIST: `${process.execPath} ${BIN}` }, timeout: 300_000 });
  // One process: this is the examples' setup, not a test of --jobs (plan.test.ts has that), and faster on tiny data.
  const setup = gist(`$GIST pipeline --data fixtures/tiny --config fixtures/pipeline-fast.json --out work/demo --jobs 1 -q`);
  assert.equal(setup.status, 0, setup.stderr);
  // The demo keeps its data in work/demo/data; a copy is the same dataset (same fingerprint) as fixtures/tiny.
  fs.cpSync(path.join(cwd, 'fixtures', 'tiny'), path.join(cwd, 'work', 'demo', 'data'), { recursive: true });
  fs.mkdirSync(path.join(cwd, 'my-data'));
  fs.writeFileSync(path.join(cwd, 'my-data', 'items.csv'), 'item,domain,title\ns1,source,Pan\ns2,source,Knife\nt1,target,Tea\nt2,target,Coffee\n');
  fs.writeFileSync(path.join(cwd, 'my-data', 'events.csv'), 'user,item,ts,label\nann,s1,1,\nann,t1,2,1\nann,t2,3,1\nann,t1,4,1\nbob,s2,1,\nbob,t2,2,1\nbob,t1,3,1\nbob,t2,4,1\n');

  const ran: string[] = [];
  const skipped: string[] = [];
  for (const id of ORDER) {
    for (const example of manifest.commands[id].examples ?? []) {
      const cmd = example.replaceAll('<%= config.bin %>', '$GIST').replaceAll('<%= command.id %>', id);
      const skip = NOT_RUN.find((n) => n.command === id && cmd.includes(n.has));
      if (skip) {
        skipped.push(`${id}: ${skip.why}`);
        continue;
      }
      const r = gist(cmd);
      assert.equal(r.status, 0, `${cmd}\n${r.stderr}${r.stdout.slice(-1500)}`);
      ran.push(cmd);
    }
  }
  // Each NOT_RUN entry matched an example (the list stays in step with the help texts), and nothing else was skipped.
  for (const n of NOT_RUN) assert.ok(skipped.some((s) => s === `${n.command}: ${n.why}`), `NOT_RUN entry ${n.command} "${n.has}" matches no example`);
  assert.ok(skipped.length <= NOT_RUN.length + 1, skipped.join('\n'));
  assert.ok(ran.length >= 40, `${ran.length} examples ran`);
  fs.rmSync(cwd, { recursive: true, force: true });
});
