/**
 * Redis killed (SIGKILL) and restarted under load, with AOF persistence on a
 * private redis-server: every accepted proof completes, requests made while
 * Redis is down answer 503 at once, and the service recovers by itself.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startService, call, uploadModel, waitProof, type TestService } from './helpers/service.js';
import { privateRedis, processesWithEnv, sleep, until, type PrivateRedis } from './helpers/faults.js';
import { fixture, loadJson } from './helpers/builds.js';
import { releaseCurve } from '../src/curve.js';

const mlp = loadJson(fixture('digits_mlp.data.json'));
const PORT = 6391;
let redis: PrivateRedis;
let svc: TestService;

beforeAll(async () => {
  redis = await privateRedis(PORT);
  svc = await startService('redis', 2, { redisUrl: redis.url, lockMs: 3000, rateLimitPerMinute: 100_000 });
});
afterAll(async () => {
  await svc?.close();
  await redis?.stop();
  await releaseCurve();
});

it('Redis killed and restarted during 40 proofs: none lost, 503 QUEUE_UNAVAILABLE while it is down', async () => {
  const model = await uploadModel(svc.url, fs.readFileSync(fixture('digits_mlp.onnx')), mlp.calibration);
  const ids: string[] = [];
  for (let i = 0; i < 40; i++) {
    const r = await call(`${svc.url}/v1/proofs`, 'POST', { model, input: mlp.test[i % mlp.test.length].input });
    expect(r.status).toBe(202);
    ids.push(r.json.id);
  }
  await until(async () => (await call(`${svc.url}/v1/proofs/${ids[5]}`, 'GET')).json.status === 'done', 60_000);
  await redis.kill();

  const t0 = Date.now();
  const down = await call(`${svc.url}/v1/proofs`, 'POST', { model, input: mlp.test[0].input });
  const answeredMs = Date.now() - t0;
  expect(down.status).toBe(503);
  expect(down.json.error.code).toBe('QUEUE_UNAVAILABLE');
  expect(down.json.error.message).toMatch(/Redis/);
  const read = await call(`${svc.url}/v1/proofs/${ids[0]}`, 'GET');
  expect(read.status).toBe(503);
  expect((await call(`${svc.url}/healthz`, 'GET')).status).toBe(503);
  await sleep(2000);

  await redis.start();
  const results = await Promise.all(ids.map((id) => waitProof(svc.url, id, 180)));
  const lost = results.filter((r) => r.status !== 'done');
  console.log(`redis restart: ${ids.length} proofs accepted, Redis killed after the first few, restarted 2 s later; lost ${lost.length}; POST while down answered ${down.status} in ${answeredMs} ms`);
  expect(lost).toEqual([]);
  // Serving again: new proofs are accepted and health recovers.
  expect(await until(async () => (await call(`${svc.url}/healthz`, 'GET')).status === 200, 20_000)).toBe(true);
  const again = await call(`${svc.url}/v1/proofs`, 'POST', { model, input: mlp.test[1].input });
  expect(again.status).toBe(202);
  expect((await waitProof(svc.url, again.json.id, 60)).status).toBe('done');
  for (const p of svc.workers) {
    p.kill('SIGTERM');
    await new Promise((r) => (p.exitCode === null ? p.once('exit', r) : r(null)));
  }
  expect(processesWithEnv('ZKINFER_QUEUE_PREFIX', svc.prefix)).toEqual([]);
});
