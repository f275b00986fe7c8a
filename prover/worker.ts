import os from 'node:os';
import path from 'node:path';
import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import { QUEUE_PREFIX, QUEUES } from '../src/queue/jobs.js';

export interface WorkerOptions {
  readonly connection: ConnectionOptions;
  /** Local artifact store directory. */
  readonly storeDir: string;
  readonly workDir: string;
  /** API to fetch missing artifacts from (workers on other machines). */
  readonly apiUrl: string | null;
  readonly token: string | null;
  /** Proof jobs at once in this worker. @defaultValue 1 */
  readonly concurrency: number;
  /** How long a job's lock lives without renewal before the job counts as stalled. @defaultValue 30000 */
  readonly lockDuration: number;
  /** How often stalled jobs are looked for. @defaultValue 15000 */
  readonly stalledInterval: number;
  readonly prefix: string;
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
}

export const WORKER_DEFAULTS = Object.freeze({
  concurrency: 1,
  lockDuration: 30_000,
  stalledInterval: 15_000,
  prefix: QUEUE_PREFIX,
  apiUrl: null,
  token: null,
});

const PROCESSOR = path.resolve(path.dirname(new URL(import.meta.url).pathname), 'processor.ts');

export interface RunningWorker {
  /** Lets running jobs finish (up to timeoutMs), then stops. */
  close(timeoutMs?: number): Promise<void>;
  workers: Worker[];
}

/** Starts prover and compiler workers on the BullMQ queues, with sandboxed processors. */
export async function startWorker(opts: Partial<WorkerOptions> & Pick<WorkerOptions, 'connection' | 'storeDir' | 'workDir' | 'log'>): Promise<RunningWorker> {
  const o = { ...WORKER_DEFAULTS, ...opts };
  process.env.ZKINFER_STORE_DIR = o.storeDir;
  process.env.ZKINFER_WORK_DIR = o.workDir;
  if (o.apiUrl) process.env.ZKINFER_API_URL = o.apiUrl;
  if (o.token) process.env.ZKINFER_WORKER_TOKEN = o.token;
  const tsx = import.meta.resolve('tsx');
  const common = {
    // Recorded on each job it takes (job.processedBy).
    name: `${os.hostname()}:${process.pid}`,
    connection: o.connection,
    prefix: o.prefix,
    lockDuration: o.lockDuration,
    stalledInterval: o.stalledInterval,
    maxStalledCount: 2,
    useWorkerThreads: false,
    workerForkOptions: { execArgv: ['--import', tsx] },
  };
  const workers = [
    new Worker(QUEUES.prove, PROCESSOR, { ...common, concurrency: o.concurrency }),
    new Worker(QUEUES.compile, PROCESSOR, { ...common, concurrency: 1 }),
  ];
  for (const w of workers) {
    w.on('active', (job: Job) => o.log('job started', { queue: w.name, jobId: job.id, attempt: job.attemptsMade + 1 }));
    w.on('completed', (job: Job) => o.log('job done', { queue: w.name, jobId: job.id }));
    w.on('failed', (job: Job | undefined, err: Error) => o.log('job failed', { queue: w.name, jobId: job?.id, error: err.message }));
    w.on('error', (err: Error) => o.log('worker error', { queue: w.name, error: err.message }));
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  return {
    workers,
    async close(timeoutMs = 60_000) {
      const graceful = Promise.all(workers.map((w) => w.close()));
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
      if ((await Promise.race([graceful, timer])) === 'timeout') await Promise.all(workers.map((w) => w.close(true)));
    },
  };
}
