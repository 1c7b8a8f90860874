/**
 * A small pool of worker threads for retrieval work (GSU search, HNSW build and queries). Each worker gets its
 * own workerData (e.g. its scratch slot); tasks go to whichever worker is idle, results come back in a Promise.
 * Workers are plain modules next to this file: `.ts` when running from sources (tsx), `.js` once built.
 * A worker module posts one message (anything) when it has loaded, then one reply per task.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';

/** URL of a sibling worker module, matching how this module itself was loaded (.ts via tsx, or built .js). */
export function workerUrl(base: string): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${base}${ext}`, import.meta.url);
}

/**
 * Start a worker on `url`. A `.ts` worker (running from sources) is started through a small bootstrap that
 * registers tsx in the worker first: Node 20 does not apply `--import tsx` hooks to a worker's entry module.
 */
function startWorker(url: URL, workerData: unknown): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

interface Pending<R> {
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

export class WorkerPool<T, R> {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { task: T; transfer: TransferListItem[]; pending: Pending<R> }[] = [];
  private readonly busy = new Map<Worker, Pending<R>>();
  private failure: Error | null = null;

  constructor(url: URL, workerData: readonly unknown[]) {
    for (const data of workerData) {
      const w = startWorker(url, data);
      let started = false;
      w.on('message', (r: R) => {
        if (!started) {
          // a worker's first message says it has loaded
          started = true;
          if (++this.started === this.workers.length) this.readyResolve();
          return;
        }
        const p = this.busy.get(w);
        this.busy.delete(w);
        this.idle.push(w);
        p?.resolve(r);
        this.pump();
      });
      w.on('error', (err: Error) => this.fail(err));
      w.on('exit', (code) => {
        if (code !== 0 && !this.closing) this.fail(new Error(`retrieval worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  private closing = false;
  private started = 0;
  private readyResolve: () => void = () => undefined;
  /** Resolves once every worker has loaded (its module posted its first message). */
  readonly ready: Promise<void> = new Promise((resolve) => {
    this.readyResolve = resolve;
  });

  get size(): number {
    return this.workers.length;
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const p of this.busy.values()) p.reject(err);
    this.busy.clear();
    for (const q of this.queue.splice(0)) q.pending.reject(err);
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.shift() as Worker;
      const { task, transfer, pending } = this.queue.shift() as (typeof this.queue)[number];
      this.busy.set(w, pending);
      w.postMessage(task, transfer);
    }
  }

  run(task: T, transfer: TransferListItem[] = []): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ task, transfer, pending: { resolve, reject } });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
