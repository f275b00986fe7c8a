import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readProgram, writeProgram } from '../src/build/program-file.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, Queue } from 'bullmq';
import { startService, call, uploadModel, waitProof, REDIS_URL, API_KEY, WORKER_TOKEN, type TestService } from './helpers/service.js';
import { fixture, loadJson } from './helpers/builds.js';
import { verifyReceipt } from '../src/verify/index.js';
import { connectionFromUrl } from '../src/server/redis.js';
import { QUEUES } from '../src/queue/jobs.js';
import { DirStore } from '../src/store/store.js';
import { releaseCurve } from '../src/curve.js';

const mlp = loadJson(fixture('digits_mlp.data.json'));
const cnn = loadJson(fixture('digits_cnn.data.json'));
let svc: TestService;
let mlpModel: string;
let cnnModel: string;
let vkeys: Record<string, string>;

beforeAll(async () => {
  svc = await startService('rel', 2, { lockMs: 3000 });
  mlpModel = await uploadModel(svc.url, fs.readFileSync(fixture('digits_mlp.onnx')), mlp.calibration);
  cnnModel = await uploadModel(svc.url, fs.readFileSync(fixture('digits_cnn.onnx')), cnn.calibration);
  vkeys = {};
  for (const m of [mlpModel, cnnModel]) vkeys[m] = JSON.stringify((await call(`${svc.url}/v1/models/${m}/verification-key`, 'GET')).json);
});
afterAll(async () => {
  await svc?.close();
  await releaseCurve();
});

