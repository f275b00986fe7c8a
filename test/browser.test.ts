import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { tinyMlp, tinySamples } from './helpers/onnx-builder.js';
import { call, startService, uploadModel, waitProof, type TestService } from './helpers/service.js';
import { launchBrowser, forgetVerdict, settledVerdict, screenshot, type Shown } from './helpers/browser.js';
import { ModelProver } from '../src/prove/index.js';
import { DirStore } from '../src/store/store.js';
import { buildPath } from '../src/paths.js';
import { releaseCurve } from '../src/curve.js';
import { toField, type Receipt } from '../src/receipt/index.js';

const data = loadJson(fixture('digits_mlp.data.json'));
const onnx = fs.readFileSync(fixture('digits_mlp.onnx'));
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const sha = (b: Uint8Array | string) => crypto.createHash('sha256').update(b).digest('hex');

let svc: TestService;
let browser: Browser;
let page: Page;
let vkey: Buffer;
let vkeyHashed: Buffer;
let receipt: Receipt;
let disclosed: Receipt;
let secret: Receipt;
let topClass: number;
/** PLONK and FFLONK receipts of a tiny model: verified in the browser by snarkjs' browser build. */
const universal: Array<{ system: 'plonk' | 'fflonk'; receipt: Receipt }> = [];
const requests: string[] = [];
const shots: string[] = [];
const keys: Buffer[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  const [dir, hashedDir] = [
    await ensureBuild('digits_mlp', onnx, data),
    await ensureBuild('digits_mlp_hashed', onnx, data, { visibility: 'hashed' }),
  ];
  vkey = fs.readFileSync(buildPath(dir, 'vkey'));
  vkeyHashed = fs.readFileSync(buildPath(hashedDir, 'vkey'));
  receipt = (await (await ModelProver.load(dir)).prove(data.test[0].input)).receipt;
  const hp = await ModelProver.load(hashedDir);
  disclosed = (await hp.prove(data.test[4].input)).receipt;
  secret = (await hp.prove(data.test[4].input, { disclose: false })).receipt;
  for (const system of ['plonk', 'fflonk'] as const) {
    const d = await ensureBuild(`tiny_mlp_${system}`, tinyMlp(), tinySamples(16), { system });
    universal.push({ system, receipt: (await (await ModelProver.load(d)).prove(tinySamples(1, 21)[0])).receipt });
    keys.push(fs.readFileSync(buildPath(d, 'vkey')));
  }
  await releaseCurve();
  const out = (receipt.output as number[][])[0];
  topClass = out.indexOf(Math.max(...out));

  // The real API on Redis; the builds' keys go into the store and registry it serves, plus one artifact that is not a key.
  svc = await startService('browser', 0);
  const store = new DirStore(svc.env.ZKINFER_STORE_DIR!);
  await svc.registerKey(vkey);
  await svc.registerKey(vkeyHashed);
  await store.put(onnx);
  for (const k of keys) await svc.registerKey(k);

  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // Chromium reports a 404 (the unknown key below) as a console error; anything else, e.g. a CSP violation, is a fault.
  page.on('console', (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && pageErrors.push(m.text()));
  await page.goto(`${svc.url}/verify`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
  await svc?.close();
});

async function paste(r: unknown): Promise<Shown> {
  await forgetVerdict(page);
  await page.fill('#receipt-text', JSON.stringify(r));
  await page.click('#verify');
  return settledVerdict(page);
}

async function chooseFile(selector: string, name: string, bytes: Buffer | string): Promise<Shown> {
  await forgetVerdict(page);
  await page.setInputFiles(selector, { name, mimeType: 'application/json', buffer: Buffer.from(bytes) });
  return settledVerdict(page);
}

/** Switching the key source verifies again at once: wait for that run to end. */
async function keySource(s: 'server' | 'own') {
  await forgetVerdict(page);
  await page.check(`input[name="key-source"][value="${s}"]`);
  await settledVerdict(page);
}

describe('GET /v1/keys/:sha256', () => {
  it('serves a verification key by its hash, byte for byte, and nothing else', async () => {
    const h = sha(vkey);
    const res = await fetch(`${svc.url}/v1/keys/${h}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(sha(new Uint8Array(await res.arrayBuffer()))).toBe(h);
    // An artifact that is not a verification key stays hidden; so do unknown and malformed ids.
    expect((await fetch(`${svc.url}/v1/keys/${sha(onnx)}`)).status).toBe(404);
    expect((await fetch(`${svc.url}/v1/keys/${'0'.repeat(64)}`)).status).toBe(404);
    const bad = await fetch(`${svc.url}/v1/keys/not-a-hash`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('INVALID_REQUEST');
    expect((await fetch(`${svc.url}/v1/artifacts/${sha(onnx)}`)).status).toBe(401);
  });

  it('describes a registered key\'s model at /v1/keys/:sha256/model; no compile record means no recorded trust', async () => {
    const h = sha(vkey);
    const res = await fetch(`${svc.url}/v1/keys/${h}/model`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const d = await res.json();
    expect(d).toMatchObject({ vkeySha256: h, onnxSha256: receipt.model.onnxSha256, system: 'groth16', ceremony: 'development', recordedTrust: null });
    expect(d.model).toMatch(/^[0-9a-f]{32}$/);
    expect((await fetch(`${svc.url}/v1/keys/${sha(onnx)}/model`)).status).toBe(404);
    const bad = await fetch(`${svc.url}/v1/keys/nope/model`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('INVALID_REQUEST');
  });

  it('lists the page and the key route in the OpenAPI document; the page has a CSP', async () => {
    const o = await (await fetch(`${svc.url}/openapi.json`)).json();
    expect(Object.keys(o.paths)).toEqual(expect.arrayContaining(['/v1/keys/{sha256}', '/v1/keys/{sha256}/model', '/verify']));
    const p = await fetch(`${svc.url}/verify`);
    expect(p.headers.get('content-security-policy')).toMatch(/connect-src 'self'/);
    expect(await p.text()).toMatch(/<script type="module" src="verify.js">/);
    // The page's relative URLs need /verify, not /verify/.
    const slash = await fetch(`${svc.url}/verify/`, { redirect: 'manual' });
    expect(slash.status).toBe(301);
    expect(new URL(slash.headers.get('location')!, `${svc.url}/verify/`).pathname).toBe('/verify');
  });
});

describe('/verify in a browser', () => {
  it('shows a valid receipt chosen with the file picker: output, top class, model identity', async () => {
    const v = await chooseFile('#receipt-file', 'receipt.json', JSON.stringify(receipt, null, 2));
    expect(v.verdict, v.reason).toBe('valid');
    expect(v.title).toBe('Valid receipt');
    expect(await page.getAttribute('#top-class', 'data-class')).toBe(String(topClass));
    const rows = await page.$$eval('#output-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)));
    expect(rows.map((r) => Number(r[1]))).toEqual((receipt.output as number[][])[0]);
    expect(rows.map((r) => r[2])).toEqual(receipt.outputQuantized);
    expect(await page.textContent('#onnx-sha')).toBe(receipt.model.onnxSha256);
    expect(await page.textContent('#vkey-sha')).toBe(receipt.model.vkeySha256);
    expect(await page.textContent('#key-source')).toMatch(/fetched by its sha256 and re-hashed/);
    expect((await page.textContent('#input-values'))!.split(', ').map(Number)).toEqual((receipt.input as number[][])[0]);
    // The quantized input the verifier checked the proof for.
    expect(await page.textContent('#input-quantized')).toBe(receipt.inputQuantized!.join(', '));
    expect(await page.textContent('#output-tag')).toBe('proven');
    expect(await page.textContent('#checks-body')).toMatch(/Groth16 proof/);
    expect(await page.textContent('#not-proven')).toMatch(/development ceremony.*manifest\.json/s);
    expect(await page.textContent('#not-proven')).toMatch(/fixed point equals float/);
    // Registered without a compile record: the server has no trust level to report.
    expect(await page.textContent('#recorded-trust')).toBe('unknown');
    expect(await page.textContent('#recorded-trust-note')).toMatch(/no trust level recorded.*Only zkinfer audit checks it/s);
    expect(requests).toContain(`/v1/keys/${receipt.model.vkeySha256}`);
    expect(requests).toContain(`/v1/keys/${receipt.model.vkeySha256}/model`);
    shots.push(await screenshot(page, 'valid'));
  });

  it('verifies a receipt dropped on the page, or pasted on it', async () => {
    await forgetVerdict(page);
    const dt = await page.evaluateHandle((text) => {
      const t = new DataTransfer();
      t.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
      return t;
    }, JSON.stringify(receipt));
    await page.dispatchEvent('#receipt-drop', 'drop', { dataTransfer: dt });
    const v = await settledVerdict(page);
    expect(v.verdict, v.reason).toBe('valid');
    expect(await page.textContent('#receipt-info')).toMatch(/dropped\.json/);

    // Pasted anywhere on the page (outside the text areas): sorted by content.
    await forgetVerdict(page);
    await page.evaluate((text) => {
      const t = new DataTransfer();
      t.setData('text/plain', text);
      document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: t, bubbles: true, cancelable: true }));
    }, JSON.stringify(receipt));
    const p = await settledVerdict(page);
    expect(p.verdict, p.reason).toBe('valid');
    expect(await page.textContent('#receipt-info')).toBe('pasted receipt');
  });

  it('shows tampered receipts as invalid, with the reason', async () => {
    let r = clone(receipt);
    (r.output as number[][])[0][2] += 1;
    let v = await paste(r);
    expect(v.verdict).toBe('invalid');
    expect(v.reason).toMatch(/output element 2/);
    expect(await page.textContent('#output-tag')).toBe('claimed, not verified');
    shots.push(await screenshot(page, 'invalid-output'));

    r = clone(receipt);
    (r.input as number[][])[0][3] = 0.5;
    v = await paste(r);
    expect(v.verdict).toBe('invalid');
    expect(v.reason).toMatch(/input differs from the proven input signals/);

    r = clone(receipt);
    const proof = r.proof as { pi_c: string[] };
    proof.pi_c[1] = (BigInt(proof.pi_c[1]) + 1n).toString();
    v = await paste(r);
    expect(v.verdict).toBe('invalid');
    expect(v.reason).toMatch(/proof does not verify/);

    r = clone(receipt);
    r.model.vkeySha256 = 'a'.repeat(64);
    v = await paste(r);
    expect(v.verdict).toBe('invalid');
    expect(v.reason).toMatch(/verification key \(sha256 a{64}\) this server does not have/);

    v = await paste({ format: 'zkinfer-receipt/1' });
    expect(v.verdict).toBe('invalid');
    expect(v.reason).toMatch(/does not name its verification key/);
  });

  it('refuses a key whose bytes do not hash to the requested sha256', async () => {
    const h = receipt.model.vkeySha256;
    // A server (or anything between) answering with other bytes: a key with one IC point changed.
    const forged = JSON.parse(vkey.toString('utf8'));
    forged.IC[1][0] = (BigInt(forged.IC[1][0]) + 1n).toString();
    await page.route(`**/v1/keys/${h}`, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(forged) }));
    try {
      const v = await paste(receipt);
      expect(v.verdict).toBe('refused');
      expect(v.reason).toContain(`not the requested ${h}`);
      expect(await page.textContent('#checks-body')).not.toMatch(/Groth16 proof/);
      shots.push(await screenshot(page, 'key-refused'));
    } finally {
      await page.unroute(`**/v1/keys/${h}`);
    }
  });

  it('verifies with a key file the user supplies, without asking the server', async () => {
    await keySource('own');
    const before = requests.filter((p) => p.startsWith('/v1/keys/')).length;
    let v = await chooseFile('#key-file', 'verification_key.json', vkey);
    expect(v.verdict, v.reason).toBe('valid');
    expect(await page.textContent('#key-source')).toMatch(/your file: verification_key\.json/);
    expect(await page.textContent('#key-info')).toContain(sha(vkey));
    shots.push(await screenshot(page, 'own-key'));

    // A receipt naming another key than the one supplied.
    const r = clone(receipt);
    r.model.vkeySha256 = 'b'.repeat(64);
    v = await paste(r);
    expect(v.verdict).toBe('invalid');
    expect(v.reason).toMatch(/names another verification key/);

    // The other model's key: the receipt is not for it.
    v = await chooseFile('#key-file', 'other_key.json', vkeyHashed);
    expect(v.verdict).toBe('invalid');
    expect(v.reason).toMatch(/another verification key/);
    expect(requests.filter((p) => p.startsWith('/v1/keys/')).length).toBe(before);
    await keySource('server');
  });

  it('hashed input: shows the commitment, checks a disclosed input against it (Poseidon in the browser)', async () => {
    let v = await paste(disclosed);
    expect(v.verdict, v.reason).toBe('valid');
    expect(await page.textContent('#commitment')).toBe(disclosed.commitment!.value);
    expect(await page.textContent('#input-body')).toMatch(/checked against the commitment/);
    expect(await page.textContent('#input-quantized')).toBe(disclosed.inputQuantized!.join(', '));
    expect(await page.textContent('#checks-body')).toMatch(/disclosed input matches the commitment/);

    const r = clone(disclosed);
    (r.input as number[][])[0][20] = 0.0625;
    v = await paste(r);
    expect(v.verdict).toBe('invalid');
    expect(v.reason).toMatch(/does not match the proven commitment/);

    v = await paste(secret);
    expect(v.verdict, v.reason).toBe('valid');
    expect(await page.textContent('#input-body')).toMatch(/not disclosed/);
    expect(await page.textContent('#not-proven')).toMatch(/only a commitment to it is public/);
    expect(await page.textContent('#commitment')).toBe(secret.commitment!.value);
    expect(await page.$('#input-quantized')).toBeNull();
    shots.push(await screenshot(page, 'hashed-not-disclosed'));

    // A quantized input the undisclosed receipt cannot back is refused here too.
    const made = clone(secret);
    made.inputQuantized = Array.from({ length: 64 }, () => '3');
    v = await paste(made);
    expect(v.verdict).toBe('invalid');
    expect(v.reason).toMatch(/undisclosed input has none/);
  });

  it('PLONK and FFLONK receipts verify too (snarkjs in the browser), and a changed output does not', async () => {
    for (const { system, receipt: r } of universal) {
      const name = system.toUpperCase();
      let v = await paste(r);
      expect(v.verdict, `${system}: ${v.reason}`).toBe('valid');
      expect(await page.textContent('#checks-body')).toContain(`${name} proof`);
      // Output, its quantized value and its signal changed together: only the proof can tell.
      const t = clone(r);
      const q = BigInt(t.outputQuantized[0]) + 1n;
      t.outputQuantized[0] = q.toString();
      t.publicSignals[0] = toField(q).toString();
      let row = t.output as unknown[];
      while (Array.isArray(row[0])) row = row[0] as unknown[];
      row[0] = Number(q) / 2 ** t.outputScale;
      v = await paste(t);
      expect(v.verdict).toBe('invalid');
      expect(v.reason).toContain(`the ${name} proof does not verify`);
    }
  });

  it('shows the trust level a service-compiled build recorded, as unchecked; a dropped key\'s level is unknown', async () => {
    await svc.startWorker();
    const id = await uploadModel(svc.url, tinyMlp(), tinySamples(16));
    const m = await call(`${svc.url}/v1/models/${id}`, 'GET');
    expect(m.json.manifest.trust.level).toBe('development');
    const p = await call(`${svc.url}/v1/proofs`, 'POST', { model: id, input: tinySamples(1, 9)[0] });
    const done = await waitProof(svc.url, p.json.id, 120);
    expect(done.status, JSON.stringify(done.error)).toBe('done');
    const r = done.receipt as Receipt;
    const h = r.model.vkeySha256;
    const d = await (await fetch(`${svc.url}/v1/keys/${h}/model`)).json();
    expect(d).toMatchObject({ model: id, vkeySha256: h, recordedTrust: { level: 'development', checked: false } });

    let v = await paste(r);
    expect(v.verdict, v.reason).toBe('valid');
    expect(await page.textContent('#recorded-trust')).toBe('development');
    expect(await page.getAttribute('#recorded-trust', 'data-level')).toBe('development');
    const note = (await page.textContent('#recorded-trust-note'))!;
    expect(note).toMatch(/operator's build recorded/);
    expect(note).toContain(id);
    expect(note).toMatch(/Only zkinfer audit checks it/);
    expect(note).toMatch(/this page cannot/);
    expect(note).toContain(m.json.manifest.trust.canForge);
    expect(await page.textContent('#not-proven')).toMatch(/recorded trust level.*only zkinfer audit checks it/s);
    shots.push(await screenshot(page, 'recorded-trust'));

    // The same receipt with the key file dropped by the user: the page knows no trust level, and asks nothing.
    const key = Buffer.from(await (await fetch(`${svc.url}/v1/keys/${h}`)).arrayBuffer());
    await keySource('own');
    const before = requests.length;
    await forgetVerdict(page);
    const dt = await page.evaluateHandle((text) => {
      const t = new DataTransfer();
      t.items.add(new File([text], 'verification_key.json', { type: 'application/json' }));
      return t;
    }, key.toString('utf8'));
    await page.dispatchEvent('#key-drop', 'drop', { dataTransfer: dt });
    v = await settledVerdict(page);
    expect(v.verdict, v.reason).toBe('valid');
    expect(await page.textContent('#key-source')).toMatch(/your file: verification_key\.json/);
    expect(await page.textContent('#recorded-trust')).toBe('unknown');
    expect(await page.textContent('#recorded-trust-note')).toMatch(/Unknown to this page: your key file records no trust level.*Only zkinfer audit/s);
    expect(requests.slice(before).filter((q) => q.startsWith('/v1/keys/'))).toEqual([]);
    await keySource('server');
  });

  it('never asked the server to verify, raised no page errors; the screenshots are saved', () => {
    expect(pageErrors).toEqual([]);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((p) => p.startsWith('/v1/verify'))).toEqual([]);
    expect(shots).toHaveLength(6);
    for (const s of shots) expect(fs.statSync(s).size).toBeGreaterThan(10_000);
  });
});
