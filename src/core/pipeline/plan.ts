/**
 * `gist pipeline --plan`: the pipeline written out instead of run — Kubernetes Jobs, an Argo Workflow, or a bash
 * script for GNU parallel. Every step is the gist command that does what the in-process step does (see
 * pipelineCommands); a sharded step runs as n `--shard i/n` commands and a `gist merge` of their folders. The
 * YAML plans are validated against the Kubernetes / Argo OpenAPI schemas (kubernetes-models) before anything is
 * written, so a plan that would be refused is never written.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { UsageError } from '../errors.js';
import { isStdout, writeOutputFile } from '../sink.js';
import { VERSION } from '../version.js';
import { shellQuote } from './argv.js';
import { pipelineCommands, type PipelinePlanInput, type PlannedStep } from './pipeline.js';

export const PLAN_KINDS = ['k8s', 'argo', 'parallel'] as const;
export type PlanKind = (typeof PLAN_KINDS)[number];

export interface PlanOptions extends PipelinePlanInput {
  kind: PlanKind;
  /** Shards of each sharded step (1: every step as one process). */
  shards: number;
  /** Where the plan goes ('-': standard output). */
  file: string;
  /** k8s/argo: container image with `gist` on its PATH (and sh). */
  image?: string;
  /** k8s/argo: CPU and memory of each step's container (requests = limits). */
  cpu?: string;
  memory?: string;
  /** k8s/argo: the PersistentVolumeClaim every pod mounts. */
  volumeClaim?: string;
  /** k8s/argo: where the claim is mounted (default: the work folder); the data folder must lie under it. */
  mount?: string;
  /** k8s: names this run's Jobs and completion markers (default: from the clock, so each plan is a new run). */
  runId?: string;
}

export interface PlanResult {
  kind: PlanKind;
  file: string;
  work: string;
  shards: number;
  /** k8s: the run id in Job names, labels and `WORK/.done/RUN_ID/` markers; null for other kinds. */
  run_id: string | null;
  steps: { name: string; deps: string[]; shards: number }[];
  /** k8s: Jobs; argo: DAG tasks; parallel: parallel invocations. */
  units: number;
  /** What checked the plan before it was written. */
  validated: string;
}

export const PLAN_DEFAULTS = { shards: 2, image: `gist-ctr:${VERSION}`, cpu: '1', memory: '4Gi', volumeClaim: 'gist-work' } as const;

/** Stands for the shard index inside an argument until a plan kind spells it. */
const INDEX = '\u0000shard\u0000';

/** A plan unit: one command, or n shard commands (argv holding INDEX). */
interface Unit {
  /** DAG node name: the step for a single command or a merge, `<step>-shards` for its shard commands. */
  node: string;
  step: string;
  deps: string[];
  argv: string[];
  /** n > 1: this many commands, INDEX = 0..n−1. */
  count: number;
}

/** Steps → units: a sharded step becomes its shard unit and a merge named after the step, which others wait for. */
function unitsOf(steps: PlannedStep[], n: number): Unit[] {
  const units: Unit[] = [];
  for (const s of steps) {
    const out = s.out === null ? [] : ['--out', s.out];
    if (!s.shards || n === 1 || s.out === null) {
      units.push({ node: s.name, step: s.name, deps: s.deps, argv: [...s.argv, ...out], count: 1 });
      continue;
    }
    const shardDir = (i: string | number): string => `${s.out}.shards/${i}`;
    units.push({ node: `${s.name}-shards`, step: s.name, deps: s.deps, argv: [...s.argv, '--shard', `${INDEX}/${n}`, '--out', shardDir(INDEX)], count: n });
    units.push({ node: s.name, step: s.name, deps: [`${s.name}-shards`], argv: ['merge', ...Array.from({ length: n }, (_, i) => shardDir(i)), '--out', s.out], count: 1 });
  }
  const seen = new Set<string>();
  for (const u of units) {
    if (seen.has(u.node)) throw new UsageError(`--plan: two plan units are named ${u.node} (a run named like a sharded step's shards?)`);
    seen.add(u.node);
  }
  return units;
}