const vkeyText = async (m: string) => (await fetch(`${svc.url}/v1/models/${m}/verification-key`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();

describe('reliability against a real Redis', () => {
  it('20 proof requests at once with 2 workers: all complete and every receipt verifies', async () => {
    const ids = await Promise.all(mlp.test.slice(0, 20).map(async (t: { input: unknown }) => (await call(`${svc.url}/v1/proofs`, 'POST', { model: mlpModel, input: t.input })).json.id as string));
    expect(new Set(ids).size).toBe(20);
    const results = await Promise.all(ids.map((id) => waitProof(svc.url, id, 180)));
    expect(results.map((r) => r.status)).toEqual(new Array(20).fill('done'));
    const vk = await vkeyText(mlpModel);
    for (const [i, r] of results.entries()) {
      const v = await verifyReceipt(r.receipt, vk);
      expect(v.valid, v.reason).toBe(true);
      expect(r.receipt.input).toEqual(mlp.test[i].input);
    }
    // Both workers took part.
    const q = new Queue(QUEUES.prove, { connection: connectionFromUrl(REDIS_URL), prefix: svc.prefix });
    const by = new Set((await Promise.all(ids.map((id) => Job.fromId(q, id)))).map((j) => j!.processedBy));
    await q.close();
    expect(by.size).toBe(2);
  });

  it('a worker killed with SIGKILL mid-proof: the job is taken up again and completes once', async () => {
    const q = new Queue(QUEUES.prove, { connection: connectionFromUrl(REDIS_URL), prefix: svc.prefix });
    try {
      // A fresh worker has to load the model first, so the proof takes long enough to catch.
      const r = await call(`${svc.url}/v1/proofs`, 'POST', { model: cnnModel, input: cnn.test[3].input });
      const id = r.json.id as string;
      let victim: string | undefined;
      for (let i = 0; i < 400 && !victim; i++) {
        const j = await Job.fromId(q, id);
        if (j?.processedBy && (await j.getState()) === 'active') victim = j.processedBy;
        else await new Promise((res) => setTimeout(res, 25));
      }
      expect(victim).toBeDefined();
      const pid = Number(victim!.split(':').pop());
      const proc = svc.workers.find((w) => w.pid === pid)!;
      process.kill(-proc.pid!, 'SIGKILL');
      const done = await waitProof(svc.url, id, 120);
      expect(done.status).toBe('done');
      const j = (await Job.fromId(q, id))!;
      expect(j.processedBy).not.toBe(victim);
      expect(j.stalledCounter ?? 0).toBeGreaterThanOrEqual(1);
      const v = await verifyReceipt(done.receipt, await vkeyText(cnnModel));
      expect(v.valid, v.reason).toBe(true);
      // One job, one result: the completed job holds one receipt and the queue no duplicate.
      const completed = await q.getJobs(['completed']);
      expect(completed.filter((c) => c.id === id)).toHaveLength(1);
    } finally {
      await q.close();
      await svc.startWorker();
    }
  });

  it('a job whose witness cannot be satisfied fails at once, unretried, with the reason', async () => {
    // A program that claims a wider input range than the circuit enforces: the
    // integer reference accepts the input, the circuit's range check cannot.
    const m = await call(`${svc.url}/v1/models/${mlpModel}`, 'GET');
    const store = new DirStore(svc.env.ZKINFER_STORE_DIR!);
    const compileQ = new Queue(QUEUES.compile, { connection: connectionFromUrl(REDIS_URL), prefix: svc.prefix });
    const artifacts = ((await Job.fromId(compileQ, mlpModel))!.returnvalue as { artifacts: Record<string, string> }).artifacts;
    await compileQ.close();
    const tmp = path.join(os.tmpdir(), `zkt-forged-${process.pid}.jsonl`);
    fs.writeFileSync(tmp, (await store.get(artifacts.program))!);
    const program = readProgram(tmp);
    writeProgram(tmp, { ...program, io: { ...program.io, input: { ...program.io.input, bits: program.io.input.bits + 2 } } });
    const forged = { ...artifacts, program: await store.put(fs.readFileSync(tmp)), vkey: artifacts.vkey };
    fs.rmSync(tmp);
    // A separate model cache key, so workers do not reuse the honest program.
    forged.vkey = await store.put(Buffer.concat([(await store.get(artifacts.vkey))!, Buffer.from('\n')]));
    const q = new Queue(QUEUES.prove, { connection: connectionFromUrl(REDIS_URL), prefix: svc.prefix });
    try {
      const input = [new Array(64).fill(0)];
      input[0][5] = 3; // in the forged range, outside the circuit's
      const job = await q.add('prove', { modelId: mlpModel, artifacts: forged, input, disclose: true, webhook: null, acceptedAt: Date.now() }, { attempts: 3, backoff: { type: 'fixed', delay: 500 }, jobId: `forged-${Date.now()}` });
      const done = await waitProof(svc.url, job.id!, 60);
      expect(done.status).toBe('failed');
      expect(done.error.code).toBe('WITNESS_FAILED');
      expect(done.error.message).toMatch(/cannot be satisfied/);
      expect(done.attempts).toBe(1);
      expect(m.json.status).toBe('done');
    } finally {
      await q.close();
    }
  });

  it('a worker with its own empty store fetches the artifacts from the API by hash and proves', async () => {
    const remoteStore = `${svc.env.ZKINFER_WORK_DIR}-remote-store`;
    const remote = await svc.startWorker({ ZKINFER_STORE_DIR: remoteStore, ZKINFER_WORK_DIR: `${svc.env.ZKINFER_WORK_DIR}-remote`, ZKINFER_API_URL: svc.url, ZKINFER_WORKER_TOKEN: WORKER_TOKEN });
    for (const p of svc.workers.filter((x) => x !== remote && x.exitCode === null && x.signalCode === null)) {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
    const r = await call(`${svc.url}/v1/proofs`, 'POST', { model: mlpModel, input: mlp.test[7].input });
    const done = await waitProof(svc.url, r.json.id, 120);
    expect(done.status, done.error?.message).toBe('done');
    const v = await verifyReceipt(done.receipt, await vkeyText(mlpModel));
    expect(v.valid, v.reason).toBe(true);
    // The zkey arrived in the remote store under its hash.
    const compileQ = new Queue(QUEUES.compile, { connection: connectionFromUrl(REDIS_URL), prefix: svc.prefix });
    const artifacts = ((await Job.fromId(compileQ, mlpModel))!.returnvalue as { artifacts: Record<string, string> }).artifacts;
    await compileQ.close();
    expect(await new DirStore(remoteStore).has(artifacts.zkey)).toBe(true);
    remote.kill('SIGTERM');
    await new Promise((res) => remote.once('exit', res));
    // An artifact whose bytes do not hash to its id is refused by the API.
    const bad = await fetch(`${svc.url}/v1/artifacts/${artifacts.zkey}`, { method: 'PUT', body: 'not the key', headers: { authorization: `Bearer ${WORKER_TOKEN}` } });
    expect(bad.status).toBe(400);
  });

  it('SIGTERM lets the running proof finish, then the worker exits', async () => {
    const w = await svc.startWorker();
    // Stop the others so the new worker takes the job.
    for (const p of svc.workers.filter((x) => x !== w && x.exitCode === null && x.signalCode === null)) {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
    const r = await call(`${svc.url}/v1/proofs`, 'POST', { model: cnnModel, input: cnn.test[5].input });
    const q = new Queue(QUEUES.prove, { connection: connectionFromUrl(REDIS_URL), prefix: svc.prefix });
    for (let i = 0; i < 400; i++) {
      const j = await Job.fromId(q, r.json.id);
      if (j && (await j.getState()) === 'active') break;
      await new Promise((res) => setTimeout(res, 25));
    }
    await q.close();
    const exited = new Promise<number | null>((res) => w.once('exit', (code) => res(code)));
    w.kill('SIGTERM');
    expect(await exited).toBe(0);
    const done = await call(`${svc.url}/v1/proofs/${r.json.id}`, 'GET');
    expect(done.json.status).toBe('done');
    expect(done.json.attempts).toBe(1);
  });
});
