import { jobProgress } from '../queue/jobs.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import pino from 'pino';
import { Redis } from 'ioredis';
import { createApp } from './app.js';
import { limitsFromEnv } from '../pipeline/limits.js';
import type { ResolveHost } from './webhook.js';
import { serverConfig, type ServerConfig } from './config.js';
import { connectRedis, connectionFromUrl, DEFAULT_REDIS_URL } from './redis.js';
import { BullQueue } from '../queue/bull-queue.js';
import { API_REDIS_OPTIONS } from '../queue/redis-errors.js';
import { LocalQueue } from '../queue/local-queue.js';
import type { JobQueue } from '../queue/job-queue.js';
import { DirStore } from '../store/store.js';
import { runCompileJob } from '../jobs/compile-job.js';
import { runProveJob } from '../jobs/prove-job.js';
import { startWorker, type RunningWorker } from '../../prover/worker.js';
import { releaseCurve } from '../curve.js';

export type Log = (msg: string, fields?: Record<string, unknown>) => void;

export function logger(name: string): Log {
  const l = pino({ name, base: { pid: process.pid } });
  return (msg, fields = {}) => l.info(fields, msg);
}

/**
 * ZKINFER_API_KEYS: comma-separated entries, each `key` or `key:perMinute`
 * (that key's own rate limit). A key may itself contain ':'; only a final
 * `:digits` is read as a limit.
 */
export function parseApiKeys(text: string): { apiKeys: string[]; keyRateLimits: Record<string, number> } {
  const apiKeys: string[] = [];
  const keyRateLimits: Record<string, number> = {};
  for (const raw of text.split(',').map((k) => k.trim()).filter(Boolean)) {
    const m = /^(.+):(\d+)$/.exec(raw);
    const key = m ? m[1] : raw;
    apiKeys.push(key);
    if (m) keyRateLimits[key] = Number(m[2]);
  }
  return { apiKeys, keyRateLimits };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${v}"`);
  return n;
}

/** The server settings the environment sets (README, "The proof service", lists them). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<ServerConfig> {
  const out: { -readonly [K in keyof ServerConfig]?: ServerConfig[K] } = parseApiKeys(env.ZKINFER_API_KEYS ?? '');
  if (env.ZKINFER_WORKER_TOKEN) out.workerToken = env.ZKINFER_WORKER_TOKEN;
  if (env.ZKINFER_STORE_DIR) out.storeDir = env.ZKINFER_STORE_DIR;
  const ints = [
    ['ZKINFER_RATE_LIMIT', 'rateLimitPerMinute'], ['ZKINFER_VERIFY_RATE_LIMIT', 'verifyRateLimitPerMinute'],
    ['ZKINFER_AUTH_FAILURE_LIMIT', 'authFailureLimit'], ['ZKINFER_AUTH_FAILURE_WINDOW', 'authFailureWindowSeconds'],
    ['ZKINFER_WEBHOOK_TIMEOUT_MS', 'webhookTimeoutMs'], ['ZKINFER_WEBHOOK_SWEEP_MS', 'webhookSweepMs'],
    ['ZKINFER_API_THREADS', 'apiThreads'],
  ] as const;
  for (const [name, field] of ints) {
    const n = positiveInt(env, name);
    if (n !== undefined) out[field] = n;
  }
  out.modelLimits = limitsFromEnv(env);
  if (env.ZKINFER_WEBHOOK_ALLOW) out.webhookAllow = env.ZKINFER_WEBHOOK_ALLOW.split(',').map((e) => e.trim()).filter(Boolean);
  const tp = env.ZKINFER_TRUST_PROXY;
  if (tp) out.trustProxy = tp === 'true' ? true : tp === 'false' ? false : tp;
  return out;
}

export interface RunningServer {
  url: string;
  server: Server;
  queue: JobQueue;
  close(): Promise<void>;
}

async function listen(app: import('express').Express, config: ServerConfig): Promise<{ server: Server; url: string }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(config.port, config.host, () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : config.port;
      resolve({ server, url: `http://${config.host}:${port}` });
    });
    server.on('error', reject);
  });
}

/** The API on a Redis-backed queue. Never falls back: no Redis, no start. */
export async function serve(partial: Partial<ServerConfig> & { redisUrl?: string; resolveHost?: ResolveHost } = {}, log: Log = logger('zkinfer-api')): Promise<RunningServer> {
  const { redisUrl: redisOpt, resolveHost, ...settings } = partial;
  const redisUrl = redisOpt ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const config = serverConfig({ ...configFromEnv(), ...settings });
  (await connectRedis(redisUrl)).disconnect();
  const redis = new Redis(redisUrl, { ...API_REDIS_OPTIONS });
  const queue = new BullQueue(connectionFromUrl(redisUrl), process.env.ZKINFER_QUEUE_PREFIX);
  await queue.ready();
  const api = createApp({ config, queue, store: new DirStore(config.storeDir), redis, log, prefix: process.env.ZKINFER_QUEUE_PREFIX, ...(resolveHost ? { resolveHost } : {}) });
  const { server, url } = await listen(api.app, config);
  log('api listening', { url, queue: 'redis', redis: redisUrl, keys: config.apiKeys.length, workerToken: config.workerToken !== null });
  return {
    url, server, queue,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await api.stop();
      await queue.close();
      redis.disconnect();
    },
  };
}

