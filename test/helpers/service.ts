import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ARTIFACTS } from './circuit.js';
import { serve, type RunningServer } from '../../src/server/run.js';

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'bin', 'zkinfer.js');
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const API_KEY = 'test-key-0123456789';

/** An API and worker processes on a fresh queue namespace in the real Redis. */
export interface TestService {
  api: RunningServer;
  url: string;
  prefix: string;
  env: NodeJS.ProcessEnv;
  workers: ChildProcess[];
  startWorker(extraEnv?: NodeJS.ProcessEnv): Promise<ChildProcess>;
  close(): Promise<void>;
}

export async function startService(name: string, workers: number, opts: { lockMs?: number; rateLimitPerMinute?: number; redisUrl?: string; env?: NodeJS.ProcessEnv } = {}): Promise<TestService> {
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
  process.env.ZKINFER_QUEUE_PREFIX = prefix;
  const api = await serve({ port: 0, apiKeys: [API_KEY], storeDir: env.ZKINFER_STORE_DIR!, redisUrl, ...(opts.rateLimitPerMinute ? { rateLimitPerMinute: opts.rateLimitPerMinute } : {}) }, () => {});
  delete process.env.ZKINFER_QUEUE_PREFIX;
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
  return {
    api, url: api.url, prefix, env, workers: procs, startWorker,
    async close() {
      for (const p of procs) {
        try {
          process.kill(-p.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await api.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
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

export async function uploadModel(url: string, onnx: Uint8Array, calibration: unknown, options: object = {}): Promise<string> {
  const r = await call(`${url}/v1/models`, 'POST', { onnx: Buffer.from(onnx).toString('base64'), calibration, options });
  if (r.status !== 202) throw new Error(`upload failed: ${r.status} ${JSON.stringify(r.json)}`);
  const id = r.json.id as string;
  for (let i = 0; i < 600; i++) {
    const m = await call(`${url}/v1/models/${id}`, 'GET');
    if (m.json.status === 'done') return id;
    if (m.json.status === 'failed') throw new Error(`compile failed: ${JSON.stringify(m.json.error)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('compile timed out');
}

export async function waitProof(url: string, id: string, seconds = 60): Promise<any> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const r = await call(`${url}/v1/proofs/${id}?wait=10`, 'GET');
    if (r.json.status === 'done' || r.json.status === 'failed' || Date.now() > deadline) return r.json;
  }
}