/** Shell words of argv, the shard index spelled by `index` (a shell expression, or text a template engine replaces). */
function shellLine(argv: string[], index: string): string {
  return argv.map((a) => a.split(INDEX).map((part, k) => (k > 0 ? index : '') + (part === '' ? '' : shellQuote(part))).join('')).join(' ');
}

/** Kubernetes object names: DNS labels (lower-case alphanumerics and '-', ≤ 63). */
function k8sName(s: string, max: number): string {
  let n = s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  if (n.length > max) n = `${n.slice(0, max - 7).replace(/-+$/, '')}-${createHash('sha256').update(s).digest('hex').slice(0, 6)}`;
  if (n === '') throw new UsageError(`--plan: "${s}" gives an empty Kubernetes name`);
  return n;
}

const QUANTITY = /^\d+(\.\d+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

function checkCluster(o: PlanOptions): Required<Pick<PlanOptions, 'image' | 'cpu' | 'memory' | 'volumeClaim' | 'mount'>> {
  const image = o.image ?? PLAN_DEFAULTS.image;
  const cpu = o.cpu ?? PLAN_DEFAULTS.cpu;
  const memory = o.memory ?? PLAN_DEFAULTS.memory;
  const volumeClaim = o.volumeClaim ?? PLAN_DEFAULTS.volumeClaim;
  if (!path.posix.isAbsolute(o.work)) throw new UsageError(`--plan ${o.kind}: --out must be an absolute path, the work folder as the pods see it (got ${o.work})`);
  const mount = path.posix.normalize(o.mount ?? o.work);
  if (!path.posix.isAbsolute(mount)) throw new UsageError(`--mount must be an absolute path, got ${o.mount}`);
  const under = (p: string): boolean => p === mount || p.startsWith(mount.endsWith('/') ? mount : `${mount}/`);
  if (!under(path.posix.normalize(o.work))) throw new UsageError(`--out ${o.work} is not under --mount ${mount}: the pods see only the volume`);
  if (o.data !== 'synthetic' && !under(path.resolve(o.data))) throw new UsageError(`--data ${o.data} is not under ${mount}, where the pods mount the volume: put the data on the volume, or mount it higher up (--mount)`);
  if (!QUANTITY.test(cpu)) throw new UsageError(`--cpu must be a Kubernetes quantity (e.g. 2, 500m), got "${cpu}"`);
  if (!QUANTITY.test(memory)) throw new UsageError(`--memory must be a Kubernetes quantity (e.g. 4Gi, 512Mi), got "${memory}"`);
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(volumeClaim) || volumeClaim.length > 253) throw new UsageError(`--volume-claim must be a Kubernetes object name, got "${volumeClaim}"`);
  if (image.trim() === '' || /\s/.test(image)) throw new UsageError(`--image must be an image reference, got "${image}"`);
  return { image, cpu, memory, volumeClaim, mount };
}

const LABELS = { 'app.kubernetes.io/name': 'gist', 'app.kubernetes.io/part-of': 'gist-pipeline', 'app.kubernetes.io/version': VERSION };

