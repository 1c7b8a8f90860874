/** Output metadata, config hashing and staged output directories (no partial output on failure). */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IoError, UsageError } from './errors.js';
import { writeFileAtomic, writeArrow, type Columns, type OutputMeta } from './arrow-io.js';
import type { TableSpec } from './schemas.js';
import { makeDirs } from './sink.js';
import { VERSION } from './version.js';
import { snakeKeys } from './keys.js';

/** Progress report from long core work; commands turn it into a progress bar. */
/**
 * Progress of long work: `done` of `total` in `phase` (a bar on a terminal); `line`, when set, is a one-line
 * record worth keeping in a log too (one per epoch: loss, valid AUC), printed even when stderr is not a terminal.
 */
export type OnProgress = (p: { phase: string; done: number; total: number; info?: string; line?: string }) => void;
export const noProgress: OnProgress = () => undefined;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as object).sort()) out[k] = canonical((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** Stable short hash of a resolved config (key order does not matter). */
export function configHash(config: unknown): string {
  return createHash('sha256').update(JSON.stringify(canonical(config))).digest('hex').slice(0, 16);
}

export function outputMeta(command: string, seed: number, config: unknown, extra: Record<string, string | number> = {}): OutputMeta {
  return { command, version: VERSION, seed, config_hash: configHash(config), ...extra };
}

/**
 * A staged output directory: files are written under OUT/.staging-<pid>/ and moved into OUT only by
 * commit(), so a failed command leaves OUT as it was (nothing partial, nothing lost).
 */
/**
 * Before any staged file moves: every final path that exists must be a regular file (or, for staged folders, a
 * folder). A symlink, device or pipe the user put under OUT is never replaced by a rename.
 */
function refuseNonRegularTargets(staging: string, dir: string, rel = ''): void {
  for (const entry of fs.readdirSync(path.join(staging, rel), { withFileTypes: true })) {
    const r = path.join(rel, entry.name);
    const target = path.join(dir, r);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(target);
    } catch {
      continue;
    }
    if (entry.isDirectory()) {
      if (!st.isDirectory()) throw new IoError(`${target}: exists and is not a folder; refusing to replace it`);
      refuseNonRegularTargets(staging, dir, r);
    } else if (!st.isFile()) throw new IoError(`${target}: exists and is not a regular file (${st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a folder' : 'a device, pipe or socket'}); refusing to replace it`);
  }
}

/** How the outputs of this process were asked for; the CLI records it, and every config.json carries it. */
export interface Invocation {
  command_line: string;
  gist_version: string;
  started_at: string;
}

let invocation: Invocation | null = null;

/** Set by the CLI at start-up (library callers leave it unset: their config.json has no invocation). */
export function recordInvocation(i: Invocation): void {
  invocation = i;
}

export function currentInvocation(): Invocation | null {
  return invocation;
}

export class OutputStage {
  readonly staging: string;
  private committed = false;
  /** OUT did not exist before this stage: a failed run removes it again. */
  private createdDir = false;

  private constructor(readonly dir: string) {
    this.staging = path.join(dir, `.staging-${process.pid}-${Date.now()}`);
  }

  /** Create OUT (and its staging folder); refuses an OUT that is one of the inputs. */
  static open(dir: string, inputs: readonly string[] = []): OutputStage {
    const resolved = path.resolve(dir);
    for (const input of inputs) {
      if (path.resolve(input) === resolved) throw new UsageError(`--out ${dir} is also an input folder; choose another output folder`);
    }
    const existed = fs.existsSync(resolved);
    try {
      makeDirs(resolved);
      fs.accessSync(resolved, fs.constants.W_OK);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new IoError(`${dir}: cannot write output folder (${e.code ?? e.message})`);
    }
    const stage = new OutputStage(resolved);
    stage.createdDir = !existed;
    try {
      fs.mkdirSync(stage.staging, { recursive: true });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new IoError(`${dir}: cannot write output folder (${e.code ?? e.message})`);
    }
    return stage;
  }

  /** Path of a file inside the staging folder (its final name under OUT is the same relative path). */
  file(name: string): string {
    const p = path.join(this.staging, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    return p;
  }

  /** Final path of a file once committed. */
  final(name: string): string {
    return path.join(this.dir, name);
  }

  writeArrow(name: string, spec: TableSpec, columns: Columns, meta: OutputMeta): string {
    writeArrow(this.file(name), spec, columns, meta);
    return this.final(name);
  }

  writeJson(name: string, value: unknown): string {
    const record = name === 'config.json' && invocation && value && typeof value === 'object' && !Array.isArray(value) ? { ...value, invocation } : value;
    // Sidecars use snake_case keys, like every --json result (settings objects are camelCase in code).
    writeFileAtomic(this.file(name), JSON.stringify(snakeKeys(record), null, 2) + '\n');
    return this.final(name);
  }

  writeText(name: string, text: string | Uint8Array): string {
    writeFileAtomic(this.file(name), text);
    return this.final(name);
  }

  /** Move every staged file into OUT (each move is an atomic rename) and remove the staging folder. */
  commit(): void {
    const walk = (rel: string): void => {
      const from = path.join(this.staging, rel);
      for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
        const r = path.join(rel, entry.name);
        if (entry.isDirectory()) {
          fs.mkdirSync(path.join(this.dir, r), { recursive: true });
          walk(r);
        } else fs.renameSync(path.join(this.staging, r), path.join(this.dir, r));
      }
    };
    try {
      refuseNonRegularTargets(this.staging, this.dir);
      walk('');
    } catch (err) {
      if (err instanceof IoError) throw err;
      const e = err as NodeJS.ErrnoException;
      throw new IoError(`${this.dir}: cannot finish writing outputs (${e.code ?? e.message})`);
    } finally {
      fs.rmSync(this.staging, { recursive: true, force: true });
    }
    this.committed = true;
  }

  /** Drop everything staged (call on failure). */
  abort(): void {
    if (this.committed) return;
    fs.rmSync(this.staging, { recursive: true, force: true });
    try {
      if (this.createdDir && fs.readdirSync(this.dir).length === 0) fs.rmdirSync(this.dir);
    } catch {
      /* leave it: nothing of ours is inside */
    }
  }

  /**
   * Fail now, not after minutes of training, when OUT could not be written (unwritable, an input folder, …):
   * the same checks as `open`, leaving nothing behind.
   */
  static preflight(dir: string, inputs: readonly string[]): void {
    OutputStage.open(dir, inputs).abort();
  }

  /** Run fn with the stage; commit on success, abort on any error. */
  static async run<T>(dir: string, inputs: readonly string[], fn: (stage: OutputStage) => Promise<T> | T): Promise<T> {
    const stage = OutputStage.open(dir, inputs);
    try {
      const result = await fn(stage);
      stage.commit();
      return result;
    } catch (err) {
      stage.abort();
      // Name the file as the user knows it, not by its staging path.
      if (err instanceof Error && err.message.includes(stage.staging)) err.message = err.message.split(stage.staging).join(stage.dir);
      throw err;
    }
  }
}
