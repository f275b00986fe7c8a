/**
 * Jobs never hang and workers never leak: real worker processes
 * (bin/zkinfer.js worker), real Redis, real digits_mlp proofs, faults injected
 * with signals.
 */
import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Job, Queue, QueueEvents } from 'bullmq';
import { startService, call, uploadModel, waitProof, API_KEY, REDIS_URL, type TestService } from './helpers/service.js';
import { alive, childrenOf, childrenRunning, processesWithEnv, rssMb, sleep, until } from './helpers/faults.js';
import { fixture, loadJson } from './helpers/builds.js';
import { verifyReceipt } from '../src/verify/index.js';
import { connectionFromUrl } from '../src/server/redis.js';
import { QUEUES } from '../src/queue/jobs.js';
import { releaseCurve } from '../src/curve.js';

const mlp = loadJson(fixture('digits_mlp.data.json'));
let svc: TestService;
let model: string;
let queue: Queue;

const live = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;
const exited = (p: ChildProcess) => (live(p) ? new Promise<void>((r) => p.once('exit', () => r())) : Promise.resolve());
/** Processes of this test's service: every worker and prover child inherits its queue prefix. */
const ours = () => processesWithEnv('ZKINFER_QUEUE_PREFIX', svc.prefix);
const prove = async (i: number): Promise<string> => {
  const r = await call(`${svc.url}/v1/proofs`, 'POST', { model, input: mlp.test[i % mlp.test.length].input });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  return r.json.id as string;
};
async function stopWorkers(): Promise<void> {
  for (const p of svc.workers.filter(live)) {
    p.kill('SIGTERM');
    await exited(p);
  }
}
/** A worker's prover processes (its other children are tsx's esbuild services). */
const provers = (w: ChildProcess) => childrenRunning(w.pid!, 'prover/child.ts');
/** The worker's idle prover child (each worker starts one ahead of its first job). */
async function childOf(w: ChildProcess): Promise<number> {
  expect(await until(() => provers(w).length > 0, 10_000)).toBe(true);
  return provers(w)[0];
}
async function waitActive(id: string): Promise<void> {
  expect(await until(async () => (await queue.getJobState(id)) === 'active', 30_000, 20)).toBe(true);
}

beforeAll(async () => {
  svc = await startService('faults', 0, { lockMs: 3000, rateLimitPerMinute: 100_000, env: { ZKINFER_HEARTBEAT_MS: '500' } });
  queue = new Queue(QUEUES.prove, { connection: connectionFromUrl(REDIS_URL), prefix: svc.prefix });
});
// A test that failed must not leave its workers to take the next test's jobs.
afterEach(stopWorkers);
afterAll(async () => {
  await queue?.close();
  await svc?.close();
  await releaseCurve();
});

