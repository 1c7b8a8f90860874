import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { renderPipelineTable } from '../cli/render-pipeline.js';
import { PREPARE_FORMATS } from '../core/prepare/index.js';
import { runPipeline, type PipelineOptions, type PipelineResult } from '../core/pipeline/pipeline.js';
import { PLAN_ONLY_FLAGS, planFlags } from '../cli/plan-flags.js';
import { PLAN_DEFAULTS, writePlan, type PlanKind, type PlanResult } from '../core/pipeline/plan.js';
import { UsageError } from '../core/errors.js';
import { SYNTH_PRESET_NAMES } from '../core/synth.js';
import type { BackendName } from '../core/engine/backend.js';

export default class Pipeline extends BaseCommand<typeof Pipeline> {
  static override summary = 'Run the whole GIST study: data, source model, pairs, encoders, index, GSU, every CTR variant, evaluation.';
  static override description = `Steps (each writes WORK/<step>/): data → source → pairs-esu, pairs-swing → content → behavior → union (+ union-no-gate, union-no-cross, union-swing, union-content, union-behavior) → index → gsu-joint, gsu-content, gsu-hard → ctr-<variant> … → eval (report.html, metrics.json).
A step whose config and inputs did not change since its last run is skipped (state in WORK/pipeline-state.json); --from STEP reruns that step and everything after it.
Up to --jobs steps run at once, each whose inputs are ready, as gist processes of their own (the commands --plan writes, same outputs byte for byte); --jobs 1 runs them one after another in this process, with a progress bar per step.
--config FILE is a JSON object overriding any field of the pipeline config (see README: "Pipeline config"); an unknown key is a usage error.
--plan k8s|argo|parallel writes the run instead of running it (README: "Scaling out"): every step as its gist command, the GSU searches (and other sharded steps) as --shards N shards joined by gist merge — Kubernetes Jobs (kubectl apply -f), an Argo Workflow (argo submit), or a bash script for GNU parallel (GIST_SSHLOGIN spreads it over hosts). --out is then the work folder as the runners see it; the plan goes to --plan-file (default stdout).`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> --data synthetic --out work/demo',
    '<%= config.bin %> <%= command.id %> --data ../shared/datasets/food-kitchen --format food-kitchen --out work/food-kitchen',
    '<%= config.bin %> <%= command.id %> --data fixtures/tiny --config fixtures/pipeline-fast.json --out work/tiny --json',
    '<%= config.bin %> <%= command.id %> --data synthetic --out work/demo --from gsu-joint',
    '<%= config.bin %> <%= command.id %> --data fixtures/tiny --config fixtures/pipeline-fast.json --out work/tiny-seq --jobs 1',
    '<%= config.bin %> <%= command.id %> --data work/demo/data --config fixtures/pipeline-fast.json --out work/demo-par --plan parallel --shards 2 --plan-file work/plan.sh',
    '<%= config.bin %> <%= command.id %> --out /gist/work/demo --plan k8s --shards 4 --image registry.example.com/gist-ctr:0.1.0 --cpu 2 --memory 8Gi --volume-claim gist-work --plan-file work/plan-k8s.yaml',
    '<%= config.bin %> <%= command.id %> --out /gist/work/demo --plan argo --shards 4 --volume-claim gist-work --plan-file work/plan-argo.yaml',
  ];
  static override flags = {
    data: Flags.string({ char: 'd', description: '"synthetic", a prepared dataset folder, or a raw folder with --format', default: 'synthetic' }),
    format: Flags.string({ description: 'importer for a raw --data folder', options: [...PREPARE_FORMATS] }),
    preset: Flags.string({ description: 'synthetic preset (with --data synthetic)', options: SYNTH_PRESET_NAMES }),
    out: Flags.directory({ char: 'o', description: 'work folder (state, every step output, eval/report.html)', required: true }),
    config: Flags.file({ description: 'JSON file overriding pipeline config fields', exists: true }),
    from: Flags.string({ description: 'rerun from this step (and all steps after it)' }),
    jobs: Flags.integer({ char: 'j', description: 'steps run at once, each as its own gist process (same outputs; fewer when memory is short); 1 = one after another in this process [default: the number of cores, at most 4]', min: 1 }),
    ...planFlags,
  };

  async run(): Promise<PipelineResult | PlanResult> {
    const { flags } = this;
    if (flags.plan) return this.plan(flags.plan as PlanKind);
    const given = PLAN_ONLY_FLAGS.filter((f) => flags[f] !== undefined);
    if (given.length) throw new UsageError(`--${given[0]} is for --plan k8s|argo|parallel`);
    const options: PipelineOptions = {
      data: flags.data,
      format: flags.format,
      work: flags.out,
      configFile: flags.config,
      config: flags.preset ? { synth: { preset: flags.preset, overrides: {} } } : {},
      from: flags.from,
      jobs: flags.jobs,
      seed: flags.seed,
      backend: flags.backend as BackendName,
      onProgress: this.progress(),
      onStep: (name, status, seconds) => {
        if (status === 'ran') this.say(`✓ ${name.padEnd(22)} ${seconds?.toFixed(1)} s`);
        else if (status === 'skipped') this.say(`· ${name.padEnd(22)} unchanged, skipped`);
        else if (status === 'disabled') this.say(`- ${name.padEnd(22)} not applicable`);
      },
    };
    const result = await runPipeline(options);
    this.say(renderPipelineTable(result));
    return result;
  }

  private async plan(kind: PlanKind): Promise<PlanResult> {
    const { flags } = this;
    if (flags.from) throw new UsageError('--from is for a run; a plan always holds every step');
    if (flags.jobs !== undefined) throw new UsageError('--jobs is for a run; a plan says how its runner spreads the steps');
    const file = flags['plan-file'] ?? '-';
    this.claimStdout({ '--plan-file': file });
    const result = await writePlan({
      kind,
      shards: flags.shards ?? PLAN_DEFAULTS.shards,
      file,
      data: flags.data,
      format: flags.format,
      work: flags.out,
      configFile: flags.config,
      config: flags.preset ? { synth: { preset: flags.preset, overrides: {} } } : {},
      seed: flags.seed,
      backend: flags.backend as BackendName,
      image: flags.image,
      cpu: flags.cpu,
      memory: flags.memory,
      volumeClaim: flags['volume-claim'],
      mount: flags.mount,
      runId: flags['run-id'],
    });
    const sharded = result.steps.filter((s) => s.shards > 1).map((s) => s.name);
    const how = { k8s: `kubectl apply -f ${file}`, argo: `argo submit --watch ${file}`, parallel: `bash ${file}` }[kind];
    this.say(`${kind} plan: ${result.steps.length} steps (${sharded.length ? `${sharded.join(', ')} in ${result.shards} shards each` : 'none sharded'}), ${result.units} ${kind === 'k8s' ? 'Jobs' : kind === 'argo' ? 'DAG tasks' : 'parallel runs'}; checked by ${result.validated} → ${result.file}`);
    if (file !== '-') this.say(`  run it: ${how}`);
    return result;
  }
}
