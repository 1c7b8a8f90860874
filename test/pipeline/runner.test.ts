import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSteps, downstreamOf, inputFingerprint, type RunStepsOptions, type StepDef } from '../../src/core/pipeline/runner.js';
import { UsageError } from '../../src/core/errors.js';

/** Work folders of this file's tests, under one folder removed when they are done. */
const BASE = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-runner-'));
after(() => fs.rmSync(BASE, { recursive: true, force: true }));
const tmp = (): string => fs.mkdtempSync(path.join(BASE, 'w-'));

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
  const work = tmp();
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
  const work = tmp();
  const ctx: Ctx = { work, cfg: {}, ran: [] };
  await runSteps(work, steps, ctx);
  ctx.ran = [];
  await runSteps(work, steps, ctx, { from: 'b' });
  assert.deepEqual(ctx.ran, ['b', 'd']);
  assert.deepEqual([...downstreamOf(steps, 'a')].sort(), ['a', 'b', 'c', 'd']);
  assert.throws(() => downstreamOf(steps, 'zzz'), UsageError);
});

const ranNames = async (work: string, ctx: Ctx, opts: RunStepsOptions): Promise<string[]> => {
  ctx.ran = [];
  await runSteps(work, steps, ctx, opts);
  return ctx.ran;
};

test('a new seed, backend or data identity reruns every step (issue #14: seed 2 must not reuse seed 1)', async () => {
  const work = tmp();
  const ctx: Ctx = { work, cfg: {}, ran: [] };
  const base = { seed: 1, backend: 'wasm', data: 'fp-1' };
  assert.deepEqual(await ranNames(work, ctx, { keyBase: base }), ['a', 'b', 'c', 'd']);
  assert.deepEqual(await ranNames(work, ctx, { keyBase: { ...base } }), [], 'nothing changed: all skipped');
  assert.deepEqual(await ranNames(work, ctx, { keyBase: { ...base, seed: 2 } }), ['a', 'b', 'c', 'd']);
  assert.deepEqual(await ranNames(work, ctx, { keyBase: { ...base, seed: 2, backend: 'cpu' } }), ['a', 'b', 'c', 'd']);
  assert.deepEqual(await ranNames(work, ctx, { keyBase: { ...base, seed: 2, backend: 'cpu', data: 'fp-2' } }), ['a', 'b', 'c', 'd']);
  assert.deepEqual(await ranNames(work, ctx, { keyBase: { ...base, seed: 2, backend: 'cpu', data: 'fp-2' } }), []);
  // back to the first run's settings: its keys were overwritten, so it reruns rather than reporting stale numbers
  assert.deepEqual(await ranNames(work, ctx, { keyBase: base }), ['a', 'b', 'c', 'd']);
});

test('a step key (e.g. the GSU scorer) reruns that step and what depends on it, nothing else', async () => {
  const work = tmp();
  const ctx: Ctx = { work, cfg: {}, ran: [] };
  const scorerKey = (scorer: string) => (name: string) => (name === 'b' ? { gsu: scorer } : null);
  assert.deepEqual(await ranNames(work, ctx, { stepKey: scorerKey('native-avx512') }), ['a', 'b', 'c', 'd']);
  assert.deepEqual(await ranNames(work, ctx, { stepKey: scorerKey('native-avx512') }), []);
  assert.deepEqual(await ranNames(work, ctx, { stepKey: scorerKey('wasm-simd') }), ['b', 'd']);
  assert.deepEqual(await ranNames(work, ctx, { stepKey: scorerKey('wasm-simd') }), []);
});

