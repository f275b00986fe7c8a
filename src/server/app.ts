import express, { type Request, type Response, type NextFunction } from 'express';
import type { Redis } from 'ioredis';
import type { ServerConfig } from './config.js';
import type { JobQueue, ProveView, CompileView } from '../queue/job-queue.js';
import type { ArtifactStore } from '../store/store.js';
import { HASH_RE } from '../store/store.js';
import { sha256 } from '../hash.js';
import { QUEUE_PREFIX, type ModelSummary } from '../queue/jobs.js';
import { loadKey } from '../verify/index.js';
import { flattenTensor, quantizeInput, VKEY_IO_FIELD, type ProofSystem } from '../receipt/index.js';
import { ThreadPool } from './thread-pool.js';
import { inspectModel } from './inspect-task.js';
import { verifyInPool, verifySignalsInPool, sharedVerifyPool } from './verify-task.js';
import { VkeyCache, storeSource } from './vkey-cache.js';
import { HttpError, errorHandler } from './http-error.js';
import { Authenticator, keyId } from './auth.js';
import { WindowCounter, rateLimit } from './rate-limit.js';
import { AllowList } from './address.js';
import { resolveWebhook, postWebhook, systemResolver, WebhookRefused, RedisPendingWebhooks, MemoryPendingWebhooks, type ResolveHost, type WebhookPolicy } from './webhook.js';
import { RedisRegistry, MemoryRegistry, type ModelRegistry, type RegisteredModel } from '../store/registry.js';
import { RedisModelIndex, MemoryModelIndex } from '../store/model-index.js';
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
  /** Names to addresses for webhook checks. @defaultValue the system resolver (dns.lookup) */
  resolveHost?: ResolveHost;
  /** Compiled models' verification keys. @defaultValue in Redis when there is one, else in memory */
  registry?: ModelRegistry;
  /** Threads for model inspection. @defaultValue a pool of config.apiThreads with heap caps, closed by stop() */
  inspectPool?: ThreadPool;
  /** Threads for proof verification. @defaultValue the process's shared verification pool (never closed: see sharedVerifyPool) */
  verifyPool?: ThreadPool;
}

type Handler = (req: Request, res: Response) => Promise<unknown>;
const route = (h: Handler) => (req: Request, res: Response, next: NextFunction) => h(req, res).catch(next);

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError } }, v: unknown): T {
  const r = schema.safeParse(v);
  if (!r.success) throw new HttpError(400, 'INVALID_REQUEST', describe(r.error));
  return r.data;
}

/** Records before tenants carry no owner: they were served to everyone, and still are. */
const visibilityOf = (v: CompileView) => (v.data.owner === undefined ? 'public' : v.data.visibility ?? 'private');
const mayUse = (v: CompileView, key: string | null) => visibilityOf(v) === 'public' || (key !== null && v.data.owner === key);

/** A job's phase (while one runs) and the share of it done, 0 to 1. */
const progressOf = (v: CompileView | ProveView) => ({ ...(v.phase ? { phase: v.phase } : {}), progress: Math.round(v.progress * 1000) / 1000 });

function modelView(v: CompileView) {
  const r = v.result;
  return {
    id: v.id,
    name: v.data.name,
    visibility: visibilityOf(v),
    status: v.status,
    ...progressOf(v),
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
    ...progressOf(v),
    attempts: v.attempts,
    ...(v.error ? { error: v.error } : {}),
    ...(v.result ? { receipt: v.result.receipt, timings: v.result.timings } : {}),
  };
}

/** What a verification answer checked against. */
interface Against {
  model: string | null;
  onnxSha256: string | null;
  vkeySha256: string;
  system: string | null;
  ceremony: string | null;
  /** The trust level the build recorded; verification does not check it, `zkinfer audit` does. */
  recordedTrust?: { level: string; canForge: string; checked: false; note: string };
}

const TRUST_NOTE = 'recorded by the build, not checked by this verification: run zkinfer audit on the build with the ONNX file to check it';
const trustOf = (summary: ModelSummary | undefined): Pick<Against, 'recordedTrust'> => {
  const t = summary?.trust;
  return t ? { recordedTrust: { level: t.level, canForge: t.canForge, checked: false, note: TRUST_NOTE } } : {};
};

