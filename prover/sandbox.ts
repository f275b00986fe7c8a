/**
 * The worker's side of its prover children. Every running job is bound to a
 * live child: the child's exit, for whatever reason, fails the job at once
 * (WORKER_LOST), and a job past its deadline has its child killed (JOB_TIMEOUT).
 * So no job waits on a process that is gone, and no child outlives its job's
 * deadline.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ZkinferError, isErrorCode, type ErrorCode } from '../src/errors.js';
import type { ReportProgress } from '../src/queue/jobs.js';
import type { FromChild, ToChild } from './child.js';
import type { JobKind } from './processor.js';

const CHILD = path.resolve(path.dirname(new URL(import.meta.url).pathname), 'child.ts');

/** How long a child may take to start (tsx, imports) before it counts as failed. */
const START_MS = 60_000;

export interface RunOptions {
  deadlineMs: number;
  report: ReportProgress;
}

interface Running {
  id: string;
  reject(e: Error): void;
}

/** One prover child process; runs one job at a time. */
export class ProverChild {
  private readonly proc: ChildProcess;
  private readonly started: Promise<void>;
  private running: Running | null = null;
  private exited: string | null = null;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const tsx = import.meta.resolve('tsx');
    this.proc = fork(CHILD, [], { execArgv: ['--import', tsx], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    // First listener: every other one sees how the process ended.
    this.proc.on('exit', (code, signal) => {
      this.exited = signal ? `signal ${signal}` : `exit code ${code}`;
      this.running?.reject(this.lost());
    });
    this.started = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new ZkinferError('WORKER_LOST', `the prover process did not start within ${START_MS / 1000} s`)), START_MS);
      this.proc.once('message', (m: FromChild) => (m?.type === 'ready' ? (clearTimeout(t), resolve()) : undefined));
      this.proc.once('exit', () => (clearTimeout(t), reject(this.lost())));
    });
    this.started.catch(() => this.kill());
    this.proc.on('error', () => {});
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get alive(): boolean {
    if (this.exited !== null || this.proc.exitCode !== null || this.proc.signalCode !== null) return false;
    try {
      process.kill(this.proc.pid!, 0);
      return true;
    } catch {
      return false;
    }
  }

  get busy(): boolean {
    return this.running !== null;
  }

  private lost(): ZkinferError {
    const how = this.exited ?? 'an unknown cause';
    const oom = /SIGKILL/.test(how) ? ' (killed: out of memory, or by an operator)' : '';
    return new ZkinferError('WORKER_LOST', `the prover process died with ${how}${oom} before the job finished`);
  }

  /** Runs one job; rejects with the job's own error, WORKER_LOST or JOB_TIMEOUT. */
  async run(id: string, kind: JobKind, data: unknown, o: RunOptions): Promise<unknown> {
    if (this.running) throw new Error(`prover process ${this.pid} is busy`);
    const t0 = Date.now();
    let timer: NodeJS.Timeout | undefined;
    let onMessage: ((m: FromChild) => void) | undefined;
    try {
      return await new Promise<unknown>((resolve, reject) => {
        this.running = { id, reject };
        if (!this.alive) return reject(this.lost());
        timer = setTimeout(() => {
          reject(new ZkinferError('JOB_TIMEOUT', `${kind} job ${id} passed its deadline of ${Math.round(o.deadlineMs / 1000)} s; its prover process was killed`));
          this.kill();
        }, Math.max(0, o.deadlineMs - (Date.now() - t0)));
        onMessage = (m: FromChild) => {
          if (!m || !('id' in m) || m.id !== id) return;
          if (m.type === 'progress') o.report(m.progress);
          else if (m.type === 'done') resolve(m.value);
          else if (m.type === 'failed') reject(new ZkinferError(codeOf(m.error.code), m.error.message));
        };
        this.proc.on('message', onMessage);
        this.started.then(() => {
          if (this.running?.id === id) this.proc.send({ type: 'run', id, kind, data } satisfies ToChild, (e) => e && reject(this.lost()));
        }, reject);
      });
    } finally {
      clearTimeout(timer);
      if (onMessage) this.proc.off('message', onMessage);
      this.running = null;
    }
  }

  /** Fails the running job if its process is gone without an exit event (a backstop). */
  check(): void {
    if (this.running && !this.alive) this.running.reject(this.lost());
  }

  /** Ends the child at once; a running job fails with WORKER_LOST. */
  kill(): void {
    try {
      this.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Resolves when the child has exited. */
  exitedPromise(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((r) => this.proc.once('exit', () => r()));
  }
}

const codeOf = (c: string): ErrorCode => (isErrorCode(c) ? c : 'INTERNAL');

/**
 * Prover children of one worker: proof children are kept and reused (loaded
 * models stay loaded); a compile child is made for its job and ended after
 * it, so the memory key generation took goes back to the system.
 */
export class ChildPool {
  private readonly idle: ProverChild[] = [];
  private readonly all = new Set<ProverChild>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  private spawn(): ProverChild {
    const c = new ProverChild(this.env);
    this.all.add(c);
    void c.exitedPromise().then(() => {
      this.all.delete(c);
      const i = this.idle.indexOf(c);
      if (i >= 0) this.idle.splice(i, 1);
    });
    return c;
  }

  /** Starts a proof child ahead of the first job, so it pays tsx's start-up once. */
  warm(): void {
    if (this.idle.length === 0) this.idle.push(this.spawn());
  }

  async run(id: string, kind: JobKind, data: unknown, o: RunOptions): Promise<unknown> {
    let child: ProverChild | undefined;
    if (kind === 'prove') {
      while (this.idle.length && !child) {
        const c = this.idle.pop()!;
        if (c.alive) child = c;
      }
    }
    child ??= this.spawn();
    let reuse = false;
    try {
      const v = await child.run(id, kind, data, o);
      reuse = kind === 'prove';
      return v;
    } catch (e) {
      // A job's own failure leaves its proof child usable; anything else ends it.
      reuse = kind === 'prove' && e instanceof ZkinferError && e.code !== 'WORKER_LOST' && e.code !== 'JOB_TIMEOUT';
      throw e;
    } finally {
      if (reuse && child.alive) this.idle.push(child);
      else child.kill();
    }
  }

  /** Watchdog: every running job must have a live process. */
  check(): void {
    for (const c of this.all) c.check();
  }

  pids(): number[] {
    return [...this.all].map((c) => c.pid!).filter(Boolean);
  }

  /** Kills every child and waits until they are gone. */
  async killAll(): Promise<void> {
    const cs = [...this.all];
    cs.forEach((c) => c.kill());
    await Promise.all(cs.map((c) => c.exitedPromise()));
  }
}