test('inputFingerprint tells another data folder, or a file rewritten in place, apart (tiny fixture)', async () => {
  const tmp = fs.mkdtempSync(path.join(BASE, 'fp-'));
  const one = path.join(tmp, 'one');
  const two = path.join(tmp, 'two');
  fs.cpSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'tiny'), one, { recursive: true, preserveTimestamps: true });
  fs.cpSync(one, two, { recursive: true, preserveTimestamps: true });
  const fp = inputFingerprint([one]);
  assert.equal(inputFingerprint([one]), fp, 'unchanged folder: same fingerprint');
  assert.notEqual(inputFingerprint([two]), fp, 'identical copy elsewhere: another input');
  // the runner on it: skips while the folder is untouched, reruns once a file is rewritten
  const work = path.join(tmp, 'work');
  const ctx: Ctx = { work, cfg: {}, ran: [] };
  const keyBase = () => ({ seed: 1, backend: 'wasm', data: inputFingerprint([one]) });
  assert.deepEqual(await ranNames(work, ctx, { keyBase: keyBase() }), ['a', 'b', 'c', 'd']);
  assert.deepEqual(await ranNames(work, ctx, { keyBase: keyBase() }), []);
  const samples = path.join(one, 'samples_target.arrow');
  const st = fs.statSync(samples);
  fs.writeFileSync(samples, fs.readFileSync(samples)); // same bytes, new mtime
  fs.utimesSync(samples, st.atime, new Date(st.mtimeMs + 5000));
  assert.deepEqual(await ranNames(work, ctx, { keyBase: keyBase() }), ['a', 'b', 'c', 'd']);
  // a small file (the manifest) rewritten with the same size and mtime is still seen: its content is hashed
  const manifest = path.join(one, 'dataset.json');
  fs.utimesSync(manifest, 1_700_000_000, 1_700_000_000); // a whole second: restorable exactly
  const m = fs.statSync(manifest);
  const fpBefore = inputFingerprint([one]);
  const text = fs.readFileSync(manifest, 'utf8');
  fs.writeFileSync(manifest, text.slice(0, -1) + (text.endsWith('\n') ? ' ' : '\n')); // same size, other bytes
  fs.utimesSync(manifest, 1_700_000_000, 1_700_000_000);
  assert.equal(fs.statSync(manifest).size, m.size);
  assert.equal(fs.statSync(manifest).mtimeMs, m.mtimeMs);
  assert.notEqual(inputFingerprint([one]), fpBefore);
  assert.deepEqual(await ranNames(work, ctx, { keyBase: keyBase() }), ['a', 'b', 'c', 'd']);
  const fpTwo = inputFingerprint([two]);
  // a listed file that is missing counts too; hidden entries (staging folders) do not
  assert.notEqual(inputFingerprint([path.join(two, 'items.arrow'), path.join(two, 'nope.arrow')]), inputFingerprint([path.join(two, 'items.arrow')]));
  fs.mkdirSync(path.join(two, '.staging-1'));
  fs.writeFileSync(path.join(two, '.staging-1', 'x'), 'x');
  assert.equal(inputFingerprint([two]), fpTwo);
});

test('pipeline config: a gist run may search with another union (Tables 2 and 4); other variants may not', async () => {
  const { resolvePipelineConfig, TABLE2_RUNS, TABLE4_RUNS } = await import('../../src/core/pipeline/pipeline.js');
  const ok = resolvePipelineConfig(undefined, { runs: [...TABLE2_RUNS, ...TABLE4_RUNS] });
  assert.deepEqual(ok.runs.map((r) => r.union), ['union-content', 'union-behavior', 'union-swing']);
  assert.throws(() => resolvePipelineConfig(undefined, { runs: [{ name: 'x', variant: 'din', asi: 'none', union: 'union-swing' }] }), /union is for variant gist/);
  assert.throws(() => resolvePipelineConfig(undefined, { runs: [{ name: 'x', variant: 'gist', asi: 'none', union: 'union-bogus' }] }), /must be one of/);
  assert.throws(() => resolvePipelineConfig(undefined, { unionAblations: false, runs: TABLE4_RUNS }), /needs union_ablations/);
});

