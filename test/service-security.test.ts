import fs from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, Queue } from 'bullmq';
import { startService, call, uploadModel, waitProof, API_KEY, WORKER_TOKEN, REDIS_URL, type TestService } from './helpers/service.js';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { tinyMlp, tinySamples } from './helpers/onnx-builder.js';
import { bigGemm, padBomb, withTensor } from './helpers/hostile-onnx.js';
import { ModelProver } from '../src/prove/index.js';
import { buildPath } from '../src/paths.js';
import { releaseCurve } from '../src/curve.js';
import { sha256 } from '../src/hash.js';
import { connectionFromUrl } from '../src/server/redis.js';
import { parseApiKeys, configFromEnv } from '../src/server/run.js';
import { QUEUES } from '../src/queue/jobs.js';
import type { ResolveHost } from '../src/server/webhook.js';

const KEY_B = 'tenant-b-key-0123456789';
const mlp = loadJson(fixture('digits_mlp.data.json'));

/** A loopback HTTP receiver that records what reaches it. */
interface Receiver {
  port: number;
  hits: { host: string; body: any }[];
  close(): void;
}
async function receiver(answer: (res: http.ServerResponse) => void = (res) => res.end('ok')): Promise<Receiver> {
  const hits: Receiver['hits'] = [];
  const server = http.createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => {
      hits.push({ host: req.headers.host ?? '', body: b ? JSON.parse(b) : null });
      answer(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, hits, close: () => server.close() };
}

// No real DNS: names the tests use, and what they resolve to.
const DNS: Record<string, string[]> = {
  'hooks.test': ['127.0.0.1'],
  'internal.test': ['10.0.0.1'],
  'mixed.test': ['93.184.216.34', '10.1.2.3'],
  'metadata.google.internal': ['169.254.169.254'],
  localhost: ['127.0.0.1', '::1'],
};
// A name that answers a global address first and loopback afterwards (DNS rebinding).
let rebindLookups = 0;
const resolveHost: ResolveHost = async (h) => {
  if (h === 'rebind.test') return [{ address: rebindLookups++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
  const a = DNS[h];
  if (!a) throw new Error(`getaddrinfo ENOTFOUND ${h}`);
  return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const until = async (cond: () => boolean | Promise<boolean>, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!(await cond()) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
};

let svc: TestService;
let hook: Receiver;
let other: Receiver;
let redirector: Receiver;
let privateA: string;
let publicA: string;
let foreignVkey: Buffer;
let foreignReceipt: any;

beforeAll(async () => {
  hook = await receiver();
  other = await receiver();
  redirector = await receiver((res) => res.writeHead(307, { location: `http://127.0.0.1:${other.port}/stolen` }).end());
  svc = await startService('sec', 1, {
    rateLimitPerMinute: 1000,
    resolveHost,
    config: { apiKeys: [API_KEY, KEY_B], webhookAllow: [`hooks.test:${hook.port}`, `hooks.test:${redirector.port}`] },
  });
  privateA = await uploadModel(svc.url, tinyMlp(), tinySamples(16));
  publicA = await uploadModel(svc.url, tinyMlp(), tinySamples(16), {}, { visibility: 'public' });
  // A real key and receipt that this service never compiled: a local build of digits_mlp.
  const dir = await ensureBuild('digits_mlp', fs.readFileSync(fixture('digits_mlp.onnx')), mlp);
  foreignVkey = fs.readFileSync(buildPath(dir, 'vkey'));
  foreignReceipt = (await (await ModelProver.load(dir)).prove(mlp.test[0].input)).receipt;
  await releaseCurve();
});
afterAll(async () => {
  await svc?.close();
  for (const r of [hook, other, redirector]) r?.close();
});

describe('only keys this service compiled are vouched for', () => {
  it('client keys get 403 on the artifact routes, reads included; the worker token gets through', async () => {
    const hash = sha256(foreignVkey);
    const put = await fetch(`${svc.url}/v1/artifacts/${hash}`, { method: 'PUT', body: new Uint8Array(foreignVkey), headers: { authorization: `Bearer ${API_KEY}` } });
    expect(put.status).toBe(403);
    expect((await put.json()).error.message).toMatch(/worker token/);
    const m = await call(`${svc.url}/v1/models/${privateA}`, 'GET');
    const get = await fetch(`${svc.url}/v1/artifacts/${m.json.keys.onnxSha256}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(get.status).toBe(403);
    expect((await fetch(`${svc.url}/v1/artifacts/${m.json.keys.onnxSha256}`, { headers: { authorization: `Bearer ${WORKER_TOKEN}` } })).status).toBe(200);
    // The worker token is no client key.
    expect((await call(`${svc.url}/v1/models`, 'GET', undefined, WORKER_TOKEN)).status).toBe(403);
  });

  it('a calibration object carrying anything but samples is refused, the field named', async () => {
    const r = await call(`${svc.url}/v1/models`, 'POST', {
      onnx: Buffer.from(tinyMlp()).toString('base64'),
      calibration: { calibration: tinySamples(4), vkey: JSON.parse(foreignVkey.toString('utf8')) },
    });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/^calibration: Unrecognized key\(s\) in object: 'vkey'/);
  });

  it('a key in the store that no compile made: /v1/verify says unknown model, /v1/keys does not serve it', async () => {
    // Planted the way a remote worker writes artifacts: the store now holds it.
    const hash = sha256(foreignVkey);
    const put = await fetch(`${svc.url}/v1/artifacts/${hash}`, { method: 'PUT', body: new Uint8Array(foreignVkey), headers: { authorization: `Bearer ${WORKER_TOKEN}` } });
    expect(put.status).toBe(201);
    const v = await call(`${svc.url}/v1/verify`, 'POST', { receipt: foreignReceipt }, null);
    expect(v.json.valid).toBe(false);
    expect(v.json.reason).toMatch(/^unknown model/);
    expect(v.json.keySource).toBe('registry');
    expect((await fetch(`${svc.url}/v1/keys/${hash}`)).status).toBe(404);
    // The caller may bring the key; the answer says whose key it was.
    const own = await call(`${svc.url}/v1/verify`, 'POST', { receipt: foreignReceipt, verificationKey: foreignVkey.toString('utf8') }, null);
    const junk = await call(`${svc.url}/v1/verify`, 'POST', { receipt: foreignReceipt, verificationKey: '{"protocol": 1}' }, null);
    expect(junk.status).toBe(400);
    expect(junk.json.error.message).toMatch(/^verificationKey: /);
    expect(own.json).toMatchObject({ valid: true, keySource: 'caller', against: { model: null, vkeySha256: hash, onnxSha256: foreignReceipt.model.onnxSha256, system: 'groth16', ceremony: null } });
  });

  it('a receipt of a compiled model names the model, ONNX, key, system and ceremony it was checked against', async () => {
    const p = await call(`${svc.url}/v1/proofs`, 'POST', { model: privateA, input: tinySamples(1, 3)[0] });
    const done = await waitProof(svc.url, p.json.id);
    const m = await call(`${svc.url}/v1/models/${privateA}`, 'GET');
    const v = await call(`${svc.url}/v1/verify`, 'POST', { receipt: done.receipt }, null);
    const against = { model: privateA, onnxSha256: m.json.keys.onnxSha256, vkeySha256: m.json.keys.vkeySha256, system: 'groth16', ceremony: 'development' };
    expect(v.json).toMatchObject({ valid: true, keySource: 'registry', against });
    expect((await fetch(`${svc.url}/v1/keys/${m.json.keys.vkeySha256}`)).status).toBe(200);
    const s = await call(`${svc.url}/v1/verify`, 'POST', { proof: done.receipt.proof, publicSignals: done.receipt.publicSignals, model: privateA }, null);
    expect(s.json).toMatchObject({ valid: true, against });
    // The proven input comes back with the outputs: a consumer checks it is the input it meant.
    expect(s.json.inputQuantized).toEqual(done.receipt.inputQuantized);
    expect(v.json.inputQuantized).toEqual(done.receipt.inputQuantized);
    // The build's trust level is reported, and said to be unchecked by verification.
    expect(m.json.manifest.trust.level).toBe('development');
    for (const r of [v.json, s.json]) {
      expect(r.against.recordedTrust).toMatchObject({ level: 'development', checked: false });
      expect(r.against.recordedTrust.note).toMatch(/zkinfer audit/);
    }
  });
});

describe('tenants apart', () => {
  it('another key neither lists, reads, proves on nor downloads a private model', async () => {
    expect((await call(`${svc.url}/v1/models`, 'GET', undefined, null)).status).toBe(401);
    const listB = await call(`${svc.url}/v1/models`, 'GET', undefined, KEY_B);
    expect(listB.json.models.map((m: { id: string }) => m.id)).not.toContain(privateA);
    expect(listB.json.models.map((m: { id: string }) => m.id)).toContain(publicA);
    for (const key of [KEY_B, null]) {
      for (const route of ['', '/verification-key', '/verifier.sol']) {
        const r = await call(`${svc.url}/v1/models/${privateA}${route}`, 'GET', undefined, key);
        expect(r.status, `${route} for ${key}`).toBe(404);
      }
    }
    const p = await call(`${svc.url}/v1/proofs`, 'POST', { model: privateA, input: tinySamples(1, 3)[0] }, KEY_B);
    expect(p.status).toBe(404);
    expect(p.json.error.code).toBe('MODEL_NOT_FOUND');
    const own = await call(`${svc.url}/v1/models`, 'GET');
    expect(own.json.models.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining([privateA, publicA]));
  });

  it('a proof job is readable only by the key that asked for it', async () => {
    const p = await call(`${svc.url}/v1/proofs`, 'POST', { model: privateA, input: tinySamples(1, 4)[0] });
    expect((await call(`${svc.url}/v1/proofs/${p.json.id}`, 'GET', undefined, KEY_B)).status).toBe(404);
    expect((await call(`${svc.url}/v1/proofs/${p.json.id}`, 'GET', undefined, null)).status).toBe(401);
    expect((await waitProof(svc.url, p.json.id)).status).toBe('done');
  });

  it('the same files uploaded by two keys are two models; a public one is everyone\'s', async () => {
    const b = await call(`${svc.url}/v1/models`, 'POST', { onnx: Buffer.from(tinyMlp()).toString('base64'), calibration: tinySamples(16) }, KEY_B);
    expect(b.status).toBe(202);
    expect(b.json.id).not.toBe(privateA);
    expect(b.json.id).not.toBe(publicA);
    expect((await call(`${svc.url}/v1/models/${b.json.id}`, 'GET')).status).toBe(404);
    const p = await call(`${svc.url}/v1/proofs`, 'POST', { model: publicA, input: tinySamples(1, 5)[0] }, KEY_B);
    expect(p.status).toBe(202);
    const done = await waitProof(svc.url, p.json.id, 60, KEY_B);
    expect(done.status).toBe('done');
    const vk = await fetch(`${svc.url}/v1/models/${publicA}/verification-key`);
    expect(vk.status).toBe(200);
    expect((await call(`${svc.url}/v1/models/${publicA}`, 'GET', undefined, null)).json.visibility).toBe('public');
  });
});

describe('webhooks go to global addresses only', () => {
  const prove = (webhook: string, key = API_KEY) => call(`${svc.url}/v1/proofs`, 'POST', { model: publicA, input: tinySamples(1, 6)[0], webhook }, key);

  it('loopback, private, link-local, metadata, mapped and numeric forms are refused at request time', async () => {
    const refused = [
      `http://127.0.0.1:${hook.port}/`, `http://2130706433:${hook.port}/`, `http://0x7f.1:${hook.port}/`, `http://[::ffff:127.0.0.1]:${hook.port}/`,
      'http://127.0.0.1:6379/', `http://localhost:${hook.port}/`, `http://0.0.0.0:${hook.port}/`, 'http://[::1]/', 'http://[::]/',
      'http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]/', 'http://10.0.0.1/', 'http://172.16.5.4/', 'http://192.168.1.1/',
      'http://100.64.0.1/', 'http://224.0.0.1/', 'http://[fd00::1]/', 'http://[64:ff9b::7f00:1]/', 'http://metadata.google.internal/',
      'http://internal.test/', 'http://mixed.test/', 'http://nowhere.test/', `http://hooks.test:${hook.port + 1}/`,
    ];
    for (const url of refused) {
      const r = await prove(url);
      expect(r.status, url).toBe(400);
      expect(r.json.error.code, url).toBe('WEBHOOK_REFUSED');
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.hits).toHaveLength(0);
  });

  it('an allowed name is called once, at the address resolved and checked, with its Host header', async () => {
    const r = await prove(`http://hooks.test:${hook.port}/hook`);
    expect(r.status).toBe(202);
    await waitProof(svc.url, r.json.id);
    await until(() => hook.hits.length > 0);
    await new Promise((res) => setTimeout(res, 300));
    expect(hook.hits).toHaveLength(1);
    expect(hook.hits[0].host).toBe(`hooks.test:${hook.port}`);
    expect(hook.hits[0].body).toMatchObject({ id: r.json.id, status: 'done' });
  });

  it('the name is resolved and checked again at send time', async () => {
    const r = await prove(`http://rebind.test:${hook.port}/rebound`);
    expect(r.status).toBe(202);
    await waitProof(svc.url, r.json.id);
    await until(() => rebindLookups > 1);
    await new Promise((res) => setTimeout(res, 500));
    expect(rebindLookups).toBe(2);
    expect(hook.hits.map((h) => h.body.id)).not.toContain(r.json.id);
  });

  it('a redirect is not followed', async () => {
    const r = await prove(`http://hooks.test:${redirector.port}/hook`);
    await waitProof(svc.url, r.json.id);
    await until(() => redirector.hits.length > 0);
    await new Promise((res) => setTimeout(res, 500));
    expect(redirector.hits).toHaveLength(1);
    expect(other.hits).toHaveLength(0);
  });

  it('a proof that ends while no API runs has its webhook sent by the next API to start', async () => {
    for (const p of svc.workers.filter((x) => x.exitCode === null && x.signalCode === null)) {
      p.kill('SIGTERM');
      await new Promise((res) => p.once('exit', res));
    }
    const before = hook.hits.length;
    const r = await prove(`http://hooks.test:${hook.port}/late`);
    expect(r.status).toBe(202);
    await svc.stopApi();
    await svc.startWorker();
    const q = new Queue(QUEUES.prove, { connection: connectionFromUrl(REDIS_URL), prefix: svc.prefix });
    try {
      await until(async () => (await (await Job.fromId(q, r.json.id))?.getState()) === 'completed', 60_000);
      expect(await (await Job.fromId(q, r.json.id))!.getState()).toBe('completed');
    } finally {
      await q.close();
    }
    await new Promise((res) => setTimeout(res, 300));
    expect(hook.hits.length).toBe(before);
    await svc.startApi();
    await until(() => hook.hits.length > before);
    expect(hook.hits.slice(before).map((h) => h.body.id)).toEqual([r.json.id]);
  });
});

describe('work bounded before it starts', () => {
  it('tiny files declaring huge tensors or circuits are refused at upload, naming the limit, and nothing is queued', async () => {
    const upload = (bytes: Uint8Array, calibration: unknown) => call(`${svc.url}/v1/models`, 'POST', { onnx: Buffer.from(bytes).toString('base64'), calibration });
    const before = (await call(`${svc.url}/v1/models`, 'GET')).json.models.length;
    // About 150 bytes that pad to 4,194,304 elements: once a 199 MB circuit source.
    const pad = await upload(padBomb(), [[0.1, 0.2, 0.3, 0.4]]);
    expect(pad.status).toBe(422);
    expect(pad.json.error.code).toBe('CIRCUIT_TOO_LARGE');
    expect(pad.json.error.message).toMatch(/Pad node "\/Pad".*4,194,304.*maxTensorElements/);
    // A 70000 x 70000 weight with no data: once a RangeError and a 500.
    const empty = await upload(withTensor({ name: 'W', dims: [70000, 70000], dataType: 1 }), [[0.1, 0.2, 0.3, 0.4]]);
    expect(empty.status).toBe(400);
    expect(empty.json.error).toEqual({ code: 'ONNX_MALFORMED', message: 'tensor "W" declares dims [70000,70000] (4900000000 elements) but holds no data' });
    // A 16.8 MB Gemm 2048 x 2048: once minutes of compiling.
    const gemm = await upload(bigGemm(2048), [new Array(2048).fill(0.5)]);
    expect(gemm.status).toBe(413);
    expect(gemm.json.error.code).toBe('ONNX_TOO_LARGE');
    expect(gemm.json.error.message).toMatch(/maxTensorElements/);
    expect((await call(`${svc.url}/v1/models`, 'GET')).json.models.length).toBe(before);
  });
});

describe('smaller holes', () => {
  it('bad percent-encoding in a path parameter is a 400, not a 500', async () => {
    for (const p of ['/v1/models/%ff%fe', '/v1/proofs/%ff', '/v1/keys/%c0%af', '/v1/models/%e0%a4%a/verification-key']) {
      const r = await call(`${svc.url}${p}`, 'GET');
      expect(r.status, p).toBe(400);
      expect(r.json.error.code).toBe('INVALID_REQUEST');
    }
  });

  it('no worker token, no artifact routes; per-key limits, a per-IP limit on /v1/verify, and 429 after repeated failed authentications', async () => {
    const limited = await startService('sec-limits', 0, {
      config: { apiKeys: [API_KEY, KEY_B], workerToken: null, keyRateLimits: { [KEY_B]: 2 }, rateLimitPerMinute: 50, verifyRateLimitPerMinute: 3, authFailureLimit: 4 },
    });
    try {
      // Without a worker token the artifact routes are off.
      const art = await fetch(`${limited.url}/v1/artifacts/${sha256(foreignVkey)}`, { method: 'PUT', body: new Uint8Array(foreignVkey), headers: { authorization: `Bearer ${API_KEY}` } });
      expect(art.status).toBe(403);
      expect((await art.json()).error.message).toMatch(/artifact routes are off/);
      const post = (key: string | null) => call(`${limited.url}/v1/proofs`, 'POST', { model: '0'.repeat(32), input: [[0]] }, key);
      const b: number[] = [];
      for (let i = 0; i < 3; i++) b.push((await post(KEY_B)).status);
      expect(b).toEqual([404, 404, 429]);
      expect((await post(API_KEY)).status).toBe(404);
      const v: number[] = [];
      for (let i = 0; i < 4; i++) v.push((await call(`${limited.url}/v1/verify`, 'POST', { receipt: {} }, null)).status);
      expect(v).toEqual([400, 400, 400, 429]);
      const f: number[] = [];
      for (let i = 0; i < 5; i++) f.push((await post(`guess-${i}`)).status);
      expect(f).toEqual([401, 401, 401, 401, 429]);
      // Past the limit a right key gets the same answer, so it tells a guesser nothing.
      const right = await post(API_KEY);
      expect(right.status).toBe(429);
      expect(right.json.error.code).toBe('AUTH_RATE_LIMITED');
    } finally {
      await limited.close();
    }
  });

  it('reads keys with their own limits and the other settings from the environment', () => {
    expect(parseApiKeys('a, b:30,c:d:5,')).toEqual({ apiKeys: ['a', 'b', 'c:d'], keyRateLimits: { b: 30, 'c:d': 5 } });
    expect(configFromEnv({ ZKINFER_VERIFY_RATE_LIMIT: '7', ZKINFER_AUTH_FAILURE_LIMIT: '3', ZKINFER_WEBHOOK_ALLOW: '127.0.0.1:9000, 10.0.0.0/8' }))
      .toMatchObject({ verifyRateLimitPerMinute: 7, authFailureLimit: 3, webhookAllow: ['127.0.0.1:9000', '10.0.0.0/8'] });
    expect(() => configFromEnv({ ZKINFER_RATE_LIMIT: 'many' })).toThrow(/ZKINFER_RATE_LIMIT must be a positive integer/);
  });
});
