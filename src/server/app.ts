import express, { type Request, type Response, type NextFunction } from 'express';
import type { Redis } from 'ioredis';
import type { ServerConfig } from './config.js';
import type { JobQueue, ProveView, CompileView } from '../queue/job-queue.js';
import type { ArtifactStore } from '../store/store.js';
import { HASH_RE } from '../store/store.js';
import { sha256 } from '../hash.js';
import { QUEUE_PREFIX } from '../queue/jobs.js';
import { importOnnx } from '../onnx/index.js';
import { parseCalibration } from '../quantize/calibration.js';
import { loadKey, verifyProof, verifyReceipt } from '../verify/index.js';
import { flattenTensor, quantizeInput, parseCanonical, signalLayout, fromField, dequantize, VKEY_IO_FIELD, type ProofSystem } from '../receipt/index.js';
import { HttpError, errorHandler } from './http-error.js';
import { requireKey, rateLimit } from './auth.js';
import { Metrics } from './metrics.js';
import { modelUpload, proofRequest, verifyRequest, describe } from './schemas.js';
import { OPENAPI } from './openapi.js';
import { verifyPageRouter } from './verify-page.js';
import { modelContract, solidityVerifier } from '../contracts/index.js';
import { isZkinferError } from '../errors.js';

export interface AppDeps {
  config: ServerConfig;
  queue: JobQueue;
  store: ArtifactStore;
  redis: Redis | null;
  /** Namespace of Redis keys. @defaultValue 'zkinfer' */
  prefix?: string;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

type Handler = (req: Request, res: Response) => Promise<unknown>;
const route = (h: Handler) => (req: Request, res: Response, next: NextFunction) => h(req, res).catch(next);

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError } }, v: unknown): T {
  const r = schema.safeParse(v);
  if (!r.success) throw new HttpError(400, 'INVALID_REQUEST', describe(r.error));
  return r.data;
}

function modelView(v: CompileView) {
  const r = v.result;
  return {
    id: v.id,
    name: v.data.name,
    status: v.status,
    ...(v.error ? { error: v.error } : {}),
    ...(r ? { manifest: r.summary, keys: { onnxSha256: r.summary.onnxSha256, vkeySha256: r.summary.vkeySha256 } } : { keys: { onnxSha256: v.data.onnx } }),
    createdAt: new Date(v.createdAt).toISOString(),
  };
}

function proofView(v: ProveView) {
  return {
    id: v.id,
    model: v.data.modelId,
    status: v.status,
    attempts: v.attempts,
    ...(v.error ? { error: v.error } : {}),
    ...(v.result ? { receipt: v.result.receipt, timings: v.result.timings } : {}),
  };
}

