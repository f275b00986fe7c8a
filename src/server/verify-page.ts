import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { build, type Plugin } from 'esbuild';
import type { ArtifactStore } from '../store/store.js';
import { HASH_RE } from '../store/store.js';
import type { ModelRegistry } from '../store/registry.js';
import { parseVerificationKey } from '../receipt/index.js';
import { HttpError } from './http-error.js';

/** src/web: the page's HTML, CSS and the browser entry that bundles src/verify. */
export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'web');
const ENTRY = path.join(WEB_DIR, 'verify-page.ts');

/**
 * A Groth16 key grows by about 170 bytes per public signal: 64 MB covers models
 * with a few hundred thousand public inputs. Anything bigger is another artifact.
 */
const MAX_KEY_BYTES = 64 << 20;
/** Keys kept in memory for /v1/keys, in total. */
const KEY_CACHE_BYTES = 64 << 20;

/**
 * The page's Content-Security-Policy: scripts from this origin only, WebAssembly
 * for the curve arithmetic, blob: workers for snarkjs' multi-threaded curve
 * (PLONK/FFLONK), network access to this origin only (the key fetch).
 */
const CSP = [
  "default-src 'none'", "script-src 'self' 'wasm-unsafe-eval'", "worker-src 'self' blob:", "style-src 'self'",
  "connect-src 'self'", "img-src 'self' data:", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

/**
 * circomlibjs' main module re-exports contract generators and Merkle trees that
 * pull in node-only modules (assert, events, streams). The verifier uses only
 * buildPoseidon, which main.js re-exports from src/poseidon_wasm.js: resolve the
 * package to that module, so the browser runs the same Poseidon code as Node.
 */
const poseidonOnly: Plugin = {
  name: 'circomlibjs-poseidon',
  setup(b) {
    b.onResolve({ filter: /^circomlibjs$/ }, async (args) => {
      if ((args.pluginData as { inner?: boolean } | undefined)?.inner) return undefined;
      const main = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
      if (main.errors.length) return { errors: main.errors };
      const file = path.join(path.dirname(main.path), 'src', 'poseidon_wasm.js');
      if (!fs.existsSync(file)) return { errors: [{ text: `circomlibjs has no ${file}: its layout changed, update the verify page's bundling` }] };
      return { path: file };
    });
  },
};

export interface Bundle {
  js: Buffer;
  gz: Buffer;
  /** Milliseconds esbuild took. */
  ms: number;
}

/**
 * Bundles src/web/verify-page.ts (and through it src/verify and src/receipt) for
 * browsers: the "browser" export conditions pick the browser builds of
 * ffjavascript and snarkjs; circomlibjs is narrowed to its Poseidon module.
 */
export async function bundleVerifyPage(): Promise<Bundle> {
  const t0 = performance.now();
  const r = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [poseidonOnly],
  });
  const js = Buffer.from(r.outputFiles[0].contents);
  return { js, gz: await gzip(js, { level: 6 }), ms: performance.now() - t0 };
}

const gzip = promisify(zlib.gzip);

type Handler = (req: Request, res: Response) => Promise<unknown>;
const route = (h: Handler) => (req: Request, res: Response, next: NextFunction) => h(req, res).catch(next);

/**
 * What this service knows of a registered key's build, for GET /v1/keys/:sha256/model:
 * from its compile record, not from the key. The trust level is what the build
 * recorded when it was made; nothing here checks it (only `zkinfer audit` does).
 */
export interface KeyDescription {
  model: string;
  onnxSha256: string;
  vkeySha256: string;
  system: string;
  ceremony: string;
  /** null when the compile record has none (or is gone). */
  recordedTrust: { level: string; canForge: string; checked: false; note: string } | null;
}

