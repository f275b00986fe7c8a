import os from 'node:os';
import { Redis, type RedisOptions } from 'ioredis';
import { WaitingError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { proverKernels } from '../src/prove/kernels.js';
import { QUEUE_PREFIX, QUEUES, type JobProgress, type ProveJobData } from '../src/queue/jobs.js';
import { toQueueError } from '../src/queue/failure.js';
import { beat, leave, HEARTBEAT } from '../src/queue/workers.js';
import type { ArtifactStore } from '../src/store/store.js';
import { ChildPool } from './sandbox.js';
import { compileDeadlineMs, deadlineConfig, proveDeadlineMs, type DeadlineConfig } from './deadline.js';
import { storeFromEnv } from './store.js';
import type { JobKind } from './processor.js';

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
  /** How often this worker announces itself in Redis (its heartbeat holds 3 times as long). @defaultValue 5000 */
  readonly heartbeatMs: number;
  /** Job deadlines. @defaultValue from ZKINFER_PROVE_TIMEOUT_S, ZKINFER_PROVE_TIMEOUT_MS_PER_ROW, ZKINFER_COMPILE_TIMEOUT_S */
  readonly deadlines: DeadlineConfig;
  readonly prefix: string;
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
}

export const WORKER_DEFAULTS = Object.freeze({
  concurrency: 1,
  lockDuration: 30_000,
  stalledInterval: 15_000,
  heartbeatMs: HEARTBEAT.intervalMs,
  prefix: QUEUE_PREFIX,
  apiUrl: null,
  token: null,
});

/** Times a job may be taken up again after its worker stopped renewing its lock. */
const MAX_STALLED = 2;

export interface RunningWorker {
  /**
   * Stops taking jobs and lets running ones finish for up to timeoutMs; then
   * kills their prover processes and puts the jobs back in the queue. Resolves
   * within timeoutMs plus a few seconds.
   */
  close(timeoutMs?: number): Promise<void>;
  workers: Worker[];
  /** PIDs of this worker's prover processes. */
  childPids(): number[];
}

/** Proof-system rows of a job's model, from its manifest (null if it cannot be read). */
function rowsReader(store: ArtifactStore) {
  const cache = new Map<string, number | null>();
  return async (data: ProveJobData): Promise<number | null> => {
    const h = data.artifacts?.manifest;
    if (!h) return null;
    if (!cache.has(h)) {
      let rows: number | null = null;
      try {
        const m = JSON.parse((await store.get(h))?.toString('utf8') ?? 'null') as { domain?: { rows?: unknown } } | null;
        rows = typeof m?.domain?.rows === 'number' ? m.domain.rows : null;
      } catch {
        rows = null;
      }
      cache.set(h, rows);
    }
    return cache.get(h)!;
  };
}

/** Starts prover and compiler workers on the BullMQ queues; each job runs in a prover child process. */
export async function startWorker(opts: Partial<WorkerOptions> & Pick<WorkerOptions, 'connection' | 'storeDir' | 'workDir' | 'log'>): Promise<RunningWorker> {
  const beatMs = Number(process.env.ZKINFER_HEARTBEAT_MS);
  const o = { ...WORKER_DEFAULTS, deadlines: deadlineConfig(), ...(beatMs > 0 ? { heartbeatMs: beatMs } : {}), ...opts };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ZKINFER_STORE_DIR: o.storeDir,
    ZKINFER_WORK_DIR: o.workDir,
    ...(o.apiUrl ? { ZKINFER_API_URL: o.apiUrl } : {}),
    ...(o.token ? { ZKINFER_WORKER_TOKEN: o.token } : {}),
  };
  const pool = new ChildPool(env);
  const rowsOf = rowsReader(storeFromEnv(env));
  const name = `${os.hostname()}:${process.pid}`;
  let requeue = false;

  const processor = (kind: JobKind) => async (job: Job, token?: string): Promise<unknown> => {
    const deadlineMs = kind === 'compile' ? compileDeadlineMs(o.deadlines) : proveDeadlineMs(o.deadlines, await rowsOf(job.data as ProveJobData));
    // One Redis write per phase change or whole percent, not per event.
    let last: JobProgress | null = null;
    const report = (p: JobProgress) => {
      if (last && last.status === p.status && last.phase === p.phase && Math.floor(p.progress * 100) === Math.floor(last.progress * 100)) return;
      last = p;
      void job.updateProgress({ ...p, at: Date.now() }).catch(() => {});
    };
    try {
      if (requeue) throw new Error('shutting down');
      return await pool.run(job.id!, kind, job.data, { deadlineMs, report });
    } catch (e) {
      if (requeue) {
        // Shutting down: the job goes back to the queue, its attempt not counted.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      throw toQueueError(e);
    }
  };

  const common = {
    // Recorded on each job it takes (job.processedBy), and its heartbeat's name.
    name,
    connection: o.connection,
    prefix: o.prefix,
    lockDuration: o.lockDuration,
    stalledInterval: o.stalledInterval,
    maxStalledCount: MAX_STALLED,
  };
  o.log('prover kernels', { kernels: proverKernels() });
  const workers = [
    new Worker(QUEUES.prove, processor('prove'), { ...common, concurrency: o.concurrency }),
    new Worker(QUEUES.compile, processor('compile'), { ...common, concurrency: 1 }),
  ];
  for (const w of workers) {
    w.on('active', (job: Job) => o.log('job started', { queue: w.name, jobId: job.id, attempt: job.attemptsMade + 1 }));
    w.on('completed', (job: Job) => o.log('job done', { queue: w.name, jobId: job.id }));
    w.on('failed', (job: Job | undefined, err: Error) => o.log('job failed', { queue: w.name, jobId: job?.id, error: err.message }));
    w.on('error', (err: Error) => o.log('worker error', { queue: w.name, error: err.message }));
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  pool.warm();

  // Its own connection: a heartbeat must not wait behind job commands.
  const client = new Redis({ ...(o.connection as RedisOptions), maxRetriesPerRequest: 1, lazyConnect: false });
  client.on('error', () => {});
  const ttl = o.heartbeatMs * 3;
  const tick = () => {
    pool.check();
    beat(client, o.prefix, name, ttl).catch((e) => o.log('heartbeat failed', { error: (e as Error).message }));
  };
  tick();
  const heartbeat = setInterval(tick, o.heartbeatMs);
  heartbeat.unref();

  let closing: Promise<void> | null = null;
  return {
    workers,
    childPids: () => pool.pids(),
    close(timeoutMs = 60_000) {
      closing ??= (async () => {
        clearInterval(heartbeat);
        await leave(client, o.prefix, name).catch(() => {});
        const graceful = Promise.all(workers.map((w) => w.close()));
        const grace = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
        if ((await Promise.race([graceful, grace])) === 'timeout') {
          o.log('shutdown grace period over: prover processes killed, their jobs back in the queue', { graceMs: timeoutMs });
          requeue = true;
          await pool.killAll();
          const forced = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref());
          if ((await Promise.race([graceful, forced])) === 'timeout') await Promise.all(workers.map((w) => w.close(true)));
        }
        await pool.killAll();
        client.disconnect();
      })();
      return closing;
    },
  };
}
