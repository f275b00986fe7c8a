import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ARTIFACTS } from './circuit.js';
import { Redis } from 'ioredis';
import { serve, type RunningServer } from '../../src/server/run.js';
import type { ServerConfig } from '../../src/server/config.js';
import type { ResolveHost } from '../../src/server/webhook.js';
import { DirStore } from '../../src/store/store.js';
import { RedisRegistry } from '../../src/store/registry.js';
import { VKEY_IO_FIELD, parseVerificationKey } from '../../src/receipt/index.js';

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'bin', 'zkinfer.js');
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const API_KEY = 'test-key-0123456789';
/** The token remote workers use for the artifact routes. */
export const WORKER_TOKEN = 'test-worker-token-0123456789';

/** An API and worker processes on a fresh queue namespace in the real Redis. */
export interface TestService {
  api: RunningServer;
  url: string;
  prefix: string;
  env: NodeJS.ProcessEnv;
  workers: ChildProcess[];
  startWorker(extraEnv?: NodeJS.ProcessEnv): Promise<ChildProcess>;
  /** Stops the API alone (workers keep running). */
  stopApi(): Promise<void>;
  /** Starts the API again on the same queues and store. */
  startApi(): Promise<void>;
  /**
   * Puts a verification key into the store and records it as compiled by this
   * service (as a completed compile would), for tests of key consumers.
   */
  registerKey(vkey: Buffer, modelId?: string): Promise<string>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  lockMs?: number;
  rateLimitPerMinute?: number;
  /** More settings for the API. */
  config?: Partial<ServerConfig>;
  resolveHost?: ResolveHost;
  redisUrl?: string;
  env?: NodeJS.ProcessEnv;
}

export async function startService(name: string, workers: number, opts: ServiceOptions = {}): Promise<TestService> {
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  const prefix = `zkt-${name}-${crypto.randomBytes(4).toString('hex')}`;
  const dir = path.join(ARTIFACTS, 'service', prefix);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redisUrl,
    ZKINFER_QUEUE_PREFIX: prefix,
    ZKINFER_STORE_DIR: path.join(dir, 'store'),
    ZKINFER_WORK_DIR: path.join(dir, 'work'),
    ZKINFER_LOCK_MS: String(opts.lockMs ?? 4000),
    ...opts.env,
  };
  const launch = async (port: number) => {
    process.env.ZKINFER_QUEUE_PREFIX = prefix;
    try {
      return await serve({
        port, apiKeys: [API_KEY], workerToken: WORKER_TOKEN, storeDir: env.ZKINFER_STORE_DIR!, redisUrl,
        ...(opts.rateLimitPerMinute ? { rateLimitPerMinute: opts.rateLimitPerMinute } : {}),
        ...(opts.resolveHost ? { resolveHost: opts.resolveHost } : {}),
        ...opts.config,
      }, () => {});
    } finally {
      delete process.env.ZKINFER_QUEUE_PREFIX;
    }
  };
  let api: RunningServer | null = await launch(0);
  const port = Number(new URL(api.url).port);
  const procs: ChildProcess[] = [];
  const startWorker = async (extraEnv: NodeJS.ProcessEnv = {}) => {
    const p = spawn(process.execPath, [BIN, 'worker'], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (out.includes('worker ready')) {
          clearInterval(t);
          resolve();
        }
      }, 50);
      p.on('exit', (code) => {
        clearInterval(t);
        reject(new Error(`worker exited with ${code}: ${out}`));
      });
    });
    procs.push(p);
    return p;
  };
  for (let i = 0; i < workers; i++) await startWorker();
  const svc: TestService = {
    api, url: api.url, prefix, env, workers: procs, startWorker,
    async stopApi() {
      await api?.close();
      api = null;
    },
    async startApi() {
      // The same port, so URLs the test holds stay valid.
      api = await launch(port);
      svc.api = api;
    },
    async registerKey(vkey: Buffer, modelId = crypto.randomBytes(16).toString('hex')) {
      const hash = await new DirStore(env.ZKINFER_STORE_DIR!).put(vkey);
      const vk = parseVerificationKey(vkey.toString('utf8'));
      const redis = new Redis(REDIS_URL);
      try {
        await new RedisRegistry(redis, prefix).record({ modelId, onnxSha256: vk[VKEY_IO_FIELD].onnxSha256, vkeySha256: hash, system: vk.protocol as 'groth16', ceremony: 'development' });
      } finally {
        redis.disconnect();
      }
      return hash;
    },
    async close() {
      for (const p of procs) {
        try {
          process.kill(-p.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await api?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return svc;
}

export async function call(url: string, method: string, body?: unknown, key: string | null = API_KEY, raw?: string): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, {
    method,
    headers: { ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}), ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

export async function uploadModel(url: string, onnx: Uint8Array, calibration: unknown, options: object = {}, extra: { key?: string; visibility?: 'private' | 'public' } = {}): Promise<string> {
  const key = extra.key ?? API_KEY;
  const r = await call(`${url}/v1/models`, 'POST', { onnx: Buffer.from(onnx).toString('base64'), calibration, options, ...(extra.visibility ? { visibility: extra.visibility } : {}) }, key);
  if (r.status !== 202) throw new Error(`upload failed: ${r.status} ${JSON.stringify(r.json)}`);
  const id = r.json.id as string;
  for (let i = 0; i < 600; i++) {
    const m = await call(`${url}/v1/models/${id}`, 'GET', undefined, key);
    if (m.json.status === 'done') return id;
    if (m.json.status === 'failed') throw new Error(`compile failed: ${JSON.stringify(m.json.error)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('compile timed out');
}

export async function waitProof(url: string, id: string, seconds = 60, key: string = API_KEY): Promise<any> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const r = await call(`${url}/v1/proofs/${id}?wait=10`, 'GET', undefined, key);
    if (r.json.status === 'done' || r.json.status === 'failed' || Date.now() > deadline) return r.json;
  }
}
