import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { renderPipelineTable } from '../cli/render-pipeline.js';
import { PREPARE_FORMATS } from '../core/prepare/index.js';
import { runPipeline, type PipelineOptions, type PipelineResult } from '../core/pipeline/pipeline.js';
import { SYNTH_PRESET_NAMES } from '../core/synth.js';
import type { BackendName } from '../core/engine/backend.js';

export default class Pipeline extends BaseCommand<typeof Pipeline> {
  static override summary = 'Run the whole GIST study: data, source model, pairs, encoders, index, GSU, every CTR variant, evaluation.';
  static override description = `Steps (each writes WORK/<step>/): data → source → pairs-esu, pairs-swing → content → behavior → union (+ union-no-gate, union-no-cross, union-swing, union-content, union-behavior) → index → gsu-joint, gsu-content, gsu-hard → ctr-<variant> … → eval (report.html, metrics.json).
A step whose config and inputs did not change since its last run is skipped (state in WORK/pipeline-state.json); --from STEP reruns that step and everything after it.
--config FILE is a JSON object overriding any field of the pipeline config (see README: "Pipeline config"); an unknown key is a usage error.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> --data synthetic --out work/demo',
    '<%= config.bin %> <%= command.id %> --data ../shared/datasets/food-kitchen --format food-kitchen --out work/food-kitchen',
    '<%= config.bin %> <%= command.id %> --data fixtures/tiny --config fixtures/pipeline-fast.json --out work/tiny --json',
    '<%= config.bin %> <%= command.id %> --data synthetic --out work/demo --from gsu-joint',
  ];
  static override flags = {
    data: Flags.string({ char: 'd', description: '"synthetic", a prepared dataset folder, or a raw folder with --format', default: 'synthetic' }),
    format: Flags.string({ description: 'importer for a raw --data folder', options: [...PREPARE_FORMATS] }),
    preset: Flags.string({ description: 'synthetic preset (with --data synthetic)', options: SYNTH_PRESET_NAMES }),
    out: Flags.directory({ char: 'o', description: 'work folder (state, every step output, eval/report.html)', required: true }),
    config: Flags.file({ description: 'JSON file overriding pipeline config fields', exists: true }),
    from: Flags.string({ description: 'rerun from this step (and all steps after it)' }),
  };

  async run(): Promise<PipelineResult> {
    const { flags } = this;
    const options: PipelineOptions = {
      data: flags.data,
      format: flags.format,
      work: flags.out,
      configFile: flags.config,
      config: flags.preset ? { synth: { preset: flags.preset, overrides: {} } } : {},
      from: flags.from,
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
}
