import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, call, uploadModel, waitProof, API_KEY, type TestService } from './helpers/service.js';
import { fixture, loadJson } from './helpers/builds.js';
import { makeOnnx, tinyMlp, tinySamples } from './helpers/onnx-builder.js';
import { FIELD_PRIME, toField } from '../src/receipt/index.js';
import { DirStore } from '../src/store/store.js';

const data = loadJson(fixture('digits_mlp.data.json'));
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
let svc: TestService;
let model: string;
let receipt: any;

beforeAll(async () => {
  // The webhook receiver below listens on loopback, which only an operator allow-list admits.
  svc = await startService('api', 1, { rateLimitPerMinute: 1000, config: { webhookAllow: ['127.0.0.0/8'] } });
  model = await uploadModel(svc.url, fs.readFileSync(fixture('digits_mlp.onnx')), { calibration: data.calibration });
  const r = await call(`${svc.url}/v1/proofs`, 'POST', { model, input: data.test[0].input });
  receipt = (await waitProof(svc.url, r.json.id)).receipt;
});
afterAll(async () => svc?.close());

describe('API: models and proofs', () => {
  it('lists the model with its manifest, key hashes and verification key', async () => {
    const list = await call(`${svc.url}/v1/models`, 'GET');
    expect(list.json.models.map((m: { id: string }) => m.id)).toContain(model);
    const m = await call(`${svc.url}/v1/models/${model}`, 'GET');
    expect(m.json.status).toBe('done');
    expect(m.json.manifest.ops).toEqual(['Gemm', 'Relu']);
    expect(m.json.manifest.ceremony.kind).toBe('development');
    expect(m.json.manifest.constraints.total).toBeGreaterThan(0);
    const vk = await call(`${svc.url}/v1/models/${model}/verification-key`, 'GET');
    expect(vk.json.protocol).toBe('groth16');
    expect(m.json.keys.vkeySha256).toBe(receipt.model.vkeySha256);
  });

  it('serves the Solidity source of the model contract and of the verifier alone', async () => {
    const model_ = await call(`${svc.url}/v1/models/${model}/verifier.sol`, 'GET');
    expect(model_.status).toBe(200);
    expect(model_.json).toMatch(/contract ZkinferModelVerifier/);
    expect(model_.json).toMatch(/contract ZkinferModel/);
    expect(model_.json).toContain(receipt.model.vkeySha256);
    const plain = await call(`${svc.url}/v1/models/${model}/verifier.sol?contract=verifier`, 'GET');
    expect(plain.json).toMatch(/contract Groth16Verifier/);
    expect(plain.json).not.toMatch(/contract ZkinferModel/);
    const bad = await call(`${svc.url}/v1/models/${model}/verifier.sol?contract=other`, 'GET');
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/contract must be/);
  });

  it('returns the receipt when done, which verifies with POST /v1/verify', async () => {
    expect(receipt.output[0]).toHaveLength(10);
    const v = await call(`${svc.url}/v1/verify`, 'POST', { receipt }, null);
    expect(v.json).toMatchObject({ valid: true });
    const v2 = await call(`${svc.url}/v1/verify`, 'POST', { proof: receipt.proof, publicSignals: receipt.publicSignals, model }, null);
    expect(v2.json.valid).toBe(true);
    expect(v2.json.output).toEqual(receipt.output[0]);
  });
});

describe('API: POST /v1/verify rejects every tamper class', () => {
  const check = async (r: unknown, reason: RegExp) => {
    const v = await call(`${svc.url}/v1/verify`, 'POST', { receipt: r }, null);
    expect(v.status).toBe(200);
    expect(v.json.valid).toBe(false);
    expect(v.json.reason).toMatch(reason);
  };
  it('changed output, changed input, signal plus p, changed proof point, another key', async () => {
    let r = clone(receipt);
    r.output[0][2] += 1;
    await check(r, /output element 2/);
    r = clone(receipt);
    r.input[0][3] = 0.5;
    await check(r, /input differs/);
    r = clone(receipt);
    r.publicSignals[1] = (BigInt(r.publicSignals[1]) + FIELD_PRIME).toString();
    await check(r, /canonical/);
    r = clone(receipt);
    r.proof.pi_c[1] = (BigInt(r.proof.pi_c[1]) + 1n).toString();
    await check(r, /Groth16/);
    r = clone(receipt);
    r.model.vkeySha256 = 'a'.repeat(64);
    await check(r, /^unknown model/);
    r = clone(receipt);
    r.publicSignals[0] = toField(BigInt(r.outputQuantized[0]) + 1n).toString();
    r.outputQuantized[0] = String(BigInt(r.outputQuantized[0]) + 1n);
    r.output[0][0] = Number(r.outputQuantized[0]) / 2 ** r.outputScale;
    await check(r, /Groth16/);
  });
});

