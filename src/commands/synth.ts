import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { outFlag } from '../cli/flags.js';
import { readJsonFile } from '../core/config.js';
import { UsageError } from '../core/errors.js';
import { synthesize, SYNTH_PRESET_NAMES, type SynthConfig, type SynthOptions, type SynthResult } from '../core/synth.js';
import { SPLITS } from '../core/schemas.js';

export default class Synth extends BaseCommand<typeof Synth> {
  static override summary = 'Generate a synthetic cross-domain dataset with planted truth (topics, behaviour-only sub-topics, p_true).';
  static override description =
    'Presets: tiny (test fixture, under a second), small (demo default: 2,000 users, 4,000 items, ~100k target samples), paper (10k users x up to 10^4 source events, 1M target samples; streamed). Flags and --config (JSON with any SynthConfig field) override the preset. Same seed, same bytes.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --preset tiny --seed 7 --out fixtures/tiny',
    '<%= config.bin %> <%= command.id %> --out work/demo/data --json',
    '<%= config.bin %> <%= command.id %> --preset paper --out work/paper/data --source-len 2000',
    '<%= config.bin %> <%= command.id %> --out work/vis0/data --set subtopic_visibility=0',
  ];
  static override flags = {
    preset: Flags.string({ description: 'size preset', options: SYNTH_PRESET_NAMES, default: 'small' }),
    out: outFlag,
    config: Flags.file({ description: 'JSON file of SynthConfig fields overriding the preset (flags override it)' }),
    users: Flags.integer({ description: 'users', min: 1 }),
    'source-items': Flags.integer({ description: 'source-domain items', min: 1 }),
    'target-items': Flags.integer({ description: 'target-domain items', min: 2 }),
    topics: Flags.integer({ description: 'topics (visible in text, category and content)', min: 1 }),
    subtopics: Flags.integer({ description: 'sub-topics per topic (visible only in behaviour)', min: 1 }),
    'source-len': Flags.integer({ description: 'longest source sequence', min: 1 }),
    'target-samples': Flags.integer({ description: 'target impressions in total (approximately)', min: 1 }),
    'target-history': Flags.integer({ description: 'most target clicks per user', min: 1 }),
    'cold-share': Flags.string({ description: 'share of target items never shown in training' }),
    'content-dim': Flags.integer({ description: 'content vector size (0 = none)', min: 0 }),
    set: Flags.string({ description: 'any other SynthConfig field as key=number (snake_case or camelCase; repeatable), e.g. --set subtopic_visibility=0', multiple: true }),
  };

  async run(): Promise<SynthResult> {
    const { flags } = this;
    const cold = flags['cold-share'];
    if (cold !== undefined && (cold.trim() === '' || !Number.isFinite(Number(cold)))) throw new UsageError(`--cold-share must be a number, got "${cold}"`);
    const fromFlags: Partial<SynthConfig> = {
      users: flags.users,
      sourceItems: flags['source-items'],
      targetItems: flags['target-items'],
      topics: flags.topics,
      subtopics: flags.subtopics,
      sourceLen: flags['source-len'],
      targetSamples: flags['target-samples'],
      targetHistory: flags['target-history'],
      coldShare: cold === undefined ? undefined : Number(cold),
      contentDim: flags['content-dim'],
    };
    const fromSet = Object.fromEntries((flags.set ?? []).map(parseSetting));
    const options: SynthOptions = { preset: flags.preset, out: flags.out, seed: flags.seed, overrides: { ...(flags.config ? readJsonFile(flags.config) : {}), ...fromSet, ...fromFlags } };
    const result = await synthesize(options, this.progress());
    const c = result.counts;
    this.say(`${result.out}: ${c.items.total} items (${c.items.source} source, ${c.items.target} target), ${c.users.total} users, ${c.events.source} source events (longest ${c.events.max_source_len})`);
    this.say(`  target samples: ${SPLITS.map((s) => `${s} ${c.samples.target[s].samples} (${c.samples.target[s].positives} positive)`).join(', ')}`);
    this.say(`  oracle AUC (p_true) target test ${result.truth.oracle_auc.target.test.toFixed(4)}; without sub-topics ${result.truth.target_test_auc_without_subtopic.toFixed(4)}`);
    return result;
  }
}

/** `--set key=number` → [key, number]; the key is checked against SynthConfig with the other overrides. */
function parseSetting(text: string): [string, number] {
  const eq = text.indexOf('=');
  const key = text.slice(0, eq).trim();
  const value = text.slice(eq + 1).trim();
  if (eq < 1 || key === '' || value === '' || !Number.isFinite(Number(value))) throw new UsageError(`--set expects key=number (e.g. subtopic_visibility=0), got "${text}"`);
  return [key, Number(value)];
}