/** Kubernetes: a Job per unit (Indexed for shards); pods wait for their dependencies' markers on the volume. */
async function k8sPlan(o: PlanOptions, units: Unit[], runId: string): Promise<{ text: string; count: number; validated: string }> {
  const { Job } = await import('kubernetes-models/batch/v1');
  const c = checkCluster(o);
  const done = path.posix.join(o.work, '.done', runId);
  const marker = (node: string, i?: string): string => path.posix.join(done, i === undefined ? node : `${node}.${i}`);
  const resources = { requests: { cpu: c.cpu, memory: c.memory }, limits: { cpu: c.cpu, memory: c.memory } };
  const volumeMounts = [{ name: 'work', mountPath: c.mount }];
  const names = new Map(units.map((u) => [u.node, k8sName(`gist-${runId}-${u.node}`, 52)]));
  if (new Set(names.values()).size !== names.size) throw new UsageError('--plan k8s: two steps get the same Job name; rename a run');
  const countOf = new Map(units.map((u) => [u.node, u.count]));
  const docs = units.map((u) => {
    // what this unit waits for: each dependency's marker, or every shard's marker for a merge
    const waits = u.deps.flatMap((d) => ((countOf.get(d) ?? 1) > 1 ? Array.from({ length: countOf.get(d) as number }, (_, i) => marker(d, String(i))) : [marker(d)]));
    const sharded = u.count > 1;
    const index = '"${JOB_COMPLETION_INDEX}"';
    const script = ['set -e', `gist ${shellLine(u.argv, index)}`, `mkdir -p ${shellQuote(done)}`, `touch ${sharded ? shellLine([marker(u.node, INDEX)], index) : shellQuote(marker(u.node))}`].join('\n');
    const labels = { ...LABELS, 'gist/run-id': runId, 'gist/step': k8sName(u.node, 63) };
    const job = new Job({
      metadata: { name: names.get(u.node) as string, labels },
      spec: {
        ...(sharded ? { completionMode: 'Indexed', completions: u.count, parallelism: u.count } : { completions: 1, parallelism: 1 }),
        backoffLimit: 2 * u.count,
        // usage and input-data errors (exit 2, 3) fail the same way on every try
        podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'gist', operator: 'In', values: [2, 3] } }] },
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            volumes: [{ name: 'work', persistentVolumeClaim: { claimName: c.volumeClaim } }],
            ...(waits.length
              ? {
                  initContainers: [
                    {
                      name: 'wait-for-inputs',
                      image: c.image,
                      command: ['sh', '-c', `for f in ${waits.map(shellQuote).join(' ')}; do\n  [ -e "$f" ] || echo "waiting for $f"\n  until [ -e "$f" ]; do sleep 10; done\ndone`],
                      volumeMounts,
                      resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
                    },
                  ],
                }
              : {}),
            containers: [{ name: 'gist', image: c.image, command: ['sh', '-c', script], volumeMounts, resources }],
          },
        },
      },
    });
    job.validate();
    return job.toJSON();
  });
  const header = [
    `# gist ${VERSION} pipeline plan for Kubernetes: run ${runId}, ${units.length} Jobs, sharded steps in ${o.shards} shards, work folder ${o.work}`,
    `# on PersistentVolumeClaim ${c.volumeClaim} (mounted at ${c.mount}). Apply it whole: kubectl apply -f FILE. Every Job starts at once; each`,
    `# pod waits for its inputs' markers in ${done}/ and writes its own when its step succeeded.`,
    `# Progress: kubectl get jobs -l gist/run-id=${runId}; stop: kubectl delete jobs -l gist/run-id=${runId}`,
  ].join('\n');
  return { text: `${header}\n${docs.map((d) => `---\n${stringify(d, { lineWidth: 0 })}`).join('')}`, count: docs.length, validated: 'kubernetes-models: batch/v1 Job schema' };
}

