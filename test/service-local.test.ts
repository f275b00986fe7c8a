import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { start, serve, worker } from '../src/server/run.js';
import { ARTIFACTS } from './helpers/circuit.js';
import { call, waitProof } from './helpers/service.js';
import { verifyReceipt } from '../src/verify/index.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const NOWHERE = 'redis://127.0.0.1:1';
const saved = process.env.REDIS_URL;
afterAll(() => {
  if (saved === undefined) delete process.env.REDIS_URL;
  else process.env.REDIS_URL = saved;
});

describe('without Redis', () => {
  it('serve and worker refuse to start and say why', async () => {
    await expect(serve({ port: 0, redisUrl: NOWHERE }, () => {})).rejects.toThrow(/Redis at redis:\/\/127\.0\.0\.1:1 is not reachable/);
    await expect(worker({ redisUrl: NOWHERE }, () => {})).rejects.toThrow(/not reachable/);
  });

  it('start says so plainly and proves the example model with an in-process queue', async () => {
    process.env.REDIS_URL = NOWHERE;
    const lines: string[] = [];
    const dir = path.join(ARTIFACTS, 'service-local');
    fs.rmSync(dir, { recursive: true, force: true });
    const s = await start(ROOT, { port: 0, storeDir: path.join(dir, 'store'), workDir: path.join(dir, 'work') }, (m) => lines.push(m));
    try {
      expect(s.queue.kind).toBe('local');
      expect(lines.join('\n')).toMatch(/Redis is not reachable at redis:\/\/127\.0\.0\.1:1 .*in-process queue/);
      for (let i = 0; i < 240; i++) {
        if ((await call(`${s.url}/v1/models/${s.exampleModel}`, 'GET', undefined, s.apiKey)).json.status === 'done') break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const input = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'digits_mlp', 'input.json'), 'utf8')).input;
      const r = await call(`${s.url}/v1/proofs`, 'POST', { model: s.exampleModel, input }, s.apiKey);
      expect(r.status).toBe(202);
      const done = await waitProof(s.url, r.json.id, 60, s.apiKey);
      expect(done.status).toBe('done');
      const vk = await (await fetch(`${s.url}/v1/models/${s.exampleModel}/verification-key`)).text();
      expect((await verifyReceipt(done.receipt, vk)).valid).toBe(true);
      const req = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'digits_mlp', 'proof-request.json'), 'utf8'));
      // The README's curl line sends this file: it names the example model.
      expect(req.model).toBe(s.exampleModel);
      const h = await call(`${s.url}/healthz`, 'GET');
      expect(h.json).toEqual({ ok: true, queue: 'local', redis: null, workers: 1 });
    } finally {
      await s.close();
    }
  });
});