describe('API: POST /v1/verify with {proof, publicSignals, model} rejects tampering', () => {
  const check = async (body: object, reason: RegExp) => {
    const v = await call(`${svc.url}/v1/verify`, 'POST', body, null);
    expect(v.status).toBe(200);
    expect(v.json.valid).toBe(false);
    expect(v.json.reason).toMatch(reason);
  };
  it('a changed signal, a signal plus p, a missing signal, a changed proof point, another model', async () => {
    const signals = [...receipt.publicSignals];
    signals[0] = toField(BigInt(receipt.outputQuantized[0]) + 1n).toString();
    await check({ proof: receipt.proof, publicSignals: signals, model }, /does not verify/);
    const plusP = [...receipt.publicSignals];
    plusP[3] = (BigInt(plusP[3]) + FIELD_PRIME).toString();
    await check({ proof: receipt.proof, publicSignals: plusP, model }, /canonical/);
    await check({ proof: receipt.proof, publicSignals: receipt.publicSignals.slice(1), model }, /expected \d+ public signals/);
    const proof = clone(receipt.proof);
    proof.pi_a[1] = (BigInt(proof.pi_a[1]) + 1n).toString();
    await check({ proof, publicSignals: receipt.publicSignals, model }, /does not verify/);
    const r = await call(`${svc.url}/v1/verify`, 'POST', { proof: receipt.proof, publicSignals: receipt.publicSignals, model: '0'.repeat(32) }, null);
    expect(r.status).toBe(404);
  });
});