/** Argo Workflows: one DAG task per unit (shards as a withSequence task), one container template. */
async function argoPlan(o: PlanOptions, units: Unit[]): Promise<{ text: string; count: number; validated: string }> {
  const { Workflow } = await import('@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/Workflow');
  const c = checkCluster(o);
  const names = new Map(units.map((u) => [u.node, k8sName(u.node, 63)]));
  if (new Set(names.values()).size !== names.size) throw new UsageError('--plan argo: two steps get the same task name; rename a run');
  const tasks = units.map((u) => ({
    name: names.get(u.node) as string,
    template: 'gist',
    ...(u.deps.length ? { dependencies: u.deps.map((d) => names.get(d) as string) } : {}),
    arguments: { parameters: [{ name: 'command', value: `gist ${shellLine(u.argv, '{{item}}')}` }] },
    ...(u.count > 1 ? { withSequence: { count: String(u.count) } } : {}),
  }));
  const wf = new Workflow({
    metadata: { generateName: 'gist-pipeline-', labels: LABELS },
    spec: {
      entrypoint: 'pipeline',
      volumes: [{ name: 'work', persistentVolumeClaim: { claimName: c.volumeClaim } }],
      templates: [
        { name: 'pipeline', dag: { tasks } },
        {
          name: 'gist',
          inputs: { parameters: [{ name: 'command' }] },
          // usage and input-data errors (exit 2, 3) fail the same way on every try
          retryStrategy: { limit: '2', retryPolicy: 'OnFailure', expression: 'asInt(lastRetry.exitCode) != 2 && asInt(lastRetry.exitCode) != 3' },
          container: { name: 'gist', image: c.image, command: ['sh', '-c'], args: ['set -e\n{{inputs.parameters.command}}'], volumeMounts: [{ name: 'work', mountPath: c.mount }], resources: { requests: { cpu: c.cpu, memory: c.memory }, limits: { cpu: c.cpu, memory: c.memory } } },
        },
      ],
    },
  });
  wf.validate();
  const header = [
    `# gist ${VERSION} pipeline plan for Argo Workflows: ${tasks.length} DAG tasks, sharded steps in ${o.shards} shards (withSequence), then gist merge;`,
    `# work folder ${o.work} on PersistentVolumeClaim ${c.volumeClaim} (mounted at ${c.mount}). Submit: argo submit --watch FILE`,
  ].join('\n');
  return { text: `${header}\n---\n${stringify(wf.toJSON(), { lineWidth: 0 })}`, count: tasks.length, validated: '@kubernetes-models/argo-workflows: argoproj.io/v1alpha1 Workflow schema' };
}

/** Levels of the unit DAG: a unit runs at 1 + the deepest level among its dependencies. */
function levels(units: Unit[]): Unit[][] {
  const level = new Map<string, number>();
  for (const u of units) level.set(u.node, 1 + Math.max(0, ...u.deps.map((d) => level.get(d) ?? 0)));
  const out: Unit[][] = [];
  for (const u of units) (out[(level.get(u.node) as number) - 1] ??= []).push(u);
  return out;
}

