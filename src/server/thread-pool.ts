import { Worker, type ResourceLimits, type Transferable } from 'node:worker_threads';
import { ZkinferError, isZkinferError, type ErrorCode } from '../errors.js';

/**
 * A small fixed set of worker threads for CPU-bound request work (model
 * inspection, proof verification), so the API's event loop only parses and
 * answers. Each task has a deadline: a thread that misses it is terminated
 * and replaced, and its caller gets TASK_TIMEOUT. Each thread has a heap cap;
 * a task that exceeds it gets TASK_FAILED and its thread is replaced. When
 * every thread is busy and `maxQueued` tasks wait, more are refused at once
 * with POOL_BUSY (an API answers 503) instead of piling up.
 *
 * A task is a module (by URL) exporting `runTask(payload)`; its result and
 * errors cross the thread boundary by structured clone. A ZkinferError comes
 * back as a ZkinferError with the same code, message and fields.
 */
export interface ThreadPoolOptions {
  /** Worker threads. @defaultValue 2 */
  readonly size: number;
  /** Tasks that may wait for a thread; beyond that, POOL_BUSY. @defaultValue 64 */
  readonly maxQueued: number;
  /** Longest a task may run, in ms, before its thread is terminated. @defaultValue 30000 */
  readonly timeoutMs: number;
  /** Per-thread V8 limits. @defaultValue { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 64, stackSizeMb: 4 } */
  readonly resourceLimits: ResourceLimits;
}

export const THREAD_POOL_DEFAULTS: Readonly<ThreadPoolOptions> = Object.freeze({
  size: 2,
  maxQueued: 64,
  timeoutMs: 30_000,
  resourceLimits: Object.freeze({ maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 64, stackSizeMb: 4 }),
});

export interface RunOptions {
  /** This task's deadline, in ms. @defaultValue the pool's timeoutMs */
  readonly timeoutMs?: number;
  /** Buffers moved to the thread instead of copied. */
  readonly transfer?: readonly Transferable[];
}

export interface PoolStats {
  readonly size: number;
  readonly threads: number;
  readonly busy: number;
  readonly queued: number;
  readonly completed: number;
  readonly failed: number;
  readonly timedOut: number;
  /** Threads started, replacements included. */
  readonly started: number;
}

/** An error as it crosses the thread boundary. */
export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly userFault: boolean;
  readonly name?: string;
  /** Extra fields of the error (a limit's name and figures, unsupported nodes). */
  readonly details?: Record<string, unknown>;
}

/** Messages between the pool and a thread (see thread-worker.ts). */
export type ToThread = { readonly id: number; readonly module: string; readonly payload: unknown };
export type FromThread =
  | { readonly ready: true }
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

/** An error as a thread sends it: its code and fields if it is a ZkinferError, TASK_FAILED otherwise. */
export function toWire(e: unknown): WireError {
  if (isZkinferError(e)) {
    const details: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) if (k !== 'code' && k !== 'userFault') details[k] = v;
    return { code: e.code, message: e.message, userFault: e.userFault, name: e.name, details };
  }
  const err = e as Error;
  return { code: 'TASK_FAILED', message: `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`, userFault: false };
}

/** The ZkinferError a thread reported, rebuilt on this side. */
export function fromWire(w: WireError): ZkinferError {
  const e = new ZkinferError(w.code as ErrorCode, w.message);
  if (w.name) e.name = w.name;
  if (w.details) Object.assign(e, w.details);
  return e;
}

interface Task {
  readonly id: number;
  readonly module: string;
  readonly payload: unknown;
  readonly timeoutMs: number;
  readonly transfer: readonly Transferable[];
  resolve(v: unknown): void;
  reject(e: Error): void;
}

interface Thread {
  readonly worker: Worker;
  ready: boolean;
  task: Task | null;
  timer: NodeJS.Timeout | null;
  /** Set once the thread is being dropped: its later events are ignored. */
  dead: boolean;
}

const ENTRY = new URL('./thread-worker.ts', import.meta.url).href;

