/**
 * Operating figures of the service against the real Redis, on digits_mlp with
 * two workers:
 *  - resident memory (VmRSS, and VmHWM, the peak) of the API process, of each
 *    worker and of each of their descendants (the prover children), idle,
 *    warm (model loaded), after N proofs and after the verify load;
 *  - /healthz latency with no load and while 50 connections send POST
 *    /v1/verify with a valid receipt, and that verify throughput.
 *
 * The load generator runs in a child process (the autocannon CLI) so that its
 * own work does not share the API's event loop: a slow /healthz then means
 * the API's loop is busy, which verification on pool threads should prevent.
 * The /healthz prober stays in this process, alongside the API.
 *
 * node bin/run.js bench/service-ops.ts [--proofs N] [--load-seconds S] [--load-rounds R]
 * prints one JSON line.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, call, uploadModel, waitProof } from '../test/helpers/service.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const AUTOCANNON = path.join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
const data = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'digits_mlp.data.json'), 'utf8'));
const onnx = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'digits_mlp.onnx'));

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} takes a positive integer, got ${process.argv[i + 1]}`);
  return v;
}
const PROOFS = flag('--proofs', 300);
const LOAD_SECONDS = flag('--load-seconds', 20);
/** More verify loads after the first, to tell the API's memory settling from growing. */
const LOAD_ROUNDS = flag('--load-rounds', 1);
const WORKERS = 2;
const CONNECTIONS = 50;
const HEALTH_SAMPLES = 200;
/** Proof status polls in flight at once while the proofs run. */
const POLLERS = 16;

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- memory, from /proc ----

interface Mem { rssMb: number; hwmMb: number }

function memOf(pid: number | 'self'): Mem | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    return { rssMb: round(kb('VmRSS') / 1024), hwmMb: round(kb('VmHWM') / 1024) };
  } catch {
    return null;
  }
}