/** The HTTP API. Everything from outside (queue, store, Redis) is injected. */
export function createApp(deps: AppDeps) {
  const { config, queue, store, redis, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  const metrics = new Metrics(queue);
  const prefix = deps.prefix ?? QUEUE_PREFIX;
  const auth = [requireKey(config.apiKeys), rateLimit(config.rateLimitPerMinute, redis, prefix)];
  const workerAuth = requireKey([...config.apiKeys, ...(config.workerToken ? [config.workerToken] : [])]);
  const vkeys = new Map<string, string>();

  app.use((req, res, next) => {
    const t0 = performance.now();
    res.on('finish', () => metrics.requests.inc({ route: req.route?.path ?? 'other', status: String(res.statusCode) }));
    res.locals.t0 = t0;
    next();
  });

  const vkeyText = async (hash: string): Promise<string> => {
    let t = vkeys.get(hash);
    if (!t) {
      const b = await store.get(hash);
      if (!b) throw new HttpError(404, 'NOT_FOUND', `verification key ${hash} is not in the store`);
      t = b.toString('utf8');
      vkeys.set(hash, t);
    }
    return t;
  };

  const readyModel = async (id: string) => {
    const m = await queue.getCompile(id);
    if (!m) throw new HttpError(404, 'MODEL_NOT_FOUND', `no model ${id}`);
    if (m.status === 'failed') throw new HttpError(409, 'MODEL_FAILED', `model ${id} failed to compile: ${m.error?.message}`);
    if (m.status !== 'done' || !m.result) throw new HttpError(409, 'MODEL_NOT_READY', `model ${id} is ${m.status}; retry when it is done`);
    return m.result;
  };

  // Healthy means a proof requested now would be taken up: Redis answers and
  // at least one worker's heartbeat is live.
  app.get('/healthz', route(async (_req, res) => {
    let redisOk: boolean | null = null;
    if (redis) redisOk = await redis.ping().then(() => true, () => false);
    const workers = redisOk === false ? 0 : await queue.liveWorkers().catch(() => 0);
    const ok = redisOk !== false && workers > 0;
    const reason = redisOk === false ? 'Redis is unreachable' : workers === 0 ? 'no live worker: proofs would wait until one starts' : null;
    res.status(ok ? 200 : 503).json({ ok, queue: queue.kind, redis: redisOk, workers, ...(reason ? { reason } : {}) });
  }));
  app.get('/metrics', route(async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.render());
  }));
  app.get('/openapi.json', (_req, res) => {
    res.json(OPENAPI);
  });

  app.post('/v1/models', ...auth, express.json({ limit: config.modelBodyLimit }), route(async (req, res) => {
    const body = parse(modelUpload, req.body);
    const onnx = Buffer.from(body.onnx, 'base64');
    // Refuse unsupported or malformed models before any work is queued.
    const graph = importOnnx(onnx);
    try {
      parseCalibration(body.calibration, graph.input.shape);
    } catch (e) {
      if (isZkinferError(e)) throw new HttpError(400, e.code, e.message);
      throw e;
    }
    const onnxHash = await store.put(onnx);
    const calHash = await store.put(Buffer.from(JSON.stringify(body.calibration)));
    const modelId = sha256(Buffer.from(JSON.stringify([onnxHash, calHash, body.options]))).slice(0, 32);
    const existing = await queue.getCompile(modelId);
    // A record whose artifacts this store lacks (a wiped store, or one Redis shared by
    // several stores) is compiled again rather than pointing at missing files.
    const stale = existing?.result ? !(await store.has(existing.result.artifacts.vkey)) : false;
    if (stale || existing?.status === 'failed') await queue.removeCompile(modelId);
    if (!existing || stale || existing.status === 'failed') {
      await queue.addCompile({ modelId, name: body.name ?? graph.output.name, onnx: onnxHash, calibration: calHash, options: body.options });
    }
    log('model accepted', { modelId, keyId: res.locals.keyId });
    const v = await queue.getCompile(modelId);
    res.status(202).location(`/v1/models/${modelId}`).json({ id: modelId, status: v?.status ?? 'queued' });
  }));

  app.get('/v1/models', route(async (_req, res) => {
    res.json({ models: (await queue.listCompiles(1000)).map(modelView) });
  }));

  app.get('/v1/models/:id', route(async (req, res) => {
    const v = await queue.getCompile(String(req.params.id));
    if (!v) throw new HttpError(404, 'MODEL_NOT_FOUND', `no model ${req.params.id}`);
    res.json(modelView(v));
  }));

  app.get('/v1/models/:id/verification-key', route(async (req, res) => {
    const m = await readyModel(String(req.params.id));
    res.type('application/json').send(await vkeyText(m.artifacts.vkey));
  }));

  app.get('/v1/models/:id/verifier.sol', route(async (req, res) => {
    const m = await readyModel(String(req.params.id));
    const text = await vkeyText(m.artifacts.vkey);
    const kind = req.query.contract ?? 'model';
    if (kind !== 'model' && kind !== 'verifier') throw new HttpError(400, 'INVALID_REQUEST', 'contract must be "model" (verifier and model contract) or "verifier"');
    res.type('text/plain').send(kind === 'model' ? (await modelContract(text)).source : solidityVerifier(text));
  }));

  app.post('/v1/proofs', ...auth, express.json({ limit: config.jsonBodyLimit }), route(async (req, res) => {
    const body = parse(proofRequest, req.body);
    const m = await readyModel(body.model);
    const io = (await loadKey(await vkeyText(m.artifacts.vkey))).vk[VKEY_IO_FIELD];
    // Shape and range are checked here, so a bad input never reaches a worker.
    quantizeInput(io, flattenTensor(body.input, io.input.shape, 'input'));
    const id = await queue.addProve({ modelId: body.model, artifacts: m.artifacts, input: body.input, disclose: body.disclose, webhook: body.webhook, acceptedAt: Date.now() });
    log('proof accepted', { jobId: id, modelId: body.model, keyId: res.locals.keyId });
    res.status(202).location(`/v1/proofs/${id}`).json({ id, status: 'queued' });
  }));

  app.get('/v1/proofs/:id', route(async (req, res) => {
    const id = String(req.params.id);
    const wait = req.query.wait === undefined ? 0 : Number(req.query.wait);
    if (!Number.isFinite(wait) || wait < 0 || wait > config.maxWaitSeconds) {
      throw new HttpError(400, 'INVALID_REQUEST', `wait must be a number of seconds in [0, ${config.maxWaitSeconds}]`);
    }
    let v = await queue.getProve(id);
    if (!v) throw new HttpError(404, 'PROOF_NOT_FOUND', `no proof job ${id}`);
    if (wait > 0 && v.status !== 'done' && v.status !== 'failed') {
      await queue.waitProve(id, wait * 1000);
      v = (await queue.getProve(id))!;
    }
    res.json(proofView(v));
  }));

  app.post('/v1/verify', express.json({ limit: config.jsonBodyLimit }), route(async (req, res) => {
    const body = parse(verifyRequest, req.body);
    if (!('publicSignals' in body)) {
      const r = body.receipt as { model?: { vkeySha256?: unknown } };
      const hash = r && typeof r === 'object' && r.model && typeof r.model.vkeySha256 === 'string' ? r.model.vkeySha256 : '';
      if (!HASH_RE.test(hash)) throw new HttpError(400, 'RECEIPT_INVALID', 'receipt field "model.vkeySha256": expected 64 lowercase hex digits');
      let text: string;
      try {
        text = await vkeyText(hash);
      } catch {
        res.json({ valid: false, reason: 'the receipt names a verification key this service does not know' });
        return;
      }
      const v = await verifyReceipt(body.receipt, text);
      res.json(v.valid ? { valid: true, checked: v.checked } : { valid: false, reason: v.reason });
      return;
    }
    const m = await readyModel(body.model);
    const text = await vkeyText(m.artifacts.vkey);
    const { vk } = await loadKey(text);
    const io = vk[VKEY_IO_FIELD];
    const layout = signalLayout(io);
    const signals = body.publicSignals.map(parseCanonical);
    if (signals.length !== layout.total) return void res.json({ valid: false, reason: `expected ${layout.total} public signals, got ${signals.length}` });
    if (signals.some((s) => s === null)) return void res.json({ valid: false, reason: 'a public signal is not a canonical field element' });
    const system = vk.protocol as ProofSystem;
    if (!(await verifyProof(system, m.artifacts.vkey, vk, signals as bigint[], body.proof))) {
      return void res.json({ valid: false, reason: `the ${system} proof does not verify against this model` });
    }
    const outQ = (signals as bigint[]).slice(0, layout.outputs).map(fromField);
    res.json({ valid: true, output: outQ.map((q) => dequantize(q, io.output.scale)), outputQuantized: outQ.map(String) });
  }));

  app.get('/v1/artifacts/:hash', workerAuth, route(async (req, res) => {
    const hash = String(req.params.hash);
    if (!HASH_RE.test(hash)) throw new HttpError(400, 'INVALID_REQUEST', 'artifact id must be a sha256 hex digest');
    const b = await store.get(hash);
    if (!b) throw new HttpError(404, 'NOT_FOUND', `no artifact ${hash}`);
    res.type('application/octet-stream').send(b);
  }));

  app.put('/v1/artifacts/:hash', workerAuth, express.raw({ type: () => true, limit: '2gb' }), route(async (req, res) => {
    const hash = String(req.params.hash);
    const body = req.body as Buffer;
    if (!Buffer.isBuffer(body) || sha256(body) !== hash) throw new HttpError(400, 'HASH_MISMATCH', 'the body does not hash to the artifact id');
    await store.put(body);
    res.status(201).json({ id: hash });
  }));

  app.use(verifyPageRouter({ store, log }));
  app.use((req, _res, next) => next(new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${req.path}`)));
  app.use(errorHandler(log));

  // Webhooks: once per finished proof, even with several API instances (Redis SET NX).
  const sent = new Set<string>();
  queue.onFinished(async (kind, id) => {
    if (kind !== 'prove') return;
    try {
      const v = await queue.getProve(id);
      if (!v) return;
      if (v.result) {
        metrics.phase.observe({ phase: 'witness' }, v.result.timings.witness / 1000);
        metrics.phase.observe({ phase: 'prove' }, v.result.timings.prove / 1000);
        metrics.phase.observe({ phase: 'queue' }, Math.max(0, (v.finishedAt ?? Date.now()) - v.data.acceptedAt - v.result.timings.total) / 1000);
      }
      if (!v.data.webhook) return;
      const first = redis ? (await redis.set(`${prefix}:webhook:${id}`, '1', 'EX', 86_400, 'NX')) === 'OK' : !sent.has(id) && !!sent.add(id);
      if (!first) return;
      await fetch(v.data.webhook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(proofView(v)) })
        .catch((e) => log('webhook failed', { jobId: id, error: (e as Error).message }));
    } catch (e) {
      log('finish handler failed', { jobId: id, error: (e as Error).message });
    }
  });

  return { app, metrics };
}