/**
 * The thread's first code, plain JavaScript: registers tsx's loader in this
 * thread (loader hooks are per thread; `--import` in a Worker's execArgv is
 * not applied to its entry module on Node 20), then loads the entry.
 */
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((e) => { setImmediate(() => { throw e; }); });
`;

export class ThreadPool {
  readonly options: ThreadPoolOptions;
  private readonly threads: Thread[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  private counts = { completed: 0, failed: 0, timedOut: 0, started: 0 };
  private readonly tsx: string | null;

  constructor(options: Partial<ThreadPoolOptions> = {}) {
    const o = { ...THREAD_POOL_DEFAULTS, ...options };
    const int = (name: string, v: number, min: number) => {
      if (!Number.isSafeInteger(v) || v < min) throw new ZkinferError('USAGE', `thread pool ${name} must be an integer >= ${min}, got ${v}`);
    };
    int('size', o.size, 1);
    int('maxQueued', o.maxQueued, 0);
    int('timeoutMs', o.timeoutMs, 1);
    this.options = Object.freeze(o);
    this.tsx = ENTRY.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : null;
  }

  /**
   * Runs `module`'s runTask(payload) on a thread. Rejects with POOL_BUSY at
   * once when the queue is full, TASK_TIMEOUT past the deadline, TASK_FAILED
   * if the thread dies (out of memory), or the task's own ZkinferError.
   */
  run<T>(module: string, payload: unknown, opts: RunOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new ZkinferError('TASK_FAILED', 'the thread pool is closed'));
    const idle = this.threads.some((t) => t.ready && !t.task) || this.threads.length < this.options.size;
    if (!idle && this.queue.length >= this.options.maxQueued) {
      return Promise.reject(new ZkinferError('POOL_BUSY', `all ${this.options.size} worker threads are busy and ${this.queue.length} tasks wait; retry later`));
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        id: this.nextId++, module, payload, timeoutMs: opts.timeoutMs ?? this.options.timeoutMs, transfer: opts.transfer ?? [],
        resolve: resolve as (v: unknown) => void, reject,
      });
      this.dispatch();
    });
  }

  stats(): PoolStats {
    return {
      size: this.options.size,
      threads: this.threads.length,
      busy: this.threads.filter((t) => t.task).length,
      queued: this.queue.length,
      ...this.counts,
    };
  }

  /** Terminates every thread; running and waiting tasks fail. */
  async close(): Promise<void> {
    this.closed = true;
    const gone = new ZkinferError('TASK_FAILED', 'the thread pool is closed');
    for (const t of this.queue.splice(0)) t.reject(gone);
    await Promise.all([...this.threads].map((t) => this.drop(t, gone)));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const t = this.threads.find((x) => x.ready && !x.task);
      if (!t) {
        const starting = this.threads.filter((x) => !x.ready).length;
        if (this.threads.length < this.options.size && starting < this.queue.length) {
          this.spawn();
          continue;
        }
        return;
      }
      this.start(t, this.queue.shift()!);
    }
  }

  private start(t: Thread, task: Task): void {
    t.task = task;
    t.worker.ref();
    // The deadline counts from the task's start on a ready thread, not from the thread's boot.
    t.timer = setTimeout(() => {
      this.counts.timedOut++;
      void this.drop(t, new ZkinferError('TASK_TIMEOUT', `the task took longer than ${task.timeoutMs} ms; its thread was stopped`));
    }, task.timeoutMs);
    try {
      t.worker.postMessage({ id: task.id, module: task.module, payload: task.payload } satisfies ToThread, task.transfer as Transferable[]);
    } catch (e) {
      // A payload that cannot be cloned never reached the thread.
      this.finish(t);
      this.counts.failed++;
      task.reject(new ZkinferError('TASK_FAILED', `the task's payload cannot be sent to a thread: ${(e as Error).message}`));
    }
  }

  private finish(t: Thread): Task | null {
    const task = t.task;
    if (t.timer) clearTimeout(t.timer);
    t.timer = null;
    t.task = null;
    if (!t.dead) t.worker.unref();
    return task;
  }

  private spawn(): void {
    const worker = new Worker(BOOT, {
      eval: true,
      // `mod`: ffjavascript's web-worker package takes any worker thread that
      // loads it for one of its own and runs workerData.mod; an empty data URL
      // gives it nothing to run instead of an error.
      workerData: { tsx: this.tsx, entry: ENTRY, mod: 'data:,' },
      resourceLimits: this.options.resourceLimits,
    });
    this.counts.started++;
    const t: Thread = { worker, ready: false, task: null, timer: null, dead: false };
    this.threads.push(t);
    worker.on('message', (m: FromThread) => {
      if (t.dead) return;
      if ('ready' in m) {
        t.ready = true;
        worker.unref();
        this.dispatch();
        return;
      }
      const task = t.task;
      if (!task || task.id !== m.id) return;
      this.finish(t);
      if (m.ok) {
        this.counts.completed++;
        task.resolve(m.value);
      } else {
        this.counts.failed++;
        task.reject(fromWire(m.error));
      }
      this.dispatch();
    });
    worker.on('error', (e: Error & { code?: string }) => {
      if (t.dead) return;
      const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
      const max = this.options.resourceLimits.maxOldGenerationSizeMb;
      void this.drop(t, new ZkinferError('TASK_FAILED', oom ? `the task ran out of memory (${max} MB heap per thread)` : `a worker thread failed: ${e.message}`));
    });
    worker.on('exit', (code) => {
      if (t.dead) return;
      void this.drop(t, new ZkinferError('TASK_FAILED', `a worker thread exited (code ${code})`));
    });
  }

  /**
   * Removes a thread (terminating it) and fails its task with `err`. A thread
   * that dies while starting fails the oldest waiting task instead, so a
   * broken entry module cannot leave callers waiting forever.
   */
  private async drop(t: Thread, err: ZkinferError): Promise<void> {
    if (t.dead) return;
    const booting = !t.ready;
    const task = this.finish(t);
    t.dead = true;
    const i = this.threads.indexOf(t);
    if (i >= 0) this.threads.splice(i, 1);
    if (task) {
      if (err.code !== 'TASK_TIMEOUT') this.counts.failed++;
      task.reject(err);
    } else if (booting && !this.closed) {
      const head = this.queue.shift();
      if (head) {
        this.counts.failed++;
        head.reject(err);
      }
    }
    const stopped = t.worker.terminate().catch(() => {});
    if (!this.closed) this.dispatch();
    await stopped;
  }
}
