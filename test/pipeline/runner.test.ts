import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSteps, downstreamOf, type StepDef } from '../../src/core/pipeline/runner.js';
import { UsageError } from '../../src/core/errors.js';

interface Ctx {
  work: string;
  cfg: Record<string, number>;
  ran: string[];
}

function step(name: string, deps: string[]): StepDef<Ctx> {
  return {
    name,
    deps,
    outDir: name,
    config: (ctx) => ({ v: ctx.cfg[name] ?? 0 }),
    run: async (ctx) => {
      ctx.ran.push(name);
      fs.mkdirSync(path.join(ctx.work, name), { recursive: true });
      return { name };
    },
  };
}

const steps = [step('a', []), step('b', ['a']), step('c', ['a']), step('d', ['b'])];

test('unchanged steps are skipped; a config change reruns the step and what depends on it', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-runner-'));
  const ctx: Ctx = { work, cfg: {}, ran: [] };
  await runSteps(work, steps, ctx);
  assert.deepEqual(ctx.ran, ['a', 'b', 'c', 'd']);
  ctx.ran = [];
  const again = await runSteps(work, steps, ctx);
  assert.deepEqual(ctx.ran, []);
  assert.deepEqual(again.map((o) => o.status), ['skipped', 'skipped', 'skipped', 'skipped']);
  ctx.cfg.b = 1;
  await runSteps(work, steps, ctx);
  assert.deepEqual(ctx.ran, ['b', 'd']);
  ctx.ran = [];
  fs.rmSync(path.join(work, 'c'), { recursive: true }); // a missing output folder forces a rerun
  await runSteps(work, steps, ctx);
  assert.deepEqual(ctx.ran, ['c']);
});

test('--from reruns a step and everything downstream', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-runner-'));
  const ctx: Ctx = { work, cfg: {}, ran: [] };
  await runSteps(work, steps, ctx);
  ctx.ran = [];
  await runSteps(work, steps, ctx, { from: 'b' });
  assert.deepEqual(ctx.ran, ['b', 'd']);
  assert.deepEqual([...downstreamOf(steps, 'a')].sort(), ['a', 'b', 'c', 'd']);
  assert.throws(() => downstreamOf(steps, 'zzz'), UsageError);
});
