/** Fault injection for the service tests: a Redis of our own to kill, and process accounting via /proc. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PrivateRedis {
  url: string;
  /** SIGKILL: nothing is flushed beyond what the AOF already holds. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A redis-server on `port` persisting every write to its AOF (appendfsync always), in a fresh directory. */
export async function privateRedis(port: number): Promise<PrivateRedis> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkt-redis-'));
  let proc: ChildProcess | null = null;
  const url = `redis://127.0.0.1:${port}`;
  const start = async () => {
    proc = spawn('redis-server', ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, '--port', String(port), '--daemonize', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
    for (let i = 0; i < 200; i++) {
      const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => {});
      try {
        await r.connect();
        if ((await r.ping()) === 'PONG') return;
      } catch {
        // not up yet (or loading its AOF)
      } finally {
        r.disconnect();
      }
      await sleep(50);
    }
    throw new Error(`redis-server on ${port} did not start`);
  };
  const kill = async () => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  };
  await start();
  return {
    url, kill, start,
    async stop() {
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** PIDs of live processes whose environment holds NAME=VALUE (children inherit it: a marker per test). */
export function processesWithEnv(name: string, value: string): number[] {
  const needle = `${name}=${value}\0`;
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const env = fs.readFileSync(`/proc/${d}/environ`, 'latin1');
      const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${d}/status`, 'latin1'))?.[1];
      if (state !== 'Z' && `\0${env}`.includes(`\0${needle}`)) out.push(Number(d));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

/** Direct children of a process. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'latin1');
      // Fields after the command name (which may hold spaces): state, ppid, ...
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === pid && rest[0] !== 'Z') out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    return !/^State:\s+Z/m.test(s);
  } catch {
    return false;
  }
}

/** Resident memory of a process in MB (0 if gone). */
export function rssMb(pid: number): number {
  try {
    const kb = Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0);
    return Math.round(kb / 1024);
  } catch {
    return 0;
  }
}

export async function until(f: () => boolean | Promise<boolean>, ms: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return true;
    await sleep(stepMs);
  }
  return f();
}

/** Direct children of a process whose command line contains `marker` (tsx also starts esbuild children). */
export function childrenRunning(pid: number, marker: string): number[] {
  return childrenOf(pid).filter((c) => {
    try {
      return fs.readFileSync(`/proc/${c}/cmdline`, 'latin1').includes(marker);
    } catch {
      return false;
    }
  });
}
