/** Typed errors; each carries the process exit code the CLI uses (documented in README). */

export const EXIT = {
  ok: 0,
  runtime: 1,
  usage: 2,
  invalidInput: 3,
  io: 4,
  gate: 5,
  interrupted: 130,
} as const;

export class GistError extends Error {
  readonly exitCode: number = EXIT.runtime;
  readonly code: string = 'RUNTIME';
}

/** Bad flags or option values (K ≤ 0, θ ∉ (0,1], unknown config key, ...). */
export class UsageError extends GistError {
  override readonly exitCode: number = EXIT.usage;
  override readonly code: string = 'USAGE';
}

/** Input data that violates the schema or value rules; names file, column and row where it applies. */
export class InputDataError extends GistError {
  override readonly exitCode: number = EXIT.invalidInput;
  override readonly code: string = 'INVALID_INPUT';
  constructor(
    message: string,
    readonly file?: string,
    readonly column?: string,
    readonly row?: number,
  ) {
    const where = [file, column !== undefined ? `column ${column}` : undefined, row !== undefined ? `row ${row}` : undefined]
      .filter((s) => s !== undefined)
      .join(', ');
    super(where ? `${where}: ${message}` : message);
  }
}

/** Unreadable input path, unwritable output, disk full. */
export class IoError extends GistError {
  override readonly exitCode: number = EXIT.io;
  override readonly code: string = 'IO';
}

/** The CI regression gate found a metric that dropped too far. */
export class GateError extends GistError {
  override readonly exitCode: number = EXIT.gate;
  override readonly code: string = 'GATE';
}

/** SIGINT: work stopped after saving a checkpoint. */
export class InterruptedError extends GistError {
  override readonly exitCode: number = EXIT.interrupted;
  override readonly code: string = 'INTERRUPTED';
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof GistError) return err.exitCode;
  const e = err as { exitCode?: unknown };
  if (e && typeof e.exitCode === 'number') return e.exitCode;
  return EXIT.runtime;
}
