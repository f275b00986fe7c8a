import { randomUUID } from 'node:crypto';
import { Job, Queue, QueueEvents, type ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { CompileJobData, CompileResult, JobProgress, JobStatus, ProveJobData, ProveResult } from './jobs.js';
import { QUEUE_PREFIX, QUEUES } from './jobs.js';
import type { FinishedListener, JobQueue, JobView } from './job-queue.js';
import { decodeFailure } from './failure.js';
import { API_REDIS_OPTIONS, queueError } from './redis-errors.js';
import { liveWorkers } from './workers.js';

/**
 * Attempts per job. Only failures whose code the error table marks
 * retryable (a lost worker, an internal error) use more than one; the worker
 * fails the others at once (UnrecoverableError).
 */
const JOB_OPTIONS = Object.freeze({
  attempts: 3,
  backoff: { type: 'fixed' as const, delay: 500 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
});

/** Re-reads of a job whose data lags its state (never seen past one). */
const CONSISTENT_READS = 3;

/**
 * A job's view, read state first, then its data: a job's result and its
 * finished state are written in one step, so data read after a finished
 * state always holds the result (data read before could predate it and
 * show "done" with no receipt).
 */
async function view<D, R>(queue: Queue, id: string, running: JobStatus): Promise<JobView<D, R> | null> {
  for (let i = 0; ; i++) {
    const state = await queue.getJobState(id);
    const job = await Job.fromId(queue, id);
    if (!job) return null;
    const finishedWithoutData = (state === 'completed' && job.finishedOn === undefined) || (state === 'failed' && job.failedReason === undefined);
    if (finishedWithoutData && i < CONSISTENT_READS) continue;
    const reported = typeof job.progress === 'object' && job.progress !== null ? (job.progress as Partial<JobProgress>) : {};
    let status: JobStatus;
    if (state === 'completed') status = 'done';
    else if (state === 'failed') status = 'failed';
    else if (state === 'active') status = reported.status ?? running;
    else status = 'queued';
    const active = state === 'active';
    return {
      id: job.id!,
      status,
      phase: active ? reported.phase ?? null : null,
      progress: status === 'done' ? 1 : active ? reported.progress ?? 0 : 0,
      data: job.data as D,
      result: state === 'completed' ? ((job.returnvalue ?? null) as R | null) : null,
      error: state === 'failed' ? decodeFailure(job.failedReason) : null,
      attempts: job.attemptsMade,
      createdAt: job.timestamp,
      finishedAt: job.finishedOn ?? null,
    };
  }
}

/** Runs a queue command; a Redis that is down becomes QUEUE_UNAVAILABLE. */
async function q<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw queueError(e);
  }
}

/** Concurrent long-polls one API process serves before Node warns of a listener leak. */
const MAX_LONG_POLLS = 10_000;

export class BullQueue implements JobQueue {
  readonly kind = 'redis' as const;
  private readonly compile: Queue;
  private readonly prove: Queue;
  private readonly proveEvents: QueueEvents;
  private readonly compileEvents: QueueEvents;
  private readonly redis: Redis;
  private readonly listeners: FinishedListener[] = [];

  constructor(connection: ConnectionOptions, private readonly prefix = QUEUE_PREFIX) {
    // Commands fail at once while Redis is down (the API answers 503); the
    // event streams keep their blocking reads and reconnect by themselves.
    const api = { ...(connection as RedisOptions), ...API_REDIS_OPTIONS } as ConnectionOptions & RedisOptions;
    this.compile = new Queue(QUEUES.compile, { connection: api, prefix });
    this.prove = new Queue(QUEUES.prove, { connection: api, prefix });
    this.redis = new Redis(api);
    this.redis.on('error', () => {});
    this.proveEvents = new QueueEvents(QUEUES.prove, { connection, prefix });
    // Each long-poll (GET /v1/proofs/:id?wait=S) listens on the queue and its
    // events until it ends: many concurrent clients are expected, not a leak.
    this.prove.setMaxListeners(MAX_LONG_POLLS);
    this.proveEvents.setMaxListeners(MAX_LONG_POLLS);
    this.compileEvents = new QueueEvents(QUEUES.compile, { connection, prefix });
    for (const [kind, ev] of [['prove', this.proveEvents], ['compile', this.compileEvents]] as const) {
      ev.on('completed', ({ jobId }) => this.listeners.forEach((l) => l(kind, jobId)));
      ev.on('failed', ({ jobId }) => this.listeners.forEach((l) => l(kind, jobId)));
    }
    // Connection errors surface on the commands that fail; not as unhandled events.
    this.compile.on('error', () => {});
    this.prove.on('error', () => {});
    this.proveEvents.on('error', () => {});
    this.compileEvents.on('error', () => {});
  }

  async ready(): Promise<void> {
    await Promise.all([this.compile.waitUntilReady(), this.prove.waitUntilReady(), this.proveEvents.waitUntilReady(), this.compileEvents.waitUntilReady()]);
  }

  async addCompile(data: CompileJobData): Promise<void> {
    await q(() => this.compile.add('compile', data, { ...JOB_OPTIONS, jobId: data.modelId }));
  }

  async removeCompile(id: string): Promise<void> {
    await q(async () => (await Job.fromId(this.compile, id))?.remove());
  }

  async addProve(data: ProveJobData): Promise<string> {
    // Random ids: a proof's id is the capability to read its receipt.
    const job = await q(() => this.prove.add('prove', data, { ...JOB_OPTIONS, jobId: randomUUID() }));
    return job.id!;
  }

  async getCompile(id: string) {
    return q(() => view<CompileJobData, CompileResult>(this.compile, id, 'compiling'));
  }

  async getProve(id: string) {
    return q(() => view<ProveJobData, ProveResult>(this.prove, id, 'queued'));
  }

  async listCompiles(limit: number) {
    return q(async () => {
      const jobs = await this.compile.getJobs(['completed', 'active', 'waiting', 'delayed', 'failed'], 0, limit - 1);
      const views = await Promise.all(jobs.map((j) => view<CompileJobData, CompileResult>(this.compile, j.id!, 'compiling')));
      return views.filter((v): v is NonNullable<typeof v> => v !== null);
    });
  }

  async waitProve(id: string, ms: number): Promise<void> {
    const job = await q(() => Job.fromId(this.prove, id));
    if (!job) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([job.waitUntilFinished(this.proveEvents, ms).catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
    // A long-poll that ended early must not keep the process alive on shutdown.
    clearTimeout(timer);
  }

  onFinished(listener: FinishedListener): void {
    this.listeners.push(listener);
  }

  async counts(): Promise<Record<string, number>> {
    const [p, c] = await q(() => Promise.all([
      this.prove.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed'),
      this.compile.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed'),
    ]));
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(p)) out[`prove_${k}`] = v;
    for (const [k, v] of Object.entries(c)) out[`compile_${k}`] = v;
    return out;
  }

  async liveWorkers(): Promise<number> {
    return q(() => liveWorkers(this.redis, this.prefix));
  }

  async close(): Promise<void> {
    await Promise.all([this.proveEvents.close(), this.compileEvents.close(), this.compile.close(), this.prove.close()]);
    this.redis.disconnect();
  }
}