/** Steps whose command "runs" until released, so a test sees which ran at once. */
function commandSteps(): { steps: StepDef<Ctx>[]; log: string[]; live: Set<string>; maxLive: { n: number }; concurrentAt: Record<string, number>; runCommand: NonNullable<RunStepsOptions['runCommand']> } {
  const log: string[] = [];
  const concurrentAt: Record<string, number> = {};
  const live = new Set<string>();
  const maxLive = { n: 0 };
  const mk = (name: string, deps: string[]): StepDef<Ctx> => ({
    ...step(name, deps),
    run: async () => {
      throw new Error('jobs > 1 runs the command line, not run()');
    },
    argv: () => ['cmd', name],
  });
  const steps = [mk('a', []), mk('b', ['a']), mk('c', ['a']), mk('d', ['b']), mk('e', ['a']), mk('f', ['c', 'e'])];
  const runCommand: NonNullable<RunStepsOptions['runCommand']> = async (name, argv, signal, concurrent) => {
    concurrentAt[name] = concurrent;
    live.add(name);
    maxLive.n = Math.max(maxLive.n, live.size);
    log.push(`start ${name} ${argv.join(' ')}`);
    await new Promise((r) => setTimeout(r, name === 'b' ? 30 : 5));
    live.delete(name);
    if (signal.aborted) throw new Error(`${name} stopped`);
    const out = argv[argv.indexOf('--out') + 1];
    fs.mkdirSync(out, { recursive: true });
    log.push(`end ${name}`);
    return { name, via: 'command' };
  };
  return { steps, log, live, maxLive, concurrentAt, runCommand };
}