export interface WorkerRun {
  storeDir?: string;
  workDir?: string;
  redisUrl?: string;
  concurrency?: number;
  lockDuration?: number;
  stalledInterval?: number;
}

/** A prover worker on the Redis queues. Never falls back. */
export async function worker(o: WorkerRun = {}, log: Log = logger('zkinfer-worker')): Promise<RunningWorker> {
  const redisUrl = o.redisUrl ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  (await connectRedis(redisUrl)).disconnect();
  const w = await startWorker({
    connection: connectionFromUrl(redisUrl),
    storeDir: o.storeDir ?? process.env.ZKINFER_STORE_DIR ?? serverConfig().storeDir,
    workDir: o.workDir ?? process.env.ZKINFER_WORK_DIR ?? serverConfig().workDir,
    apiUrl: process.env.ZKINFER_API_URL ?? null,
    token: process.env.ZKINFER_WORKER_TOKEN ?? null,
    ...(o.concurrency ? { concurrency: o.concurrency } : {}),
    ...(o.lockDuration ? { lockDuration: o.lockDuration } : {}),
    ...(o.stalledInterval ? { stalledInterval: o.stalledInterval } : {}),
    ...(process.env.ZKINFER_QUEUE_PREFIX ? { prefix: process.env.ZKINFER_QUEUE_PREFIX } : {}),
    ...(process.env.ZKINFER_LOCK_MS ? { lockDuration: Number(process.env.ZKINFER_LOCK_MS), stalledInterval: Math.max(500, Number(process.env.ZKINFER_LOCK_MS) / 2) } : {}),
    log,
  });
  log('worker ready', { redis: redisUrl });
  return w;
}

/**
 * npm start: the API and one worker on this machine, with the bundled example
 * model submitted (compiled once, then reused from the store). Without Redis
 * it says so and runs jobs in process instead.
 */
export async function start(root: string, partial: Partial<ServerConfig> = {}, log: Log = logger('zkinfer')): Promise<RunningServer & { exampleModel: string; apiKey: string }> {
  const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const env = configFromEnv();
  const apiKey = env.apiKeys?.[0] ?? `dev-${crypto.randomBytes(12).toString('hex')}`;
  const config = serverConfig({
    ...env,
    apiKeys: [apiKey, ...(env.apiKeys ?? []).slice(1)],
    storeDir: path.join(root, 'build', 'service', 'store'),
    workDir: path.join(root, 'build', 'service', 'work'),
    ...partial,
  });
  const store = new DirStore(config.storeDir);
  let redis: Redis | null = null;
  let queue: JobQueue;
  let w: RunningWorker | null = null;
  try {
    (await connectRedis(redisUrl)).disconnect();
    redis = new Redis(redisUrl, { ...API_REDIS_OPTIONS });
    const bull = new BullQueue(connectionFromUrl(redisUrl));
    await bull.ready();
    queue = bull;
    w = await startWorker({ connection: connectionFromUrl(redisUrl), storeDir: config.storeDir, workDir: config.workDir, log });
  } catch (e) {
    log(`Redis is not reachable at ${redisUrl} (${(e as Error).message}); running with an in-process queue on this machine only`);
    queue = new LocalQueue({
      compile: (data, report) => runCompileJob(data, store, config.workDir, (e) => report(jobProgress(e))),
      prove: (data, report) => runProveJob(data, store, path.join(config.workDir, 'models'), (e) => report(jobProgress(e))),
    });
  }
  const api = createApp({ config, queue, store, redis, log });
  const { server, url } = await listen(api.app, config);

  const ex = path.join(root, 'examples', 'digits_mlp');
  const onnx = fs.readFileSync(path.join(ex, 'model.onnx'));
  const calibration = JSON.parse(fs.readFileSync(path.join(ex, 'calibration.json'), 'utf8'));
  const res = await fetch(`${url}/v1/models`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    // Public: every key may prove on the example, and its id is the content's
    // alone, the one examples/digits_mlp/proof-request.json names.
    body: JSON.stringify({ name: 'digits_mlp', onnx: onnx.toString('base64'), calibration, visibility: 'public' }),
  });
  const { id: exampleModel } = (await res.json()) as { id: string };
  log('ready', { url, queue: queue.kind, exampleModel, apiKey, openapi: `${url}/openapi.json` });
  return {
    url, server, queue, exampleModel, apiKey,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await api.stop();
      await w?.close(30_000);
      await queue.close();
      redis?.disconnect();
      await releaseCurve();
    },
  };
}