describe('worker faults', () => {
  it('/healthz answers 503 with no live worker, 200 with one, 503 again once it is killed; its prover child dies with it', async () => {
    const none = await call(`${svc.url}/healthz`, 'GET');
    expect(none.status).toBe(503);
    expect(none.json).toMatchObject({ ok: false, workers: 0, reason: expect.stringMatching(/no live worker/) });
    const w = await svc.startWorker();
    expect(await until(async () => (await call(`${svc.url}/healthz`, 'GET')).status === 200, 5000)).toBe(true);
    expect((await call(`${svc.url}/healthz`, 'GET')).json).toMatchObject({ ok: true, queue: 'redis', redis: true, workers: 1 });
    model = await uploadModel(svc.url, fs.readFileSync(fixture('digits_mlp.onnx')), mlp.calibration);
    const kids = childrenOf(w.pid!);
    expect(provers(w).length).toBeGreaterThan(0);
    process.kill(w.pid!, 'SIGKILL'); // the parent alone, as the OOM killer or an operator would
    await exited(w);
    expect(await until(() => kids.every((k) => !alive(k)), 5000), `orphaned prover processes ${kids.filter(alive)}`).toBe(true);
    expect(await until(async () => (await call(`${svc.url}/healthz`, 'GET')).status === 503, 5000)).toBe(true);
  });

  it('a prover child killed at its start: the job is retried and completes, and the worker takes new work', async () => {
    const w = await svc.startWorker();
    const warm = await childOf(w);
    process.kill(warm, 'SIGKILL');
    await until(() => !alive(warm), 5000);
    // Kill the next prover process the worker starts within a few ms of its start.
    const seen = new Set([warm]);
    let killed = 0;
    const watcher = (async () => {
      for (let i = 0; i < 20_000 && killed === 0; i++) {
        for (const c of provers(w)) {
          if (!seen.has(c)) {
            process.kill(c, 'SIGKILL');
            killed++;
          }
        }
        await sleep(2);
      }
    })();
    const first = await prove(0);
    await watcher;
    expect(killed).toBe(1);
    const done = await waitProof(svc.url, first, 60);
    expect(done.status, JSON.stringify(done.error)).toBe('done');
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    const next = await waitProof(svc.url, await prove(1), 60);
    expect(next.status).toBe('done');
    await stopWorkers();
  });

  it('a compile whose process keeps dying is not retried forever: 3 attempts, then failed with WORKER_LOST', async () => {
    const w = await svc.startWorker();
    const warm = await childOf(w);
    const seen = new Set([warm]);
    let killed = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const c of provers(w)) {
          if (!seen.has(c)) {
            seen.add(c);
            process.kill(c, 'SIGKILL');
            killed++;
          }
        }
        await sleep(5);
      }
    })();
    // Other options: another model id, so a compile runs.
    const r = await call(`${svc.url}/v1/models`, 'POST', { onnx: fs.readFileSync(fixture('digits_mlp.onnx')).toString('base64'), calibration: mlp.calibration, options: { activationBits: 8, weightBits: 8 } });
    expect(r.status).toBe(202);
    let m: any;
    await until(async () => (m = (await call(`${svc.url}/v1/models/${r.json.id}`, 'GET')).json).status === 'failed', 60_000);
    watching = false;
    await watcher;
    expect(m.status).toBe('failed');
    expect(m.error).toEqual({ code: 'WORKER_LOST', message: expect.stringMatching(/prover process died with signal SIGKILL/) });
    expect(killed).toBe(3);
    expect(alive(warm)).toBe(true);
    await stopWorkers();
  });

  it('a job past its deadline: its prover process is killed, the job fails with JOB_TIMEOUT, unretried, and the worker goes on', async () => {
    const w = await svc.startWorker({ ZKINFER_PROVE_TIMEOUT_S: '8' });
    const stuck = await childOf(w);
    process.kill(stuck, 'SIGSTOP'); // a prover that never answers
    const id = await prove(2);
    const failed = await waitProof(svc.url, id, 60);
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual({ code: 'JOB_TIMEOUT', message: expect.stringMatching(/passed its deadline of \d+ s; its prover process was killed/) });
    expect(failed.attempts).toBe(1);
    expect(await until(() => !alive(stuck), 5000)).toBe(true);
    const next = await waitProof(svc.url, await prove(3), 60);
    expect(next.status).toBe('done');
    await stopWorkers();
  });

  it('SIGTERM ends a worker with a stuck job within its grace period plus 10 s; the job goes back to the queue and another worker proves it', async () => {
    const w = await svc.startWorker({ ZKINFER_SHUTDOWN_MS: '1000' });
    const stuck = await childOf(w);
    process.kill(stuck, 'SIGSTOP');
    const id = await prove(4);
    await waitActive(id);
    const t0 = Date.now();
    w.kill('SIGTERM');
    const code = await Promise.race([new Promise<number | null>((r) => w.once('exit', (c) => r(c))), sleep(11_000).then(() => 'hung' as const)]);
    expect(code, `worker still running ${Date.now() - t0} ms after SIGTERM`).not.toBe('hung');
    expect(alive(stuck)).toBe(false);
    // Back in the queue at once, or (taken just as the worker stopped) once its lock lapses.
    expect(await until(async () => (await queue.getJobState(id)) === 'waiting', 10_000)).toBe(true);
    expect((await Job.fromId(queue, id))!.attemptsMade).toBe(0);
    await svc.startWorker();
    const done = await waitProof(svc.url, id, 60);
    expect(done.status).toBe('done');
    await stopWorkers();
    expect(ours()).toEqual([]);
  });

  it('kill -9 of worker parents during 100 proofs: none lost, none duplicated, no orphan processes', async () => {
    const N = 100;
    const KILLS = 4;
    for (let i = 0; i < 2; i++) await svc.startWorker();
    const events = new QueueEvents(QUEUES.prove, { connection: connectionFromUrl(REDIS_URL), prefix: svc.prefix });
    await events.waitUntilReady();
    const completions = new Map<string, number>();
    events.on('completed', ({ jobId }) => completions.set(jobId, (completions.get(jobId) ?? 0) + 1));
    const rssBefore = svc.workers.filter(live).flatMap((w) => [w.pid!, ...childrenOf(w.pid!)]).reduce((a, p) => a + rssMb(p), 0);

    const ids: string[] = [];
    for (let i = 0; i < N; i++) ids.push(await prove(i));
    // Poll every job while they run: a view must never say done without its receipt.
    let polls = 0;
    let inconsistent = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        for (const id of ids) {
          const r = await call(`${svc.url}/v1/proofs/${id}`, 'GET');
          polls++;
          if (r.json.status === 'done' && !r.json.receipt) inconsistent++;
          await sleep(5); // leave the CPU to the provers
        }
      }
    })();

    const orphans: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      const doneSoFar = (await queue.getJobCounts('completed')).completed;
      await until(async () => (await queue.getJobCounts('completed')).completed >= doneSoFar + 10, 60_000);
      const victim = svc.workers.filter(live)[k % 2 === 0 ? 0 : 1] ?? svc.workers.filter(live)[0];
      const kids = childrenOf(victim.pid!);
      process.kill(victim.pid!, 'SIGKILL');
      await exited(victim);
      await until(() => kids.every((c) => !alive(c)), 5000);
      orphans.push(...kids.filter(alive).map((c) => `${c} ${fs.readFileSync(`/proc/${c}/cmdline`, 'latin1').replace(/\0/g, ' ').slice(0, 120)}`));
      await svc.startWorker();
    }
    const results = await Promise.all(ids.map((id) => waitProof(svc.url, id, 240)));
    const timings = results.filter((r) => r.timings).map((r) => r.timings.total).sort((a, b) => a - b);
    polling = false;
    await poller;
    const rssAfter = svc.workers.filter(live).flatMap((w) => [w.pid!, ...childrenOf(w.pid!)]).reduce((a, p) => a + rssMb(p), 0);
    await sleep(500); // last completion events
    await events.close();

    const lost = results.filter((r) => r.status !== 'done');
    const duplicated = [...completions.values()].filter((n) => n > 1).length;
    // The key's exact bytes (the receipt names their sha256); the model is the test key's own.
    const vk = await (await fetch(`${svc.url}/v1/models/${model}/verification-key`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
    for (const r of results.slice(0, 10)) expect((await verifyReceipt(r.receipt, vk)).valid).toBe(true);
    await stopWorkers();
    const left = ours();
    console.log(`kill test: ${N} proofs, ${KILLS} worker parents killed with SIGKILL, lost ${lost.length}, duplicated ${duplicated}, orphans ${orphans.length} (after all stopped: ${left.length}); ${polls} polls, ${inconsistent} done without receipt; RSS of 2 workers with children ${rssBefore} MB before, ${rssAfter} MB after; median job ${timings[timings.length >> 1]} ms`);
    expect(lost.map((r) => r.error)).toEqual([]);
    expect(duplicated).toBe(0);
    expect(completions.size).toBe(N);
    expect(orphans).toEqual([]);
    expect(left).toEqual([]);
    expect(inconsistent).toBe(0);
  });
});
