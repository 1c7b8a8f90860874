/**
 * Single-file outputs (`export --out`, `evaluate --html/--save-metrics`): `-` is standard output; a new path or a
 * regular file is written to a temp name beside it and renamed (readers never see a partial file); a symlink is
 * followed and the same rules apply to what it names (the link itself stays); a device or pipe (`/dev/stdout`,
 * `/dev/null`, a FIFO, or the process's own stdout/stderr whatever it is) is written through in place; anything else
 * (a folder, another socket, a dangling link) is refused with an IoError (exit 4). Nothing here ever renames over a path that is not a regular file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from './arrow-io.js';
import { IoError } from './errors.js';

/** The output name that means standard output. */
export const STDOUT = '-';

export function isStdout(file: string | undefined): boolean {
  return file === STDOUT;
}

/** Where the bytes of one output go, decided before anything is written. */
export type SinkTarget = { kind: 'stdout' } | { kind: 'atomic'; final: string } | { kind: 'through'; path: string } | { kind: 'fd'; fd: number };

/** The standard stream (1 or 2) that `st` is, if any: /dev/stdout may name a socket, which cannot be opened by path. */
function standardStreamOf(st: fs.Stats): number | null {
  for (const fd of [1, 2]) {
    try {
      const s = fs.fstatSync(fd);
      if (s.dev === st.dev && s.ino === st.ino) return fd;
    } catch {
      /* closed */
    }
  }
  return null;
}

/** Decide how `file` is written (see the module comment); throws IoError for paths that cannot be outputs. */
export function sinkTarget(file: string): SinkTarget {
  if (isStdout(file)) return { kind: 'stdout' };
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'atomic', final: file };
    throw new IoError(`${file}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let real = file;
  if (st.isSymbolicLink()) {
    try {
      st = fs.statSync(file);
    } catch {
      throw new IoError(`${file}: is a symbolic link to a missing path; refusing to replace the link`);
    }
    // A link to a pipe (/dev/stdout → /proc/self/fd/1 → pipe:[n]) has no real path: it is written through as named.
    if (st.isFile()) real = fs.realpathSync(file);
  }
  if (st.isFile()) return { kind: 'atomic', final: real };
  const stream = standardStreamOf(st);
  if (stream !== null && !st.isCharacterDevice()) return { kind: 'fd', fd: stream };
  if (st.isCharacterDevice() || st.isFIFO()) return { kind: 'through', path: file };
  const what = st.isDirectory() ? 'a folder' : st.isSocket() ? 'a socket' : st.isBlockDevice() ? 'a block device' : 'not a regular file';
  throw new IoError(`${file}: is ${what}; give a file name`);
}

/**
 * `mkdir -p` that fails instead of spinning: Node's recursive mkdir loops forever where mkdir answers ENOENT under
 * an existing parent (`/proc/x`), so each missing folder is made in turn. Throws the errno error (`code` set).
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let p = path.resolve(dir); ; ) {
    let st: fs.Stats | null = null;
    try {
      st = fs.statSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`${p} is not a folder`), { code: 'ENOTDIR' });
      break;
    }
    missing.push(p);
    const parent = path.dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const p of missing.reverse()) {
    try {
      fs.mkdirSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.statSync(p).isDirectory()) throw err;
    }
  }
}

/** Write all of `bytes` to `fd`, retrying when a non-blocking pipe is full (EAGAIN). */
function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.byteLength) {
    try {
      off += fs.writeSync(fd, bytes, off, bytes.byteLength - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

const encoder = new TextEncoder();

/**
 * A streamed single-file output: `write` as often as needed, then `commit` (the atomic rename, or nothing more for
 * stdout and devices) or `abort` (removes the temp file; nothing reaches the final path).
 */
export class FileSink {
  private fd: number;
  private readonly tmp: string | null;
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly target: SinkTarget,
  ) {
    try {
      if (target.kind === 'stdout' || target.kind === 'fd') {
        this.fd = target.kind === 'fd' ? target.fd : 1;
        this.tmp = null;
      } else if (target.kind === 'through') {
        this.fd = fs.openSync(target.path, 'w');
        this.tmp = null;
      } else {
        const dir = path.dirname(path.resolve(target.final));
        makeDirs(dir);
        this.tmp = path.join(dir, `.${path.basename(target.final)}.tmp-${process.pid}-${Date.now()}`);
        this.fd = fs.openSync(this.tmp, 'w');
      }
    } catch (err) {
      throw new IoError(`${file}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }

  /** Open `file` for writing; `target` when the caller already decided it with sinkTarget. */
  static open(file: string, target: SinkTarget = sinkTarget(file)): FileSink {
    return new FileSink(file, target);
  }

  write(chunk: string | Uint8Array): void {
    try {
      writeAll(this.fd, typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
    } catch (err) {
      this.abort();
      throw new IoError(`${this.file}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }

  commit(): void {
    this.close();
    if (this.tmp === null || this.target.kind !== 'atomic') return;
    try {
      fs.renameSync(this.tmp, this.target.final);
    } catch (err) {
      fs.rmSync(this.tmp, { force: true });
      throw new IoError(`${this.file}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }

  abort(): void {
    this.close();
    if (this.tmp !== null) fs.rmSync(this.tmp, { force: true });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.target.kind !== 'stdout' && this.target.kind !== 'fd') {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* already closed */
      }
    }
  }
}

/** Write one whole output (see the module comment). */
export function writeOutputFile(file: string, bytes: string | Uint8Array): void {
  const target = sinkTarget(file);
  if (target.kind !== 'atomic') {
    const sink = FileSink.open(file, target);
    sink.write(bytes);
    sink.commit();
    return;
  }
  try {
    makeDirs(path.dirname(path.resolve(target.final)));
  } catch (err) {
    throw new IoError(`${file}: cannot create its folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  writeFileAtomic(target.final, bytes);
}
