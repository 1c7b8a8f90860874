/**
 * The base every gist command extends: `--json` (prints exactly the returned object), `--seed`, `--backend`,
 * `--quiet`, typed-error → exit-code mapping, and a progress bar that is silent under --json or without a TTY.
 */
import { Command, Flags, Interfaces } from '@oclif/core';
import chalk from 'chalk';
import cliProgress from 'cli-progress';
import { recordedConfig } from '../core/config.js';
import { exitCodeOf, EXIT, GistError, UsageError } from '../core/errors.js';
import { recordInvocation, type OnProgress } from '../core/output.js';
import { isStdout } from '../core/sink.js';

/** The JSON error code of an error that is not a GistError (oclif's parse errors), from the exit code chosen. */
const CODE_OF_EXIT: Record<number, string> = { [EXIT.usage]: 'USAGE', [EXIT.io]: 'IO', [EXIT.runtime]: 'RUNTIME' };

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    seed: Flags.integer({ description: 'seed for every random choice', default: 42, helpGroup: 'GLOBAL' }),
    backend: Flags.string({
      description: 'tensor backend: wasm (default), cpu, or tensorflow / tensorflow-gpu when @tensorflow/tfjs-node(-gpu) is installed',
      options: ['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'],
      default: 'wasm',
      helpGroup: 'GLOBAL',
    }),
    quiet: Flags.boolean({ char: 'q', description: 'no progress bars or human output', default: false, helpGroup: 'GLOBAL' }),
  };

  protected flags!: BaseFlags<T>;
  private bar: cliProgress.SingleBar | undefined;
  private barPhase = '';
  private stdoutTaken = false;

  public override async init(): Promise<void> {
    await super.init();
    const { flags, metadata } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as BaseFlags<T>;
    this.explicitFlags = new Set(Object.entries(metadata.flags).filter(([, m]) => !m.setFromDefault).map(([k]) => k));
    for (const [k, v] of Object.entries(flags)) if (v !== undefined && !(k in metadata.flags)) this.explicitFlags.add(k);
    const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
    recordInvocation({ command_line: [this.config.bin, this.id ?? '', ...this.argv].filter((a) => a !== '').map(quote).join(' '), gist_version: this.config.version, started_at: new Date().toISOString() });
  }

  /** Flags the user typed (not filled in from a default). */
  private explicitFlags = new Set<string>();

  /**
   * Settings for a train-* run: `overrides` (flags given, undefined = not given) over the `section` of the
   * config.json named by `--config`, if any; the recorded seed unless --seed was given.
   */
  protected fromRecord<C extends object>(command: string, section: string, defaults: C, overrides: Partial<C>): { config: Partial<C>; seed: number } {
    const file = (this.flags as { config?: string }).config;
    if (!file) return { config: overrides, seed: this.flags.seed };
    const record = recordedConfig(file, command, section, defaults);
    const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<C>;
    return { config: { ...record.settings, ...given }, seed: this.given('seed') ? this.flags.seed : (record.seed ?? this.flags.seed) };
  }

  /** Whether the user gave this flag on the command line (so it overrides a --config record). */
  protected given(flag: string): boolean {
    return this.explicitFlags.has(flag);
  }

  /**
   * Progress callback for core work: a cli-progress bar with elapsed time and ETA on a terminal; the one-line
   * records (`line`, one per epoch) on stderr, terminal or not; nothing under --json or --quiet.
   */
  protected progress(): OnProgress {
    if (this.jsonEnabled() || this.flags.quiet) return () => undefined;
    const tty = process.stderr.isTTY;
    return ({ phase, done, total, info, line }) => {
      if (line !== undefined) {
        this.bar?.stop();
        this.bar = undefined;
        this.barPhase = '';
        process.stderr.write(line + '\n');
        return;
      }
      if (!tty) return;
      if (!this.bar || phase !== this.barPhase) {
        this.bar?.stop();
        this.barPhase = phase;
        this.bar = new cliProgress.SingleBar(
          { format: `${phase.padEnd(16)} [{bar}] {percentage}% {value}/{total} {duration_formatted} ETA {eta_formatted} {info}`, stream: process.stderr, hideCursor: true, clearOnComplete: false, etaBuffer: 50 },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(total, done, { info: info ?? '' });
      } else {
        this.bar.setTotal(total);
        this.bar.update(done, { info: info ?? '' });
      }
      if (done >= total) {
        this.bar.stop();
        this.bar = undefined;
        this.barPhase = '';
      }
    };
  }

  /** Human output only: nothing under --json or --quiet; on stderr when an output file is stdout (`-`). */
  protected say(text: string): void {
    if (this.jsonEnabled() || this.flags.quiet) return;
    if (this.stdoutTaken) process.stderr.write(text + '\n');
    else this.log(text);
  }

  /** Standard output carries one of `outputs` (`-`): only one may, and not beside --json. */
  protected claimStdout(outputs: Record<string, string | undefined>): void {
    const taken = Object.entries(outputs).filter(([, v]) => isStdout(v)).map(([k]) => k);
    if (taken.length === 0) return;
    if (taken.length > 1) throw new UsageError(`only one output can go to stdout ("-"), got ${taken.join(' and ')}`);
    if (this.jsonEnabled()) throw new UsageError(`${taken[0]} - and --json both need stdout; drop --json or give ${taken[0]} a file`);
    this.stdoutTaken = true;
  }

  protected override async finally(err: Error | undefined): Promise<void> {
    this.bar?.stop();
    return super.finally(err);
  }

  /** Map typed errors to documented exit codes; one line on stderr, or a JSON error under --json. */
  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    this.bar?.stop();
    if (err.oclif?.exit === 0) return;
    // oclif's parse errors are multi-line ("Parsing --m1\n\tExpected an integer ..."): keep one line.
    const message = err.message
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !/^See more help with/.test(l))
      .join(': ');
    const fromOclif = err.oclif !== undefined || /Parse|Flag|Arg|Validation/.test(err.constructor?.name ?? '') || /^Parsing --/.test(message);
    const isParse = !(err instanceof GistError) && fromOclif && /flag|argument|Expected|Unexpected|Missing|Parsing|found/i.test(message);
    // A flag with `exists: true` naming a missing path is an I/O error, like any unreadable input.
    const missingPath = isParse && /No (file|directory) found at/.test(message);
    const code = err instanceof GistError ? err.exitCode : missingPath ? EXIT.io : isParse ? EXIT.usage : exitCodeOf(err);
    if (this.jsonEnabled()) {
      this.logJson({ status: code, error: { code: err instanceof GistError ? err.code : (CODE_OF_EXIT[code] ?? 'RUNTIME'), message, exitCode: code } });
    } else {
      process.stderr.write(`${chalk.red('error')}: ${message}\n`);
      if (process.env.GIST_DEBUG && err.stack) process.stderr.write(err.stack + '\n');
    }
    process.exitCode = code;
    this.exit(code);
  }
}