/** Every live descendant of pid, with its command line. */
function descendants(pid: number): { pid: number; ppid: number; cmd: string }[] {
  const parent = new Map<number, number>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      // The command name (field 2) may hold spaces and parentheses: read after the last ')'.
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(e), ppid);
    } catch {
      // exited while listed
    }
  }
  const out: { pid: number; ppid: number; cmd: string }[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) {
      if (pp !== p) continue;
      let cmd = '';
      try {
        cmd = fs.readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').join(' ').trim();
      } catch {
        continue;
      }
      out.push({ pid: c, ppid: p, cmd });
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** tsx's loader keeps an esbuild service process beside each Node process that imports TypeScript. */
const roleOf = (cmd: string) => (cmd.includes('prover/child') ? 'prover' : cmd.includes('esbuild') ? 'esbuild' : 'other');

interface ProcMem extends Mem { pid: number; role: string; parent?: number }
interface Snapshot { totalRssMb: number; procs: ProcMem[] }

function snapshot(workerPids: number[]): Snapshot {
  const procs: ProcMem[] = [];
  const api = memOf('self');
  if (api) procs.push({ pid: process.pid, role: 'api', ...api });
  // The API's own helpers (its esbuild), not the workers, which are children of this process too.
  for (const d of descendants(process.pid)) {
    if (d.ppid !== process.pid || workerPids.includes(d.pid) || roleOf(d.cmd) !== 'esbuild') continue;
    const dm = memOf(d.pid);
    if (dm) procs.push({ pid: d.pid, role: 'esbuild', parent: process.pid, ...dm });
  }
  for (const w of workerPids) {
    const m = memOf(w);
    if (m) procs.push({ pid: w, role: 'worker', ...m });
    for (const d of descendants(w)) {
      const dm = memOf(d.pid);
      if (dm) procs.push({ pid: d.pid, role: roleOf(d.cmd), parent: d.ppid, ...dm });
    }
  }
  return { totalRssMb: round(procs.reduce((s, p) => s + p.rssMb, 0)), procs };
}

// ---- /healthz latency ----

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/**
 * HEALTH_SAMPLES sequential GET /healthz, one every intervalMs (on a fixed
 * schedule, so a slow answer does not stretch the run), until stop() says so.
 */
async function probeHealth(url: string, intervalMs: number, stop: () => boolean = () => false) {
  const ms: number[] = [];
  let failed = 0;
  const t0 = performance.now();
  for (let i = 0; i < HEALTH_SAMPLES && !stop(); i++) {
    const wait = t0 + i * intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    const t = performance.now();
    const r = await fetch(`${url}/healthz`);
    await r.arrayBuffer();
    ms.push(performance.now() - t);
    if (r.status !== 200) failed++;
  }
  return {
    n: ms.length, non200: failed,
    p50Ms: round(pct(ms, 50), 2), p90Ms: round(pct(ms, 90), 2), p99Ms: round(pct(ms, 99), 2), maxMs: round(Math.max(...ms), 2),
  };
}

/** The autocannon CLI in its own process; resolves with its JSON result. */
function hammer(url: string, bodyFile: string, seconds: number): { done: Promise<any>; finished: () => boolean } {
  const p = spawn(process.execPath, [AUTOCANNON, '-j', '-c', String(CONNECTIONS), '-d', String(seconds), '-m', 'POST',
    '-H', 'content-type=application/json', '-i', bodyFile, `${url}/v1/verify`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let finished = false;
  p.stdout.on('data', (d) => (out += d));
  const done = new Promise<any>((resolve, reject) => {
    p.on('exit', (code) => {
      finished = true;
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`autocannon exited with ${code}: ${out.slice(0, 500)}`));
      else resolve(JSON.parse(last));
    });
  });
  return { done, finished: () => finished };
}

// ---- the run ----

const svc = await startService('ops', WORKERS, {
  // Hundreds of proof requests and status polls from one key, and a verify
  // load from one address: the default limits would answer 429.
  rateLimitPerMinute: 1_000_000,
  config: { verifyRateLimitPerMinute: 1_000_000_000 },
});
const workerPids = svc.workers.map((w) => w.pid!);
const out: Record<string, unknown> = { proofs: PROOFS, workers: WORKERS, loadSeconds: LOAD_SECONDS, connections: CONNECTIONS, cpus: os.cpus().length, node: process.version };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zkinfer-ops-'));
try {
  // Right after the workers say ready: a prover child started ahead of its
  // first job may still be loading.
  const idle = snapshot(workerPids);
  const model = await uploadModel(svc.url, onnx, data.calibration);

  const prove = async (n: number, from: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await call(`${svc.url}/v1/proofs`, 'POST', { model, input: data.test[(from + i) % data.test.length].input });
      if (r.status !== 202) throw new Error(`proof request answered ${r.status}: ${JSON.stringify(r.json)}`);
      ids.push(r.json.id as string);
    }
    const done: any[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(POLLERS, n) }, async () => {
      while (next < ids.length) {
        const d = await waitProof(svc.url, ids[next++], 1800);
        if (d.status !== 'done') throw new Error(`a proof ended ${d.status}: ${JSON.stringify(d.error)}`);
        done.push(d);
      }
    }));
    return done;
  };

  // Warm-up: every worker's prover child has loaded the model.
  const warm = await prove(4 * WORKERS, 0);
  const before = snapshot(workerPids);
  const t0 = performance.now();
  await prove(PROOFS, 0);
  const secs = (performance.now() - t0) / 1000;
  const after = snapshot(workerPids);
  out.proving = { seconds: round(secs, 2), proofsPerSecond: round(PROOFS / secs, 2) };

  // A valid receipt; check the verifier accepts it before timing anything.
  const body = JSON.stringify({ receipt: warm[0].receipt });
  const check = await call(`${svc.url}/v1/verify`, 'POST', undefined, null, body);
  if (check.status !== 200 || check.json.valid !== true) throw new Error(`the bench receipt does not verify: ${check.status} ${JSON.stringify(check.json)}`);
  const bodyFile = path.join(tmp, 'verify.json');
  fs.writeFileSync(bodyFile, body);

  // The same schedule with and without load; the loaded probe starts once
  // autocannon's connections are up and ends before autocannon does.
  const intervalMs = Math.max(1, ((LOAD_SECONDS - 2) * 1000) / HEALTH_SAMPLES);
  const unloaded = await probeHealth(svc.url, intervalMs);
  const load = hammer(svc.url, bodyFile, LOAD_SECONDS);
  await sleep(1000);
  const loaded = await probeHealth(svc.url, intervalMs, load.finished);
  const ac = await load.done;
  const afterLoad = snapshot(workerPids);
  const apiRssAfterEachLoadMb = [memOf('self')!.rssMb];
  for (let i = 1; i < LOAD_ROUNDS; i++) {
    await hammer(svc.url, bodyFile, LOAD_SECONDS).done;
    apiRssAfterEachLoadMb.push(memOf('self')!.rssMb);
  }
  if (LOAD_ROUNDS > 1) out.apiRssAfterEachLoadMb = apiRssAfterEachLoadMb;

  out.healthz = { unloaded, loaded, p50Ratio: round(loaded.p50Ms / unloaded.p50Ms, 1), p99Ratio: round(loaded.p99Ms / unloaded.p99Ms, 1) };
  out.verifyLoad = {
    rps: Math.round(ac.requests.average), requests: ac.requests.total, seconds: ac.duration,
    non2xx: ac.non2xx, errors: ac.errors, timeouts: ac.timeouts,
    latencyP50Ms: ac.latency.p50, latencyP99Ms: ac.latency.p99, latencyMaxMs: ac.latency.max,
  };
  // Per process, VmRSS in MB at each point; peak is VmHWM after the proofs.
  const snaps = { idle, before, after, afterVerifyLoad: afterLoad };
  const pids = [...new Set(Object.values(snaps).flatMap((s) => s.procs.map((p) => p.pid)))];
  const at = (s: Snapshot, pid: number) => s.procs.find((p) => p.pid === pid);
  out.rssMb = {
    total: Object.fromEntries(Object.entries(snaps).map(([k, s]) => [k, s.totalRssMb])),
    procs: pids.map((pid) => {
      const p = Object.values(snaps).map((s) => at(s, pid)).find(Boolean)!;
      return {
        role: p.role, pid, ...(p.parent ? { parent: p.parent } : {}),
        ...Object.fromEntries(Object.entries(snaps).map(([k, s]) => [k, at(s, pid)?.rssMb ?? null])),
        peak: (at(after, pid) ?? at(afterLoad, pid))?.hwmMb ?? null,
      };
    }),
  };
} finally {
  await svc.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
