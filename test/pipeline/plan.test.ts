// `gist pipeline --plan`: the run written out as a GNU parallel script, Kubernetes Jobs or an Argo Workflow.
// The parallel plan really runs on the tiny fixture (2 shards) and must give the single-process pipeline's outputs
// byte for byte; the YAML plans are checked against the Kubernetes / Argo schemas with kubernetes-models and their
// shell commands are run with a stand-in `gist`, in the order their completion markers (or DAG) allow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1';
import { Workflow } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/Workflow';

import { BIN, CLI_ENV, ROOT, ensureBuilt } from '../_built-cli.js';
import { EXTRACT_PAIRS_SHARDS, THREAD_SHARE_FILE } from '../../src/core/pipeline/pipeline.js';

const CONFIG = path.join(ROOT, 'fixtures', 'pipeline-fast.json');
const TINY = path.join(ROOT, 'fixtures', 'tiny');

function gist(args: string[], cwd = ROOT): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: CLI_ENV });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** JSON keys that hold wall-clock measurements or how a process was started, not results. */
const VOLATILE_KEY = /seconds|per_s$|^qps$|_at$|_ms$|^command_line$/i;

function stripVolatile(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripVolatile);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !VOLATILE_KEY.test(k)).map(([k, x]) => [k, stripVolatile(x)]));
  return v;
}

/** The report's wall-clock <time> and the command line that made it (`gist pipeline …` vs `gist evaluate …`). */
const stripHtml = (s: string): string => s.replace(/<time [^>]*>[^<]*<\/time>/g, '').replace(/<div class="meta command"><code>[^<]*<\/code><\/div>/g, '');

function files(dir: string, rel = ''): string[] {
  return fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]))
    .sort();
}

/**
 * Assert that `got` holds the files of `ref` (each list filtered) with the same bytes — JSON up to wall-clock
 * fields, the HTML report up to its timestamp — and return the compared files of `ref`.
 */
function sameOutputs(refDir: string, got: string, keepRef: (f: string) => boolean, keepGot: (f: string) => boolean = keepRef): string[] {
  const ref = files(refDir).filter(keepRef);
  assert.deepEqual(files(got).filter(keepGot), ref);
  let arrows = 0;
  for (const rel of ref) {
    const a = fs.readFileSync(path.join(refDir, rel));
    const b = fs.readFileSync(path.join(got, rel));
    if (rel.endsWith('.json')) assert.deepEqual(stripVolatile(JSON.parse(b.toString('utf8'))), stripVolatile(JSON.parse(a.toString('utf8'))), rel);
    else if (rel.endsWith('.html')) assert.equal(stripHtml(b.toString('utf8')), stripHtml(a.toString('utf8')), rel);
    else assert.ok(a.equals(b), `${rel} differs from the single-process run`);
    if (rel.endsWith('.arrow')) arrows++;
  }
  assert.ok(arrows >= 20, `${arrows} Arrow files compared`);
  return ref;
}

interface PlanJson {
  kind: string;
  shards: number;
  run_id: string | null;
  steps: { name: string; deps: string[]; shards: number }[];
  units: number;
  validated: string;
}