/** The HTTP API. Everything from outside (queue, store, Redis, DNS) is injected. */
export function createApp(deps: AppDeps) {
  const { config, queue, store, redis, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  const metrics = new Metrics(queue);
  const prefix = deps.prefix ?? QUEUE_PREFIX;
  const counter = new WindowCounter(redis, prefix);
  const authn = new Authenticator({
    keys: config.apiKeys, workerToken: config.workerToken, counter,
    failureLimit: config.authFailureLimit, failureWindowSeconds: config.authFailureWindowSeconds,
  });
  const keyLimits = new Map(Object.entries(config.keyRateLimits).map(([k, n]) => [keyId(k), n]));
  const perKey = rateLimit(counter, 'key', (_req, res) => res.locals.keyId as string, (_req, res) => keyLimits.get(res.locals.keyId as string) ?? config.rateLimitPerMinute);
  const auth = [authn.client(), perKey];
  const registry = deps.registry ?? (redis ? new RedisRegistry(redis, prefix) : new MemoryRegistry());
  const index = redis ? new RedisModelIndex(redis, prefix) : new MemoryModelIndex();
  const pending = redis ? new RedisPendingWebhooks(redis, prefix) : new MemoryPendingWebhooks();
  const webhookPolicy: WebhookPolicy = { allow: new AllowList(config.webhookAllow), resolve: deps.resolveHost ?? systemResolver, timeoutMs: config.webhookTimeoutMs };
  const inspectPool = deps.inspectPool ?? new ThreadPool({ size: config.apiThreads });
  const verifyPool = deps.verifyPool ?? sharedVerifyPool(config.apiThreads);
  // Only texts that parse as verification keys, bounded by bytes: a hash naming
  // a 200 MB proving key is refused by its size, unread.
  const vkeys = new VkeyCache(storeSource(store));

  app.use((req, res, next) => {
    const t0 = performance.now();
    res.on('finish', () => metrics.requests.inc({ route: req.route?.path ?? 'other', status: String(res.statusCode) }));
    res.locals.t0 = t0;
    next();
  });

  const vkeyText = async (hash: string): Promise<string | null> => {
    const r = await vkeys.lookup(hash);
    return r.found ? r.text : null;
  };
  const requireVkey = async (hash: string): Promise<string> => {
    const t = await vkeyText(hash);
    if (t === null) throw new HttpError(404, 'NOT_FOUND', `verification key ${hash} is not in the store`);
    return t;
  };

  // A compile that completed is the one source of keys /v1/verify and /v1/keys trust.
  // Recorded once per model key and process: readyModel runs on every proof request.
  const registered = new Set<string>();
  const registerCompiled = async (v: CompileView | null) => {
    if (!v || v.status !== 'done' || !v.result) return;
    const r = v.result;
    const once = `${v.id}:${r.artifacts.vkey}`;
    if (registered.has(once)) return;
    await registry.record({ modelId: v.id, onnxSha256: r.summary.onnxSha256, vkeySha256: r.artifacts.vkey, system: r.summary.system, ceremony: r.summary.ceremony.kind });
    registered.add(once);
  };

  /** A model the caller may use (its owner's, or public); anyone else is told there is none. */
  const findModel = async (id: string, key: string | null) => {
    const m = await queue.getCompile(id);
    if (!m || !mayUse(m, key)) throw new HttpError(404, 'MODEL_NOT_FOUND', `no model ${id}`);
    return m;
  };

  const readyModel = async (id: string, key: string | null | 'any') => {
    const m = key === 'any' ? await queue.getCompile(id) : await findModel(id, key);
    if (!m) throw new HttpError(404, 'MODEL_NOT_FOUND', `no model ${id}`);
    if (m.status === 'failed') throw new HttpError(409, 'MODEL_FAILED', `model ${id} failed to compile: ${m.error?.message}`);
    if (m.status !== 'done' || !m.result) throw new HttpError(409, 'MODEL_NOT_READY', `model ${id} is ${m.status}; retry when it is done`);
    await registerCompiled(m);
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
    const owner = res.locals.keyId as string;
    const body = parse(modelUpload, req.body);
    const onnx = Buffer.from(body.onnx, 'base64');
    // Refuse unsupported, malformed or oversized models before any work is
    // queued: import, calibration shape and circuit estimate run on a thread,
    // bounded in time and memory, never on the event loop.
    const inspected = await inspectModel(inspectPool, onnx, body.calibration, body.options, config.modelLimits);
    const onnxHash = await store.put(onnx);
    // The strict schema left nothing but the samples, now checked against the input shape.
    const calHash = await store.put(Buffer.from(JSON.stringify(body.calibration)));
    // A private model's id includes its owner, so two tenants uploading the same
    // files never share a record; a public model's is the content's alone.
    const identity = body.visibility === 'public' ? [onnxHash, calHash, body.options] : [onnxHash, calHash, body.options, owner];
    const modelId = sha256(Buffer.from(JSON.stringify(identity))).slice(0, 32);
    const existing = await queue.getCompile(modelId);
    // A record whose artifacts this store lacks (a wiped store, or one Redis shared by
    // several stores) is compiled again rather than pointing at missing files.
    const stale = existing?.result ? !(await store.has(existing.result.artifacts.vkey)) : false;
    if (stale || existing?.status === 'failed') await queue.removeCompile(modelId);
    if (!existing || stale || existing.status === 'failed') {
      await queue.addCompile({ modelId, name: body.name ?? inspected.output.name, onnx: onnxHash, calibration: calHash, options: body.options, owner, visibility: body.visibility });
    }
    await index.add(owner, modelId, body.visibility);
    log('model accepted', { modelId, keyId: owner, visibility: body.visibility });
    const v = await queue.getCompile(modelId);
    res.status(202).location(`/v1/models/${modelId}`).json({ id: modelId, status: v?.status ?? 'queued' });
  }));

  app.get('/v1/models', ...auth, route(async (_req, res) => {
    const key = res.locals.keyId as string;
    // The index has every model this key may use; the newest records add those older than the index.
    const byId = new Map<string, CompileView>();
    for (const v of await queue.listCompiles(1000)) if (mayUse(v, key)) byId.set(v.id, v);
    const missing = (await index.visibleTo(key)).filter((id) => !byId.has(id));
    for (const v of await Promise.all(missing.map((id) => queue.getCompile(id)))) if (v && mayUse(v, key)) byId.set(v.id, v);
    res.json({ models: [...byId.values()].sort((a, b) => b.createdAt - a.createdAt).map(modelView) });
  }));

  app.get('/v1/models/:id', authn.optionalClient(), route(async (req, res) => {
    const v = await findModel(String(req.params.id), res.locals.keyId);
    await registerCompiled(v);
    res.json(modelView(v));
  }));

  app.get('/v1/models/:id/verification-key', authn.optionalClient(), route(async (req, res) => {
    const m = await readyModel(String(req.params.id), res.locals.keyId);
    res.type('application/json').send(await requireVkey(m.artifacts.vkey));
  }));

  app.get('/v1/models/:id/verifier.sol', authn.optionalClient(), route(async (req, res) => {
    const m = await readyModel(String(req.params.id), res.locals.keyId);
    const text = await requireVkey(m.artifacts.vkey);
    const kind = req.query.contract ?? 'model';
    if (kind !== 'model' && kind !== 'verifier') throw new HttpError(400, 'INVALID_REQUEST', 'contract must be "model" (verifier and model contract) or "verifier"');
    res.type('text/plain').send(kind === 'model' ? (await modelContract(text)).source : solidityVerifier(text));
  }));

  app.post('/v1/proofs', ...auth, express.json({ limit: config.jsonBodyLimit }), route(async (req, res) => {
    const owner = res.locals.keyId as string;
    const body = parse(proofRequest, req.body);
    const m = await readyModel(body.model, owner);
    const io = (await loadKey(await requireVkey(m.artifacts.vkey))).vk[VKEY_IO_FIELD];
    // Shape and range are checked here, so a bad input never reaches a worker.
    quantizeInput(io, flattenTensor(body.input, io.input.shape, 'input'));
    if (body.webhook) {
      try {
        await resolveWebhook(body.webhook, webhookPolicy);
      } catch (e) {
        if (e instanceof WebhookRefused) throw new HttpError(400, 'WEBHOOK_REFUSED', `webhook: ${e.message}`);
        throw e;
      }
    }
    const id = await queue.addProve({ modelId: body.model, artifacts: m.artifacts, input: body.input, disclose: body.disclose, webhook: body.webhook, owner, acceptedAt: Date.now() });
    if (body.webhook) {
      await pending.add(id);
      // The proof may have ended already, before it was listed as pending.
      void deliverWebhook(id);
    }
    log('proof accepted', { jobId: id, modelId: body.model, keyId: owner });
    res.status(202).location(`/v1/proofs/${id}`).json({ id, status: 'queued' });
  }));

  app.get('/v1/proofs/:id', authn.client(), route(async (req, res) => {
    const id = String(req.params.id);
    const key = res.locals.keyId as string;
    const wait = req.query.wait === undefined ? 0 : Number(req.query.wait);
    if (!Number.isFinite(wait) || wait < 0 || wait > config.maxWaitSeconds) {
      throw new HttpError(400, 'INVALID_REQUEST', `wait must be a number of seconds in [0, ${config.maxWaitSeconds}]`);
    }
    let v = await queue.getProve(id);
    // Another key's job does not exist, as far as this caller is told.
    if (!v || (v.data.owner !== undefined && v.data.owner !== key)) throw new HttpError(404, 'PROOF_NOT_FOUND', `no proof job ${id}`);
    if (wait > 0 && v.status !== 'done' && v.status !== 'failed') {
      await queue.waitProve(id, wait * 1000);
      v = (await queue.getProve(id))!;
    }
    res.json(proofView(v));
  }));

  const verifyLimit = rateLimit(counter, 'verify', (req) => req.ip ?? 'unknown', () => config.verifyRateLimitPerMinute);
  app.post('/v1/verify', verifyLimit, express.json({ limit: config.jsonBodyLimit }), route(async (req, res) => {
    const body = parse(verifyRequest, req.body);
    if (!('publicSignals' in body)) {
      let text: string;
      let keySource: 'caller' | 'registry';
      let known: RegisteredModel | null;
      if (body.verificationKey !== undefined) {
        keySource = 'caller';
        // Its exact text: the receipt names the sha256 of the key's bytes.
        text = typeof body.verificationKey === 'string' ? body.verificationKey : JSON.stringify(body.verificationKey);
        let sha: string;
        try {
          ({ sha } = await loadKey(text));
        } catch (e) {
          if (isZkinferError(e)) throw new HttpError(400, 'INVALID_REQUEST', `verificationKey: ${e.message}`);
          throw e;
        }
        known = await registry.lookup(sha);
      } else {
        keySource = 'registry';
        const r = body.receipt as { model?: { vkeySha256?: unknown } };
        const hash = r && typeof r === 'object' && r.model && typeof r.model.vkeySha256 === 'string' ? r.model.vkeySha256 : '';
        if (!HASH_RE.test(hash)) throw new HttpError(400, 'RECEIPT_INVALID', 'receipt field "model.vkeySha256": expected 64 lowercase hex digits');
        known = await registry.lookup(hash);
        const nothing: Against = { model: null, onnxSha256: null, vkeySha256: hash, system: null, ceremony: null };
        if (!known) {
          return void res.json({ valid: false, reason: `unknown model: no model this service compiled has verification key ${hash}`, keySource, against: nothing });
        }
        const t = await vkeyText(hash);
        if (t === null) {
          return void res.json({ valid: false, reason: `the verification key of model ${known.modelId} is missing from this service's store`, keySource, against: { ...nothing, model: known.modelId, onnxSha256: known.onnxSha256, system: known.system, ceremony: known.ceremony } });
        }
        text = t;
      }
      const { vk, sha } = await loadKey(text);
      const against: Against = {
        model: known?.modelId ?? null,
        onnxSha256: known?.onnxSha256 ?? vk[VKEY_IO_FIELD].onnxSha256,
        vkeySha256: sha,
        system: known?.system ?? vk.protocol,
        ceremony: known?.ceremony ?? null,
        ...(known ? trustOf((await queue.getCompile(known.modelId))?.result?.summary) : {}),
      };
      const v = await verifyInPool(verifyPool, body.receipt, text);
      res.json(v.valid
        ? { valid: true, checked: v.checked, inputQuantized: v.inputQuantized, commitment: v.commitment, keySource, against }
        : { valid: false, reason: v.reason, keySource, against });
      return;
    }
    // Verification is open to anyone holding a proof: no ownership check here.
    const id = body.model;
    const m = await readyModel(id, 'any');
    const text = await requireVkey(m.artifacts.vkey);
    const system = m.summary.system as ProofSystem;
    const against: Against = { model: id, onnxSha256: m.summary.onnxSha256, vkeySha256: m.artifacts.vkey, system, ceremony: m.summary.ceremony.kind, ...trustOf(m.summary) };
    const v = await verifySignalsInPool(verifyPool, body.proof, body.publicSignals, text);
    res.json({ ...v, keySource: 'registry', against });
  }));

  // Raw artifacts are the workers' business: the worker token only, never a client key.
  app.get('/v1/artifacts/:hash', authn.worker(), route(async (req, res) => {
    const hash = String(req.params.hash);
    if (!HASH_RE.test(hash)) throw new HttpError(400, 'INVALID_REQUEST', 'artifact id must be a sha256 hex digest');
    const b = await store.get(hash);
    if (!b) throw new HttpError(404, 'NOT_FOUND', `no artifact ${hash}`);
    res.type('application/octet-stream').send(b);
  }));

  app.put('/v1/artifacts/:hash', authn.worker(), express.raw({ type: () => true, limit: '2gb' }), route(async (req, res) => {
    const hash = String(req.params.hash);
    const body = req.body as Buffer;
    if (!Buffer.isBuffer(body) || sha256(body) !== hash) throw new HttpError(400, 'HASH_MISMATCH', 'the body does not hash to the artifact id');
    await store.put(body);
    res.status(201).json({ id: hash });
  }));

  // The page shows a key's model and its build's recorded trust, as /v1/verify's `against` does.
  const describeKey = async (hash: string) => {
    const m = await registry.lookup(hash);
    if (!m) return null;
    const { recordedTrust = null } = trustOf((await queue.getCompile(m.modelId))?.result?.summary);
    return { model: m.modelId, onnxSha256: m.onnxSha256, vkeySha256: m.vkeySha256, system: m.system, ceremony: m.ceremony, recordedTrust };
  };
  app.use(verifyPageRouter({ store, registry, log, describeKey }));
  app.use((req, _res, next) => next(new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${req.path}`)));
  app.use(errorHandler(log));

  // Webhooks: pending ones are listed in Redis and each is claimed once (SET NX),
  // so any API instance sends it, including one started after the proof ended.
  async function deliverWebhook(id: string): Promise<void> {
    try {
      const v = await queue.getProve(id);
      if (!v) return void (await pending.done(id));
      if (v.status !== 'done' && v.status !== 'failed') return;
      if (!v.data.webhook || !(await pending.claim(id))) return void (await pending.done(id));
      await pending.done(id);
      // Checked again now: what the name resolves to may have changed since the request.
      const target = await resolveWebhook(v.data.webhook, webhookPolicy);
      const status = await postWebhook(target, JSON.stringify(proofView(v)), webhookPolicy.timeoutMs);
      log('webhook sent', { jobId: id, status, address: target.address.address });
    } catch (e) {
      log('webhook failed', { jobId: id, error: (e as Error).message });
    }
  }
  let draining: Promise<void> | null = null;
  const drainWebhooks = () => {
    draining ??= (async () => {
      try {
        for (const id of await pending.list(1000)) await deliverWebhook(id);
      } catch (e) {
        log('webhook sweep failed', { error: (e as Error).message });
      } finally {
        draining = null;
      }
    })();
    return draining;
  };

  queue.onFinished(async (kind, id) => {
    try {
      if (kind === 'compile') return void (await registerCompiled(await queue.getCompile(id)));
      const v = await queue.getProve(id);
      if (!v) return;
      if (v.result) {
        metrics.phase.observe({ phase: 'witness' }, v.result.timings.witness / 1000);
        metrics.phase.observe({ phase: 'prove' }, v.result.timings.prove / 1000);
        metrics.phase.observe({ phase: 'queue' }, Math.max(0, (v.finishedAt ?? Date.now()) - v.data.acceptedAt - v.result.timings.total) / 1000);
      }
      if (v.data.webhook) await deliverWebhook(id);
    } catch (e) {
      log('finish handler failed', { jobId: id, error: (e as Error).message });
    }
  });

  // Catch up on what ended while no API instance listened: compiles to register, webhooks to send.
  const catchUp = (async () => {
    try {
      for (const v of await queue.listCompiles(1000)) await registerCompiled(v);
    } catch (e) {
      log('registry sweep failed', { error: (e as Error).message });
    }
    await drainWebhooks();
  })();
  const sweep = setInterval(() => void drainWebhooks(), config.webhookSweepMs);
  sweep.unref();

  return {
    app, metrics, registry,
    /** Resolves once the start-up catch-up (registry, pending webhooks) is done. */
    ready: catchUp,
    /** Stops the webhook sweep and waits for a running one. */
    async stop() {
      clearInterval(sweep);
      await catchUp;
      await draining;
      if (!deps.inspectPool) await inspectPool.close();
    },
  };
}