/** bash + GNU parallel: level by level; the single steps of a level together, each sharded step's shards together. */
function parallelPlan(o: PlanOptions, units: Unit[]): { text: string; count: number; validated: string } {
  for (const [flag, v] of Object.entries({ '--image': o.image, '--cpu': o.cpu, '--memory': o.memory, '--volume-claim': o.volumeClaim, '--mount': o.mount, '--run-id': o.runId })) {
    if (v !== undefined) throw new UsageError(`${flag} is for --plan k8s|argo`);
  }
  const n = o.shards;
  const lines = [
    '#!/usr/bin/env bash',
    `# gist ${VERSION} pipeline plan for GNU parallel: ${units.length} units, sharded steps in ${n} shards, work folder ${o.work}.`,
    '# The steps of one level run at once, a sharded step as its shards at once (--shard i/n), then `gist merge`.',
    '#   GIST           how to run gist (default: gist), e.g. GIST="node /path/to/gist/bin/run.js"',
    `#   GIST_JOBS      jobs at once on each host (default: ${n})`,
    '#   GIST_SSHLOGIN  run the jobs on other hosts too: parallel --sshlogin, e.g. GIST_SSHLOGIN="2/:,4/user@host1".',
    '#                  Every host needs gist (at $GIST) and the work folder at the same path (a shared filesystem).',
    'set -euo pipefail',
    'GIST=${GIST:-gist}',
    `JOBS=\${GIST_JOBS:-${n}}`,
    `WORK=${shellQuote(o.work)}`,
    'if ! command -v parallel >/dev/null 2>&1; then',
    '  echo "$0: GNU parallel is not installed (Debian/Ubuntu: apt-get install parallel)" >&2',
    '  exit 127',
    'fi',
    'PARALLEL=(parallel --will-cite --halt now,fail=1 -j "$JOBS")',
    'if [ -n "${GIST_SSHLOGIN:-}" ]; then PARALLEL+=(--sshlogin "$GIST_SSHLOGIN" --workdir "$WORK"); fi',
    '# one command line for parallel, $GIST split into words',
    "q() { printf '%q ' \"$@\"; }",
    'mkdir -p "$WORK"',
  ];
  let count = 0;
  const all = levels(units);
  for (const [k, group] of all.entries()) {
    const single = group.filter((u) => u.count === 1);
    const sharded = group.filter((u) => u.count > 1);
    lines.push('', `echo "== level ${k + 1}/${all.length}: ${group.map((u) => u.node).join(' ')}" >&2`);
    if (single.length) {
      lines.push(`"\${PARALLEL[@]}" ::: \\`);
      single.forEach((u, i) => lines.push(`  "$(q $GIST ${shellLine(u.argv, '')})"${i < single.length - 1 ? ' \\' : ''}`));
      count++;
    }
    for (const u of sharded) {
      lines.push(`"\${PARALLEL[@]}" -q $GIST ${shellLine(u.argv, '{}')} ::: ${Array.from({ length: u.count }, (_, i) => i).join(' ')}`);
      count++;
    }
  }
  lines.push('', 'echo "== done: $WORK/eval/report.html" >&2', '');
  const text = lines.join('\n');
  // bash parses the script (without running it) before it is written
  const check = spawnSync('bash', ['-n'], { input: text, encoding: 'utf8' });
  if (check.error) return { text, count, validated: 'none (no bash here to parse it)' };
  if (check.status !== 0) throw new Error(`plan: the generated script does not parse: ${check.stderr}`);
  return { text, count, validated: 'bash -n' };
}

/** The plan text and what it holds, checked, not yet written. */
export async function renderPlan(o: PlanOptions): Promise<{ text: string; result: PlanResult }> {
  if (!(PLAN_KINDS as readonly string[]).includes(o.kind)) throw new UsageError(`--plan must be one of ${PLAN_KINDS.join(', ')}, got ${o.kind}`);
  if (!Number.isInteger(o.shards) || o.shards < 1 || o.shards > 1000) throw new UsageError(`--shards must be an integer in [1, 1000], got ${o.shards}`);
  const work = o.kind === 'parallel' ? path.resolve(o.work) : o.work;
  if (o.kind !== 'k8s' && o.runId !== undefined) throw new UsageError('--run-id is for --plan k8s');
  const runId = o.kind === 'k8s' ? (o.runId ?? `r${Date.now().toString(36)}`) : null;
  if (runId !== null && !/^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$/.test(runId)) throw new UsageError(`--run-id must be 1–20 lower-case letters, digits and '-', got "${runId}"`);
  const { steps } = pipelineCommands({ ...o, work });
  const units = unitsOf(steps, o.shards);
  const opts = { ...o, work };
  const { text, count, validated } = o.kind === 'k8s' ? await k8sPlan(opts, units, runId as string) : o.kind === 'argo' ? await argoPlan(opts, units) : parallelPlan(opts, units);
  return {
    text,
    result: {
      kind: o.kind,
      file: isStdout(o.file) ? o.file : path.resolve(o.file),
      work,
      shards: o.shards,
      run_id: runId,
      steps: steps.map((s) => ({ name: s.name, deps: s.deps, shards: s.shards && s.out !== null ? o.shards : 1 })),
      units: count,
      validated,
    },
  };
}

/** Render, check and write the plan (atomically; '-' = stdout); a parallel script is made executable. */
export async function writePlan(o: PlanOptions): Promise<PlanResult> {
  const { text, result } = await renderPlan(o);
  writeOutputFile(o.file, text);
  if (o.kind === 'parallel' && !isStdout(o.file)) fs.chmodSync(o.file, 0o755);
  return result;
}