describe('API: the caller\'s mistakes get the right 4xx and a message, never a stack', () => {
  it('malformed JSON, oversized body', async () => {
    let r = await call(`${svc.url}/v1/proofs`, 'POST', undefined, API_KEY, '{"model": ');
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('MALFORMED_JSON');
    r = await call(`${svc.url}/v1/proofs`, 'POST', { model, input: [new Array(400_000).fill(0.5)] });
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('BODY_TOO_LARGE');
  });

  it('wrong shapes, out-of-range and non-numeric inputs, unknown model, bad model id', async () => {
    let r = await call(`${svc.url}/v1/proofs`, 'POST', { model, input: [[1, 2, 3]] });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/input has shape \[1,3\]; expected \[1,64\]/);
    r = await call(`${svc.url}/v1/proofs`, 'POST', { model, input: [new Array(64).fill(7)] });
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe('INPUT_OUT_OF_RANGE');
    r = await call(`${svc.url}/v1/proofs`, 'POST', { model, input: [new Array(64).fill('x')] });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/input\[0\]\[0\] is string/);
    r = await call(`${svc.url}/v1/proofs`, 'POST', { model: '0'.repeat(32), input: [[0]] });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('MODEL_NOT_FOUND');
    r = await call(`${svc.url}/v1/proofs`, 'POST', { model: 'nope', input: [[0]] });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/^model: model must be a model id/);
    r = await call(`${svc.url}/v1/proofs/does-not-exist`, 'GET');
    expect(r.status).toBe(404);
    r = await call(`${svc.url}/v1/proofs/x?wait=999`, 'GET');
    expect(r.status).toBe(400);
  });

  it('missing or invalid API key', async () => {
    let r = await call(`${svc.url}/v1/proofs`, 'POST', { model, input: data.test[0].input }, null);
    expect(r.status).toBe(401);
    expect(r.json.error.message).toMatch(/missing API key/);
    r = await call(`${svc.url}/v1/proofs`, 'POST', { model, input: data.test[0].input }, 'wrong-key');
    expect(r.status).toBe(401);
    expect(r.json.error.message).toBe('invalid API key');
    r = await call(`${svc.url}/v1/models`, 'POST', { onnx: 'AAAA', calibration: [1] }, null);
    expect(r.status).toBe(401);
  });

  it('compiles, proves and verifies a model with PLONK when the upload asks for it', async () => {
    const id = await uploadModel(svc.url, tinyMlp(), tinySamples(16), { system: 'plonk' });
    const m = await call(`${svc.url}/v1/models/${id}`, 'GET');
    expect(m.json.manifest.system).toBe('plonk');
    const r = await call(`${svc.url}/v1/proofs`, 'POST', { model: id, input: tinySamples(1, 5)[0] });
    const done = await waitProof(svc.url, r.json.id);
    expect(done.status).toBe('done');
    expect(done.receipt.system).toBe('plonk');
    const v = await call(`${svc.url}/v1/verify`, 'POST', { receipt: done.receipt });
    expect(v.json).toMatchObject({ valid: true });
    expect(v.json.checked).toContain('PLONK proof');
    const signals = await call(`${svc.url}/v1/verify`, 'POST', { proof: done.receipt.proof, publicSignals: done.receipt.publicSignals, model: id });
    expect(signals.json.valid).toBe(true);
    const t = clone(done.receipt.publicSignals);
    t[0] = toField(BigInt(done.receipt.outputQuantized[0]) + 1n).toString();
    const bad = await call(`${svc.url}/v1/verify`, 'POST', { proof: done.receipt.proof, publicSignals: t, model: id });
    expect(bad.json).toMatchObject({ valid: false, reason: 'the plonk proof does not verify against this model' });
    const sys = await call(`${svc.url}/v1/models`, 'POST', { onnx: Buffer.from(tinyMlp()).toString('base64'), calibration: tinySamples(4), options: { system: 'stark' } });
    expect(sys.status).toBe(400);
    expect(sys.json.error.message).toMatch(/options\.system/);
  });

  it('an unsupported or malformed model is refused at upload, with the ops named', async () => {
    const onnx = makeOnnx({
      input: { name: 'x', shape: [1, 2] }, output: { name: 'y', shape: [1, 2] },
      nodes: [{ op: 'Cos', name: 't', inputs: ['x'], outputs: ['y'] }],
    });
    let r = await call(`${svc.url}/v1/models`, 'POST', { onnx: Buffer.from(onnx).toString('base64'), calibration: [[[0, 0]]] });
    expect(r.status).toBe(422);
    expect(r.json.error.message).toBe('unsupported ONNX operator: Cos (node "t")');
    r = await call(`${svc.url}/v1/models`, 'POST', { onnx: Buffer.from('garbage').toString('base64'), calibration: [[[0, 0]]] });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('ONNX_MALFORMED');
    r = await call(`${svc.url}/v1/models`, 'POST', { onnx: fs.readFileSync(fixture('digits_mlp.onnx')).toString('base64'), calibration: [[[1, 2]]] });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/calibration\[0\] has shape/);
    r = await call(`${svc.url}/v1/models`, 'POST', { onnx: 'AAAA', calibration: [1], options: { bogus: 1 } });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/options: Unrecognized key/);
  });

  it('rate limits per API key', async () => {
    const limited = await startService('ratelimit', 0, { rateLimitPerMinute: 3 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await call(`${limited.url}/v1/proofs`, 'POST', { model, input: [[0]] })).status);
      expect(codes.slice(0, 3)).toEqual([404, 404, 404]);
      expect(codes.slice(3)).toEqual([429, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('API: webhooks, health, metrics, OpenAPI', () => {
  it('calls the webhook once when the proof is done', async () => {
    const hits: any[] = [];
    const server = http.createServer((req, res) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        hits.push(JSON.parse(b));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await call(`${svc.url}/v1/proofs`, 'POST', { model, input: data.test[1].input, webhook: `http://127.0.0.1:${port}/hook` });
      await waitProof(svc.url, r.json.id);
      for (let i = 0; i < 40 && hits.length === 0; i++) await new Promise((res) => setTimeout(res, 100));
      await new Promise((res) => setTimeout(res, 500));
      expect(hits).toHaveLength(1);
      expect(hits[0].id).toBe(r.json.id);
      expect(hits[0].status).toBe('done');
      expect(hits[0].receipt.proof).toBeDefined();
    } finally {
      server.close();
    }
  });

  it('serves health, Prometheus metrics and the OpenAPI document', async () => {
    const h = await call(`${svc.url}/healthz`, 'GET');
    expect(h.json).toEqual({ ok: true, queue: 'redis', redis: true, workers: 1 });
    const m = await fetch(`${svc.url}/metrics`).then((r) => r.text());
    expect(m).toMatch(/zkinfer_jobs\{queue="prove",state="completed"\} [1-9]/);
    expect(m).toMatch(/zkinfer_queue_depth \d/);
    expect(m).toMatch(/zkinfer_phase_seconds_bucket\{le="[^"]+",phase="prove"\}/);
    const o = await call(`${svc.url}/openapi.json`, 'GET');
    expect(Object.keys(o.json.paths)).toEqual(expect.arrayContaining(['/v1/models', '/v1/proofs', '/v1/proofs/{id}', '/v1/verify', '/healthz', '/metrics']));
  });
});

// Last: it replaces the model's keys.
describe('API: a store that lost artifacts', () => {
  it('compiles again when the store lost a compiled model\'s artifacts', async () => {
    const m = await call(`${svc.url}/v1/models/${model}`, 'GET');
    const vkFile = path.join(svc.env.ZKINFER_STORE_DIR!, m.json.keys.vkeySha256.slice(0, 2), m.json.keys.vkeySha256);
    fs.rmSync(vkFile);
    const again = await uploadModel(svc.url, fs.readFileSync(fixture('digits_mlp.onnx')), { calibration: data.calibration });
    expect(again).toBe(model);
    const vk = await call(`${svc.url}/v1/models/${model}/verification-key`, 'GET');
    expect(vk.status).toBe(200);
    expect(vk.json.protocol).toBe('groth16');
    // New keys from a new setup, now in the store.
    const m2 = await call(`${svc.url}/v1/models/${model}`, 'GET');
    expect(await new DirStore(svc.env.ZKINFER_STORE_DIR!).has(m2.json.keys.vkeySha256)).toBe(true);
  });
});