test('--jobs N: up to N steps at once, each only after its dependencies, as command lines with --out; results in declaration order', async () => {
  const work = tmp();
  const ctx: Ctx = { work, cfg: {}, ran: [] };
  const { steps, log, live, maxLive, concurrentAt, runCommand } = commandSteps();
  // Told how many run whenever that changes: always the steps live right then, never the same count twice in a row.
  const told: number[] = [];
  const onRunning = (n: number): void => {
    assert.equal(n, live.size, `told ${n} while ${[...live].join(', ')} ran`);
    told.push(n);
  };
  const outcomes = await runSteps(work, steps, ctx, { jobs: 2, runCommand, onRunning });
  assert.equal(maxLive.n, 2, 'two steps ran at once');
  assert.deepEqual(told.slice(0, 2), [1, 2], `a alone, then b and c: ${told.join(' ')}`);
  assert.ok(told.every((n, i) => n !== told[i - 1] && n >= 1 && n <= 2), told.join(' '));
  assert.equal(told.at(-1), 1, 'f runs alone last');
  // Each command learns how many steps run as it starts: a alone; b and c start together once a is done.
  assert.equal(concurrentAt.a, 1);
  assert.equal(concurrentAt.b, 2);
  assert.equal(concurrentAt.c, 2);
  const { stepThreads } = await import('../../src/core/pipeline/pipeline.js');
  assert.deepEqual([stepThreads(1, 2), stepThreads(2, 2), stepThreads(3, 2), stepThreads(2, 8), stepThreads(0, 4)], [2, 1, 1, 4, 4]);
  assert.deepEqual(outcomes.map((o) => o.name), ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.ok(outcomes.every((o) => o.status === 'ran' && (o.result as { via: string }).via === 'command'));
  const at = (s: string): number => log.indexOf(s);
  for (const [s, deps] of [['b', ['a']], ['c', ['a']], ['d', ['b']], ['e', ['a']], ['f', ['c', 'e']]] as const) {
    for (const d of deps) assert.ok(at(`end ${d}`) < log.findIndex((l) => l.startsWith(`start ${s} `)), `${s} after ${d}: ${log.join(' | ')}`);
  }
  assert.ok(log.includes(`start a cmd a --out ${path.join(work, 'a')}`), log[0]);
  // Recorded like an in-process run: a second run skips every step.
  const again = await runSteps(work, steps, ctx, { jobs: 2, runCommand });
  assert.deepEqual(again.map((o) => o.status), ['skipped', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
  await assert.rejects(runSteps(work, steps, ctx, { jobs: 0, runCommand }), UsageError);
});

test('--jobs N: a failed step stops the others and its error is thrown; finished steps stay recorded', async () => {
  const work = tmp();
  const ctx: Ctx = { work, cfg: {}, ran: [] };
  const { steps, log, live, runCommand } = commandSteps();
  const aborted: string[] = [];
  const failing: NonNullable<RunStepsOptions['runCommand']> = async (name, argv, signal, concurrent) => {
    if (name === 'c') throw new UsageError('c: bad flag');
    signal.addEventListener('abort', () => live.has(name) && aborted.push(name));
    return runCommand(name, argv, signal, concurrent);
  };
  await assert.rejects(runSteps(work, steps, ctx, { jobs: 2, runCommand: failing }), (e: Error) => e instanceof UsageError && e.message === 'c: bad flag');
  assert.deepEqual(aborted, ['b'], 'b, running beside c, was told to stop');
  assert.ok(!log.some((l) => l.startsWith('start d') || l.startsWith('start f')), 'nothing started after the failure');
  const state = JSON.parse(fs.readFileSync(path.join(work, 'pipeline-state.json'), 'utf8')) as { steps: Record<string, unknown> };
  assert.deepEqual(Object.keys(state.steps), ['a']);
});

test('step keys hold resolved configs: a trainer default (not only a config file) that changes reruns its step', async () => {
  const { resolvePipelineConfig, stepConfigs } = await import('../../src/core/pipeline/pipeline.js');
  const { DEFAULT_TRAIN_UNION_CONFIG } = await import('../../src/core/cbjt/train-union.js');
  const { DEFAULT_TRAIN_CONTENT_CONFIG } = await import('../../src/core/cbjt/train-content.js');
  const { DEFAULT_CTR_MODEL_CONFIG } = await import('../../src/core/ctr/config.js');
  const { configHash } = await import('../../src/core/output.js');
  const cfg = resolvePipelineConfig(undefined, {});
  const before = stepConfigs(cfg);
  const union = before.union as Record<string, unknown>;
  for (const k of Object.keys(DEFAULT_TRAIN_UNION_CONFIG)) assert.ok(k in union, `union key holds ${k}`);
  for (const k of Object.keys(DEFAULT_TRAIN_CONTENT_CONFIG)) assert.ok(k in (before.content as object), `content key holds ${k}`);
  assert.equal(((before['ctr-gist'] as { target: { model: { m2: number } } }).target.model.m2), DEFAULT_CTR_MODEL_CONFIG.m2);
  assert.ok('subtopicVisibility' in ((before.data as { synth: object }).synth), 'the data step holds the resolved synth preset');
  const saved = DEFAULT_TRAIN_UNION_CONFIG.holdout;
  try {
    DEFAULT_TRAIN_UNION_CONFIG.holdout = saved + 0.05;
    const after = stepConfigs(cfg);
    assert.notEqual(configHash(after.union), configHash(before.union), 'a new default changes the union key');
    assert.equal(configHash(after.content), configHash(before.content), 'other steps keep theirs');
  } finally {
    DEFAULT_TRAIN_UNION_CONFIG.holdout = saved;
  }
});

test("an ASI setting reruns only the models that read it: SimDist's for GIST with SimDist, SimScore's for GIST with SimScore", async () => {
  const { resolvePipelineConfig, stepConfigs } = await import('../../src/core/pipeline/pipeline.js');
  const { configHash } = await import('../../src/core/output.js');
  const runs = [
    { name: 'din', variant: 'din', asi: 'none' },
    { name: 'sim-soft-attention', variant: 'sim-soft-attention', asi: 'none' },
    { name: 'gist', variant: 'gist', asi: 'simscore+simdist' },
    { name: 'gist-asi-simscore', variant: 'gist', asi: 'simscore' },
    { name: 'gist-asi-none', variant: 'gist', asi: 'none' },
  ];
  const keys = (target: Record<string, unknown>): Record<string, string> => {
    const all = stepConfigs(resolvePipelineConfig(undefined, { runs, target: { model: target } }));
    return Object.fromEntries(['source', ...runs.map((r) => `ctr-${r.name}`)].map((n) => [n, configHash(all[n])]));
  };
  const base = keys({});
  const changed = (other: Record<string, string>): string[] => Object.keys(base).filter((n) => base[n] !== other[n]);
  assert.deepEqual(changed(keys({ sim_dist_norm: 'log-count' })), ['ctr-gist']);
  assert.deepEqual(changed(keys({ m2: 20 })), ['ctr-gist']);
  assert.deepEqual(changed(keys({ m1: 40 })), ['ctr-gist', 'ctr-gist-asi-simscore']);
  assert.deepEqual(changed(keys({ embedding_dim: 8 })), Object.keys(base).filter((n) => n !== 'source'), 'a setting every target model reads reruns them all');
});

test('every step that trains or runs a model is keyed by the model kernels; data, Swing, hard search and eval are not', async () => {
  const { kernelKey } = await import('../../src/core/pipeline/pipeline.js');
  const { modelKernelName, scorerName } = await import('../../src/core/retrieval/native.js');
  const key = kernelKey('wasm');
  for (const step of ['source', 'pairs-esu', 'pairs-truth', 'content', 'behavior', 'union', 'union-swing', 'union-no-gate', 'ctr-din', 'ctr-gist-swing-pairs']) {
    assert.deepEqual(key(step), { kernels: modelKernelName('wasm') }, step);
  }
  for (const step of ['data', 'pairs-swing', 'gsu-hard', 'eval']) assert.equal(key(step), null, step);
  assert.deepEqual(key('gsu-joint'), { gsu: scorerName().scorer }, 'GSU steps keep their scorer key');
  assert.match(modelKernelName('wasm'), /^native-(avx512|avx2|scalar)$/);
  assert.equal(modelKernelName('tensorflow'), 'tfjs');
});

test('--jobs N: among ready steps the one with the costliest path to the end starts first (declaration order otherwise)', async () => {
  const work = tmp();
  const ctx: Ctx = { work, cfg: {}, ran: [] };
  const { runCommand, log } = commandSteps();
  const mk = (name: string, deps: string[], cost?: number): StepDef<Ctx> => ({ ...step(name, deps), argv: () => ['cmd', name], ...(cost ? { cost } : {}) });
  // x1 and x2 are declared first, but b leads to the costly c: b starts beside x1, x2 waits.
  const steps = [mk('a', []), mk('x1', ['a']), mk('x2', ['a']), mk('b', ['a']), mk('c', ['b'], 5)];
  await runSteps(work, steps, ctx, { jobs: 2, runCommand });
  const starts = log.filter((l) => l.startsWith('start')).map((l) => l.split(' ')[1]);
  assert.deepEqual(starts.slice(0, 3), ['a', 'b', 'x1']);
  // One job: in this process, in declaration order.
  const one: Ctx = { work: tmp(), cfg: {}, ran: [] };
  await runSteps(one.work, steps.map((s) => ({ ...s, run: step(s.name, [...s.deps]).run })), one);
  assert.deepEqual(one.ran, ['a', 'x1', 'x2', 'b', 'c']);
});

test('--jobs N: steps nothing waits on stay queued while a step that scales and that others wait on runs, then fill the cores', async () => {
  const work = tmp();
  const ctx: Ctx = { work, cfg: {}, ran: [] };
  const { runCommand, log } = commandSteps();
  const mk = (name: string, deps: string[], scales = false): StepDef<Ctx> => ({ ...step(name, deps), argv: () => ['cmd', name], ...(scales ? { scales } : {}) });
  // u (scales, g waits on it) and the leaves l1, l2: with two jobs, l1 would start beside u; it waits for u to end.
  // s (scales too, but a leaf) holds nothing back: l2 starts beside it.
  const steps = [mk('a', []), mk('u', ['a'], true), mk('l1', ['a']), mk('g', ['u']), mk('s', ['g'], true), mk('l2', ['g'])];
  await runSteps(work, steps, ctx, { jobs: 2, runCommand });
  const at = (l: string): number => log.findIndex((x) => x.startsWith(l));
  assert.ok(at('end u') < at('start l1 '), `l1 waited for u: ${log.join(' | ')}`);
  assert.ok(at('start l1 ') < at('end g') && at('start l2 ') < at('end s'), `l1 beside g, l2 beside s: ${log.join(' | ')}`);
});

test('--jobs N: no more steps at once than memory allows (memoryCap), and memoryJobs sizes it from the data', async () => {
  const work = tmp();
  const ctx: Ctx = { work, cfg: {}, ran: [] };
  const { steps, maxLive, runCommand } = commandSteps();
  await runSteps(work, steps, ctx, { jobs: 4, runCommand, memoryCap: () => 1 });
  assert.equal(maxLive.n, 1, 'one at a time when memory allows one');
  const { memoryJobs } = await import('../../src/core/pipeline/pipeline.js');
  const GiB = 2 ** 30;
  assert.equal(memoryJobs(null, 8 * GiB), Number.POSITIVE_INFINITY, 'no data yet: no limit');
  assert.equal(memoryJobs(0.91e9, 24 * GiB), 4, 'the paper-shaped data (0.9 GB) on this 24 GiB machine');
  assert.equal(memoryJobs(0.91e9, 8 * GiB), 1, 'and on an 8 GiB one');
  assert.equal(memoryJobs(20e6, 8 * GiB), 10, 'synthetic small (20 MB): cores decide');
});

test('esu_candidate_scorer content: both ESU steps rank S_A by the content vectors, wait for the content step and are keyed by it', async () => {
  const { pipelineCommands, resolvePipelineConfig, stepConfigs } = await import('../../src/core/pipeline/pipeline.js');
  const { configHash } = await import('../../src/core/output.js');
  const plan = (config: Record<string, unknown>) => pipelineCommands({ data: 'synthetic', work: 'w', config: { recall_theta: 0.1, ...config }, seed: 1, backend: 'wasm' }).steps;
  for (const name of ['pairs-esu', 'pairs-truth']) {
    const byContent = plan({ esu_candidate_scorer: 'content' }).find((s) => s.name === name)!;
    const i = byContent.argv.indexOf('--candidate-embeddings');
    assert.equal(byContent.argv[i + 1], path.join('w', 'content', 'content.arrow'), name);
    assert.ok(byContent.deps.includes('content'), `${name} waits for content`);
    const order = plan({ esu_candidate_scorer: 'content' }).map((s) => s.name);
    assert.ok(order.indexOf('content') < order.indexOf(name), 'declared after what it waits for');
    const byId = plan({}).find((s) => s.name === name)!;
    assert.ok(!byId.argv.includes('--candidate-embeddings') && !byId.deps.includes('content'), `${name} by ID: no content dependency`);
  }
  const keys = (scorer: string) => stepConfigs(resolvePipelineConfig(undefined, { esu_candidate_scorer: scorer }));
  const [id, content] = [keys('id'), keys('content')];
  assert.notEqual(configHash(id['pairs-esu']), configHash(content['pairs-esu']));
  assert.equal(configHash(id.source), configHash(content.source));
  assert.throws(() => resolvePipelineConfig(undefined, { esu_candidate_scorer: 'joint' }), /esu_candidate_scorer must be id or content/);
  assert.throws(() => resolvePipelineConfig(undefined, { esu_candidate_scorer: 'content', esu_candidates: 0 }), /esu_candidates > 0/);
});