test('--jobs 2 and --plan parallel (2 shards) on the tiny fixture write what the single-process pipeline writes, byte for byte', { timeout: 300_000 }, () => {
  const hasParallel = spawnSync('sh', ['-c', 'command -v parallel'], { encoding: 'utf8' }).status === 0;
  assert.ok(hasParallel, 'GNU parallel is not installed: apt-get install parallel (.ci/run installs it)');
  ensureBuilt();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-plan-'));
  const work = path.join(base, 'w');
  const t0 = performance.now();
  const one = gist(['pipeline', '--data', TINY, '--config', CONFIG, '--out', work, '--seed', '7', '--jobs', '1', '-q']);
  assert.equal(one.code, 0, one.stderr);
  const single = (performance.now() - t0) / 1000;
  // --jobs 2: the same steps as gist processes, two at a time, in the same folder (paths in metadata agree).
  fs.renameSync(work, path.join(base, 'ref'));
  const t2 = performance.now();
  const two = gist(['pipeline', '--data', TINY, '--config', CONFIG, '--out', work, '--seed', '7', '--jobs', '2', '--json']);
  assert.equal(two.code, 0, two.stderr);
  const jobsSeconds = (performance.now() - t2) / 1000;
  const result = JSON.parse(two.stdout) as { steps: { name: string; status: string }[]; table: unknown[] };
  assert.ok(result.steps.filter((s) => s.status === 'ran').length >= 20 && result.table.length >= 5, 'every step ran and the table is filled');
  sameOutputs(path.join(base, 'ref'), work, (f) => f !== 'pipeline-state.json');
  // The steps' share of the cores lived in the work folder while the run lasted (they re-read it as it changed).
  assert.ok(!fs.existsSync(path.join(work, THREAD_SHARE_FILE)), 'the share file is removed at the end');
  // The step state records the same keys, so a --jobs 1 run over the --jobs 2 folder skips every step.
  const again = gist(['pipeline', '--data', TINY, '--config', CONFIG, '--out', work, '--seed', '7', '--jobs', '1', '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.ok((JSON.parse(again.stdout) as typeof result).steps.every((s) => s.status !== 'ran'), 'nothing reran');
  fs.rmSync(work, { recursive: true });
  fs.renameSync(path.join(base, 'ref'), work);
  // The plan then runs in the same folder (the single-process copy moved aside): paths in metadata agree.
  fs.renameSync(work, path.join(base, 'ref'));
  const script = path.join(base, 'plan.sh');
  const planned = gist(['pipeline', '--data', TINY, '--config', CONFIG, '--out', work, '--seed', '7', '--plan', 'parallel', '--shards', '2', '--plan-file', script, '--json']);
  assert.equal(planned.code, 0, planned.stderr);
  const plan = JSON.parse(planned.stdout) as PlanJson;
  assert.equal(plan.validated, 'bash -n');
  assert.ok(fs.statSync(script).mode & 0o100, 'the script is executable');
  const sharded = plan.steps.filter((s) => s.shards === 2).map((s) => s.name);
  const expected = ['gsu-joint', 'gsu-content', 'gsu-hard', 'gsu-union-swing', ...(EXTRACT_PAIRS_SHARDS ? ['pairs-esu', 'pairs-truth'] : [])];
  for (const g of expected) assert.ok(sharded.includes(g), `${g} is sharded: ${sharded.join(', ')}`);
  assert.equal(plan.steps.at(-1)?.name, 'eval');

  const t1 = performance.now();
  const run = spawnSync('bash', [script], { encoding: 'utf8', env: { ...CLI_ENV, GIST: `${process.execPath} ${BIN}`, GIST_JOBS: '2' } });
  assert.equal(run.status, 0, `${run.stderr.slice(-3000)}`);
  const planSeconds = (performance.now() - t1) / 1000;
  process.stderr.write(`# single process ${single.toFixed(1)} s; --jobs 2 ${jobsSeconds.toFixed(1)} s; parallel plan (2 shards, 2 jobs) ${planSeconds.toFixed(1)} s\n`);

  // Every sharded step really ran as two shard commands, then a merge.
  for (const step of sharded) {
    for (const i of [0, 1]) {
      const cfg = JSON.parse(fs.readFileSync(path.join(work, `${step}.shards`, String(i), 'config.json'), 'utf8')) as { shard?: string };
      assert.equal(cfg.shard, `${i}/2`, `${step} shard ${i}`);
    }
  }
  // Same files (less the single process's step state and the plan's shard folders), same bytes.
  const ref = sameOutputs(path.join(base, 'ref'), work, (f) => f !== 'pipeline-state.json', (f) => !f.split(path.sep)[0].endsWith('.shards'));
  for (const f of ['pairs-esu/pairs.arrow', 'gsu-joint/gsu.arrow', 'union/joint.arrow', 'ctr-gist/predictions.arrow', 'eval/metrics.json']) assert.ok(ref.includes(f), f);
  fs.rmSync(base, { recursive: true, force: true });
});

/** A folder with the data on "the volume" (its own copy of the fixture) and stand-in commands on PATH. */
function cluster(): { base: string; work: string; data: string; bin: string; log: string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-plan-k8s-'));
  const data = path.join(base, 'data');
  fs.cpSync(TINY, data, { recursive: true });
  const bin = path.join(base, 'bin');
  fs.mkdirSync(bin);
  const log = path.join(base, 'gist.log');
  // gist: records its arguments, one call per line, words separated by tabs
  fs.writeFileSync(path.join(bin, 'gist'), `#!/bin/sh\n(IFS='\t'; printf '%s\\n' "$*") >> '${log}'\n`, { mode: 0o755 });
  // sleep: a waiting init container would loop; ending its shell says "not ready yet"
  fs.writeFileSync(path.join(bin, 'sleep'), '#!/bin/sh\nkill -TERM $PPID\n', { mode: 0o755 });
  return { base, work: path.join(base, 'w'), data, bin, log };
}

function sh(script: string, bin: string, env: Record<string, string> = {}): number {
  return spawnSync('sh', ['-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env } }).status ?? -1;
}

const calls = (log: string): string[][] => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trimEnd().split('\n').map((l) => l.split('\t')) : []);

test('--plan k8s: Jobs valid against the Kubernetes schema; sharded steps are Indexed Jobs and a merge; pods wait for their inputs', () => {
  ensureBuilt();
  const c = cluster();
  const r = gist(['pipeline', '--data', c.data, '--config', CONFIG, '--out', c.work, '--mount', c.base, '--plan', 'k8s', '--shards', '3', '--run-id', 't1', '--image', 'registry.example.com/gist-ctr:0.1.0', '--cpu', '2', '--memory', '3Gi', '--volume-claim', 'gist-pvc', '--plan-file', path.join(c.base, 'plan.yaml'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout) as PlanJson;
  assert.equal(plan.run_id, 't1');
  const docs = parseAllDocuments(fs.readFileSync(path.join(c.base, 'plan.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
  assert.equal(docs.length, plan.units);
  const jobs = docs.map((d) => {
    assert.equal(d.kind, 'Job');
    const job = new Job(d as ConstructorParameters<typeof Job>[0]);
    job.validate(); // the OpenAPI schema of batch/v1 Job
    return job;
  });
  const byName = new Map(jobs.map((j) => [j.metadata?.name as string, j]));
  assert.equal(byName.size, jobs.length, 'Job names are unique');
  for (const j of jobs) {
    const pod = j.spec!.template.spec!;
    assert.equal(pod.restartPolicy, 'Never');
    assert.deepEqual(pod.volumes, [{ name: 'work', persistentVolumeClaim: { claimName: 'gist-pvc' } }]);
    const main = pod.containers[0];
    assert.equal(main.image, 'registry.example.com/gist-ctr:0.1.0');
    assert.deepEqual(main.volumeMounts, [{ name: 'work', mountPath: c.base }]);
    assert.deepEqual(main.resources, { requests: { cpu: '2', memory: '3Gi' }, limits: { cpu: '2', memory: '3Gi' } });
    assert.ok((j.metadata?.name as string).length <= 52);
  }
  // GSU: an Indexed Job of 3 completions, all at once, then a Job merging the three folders.
  const shards = byName.get('gist-t1-gsu-joint-shards')!;
  assert.equal(shards.spec?.completionMode, 'Indexed');
  assert.equal(shards.spec?.completions, 3);
  assert.equal(shards.spec?.parallelism, 3);
  assert.ok(byName.get('gist-t1-source')!.spec?.completionMode === undefined);

  // Apply the plan on a make-believe cluster: every Job "starts"; a pod whose init container finds all its
  // inputs' markers runs its main container (each index of an Indexed Job), which writes its marker.
  const pending = new Set(jobs);
  const order: string[] = [];
  while (pending.size) {
    const ready = [...pending].filter((j) => (j.spec!.template.spec!.initContainers ?? []).every((ic) => sh((ic.command as string[])[2], c.bin) === 0));
    assert.ok(ready.length, `no Job can start: ${[...pending].map((j) => j.metadata?.name).join(', ')} wait for each other`);
    for (const j of ready) {
      const script = (j.spec!.template.spec!.containers[0].command as string[])[2];
      for (let i = 0; i < (j.spec!.completions ?? 1); i++) assert.equal(sh(script, c.bin, j.spec!.completionMode === 'Indexed' ? { JOB_COMPLETION_INDEX: String(i) } : {}), 0, script);
      order.push(j.metadata!.name!.replace('gist-t1-', ''));
      pending.delete(j);
    }
  }
  const ran = calls(c.log);
  assert.equal(ran.length, jobs.reduce((n, j) => n + (j.spec!.completions ?? 1), 0));
  // The shard commands got their own index and folder; the merge came after all three and before the GSU's users.
  const gsuShards = ran.filter((a) => a[0] === 'search-gsu' && a.includes(path.join(c.work, 'union', 'joint.arrow')));
  assert.deepEqual(gsuShards.map((a) => [a[a.indexOf('--shard') + 1], a[a.indexOf('--out') + 1]]), [0, 1, 2].map((i) => [`${i}/3`, path.join(c.work, 'gsu-joint.shards', String(i))]));
  const at = (step: string): number => order.indexOf(step);
  assert.ok(at('gsu-joint-shards') < at('gsu-joint') && at('gsu-joint') < at('ctr-gist') && at('union') < at('gsu-joint-shards'));
  assert.ok(at('source') < at('pairs-esu') && at('pairs-esu') < at('union') && at('content') < at('behavior'));
  assert.equal(order.at(-1), 'eval');
  const merge = ran.find((a) => a[0] === 'merge' && a.at(-1) === path.join(c.work, 'gsu-joint'))!;
  assert.deepEqual(merge, ['merge', ...[0, 1, 2].map((i) => path.join(c.work, 'gsu-joint.shards', String(i))), '--out', path.join(c.work, 'gsu-joint')]);
  assert.ok(fs.existsSync(path.join(c.work, '.done', 't1', 'eval')));
  fs.rmSync(c.base, { recursive: true, force: true });
});

test('--plan argo: a Workflow valid against the Argo schema; a DAG of the same steps, shards as withSequence then merge', () => {
  ensureBuilt();
  const c = cluster();
  const r = gist(['pipeline', '--data', c.data, '--config', CONFIG, '--out', c.work, '--mount', c.base, '--plan', 'argo', '--shards', '2', '--plan-file', '-']);
  assert.equal(r.code, 0, r.stderr);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, unknown>);
  assert.equal(docs.length, 1);
  const wf = new Workflow(docs[0] as ConstructorParameters<typeof Workflow>[0]);
  wf.validate(); // the Argo Workflows OpenAPI schema
  const templates = wf.spec!.templates!;
  const dag = templates.find((t) => t.name === wf.spec!.entrypoint)!.dag!;
  const tmpl = templates.find((t) => t.name === 'gist')!;
  assert.deepEqual(wf.spec!.volumes, [{ name: 'work', persistentVolumeClaim: { claimName: 'gist-work' } }]);
  assert.deepEqual(tmpl.container!.volumeMounts, [{ name: 'work', mountPath: c.base }]);
  const tasks = new Map(dag.tasks.map((t) => [t.name, t]));
  // Run the DAG in dependency order with the stand-in gist, expanding withSequence as Argo does.
  const done = new Set<string>();
  while (done.size < tasks.size) {
    const ready = [...tasks.values()].filter((t) => !done.has(t.name) && (t.dependencies ?? []).every((d) => done.has(d)));
    assert.ok(ready.length, 'the DAG has a cycle or a missing dependency');
    for (const t of ready) {
      for (const d of t.dependencies ?? []) assert.ok(tasks.has(d), `${t.name} depends on ${d}`);
      const command = (t.arguments!.parameters![0].value as string);
      const items = t.withSequence ? Array.from({ length: Number(t.withSequence.count) }, (_, i) => String(i)) : [''];
      for (const item of items) assert.equal(sh((tmpl.container!.args as string[])[0].replace('{{inputs.parameters.command}}', command.replaceAll('{{item}}', item)), c.bin), 0, command);
      done.add(t.name);
    }
  }
  const shards = tasks.get('gsu-content-shards')!;
  assert.equal(shards.withSequence?.count, '2');
  assert.deepEqual(tasks.get('gsu-content')!.dependencies, ['gsu-content-shards']);
  assert.ok(tasks.get('ctr-sim-soft-pooling')!.dependencies?.includes('gsu-content'));
  const ran = calls(c.log);
  assert.deepEqual(ran.filter((a) => a.includes(path.join(c.work, 'content', 'content.arrow')) && a[0] === 'search-gsu').map((a) => a[a.indexOf('--shard') + 1]), ['0/2', '1/2']);
  assert.equal(ran.at(-1)?.[0], 'evaluate');
  fs.rmSync(c.base, { recursive: true, force: true });
});

test('--plan refuses what it cannot express, before writing anything', () => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-plan-bad-'));
  const cfg = path.join(dir, 'cfg.json');
  const file = path.join(dir, 'plan.sh');
  // Any synth field reaches gist synth (its own flag or --set key=number), so the data the plan makes is the same.
  fs.writeFileSync(cfg, JSON.stringify({ synth: { preset: 'tiny', overrides: { topic_weight: 2, users: 30 } } }));
  const ok = gist(['pipeline', '--data', 'synthetic', '--config', cfg, '--out', path.join(dir, 'w'), '--plan', 'parallel', '--plan-file', file]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(fs.readFileSync(file, 'utf8'), /\$GIST synth .*--set topic_weight=2 --users 30/);
  fs.rmSync(file);
  // A model setting train-ctr has no flag for (it comes from the data) cannot be planned: refused, not dropped.
  fs.writeFileSync(cfg, JSON.stringify({ target: { model: { num_items: 5 } } }));
  const cases: [string[], RegExp][] = [
    [['--data', TINY, '--config', cfg, '--out', path.join(dir, 'w'), '--plan', 'parallel', '--plan-file', file], /num_items/],
    [['--data', TINY, '--out', 'relative/work', '--plan', 'k8s', '--plan-file', file], /absolute/],
    [['--data', TINY, '--out', path.join(dir, 'w'), '--plan', 'k8s', '--plan-file', file], /not under/],
    [['--data', TINY, '--out', path.join(dir, 'w'), '--shards', '2'], /--shards is for --plan/],
    [['--data', TINY, '--out', path.join(dir, 'w'), '--plan', 'parallel', '--image', 'x', '--plan-file', file], /--image is for --plan k8s\|argo/],
    [['--data', TINY, '--out', path.join(dir, 'w'), '--plan', 'k8s', '--mount', '/', '--cpu', 'two', '--plan-file', file], /--cpu/],
  ];
  for (const [args, message] of cases) {
    const r = gist(['pipeline', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(!fs.existsSync(file), 'no plan written');
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
