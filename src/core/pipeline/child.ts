/**
 * A pipeline step as its own gist process (`gist pipeline --jobs N`): the step's command line with `--json`, whose
 * standard output is the command's result object, or under a failure its JSON error, which becomes the same typed
 * error (same exit code) here, named after the step.
 */
import { spawn } from 'node:child_process';
import { EXIT, GistError } from '../errors.js';

/** A failed step's error as its process reported it: message and exit code kept. */
export class StepCommandError extends GistError {
  constructor(
    message: string,
    override readonly exitCode: number,
    override readonly code: string,
  ) {
    super(message);
  }
}

/** The JSON error object every gist command prints under --json when it fails. */
interface JsonFailure {
  status: number;
  error: { code: string; message: string; exitCode: number };
}

function isFailure(v: unknown): v is JsonFailure {
  const e = (v as Partial<JsonFailure> | null)?.error;
  return typeof e === 'object' && e !== null && typeof e.message === 'string' && typeof e.exitCode === 'number';
}

/**
 * Run `gist ARGV --json` with `command` (e.g. [node, bin/run.js]) and resolve to the printed result. `signal`
 * stops it (SIGTERM: commands write through temp files, so nothing is left half-written). `env`: the child's
 * environment (default this process's).
 */
export function runGistCommand(command: readonly string[], step: string, argv: readonly string[], signal: AbortSignal, env: NodeJS.ProcessEnv = process.env): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], [...command.slice(1), ...argv, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], signal, env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.name === 'AbortError') reject(new StepCommandError(`pipeline step ${step}: stopped because another step failed`, EXIT.runtime, 'RUNTIME'));
      else reject(new StepCommandError(`pipeline step ${step}: cannot start ${command[0]} (${e.code ?? e.message})`, EXIT.runtime, 'RUNTIME'));
    });
    child.on('close', (code, sig) => {
      const text = Buffer.concat(out).toString('utf8').trim();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (code === 0 && parsed !== undefined && !isFailure(parsed)) return resolve(parsed);
      if (isFailure(parsed)) return reject(new StepCommandError(`pipeline step ${step}: ${parsed.error.message}`, parsed.error.exitCode, parsed.error.code));
      const last = Buffer.concat(err).toString('utf8').trim().split('\n').at(-1) ?? '';
      const how = sig ? `killed by ${sig}` : `exit ${code}`;
      reject(new StepCommandError(`pipeline step ${step}: gist ${argv[0]} failed (${how})${last ? `: ${last}` : ''}`, code && code > 0 ? code : EXIT.runtime, 'RUNTIME'));
    });
  });
}
