import { randomUUID } from 'node:crypto';
import { Job, Queue, QueueEvents, type ConnectionOptions } from 'bullmq';
import type { CompileJobData, CompileResult, JobProgress, JobStatus, ProveJobData, ProveResult } from './jobs.js';
import { QUEUE_PREFIX, QUEUES } from './jobs.js';
import type { FinishedListener, JobQueue, JobView } from './job-queue.js';

/** Retries for jobs whose worker died; unrecoverable failures are not retried. */
const JOB_OPTIONS = Object.freeze({
  attempts: 3,
  backoff: { type: 'fixed' as const, delay: 500 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
});

async function view<D, R>(job: Job | undefined, running: JobStatus): Promise<JobView<D, R> | null> {
  if (!job) return null;
  const state = await job.getState();
  const progress = job.progress as Partial<JobProgress> | number;
  let status: JobStatus;
  if (state === 'completed') status = 'done';
  else if (state === 'failed') status = 'failed';
  else if (state === 'active') status = typeof progress === 'object' && progress.phase ? progress.phase : running;
  else status = 'queued';
  return {
    id: job.id!,
    status,
    data: job.data as D,
    result: state === 'completed' ? (job.returnvalue as R) : null,
    error: state === 'failed' ? job.failedReason ?? 'failed' : null,
    attempts: job.attemptsMade,
    createdAt: job.timestamp,
    finishedAt: job.finishedOn ?? null,
  };
}

/** Concurrent long-polls one API process serves before Node warns of a listener leak. */
const MAX_LONG_POLLS = 10_000;

export class BullQueue implements JobQueue {
  readonly kind = 'redis' as const;
  private readonly compile: Queue;
  private readonly prove: Queue;
  private readonly proveEvents: QueueEvents;
  private readonly compileEvents: QueueEvents;
  private readonly listeners: FinishedListener[] = [];

  constructor(connection: ConnectionOptions, prefix = QUEUE_PREFIX) {
    this.compile = new Queue(QUEUES.compile, { connection, prefix });
    this.prove = new Queue(QUEUES.prove, { connection, prefix });
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
  }

  async ready(): Promise<void> {
    await Promise.all([this.compile.waitUntilReady(), this.prove.waitUntilReady(), this.proveEvents.waitUntilReady(), this.compileEvents.waitUntilReady()]);
  }

  async addCompile(data: CompileJobData): Promise<void> {
    await this.compile.add('compile', data, { ...JOB_OPTIONS, jobId: data.modelId });
  }

  async removeCompile(id: string): Promise<void> {
    await (await Job.fromId(this.compile, id))?.remove();
  }

  async addProve(data: ProveJobData): Promise<string> {
    // Random ids: a proof's id is the capability to read its receipt.
    const job = await this.prove.add('prove', data, { ...JOB_OPTIONS, jobId: randomUUID() });
    return job.id!;
  }

  async getCompile(id: string) {
    return view<CompileJobData, CompileResult>(await Job.fromId(this.compile, id), 'compiling');
  }

  async getProve(id: string) {
    return view<ProveJobData, ProveResult>(await Job.fromId(this.prove, id), 'queued');
  }

  async listCompiles(limit: number) {
    const jobs = await this.compile.getJobs(['completed', 'active', 'waiting', 'delayed', 'failed'], 0, limit - 1);
    const views = await Promise.all(jobs.map((j) => view<CompileJobData, CompileResult>(j, 'compiling')));
    return views.filter((v): v is NonNullable<typeof v> => v !== null);
  }

  async waitProve(id: string, ms: number): Promise<void> {
    const job = await Job.fromId(this.prove, id);
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
    const [p, c] = await Promise.all([
      this.prove.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed'),
      this.compile.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed'),
    ]);
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(p)) out[`prove_${k}`] = v;
    for (const [k, v] of Object.entries(c)) out[`compile_${k}`] = v;
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([this.proveEvents.close(), this.compileEvents.close(), this.compile.close(), this.prove.close()]);
  }
}