export interface VerifyPageDeps {
  store: ArtifactStore;
  /** The keys this service compiled: the only ones served. */
  registry: ModelRegistry;
  /**
   * The registered model behind a key and its build's recorded trust (the API
   * reads it from the queue's compile record). Without it, only the registry's
   * entry is described, with no trust level.
   */
  describeKey?: (vkeySha256: string) => Promise<KeyDescription | null>;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/**
 * GET /verify (the page, which verifies receipts in the browser), its script and
 * style, and GET /v1/keys/:sha256 (a verification key by its hash, open to
 * anyone: the page re-hashes what it gets) with GET /v1/keys/:sha256/model (the
 * model it belongs to and its build's recorded trust level). Only keys of models
 * this service compiled are served: the store may hold other bytes, which it does not vouch for.
 */
export function verifyPageRouter(deps: VerifyPageDeps): Router {
  const { store, registry, log = () => {} } = deps;
  const describeKey = deps.describeKey ?? (async (hash: string): Promise<KeyDescription | null> => {
    const m = await registry.lookup(hash);
    return m && { model: m.modelId, onnxSha256: m.onnxSha256, vkeySha256: m.vkeySha256, system: m.system, ceremony: m.ceremony, recordedTrust: null };
  });
  const router = express.Router();

  // Built on first request and kept: a failed build is retried on the next one.
  let bundle: Promise<Bundle> | null = null;
  const getBundle = () => {
    bundle ??= bundleVerifyPage().then(
      (b) => {
        log('verify page bundled', { bytes: b.js.length, gzip: b.gz.length, ms: Math.round(b.ms) });
        return b;
      },
      (e: unknown) => {
        bundle = null;
        throw e;
      },
    );
    return bundle;
  };

  const send = async (res: Response, file: string, type: string) => {
    res.set('cache-control', 'no-cache').set('x-content-type-options', 'nosniff').type(type).send(await fs.promises.readFile(path.join(WEB_DIR, file)));
  };

  router.get('/verify', route(async (req, res) => {
    // Relative URLs in the page (verify.js, v1/keys/…) must resolve against /verify, not /verify/.
    if (req.path.endsWith('/')) return res.redirect(301, '../verify');
    res.set('content-security-policy', CSP).set('referrer-policy', 'no-referrer');
    await send(res, 'verify.html', 'html');
  }));
  router.get('/verify.css', route((_req, res) => send(res, 'verify.css', 'css')));
  router.get('/verify.js', route(async (req, res) => {
    const b = await getBundle();
    res.set('cache-control', 'no-cache').set('vary', 'accept-encoding').set('x-content-type-options', 'nosniff').type('text/javascript');
    if (req.acceptsEncodings('gzip')) res.set('content-encoding', 'gzip').send(b.gz);
    else res.send(b.js);
  }));

  // Keys by hash. Only registered verification keys (JSON with the model
  // interface) are served here: other artifacts stay behind the worker token.
  // Answers are remembered, so repeated requests for a big non-key artifact are cheap.
  const keys = new Map<string, Buffer>();
  let keyBytes = 0;
  const notKeys = new Set<string>();
  router.get('/v1/keys/:sha256', route(async (req, res) => {
    const hash = String(req.params.sha256);
    if (!HASH_RE.test(hash)) throw new HttpError(400, 'INVALID_REQUEST', 'a key id is a sha256: 64 lowercase hex digits');
    let b = keys.get(hash);
    if (!b && !notKeys.has(hash) && (await registry.lookup(hash))) {
      const bytes = await store.get(hash);
      if (bytes && bytes.length <= MAX_KEY_BYTES && isVerificationKey(bytes)) {
        if (keyBytes + bytes.length > KEY_CACHE_BYTES) {
          keys.clear();
          keyBytes = 0;
        }
        keys.set(hash, (b = bytes));
        keyBytes += bytes.length;
      } else if (bytes) {
        if (notKeys.size >= 4096) notKeys.clear();
        notKeys.add(hash);
      }
    }
    if (!b) throw new HttpError(404, 'NOT_FOUND', `no verification key with sha256 ${hash}`);
    // Content-addressed: these bytes never change under this URL.
    res.set('cache-control', 'public, max-age=31536000, immutable').set('access-control-allow-origin', '*').type('application/json').send(b);
  }));

  // The model a registered key belongs to, with its build's recorded trust
  // level: apart from the key route, so the key's bytes stay exactly the file's
  // (the page hashes them). The same facts /v1/verify returns to anyone with a receipt.
  router.get('/v1/keys/:sha256/model', route(async (req, res) => {
    const hash = String(req.params.sha256);
    if (!HASH_RE.test(hash)) throw new HttpError(400, 'INVALID_REQUEST', 'a key id is a sha256: 64 lowercase hex digits');
    const d = await describeKey(hash);
    if (!d) throw new HttpError(404, 'NOT_FOUND', `no model this service compiled has verification key ${hash}`);
    // Not immutable: a compile record can be re-summarized, or expire.
    res.set('cache-control', 'no-cache').set('access-control-allow-origin', '*').json(d);
  }));

  return router;
}

function isVerificationKey(bytes: Buffer): boolean {
  // Keys are JSON objects; binary artifacts (zkey, r1cs, wasm, ONNX) are turned away unread.
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] !== 0x7b) return false;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    parseVerificationKey(text);
    return true;
  } catch {
    return false;
  }
}
