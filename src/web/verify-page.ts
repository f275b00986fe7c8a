/**
 * The /verify page: checks a receipt in the browser with the same verifier the
 * CLI and the API use (src/verify), bundled by the server with esbuild. The key
 * comes from the user, or from this server by its sha256, re-hashed here.
 */
import { verifyReceipt, type VerifyResult } from '../verify/index.js';
import {
  acceptedRange, parseVerificationKey, sha256Hex, RECEIPT_FORMAT, VKEY_IO_FIELD,
  type ModelIO, type VerificationKey,
} from '../receipt/index.js';
import { isZkinferError } from '../errors.js';
import { TRUST_LEVELS } from '../pipeline/trust.js';

type Verdict = 'valid' | 'invalid' | 'refused' | 'error';

/**
 * What the server says of a key's build (GET v1/keys/:sha256/model): its model id
 * and the trust level the build recorded. Shown as the operator's record, never
 * as checked: nothing in this page can tell who could forge proofs for a key.
 */
interface Described {
  model: string;
  level: string | null;
  canForge: string | null;
}

/** The server's description, or why there is none (a key file of the user's is never described). */
type Description = { ok: true; d: Described } | { ok: false; why: string };

interface KeyInfo {
  /** sha256 of the exact bytes used. */
  sha256: string;
  source: 'server' | 'own';
  label: string;
  vk: VerificationKey | null;
  described: Description | null;
}

interface Outcome {
  verdict: Verdict;
  title: string;
  reason?: string;
  /** The receipt as parsed JSON (possibly malformed). */
  receipt: Record<string, unknown> | null;
  /** True when the receipt was the `receipt` field of a proof job's answer. */
  unwrapped: boolean;
  key: KeyInfo | null;
  result: VerifyResult | null;
}

const HEX64 = /^[0-9a-f]{64}$/;
// WebCrypto (the key's hash) exists only in secure contexts: HTTPS or localhost.
const secure = globalThis.isSecureContext && !!globalThis.crypto?.subtle;
// fatal: invalid UTF-8 is refused rather than replaced; ignoreBOM: a BOM stays in the
// text, so the verifier's own hash of the text equals the hash of the bytes.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page element #${id} is missing`);
  return e as T;
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every number of a nested array, in order; null if something else is inside. */
function flatNumbers(v: unknown): number[] | null {
  const out: number[] = [];
  const walk = (x: unknown): boolean => (typeof x === 'number' ? (out.push(x), true) : Array.isArray(x) && x.every(walk));
  return walk(v) ? out : null;
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

// ---------------------------------------------------------------- inputs

const receiptText = $<HTMLTextAreaElement>('receipt-text');
const keyText = $<HTMLTextAreaElement>('key-text');
const receiptInfo = $('receipt-info');
const keyInfo = $('key-info');
const verifyButton = $<HTMLButtonElement>('verify');

/** The user's key: a file's exact bytes, or the pasted text. */
let ownKey: { bytes: Uint8Array; label: string } | null = null;

const keySource = (): 'server' | 'own' => ((document.querySelector('input[name="key-source"]:checked') as HTMLInputElement | null)?.value === 'own' ? 'own' : 'server');

function setKeySource(s: 'server' | 'own') {
  (document.querySelector(`input[name="key-source"][value="${s}"]`) as HTMLInputElement).checked = true;
  $('own-key').hidden = s !== 'own';
}

async function showKeyInfo() {
  const k = ownKey;
  if (!k || !secure) return void (keyInfo.textContent = '');
  const sha = await sha256Hex(k.bytes);
  // Typing fires faster than hashing: only the current key's hash is shown.
  if (k === ownKey) keyInfo.textContent = `${k.label}: ${k.bytes.length} bytes, sha256 ${sha}`;
}

function setOwnKey(bytes: Uint8Array, label: string, text: string | null) {
  ownKey = { bytes, label };
  if (text !== null) keyText.value = text;
  void showKeyInfo();
}

function setReceipt(text: string, label: string) {
  receiptText.value = text;
  receiptInfo.textContent = label;
}

/** What a JSON document is: a receipt (or a proof job holding one), or a verification key. */
function classify(text: string): 'receipt' | 'key' | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(v)) return null;
  if (v.format === RECEIPT_FORMAT || isObject(v.receipt) || 'publicSignals' in v) return 'receipt';
  if (typeof v.protocol === 'string' && VKEY_IO_FIELD in v) return 'key';
  return null;
}

/** Loads dropped or chosen files; `role` decides only what content cannot. */
async function loadFiles(files: Iterable<File>, role: 'receipt' | 'key' | null) {
  let gotReceipt = false;
  for (const f of files) {
    const bytes = new Uint8Array(await f.arrayBuffer());
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      (role === 'key' ? keyInfo : receiptInfo).textContent = `${f.name} is not UTF-8 text: not a receipt or key`;
      continue;
    }
    const kind = classify(text) ?? role ?? 'receipt';
    const label = `${f.name} (${bytes.length} bytes)`;
    if (kind === 'key') {
      setKeySource('own');
      setOwnKey(bytes, f.name, text);
    } else {
      setReceipt(text, label);
      gotReceipt = true;
    }
  }
  if (gotReceipt || receiptText.value.trim()) void run();
}

function loadText(text: string, role: 'receipt' | 'key' | null) {
  const kind = classify(text) ?? role ?? 'receipt';
  if (kind === 'key') {
    setKeySource('own');
    setOwnKey(new TextEncoder().encode(text), 'pasted key', text);
  } else {
    setReceipt(text, 'pasted receipt');
  }
  if (receiptText.value.trim()) void run();
}

function wireDrop(zone: HTMLElement, pick: HTMLButtonElement, input: HTMLInputElement) {
  const role = zone.dataset.role === 'key' ? 'key' : 'receipt';
  pick.addEventListener('click', () => input.click());
  zone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
    }
  });
  input.addEventListener('change', () => {
    if (input.files?.length) void loadFiles(Array.from(input.files), role);
    input.value = '';
  });
  zone.addEventListener('dragover', () => zone.classList.add('over'));
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    e.stopPropagation();
    zone.classList.remove('over');
    document.body.classList.remove('dragging');
    void handleDrop(e.dataTransfer, role);
  });
}

async function handleDrop(dt: DataTransfer | null, role: 'receipt' | 'key' | null) {
  if (!dt) return;
  if (dt.files.length) return loadFiles(Array.from(dt.files), role);
  const text = dt.getData('text/plain');
  if (text) loadText(text, role);
}

wireDrop($('receipt-drop'), $<HTMLButtonElement>('receipt-pick'), $<HTMLInputElement>('receipt-file'));
wireDrop($('key-drop'), $<HTMLButtonElement>('key-pick'), $<HTMLInputElement>('key-file'));

// Files dropped anywhere else are sorted by content, so both can be dropped at once.
let dragDepth = 0;
document.addEventListener('dragenter', (e) => {
  e.preventDefault();
  if (dragDepth++ === 0) document.body.classList.add('dragging');
});
document.addEventListener('dragleave', () => {
  if (--dragDepth <= 0) {
    dragDepth = 0;
    document.body.classList.remove('dragging');
  }
});
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  document.body.classList.remove('dragging');
  void handleDrop(e.dataTransfer, null);
});

// Paste outside the text areas: sorted by content as well.
document.addEventListener('paste', (e) => {
  if (e.target instanceof HTMLTextAreaElement) return;
  const text = e.clipboardData?.getData('text/plain');
  if (text) {
    e.preventDefault();
    loadText(text, null);
  }
});
// A paste into either text area verifies at once (after the text is in); typing waits for the button.
receiptText.addEventListener('paste', () => setTimeout(() => {
  receiptInfo.textContent = 'pasted receipt';
  void run();
}));
keyText.addEventListener('paste', () => setTimeout(() => {
  if (receiptText.value.trim()) void run();
}));
receiptText.addEventListener('input', () => (receiptInfo.textContent = receiptText.value.trim() ? 'edited text' : ''));
keyText.addEventListener('input', () => {
  if (keyText.value.trim()) setOwnKey(new TextEncoder().encode(keyText.value), 'pasted key', null);
  else {
    ownKey = null;
    keyInfo.textContent = '';
  }
});

for (const r of document.querySelectorAll<HTMLInputElement>('input[name="key-source"]')) {
  r.addEventListener('change', () => {
    setKeySource(keySource());
    if (receiptText.value.trim()) void run();
  });
}

verifyButton.addEventListener('click', () => void run());
$('clear').addEventListener('click', () => {
  receiptText.value = keyText.value = receiptInfo.textContent = keyInfo.textContent = '';
  ownKey = null;
  $('result').hidden = true;
  $('verdict').dataset.verdict = '';
});

// ---------------------------------------------------------------- checking

type Failure = Pick<Outcome, 'verdict' | 'title' | 'reason' | 'key'>;
type KeyResult = { ok: true; key: KeyInfo; text: string } | { ok: false; failure: Failure };

async function obtainKey(receipt: Record<string, unknown> | null): Promise<KeyResult> {
  const fail = (verdict: Verdict, title: string, reason: string, key: KeyInfo | null = null): KeyResult => ({ ok: false, failure: { verdict, title, reason, key } });
  let bytes: Uint8Array;
  let label: string;
  let requested: string | null = null;
  if (keySource() === 'own') {
    if (!ownKey) return fail('error', 'No verification key', 'Drop, choose or paste the verification key file, or let this page fetch it from the server.');
    ({ bytes, label } = ownKey);
  } else {
    const model = receipt && isObject(receipt.model) ? receipt.model : null;
    const hash = model && typeof model.vkeySha256 === 'string' ? model.vkeySha256 : '';
    if (!HEX64.test(hash)) return fail('invalid', 'Invalid receipt', 'The receipt does not name its verification key (model.vkeySha256: 64 lowercase hex digits).');
    requested = hash;
    label = `GET v1/keys/${hash}`;
    let res: Response;
    try {
      res = await fetch(new URL(`v1/keys/${hash}`, document.baseURI), { headers: { accept: 'application/json' } });
    } catch (e) {
      return fail('error', 'Could not fetch the key', `The server did not answer (${(e as Error).message}). Supply the key file yourself instead.`);
    }
    if (res.status === 404) {
      return fail('invalid', 'Invalid receipt', `The receipt names a verification key (sha256 ${hash}) this server does not have, so it is not for any model served here. If you hold that key file, supply it yourself.`);
    }
    if (!res.ok) return fail('error', 'Could not fetch the key', `The server answered HTTP ${res.status} for key ${hash}.`);
    bytes = new Uint8Array(await res.arrayBuffer());
  }
  const key: KeyInfo = { sha256: await sha256Hex(bytes), source: keySource(), label, vk: null, described: null };
  // The server is not trusted with the key: only bytes with the requested hash are used.
  if (requested !== null && key.sha256 !== requested) {
    return fail('refused', 'Key refused', `The server sent a key whose sha256 is ${key.sha256}, not the requested ${requested}. It was not used: nothing was verified.`, key);
  }
  if (requested !== null) key.described = await describe(requested);
  let text: string;
  try {
    text = utf8.decode(bytes);
    key.vk = parseVerificationKey(text);
  } catch (e) {
    return fail('refused', 'Key refused', `The key is not a zkinfer verification key: ${isZkinferError(e) ? e.message : 'it is not UTF-8 text'}.`, key);
  }
  return { ok: true, key, text };
}

const TRUST_LEVEL_SET: ReadonlySet<string> = new Set(TRUST_LEVELS);

/** The server's record of the key's build; a failure here only leaves the trust level unknown. */
async function describe(hash: string): Promise<Description> {
  let res: Response;
  try {
    res = await fetch(new URL(`v1/keys/${hash}/model`, document.baseURI), { headers: { accept: 'application/json' } });
  } catch (e) {
    return { ok: false, why: `the server did not answer for its record (${(e as Error).message})` };
  }
  if (!res.ok) return { ok: false, why: `the server answered HTTP ${res.status} for its record` };
  let v: unknown;
  try {
    v = await res.json();
  } catch {
    return { ok: false, why: 'the server\'s record is not JSON' };
  }
  if (!isObject(v) || v.vkeySha256 !== hash || typeof v.model !== 'string') return { ok: false, why: 'the server\'s record is not one for this key' };
  const t = isObject(v.recordedTrust) ? v.recordedTrust : null;
  // Only a known level is shown as one: anything else is treated as no record.
  const level = t && typeof t.level === 'string' && TRUST_LEVEL_SET.has(t.level) ? t.level : null;
  return { ok: true, d: { model: v.model, level, canForge: level && typeof t?.canForge === 'string' ? t.canForge : null } };
}

async function check(): Promise<Outcome | null> {
  const raw = receiptText.value.trim();
  if (!raw) return null;
  let receipt: Record<string, unknown> | null = null;
  let unwrapped = false;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (e) {
    return { verdict: 'invalid', title: 'Invalid receipt', reason: `The receipt is not JSON: ${(e as Error).message}`, receipt, unwrapped, key: null, result: null };
  }
  // A proof job's answer carries the receipt in its `receipt` field.
  if (isObject(data) && !('format' in data) && isObject(data.receipt)) {
    data = data.receipt;
    unwrapped = true;
  }
  if (isObject(data)) receipt = data;

  const k = await obtainKey(receipt);
  if (!k.ok) return { ...k.failure, receipt, unwrapped, result: null };
  const { key, text } = k;
  try {
    const result = await verifyReceipt(data, text);
    return result.valid
      ? { verdict: 'valid', title: 'Valid receipt', reason: `The proof verifies: this output was computed by the circuit this key fixes, on ${result.inputDisclosed ? 'this input' : 'the committed input'}.`, receipt, unwrapped, key, result }
      : { verdict: 'invalid', title: 'Invalid receipt', reason: result.reason, receipt, unwrapped, key, result };
  } catch (e) {
    // Malformed receipts (and keys the verifier cannot use) are thrown as typed errors.
    if (isZkinferError(e)) return { verdict: 'invalid', title: 'Invalid receipt', reason: e.message, receipt, unwrapped, key, result: null };
    return { verdict: 'error', title: 'Verification failed to run', reason: (e as Error).message, receipt, unwrapped, key, result: null };
  }
}

let runs = 0;
async function run() {
  if (!secure) return;
  const id = ++runs;
  const verdict = $('verdict');
  $('result').hidden = false;
  verdict.dataset.verdict = 'busy';
  $('verdict-title').textContent = 'Verifying…';
  $('verdict-reason').textContent = keySource() === 'server' ? 'Fetching the key by its hash and checking the proof in this browser.' : 'Checking the proof in this browser.';
  verifyButton.disabled = true;
  let outcome: Outcome | null;
  try {
    outcome = await check();
  } catch (e) {
    outcome = { verdict: 'error', title: 'Verification failed to run', reason: (e as Error).message, receipt: null, unwrapped: false, key: null, result: null };
  }
  if (id !== runs) return;
  verifyButton.disabled = false;
  if (!outcome) {
    verdict.dataset.verdict = 'error';
    $('verdict-title').textContent = 'No receipt';
    $('verdict-reason').textContent = 'Drop, choose or paste a receipt first.';
    clearCards();
    return;
  }
  render(outcome);
}

// ---------------------------------------------------------------- rendering

function clearCards() {
  for (const id of ['output-body', 'input-body', 'model-body', 'checks-body', 'proven', 'not-proven']) $(id).replaceChildren();
  $('output-tag').textContent = $('input-tag').textContent = '';
}

function tag(id: string, valid: boolean) {
  const t = $(id);
  t.className = `tag ${valid ? 'proven' : 'claimed'}`;
  t.textContent = valid ? 'proven' : 'claimed, not verified';
}

function render(o: Outcome) {
  clearCards();
  const verdict = $('verdict');
  verdict.dataset.verdict = o.verdict;
  $('verdict-title').textContent = o.title;
  $('verdict-reason').textContent = o.reason ?? '';
  const r = o.receipt;
  const valid = o.verdict === 'valid';
  const io: ModelIO | null = (o.key?.vk?.[VKEY_IO_FIELD] as ModelIO | undefined) ?? null;

  renderOutput(r, io, valid);
  renderInput(r, io, valid, o.result);
  renderModel(o, io);
  renderChecks(o);
  renderTrust(o, io);
}

function renderOutput(r: Record<string, unknown> | null, io: ModelIO | null, valid: boolean) {
  const body = $('output-body');
  const values = r ? flatNumbers(r.output) : null;
  if (!values || values.length === 0) {
    body.append(el('p', { class: 'meta' }, 'The receipt has no readable output.'));
    return;
  }
  tag('output-tag', valid);
  const quantized = r && Array.isArray(r.outputQuantized) ? (r.outputQuantized as unknown[]) : [];
  const shape = io?.output.shape ?? (r && Array.isArray(r.outputShape) ? (r.outputShape as number[]) : null);
  const scale = io?.output.scale ?? (r && typeof r.outputScale === 'number' ? r.outputScale : null);
  body.append(el('p', { class: 'meta' }, `${values.length} value${values.length === 1 ? '' : 's'}${shape ? `, shape ${shapeText(shape)}` : ''}${scale !== null ? `, fixed point at 2^-${scale}` : ''}`));

  let top = -1;
  if (values.length > 1) {
    top = values.reduce((best, v, i) => (v > values[best] ? i : best), 0);
    const ties = values.filter((v) => v === values[top]).length;
    body.append(el('div', { class: 'top-class', id: 'top-class', 'data-class': String(top) },
      el('span', { class: 'sub' }, 'top class'),
      el('span', { class: 'big' }, String(top)),
      el('span', { class: 'sub' }, `value ${values[top]}${ties > 1 ? ` (tied with ${ties - 1} other${ties > 2 ? 's' : ''}; the first is shown)` : ''}`)));
  } else {
    body.append(el('div', { class: 'top-class' }, el('span', { class: 'big', id: 'single-output' }, String(values[0]))));
  }

  // Long outputs: the ten largest, then all of them behind a toggle.
  const rows = values.map((v, i) => ({ v, i }));
  const shown = values.length > 20 ? [...rows].sort((a, b) => b.v - a.v).slice(0, 10) : rows;
  const lo = values.reduce((m, v) => Math.min(m, v), 0);
  const hi = values.reduce((m, v) => Math.max(m, v), -Infinity);
  const table = el('table', { id: 'output-table' }, el('thead', {}, el('tr', {}, el('th', {}, 'index'), el('th', {}, 'value'), el('th', {}, 'quantized'), el('th', {}, ''))));
  const tbody = el('tbody');
  for (const { v, i } of shown) {
    const width = hi > lo ? ((v - lo) / (hi - lo)) * 100 : 0;
    const bar = el('span');
    bar.style.width = `${width.toFixed(1)}%`;
    tbody.append(el('tr', i === top ? { class: 'top' } : {}, el('td', {}, String(i)), el('td', { class: 'num' }, String(v)), el('td', { class: 'num' }, String(quantized[i] ?? '')), el('td', { class: 'bar' }, bar)));
  }
  table.append(tbody);
  body.append(table);
  if (shown.length < values.length) {
    body.append(el('details', {}, el('summary', {}, `all ${values.length} values`), el('div', { class: 'values' }, values.join(', '))));
  }
  const notes = r && Array.isArray(r.notes) ? r.notes.filter((n): n is string => typeof n === 'string') : [];
  if (notes.length) body.append(el('ul', { class: 'notes' }, ...notes.map((n) => el('li', {}, n))));
}

function valuesBlock(values: number[], id: string): HTMLElement {
  return el('div', { class: 'values', id }, values.join(', '));
}

function renderInput(r: Record<string, unknown> | null, io: ModelIO | null, valid: boolean, result: VerifyResult | null) {
  const body = $('input-body');
  if (!r) return;
  const visibility = r.visibility === 'hashed' ? 'hashed' : 'public';
  const input = flatNumbers(r.input);
  const commitment = isObject(r.commitment) ? r.commitment : null;
  tag('input-tag', valid);
  const shape = io ? `shape ${shapeText(io.input.shape)}, ` : '';
  if (visibility === 'public') {
    body.append(el('p', { class: 'meta' }, `Public input: ${shape}${input ? `${input.length} values` : 'missing'}.`));
    if (input) body.append(valuesBlock(input, 'input-values'));
  } else {
    body.append(el('p', { class: 'meta' }, `Hashed input: the proof binds a Poseidon commitment to it (with a salt), not the values.`));
    // Once verified, the commitment shown is the proven one the verifier reports.
    const shownCommitment = valid && result?.commitment ? result.commitment : String(commitment?.value ?? 'missing');
    const dl = el('dl', {}, el('dt', {}, 'commitment'), el('dd', {}, el('span', { class: 'mono', id: 'commitment' }, shownCommitment)));
    dl.append(el('dt', {}, 'salt'), el('dd', {}, commitment?.salt ? el('span', { class: 'mono' }, String(commitment.salt)) : 'not disclosed'));
    body.append(dl);
    if (input) {
      const matched = valid && result?.inputDisclosed;
      body.append(el('p', { class: 'meta' }, `Disclosed input (${shape}${input.length} values)${matched ? ', checked against the commitment' : ''}:`), valuesBlock(input, 'input-values'));
    } else {
      body.append(el('p', { class: 'meta' }, 'The input itself is not disclosed.'));
    }
  }
  if (valid && result?.inputQuantized) {
    body.append(el('p', { class: 'meta' }, `Quantized input the proof was checked for (${result.inputQuantized.length} integers${io ? `, each value × 2^${io.input.scale}` : ''}):`),
      el('div', { class: 'values', id: 'input-quantized' }, result.inputQuantized.join(', ')));
  }
  if (io) {
    const [flo, fhi] = acceptedRange(io);
    body.append(el('p', { class: 'meta' }, `Accepted range [${flo}, ${fhi}], quantized at 2^-${io.input.scale}.`));
  }
}

function hashRow(dl: HTMLElement, label: string, value: unknown, id: string, note?: { ok: boolean; text: string }) {
  const dd = el('dd', {}, el('span', { class: 'mono', id }, typeof value === 'string' ? value : 'missing'));
  if (note) dd.append(' ', el('span', { class: note.ok ? 'ok' : 'no' }, note.text));
  dl.append(el('dt', {}, label), dd);
}

function renderModel(o: Outcome, io: ModelIO | null) {
  const dl = $('model-body');
  const model = o.receipt && isObject(o.receipt.model) ? o.receipt.model : {};
  const key = o.key;
  hashRow(dl, 'ONNX sha256', model.onnxSha256, 'onnx-sha', io ? (io.onnxSha256 === model.onnxSha256 ? { ok: true, text: '(named by the key too)' } : { ok: false, text: `(the key names ${io.onnxSha256})` }) : undefined);
  hashRow(dl, 'verification key sha256', model.vkeySha256, 'vkey-sha', key ? (key.sha256 === model.vkeySha256 ? { ok: true, text: '(matches the key used)' } : { ok: false, text: `(the key used is ${key.sha256})` }) : undefined);
  if (key) {
    dl.append(el('dt', {}, 'key from'), el('dd', { id: 'key-source' }, key.source === 'server' ? `this server, fetched by its sha256 and re-hashed in this browser` : `your file: ${key.label}`));
  }
  if (key) renderRecordedTrust(dl, key);
  if (o.receipt && typeof o.receipt.system === 'string') dl.append(el('dt', {}, 'proof system'), el('dd', {}, `${o.receipt.system}${key?.vk ? ` over ${key.vk.curve}` : ''}`));
  if (io) dl.append(el('dt', {}, 'input visibility'), el('dd', {}, io.visibility));
  if (o.receipt && typeof o.receipt.createdAt === 'string') dl.append(el('dt', {}, 'receipt made'), el('dd', {}, o.receipt.createdAt + ' (stated by the prover, not proven)'));
  if (o.unwrapped) dl.append(el('dt', {}, 'note'), el('dd', {}, 'taken from the proof job answer\'s receipt field'));
}

const AUDIT_NOTE = 'Only zkinfer audit checks it (run on the build directory, with the ONNX file): this page cannot.';

/** The build's recorded trust level: the operator's record, said to be unchecked in the same breath. */
function renderRecordedTrust(dl: HTMLElement, key: KeyInfo) {
  const d = key.described;
  let level = 'unknown';
  let text: string;
  if (key.source === 'own') {
    text = 'Unknown to this page: your key file records no trust level, and the page asks the server nothing about it. Only zkinfer audit, run on the key\'s build, checks who could forge proofs for it.';
  } else if (!d) {
    text = `Unknown to this page. ${AUDIT_NOTE}`;
  } else if (!d.ok) {
    text = `Unknown: ${d.why}. ${AUDIT_NOTE}`;
  } else if (d.d.level === null) {
    text = `Unknown: the server has no trust level recorded for model ${d.d.model}'s build. ${AUDIT_NOTE}`;
  } else {
    level = d.d.level;
    text = `What the operator's build recorded for model ${d.d.model}, as this server reports it; not checked by this verification. ${AUDIT_NOTE}${d.d.canForge ? ` Recorded as able to forge proofs: ${d.d.canForge}.` : ''}`;
  }
  dl.append(el('dt', {}, 'recorded trust'), el('dd', {},
    el('strong', { id: 'recorded-trust', 'data-level': level }, level), ' ',
    el('span', { class: 'meta', id: 'recorded-trust-note' }, text)));
}

function renderChecks(o: Outcome) {
  const ol = $('checks-body');
  for (const c of o.result?.checked ?? []) ol.append(el('li', { class: 'pass' }, c));
  if (o.verdict !== 'valid') ol.append(el('li', { class: 'fail' }, o.reason ?? o.title));
}

function renderTrust(o: Outcome, io: ModelIO | null) {
  const proven = $('proven');
  const not = $('not-proven');
  const li = (ul: HTMLElement, ...parts: Array<Node | string>) => ul.append(el('li', {}, ...parts));
  const r = o.receipt;
  const hashed = r?.visibility === 'hashed';
  const model = r && isObject(r.model) ? r.model : {};
  const onnx = typeof model.onnxSha256 === 'string' ? model.onnxSha256 : null;
  const onnxRef = () => (onnx ? el('code', {}, onnx) : 'the one the receipt names');
  if (o.verdict === 'valid') {
    li(proven, 'This output comes from the circuit fixed by this verification key, run on ',
      hashed ? (o.result?.inputDisclosed ? 'the disclosed input (it matches the committed one).' : 'the input committed to by this Poseidon commitment (the input itself stays hidden).') : 'this input.');
    li(proven, o.result?.inputDisclosed
      ? 'The output and input shown are exactly the proof\'s public values, at the key\'s fixed-point scales.'
      : 'The output shown is exactly the proof\'s public output, at the key\'s fixed-point scale.');
    li(proven, 'The verification key (and so the circuit) is the one the receipt names by its sha256; the key states it was compiled from the ONNX file ', onnxRef(), '.');
  } else {
    li(proven, `Nothing: the receipt ${o.verdict === 'invalid' ? 'did not verify' : 'was not verified'}, so its output and input are only claims.`);
  }
  li(not, 'That the ONNX file is the one you think: compare the sha256 of your copy with ', onnxRef(), '.');
  li(not, io ? `That fixed point equals float: inputs are rounded to multiples of 2^-${io.input.scale}, outputs computed in fixed point (2^-${io.output.scale}); they can differ slightly from the float model's.`
    : 'That fixed point equals float: the circuit computes in fixed point, which can differ slightly from the float model.');
  li(not, 'That the key comes from a trustworthy setup ceremony. A development ceremony (made on one machine) is worthless against whoever ran it: they could forge proofs. The receipt does not say which ceremony made the key; the build\'s manifest.json does. The recorded trust level shown above is the operator\'s own record: only zkinfer audit checks it.');
  const notes = r && Array.isArray(r.notes) ? r.notes.filter((n): n is string => typeof n === 'string') : [];
  if (notes.length) li(not, `Anything after what the circuit computes: ${notes.join('; ')}`);
  if (hashed && !o.result?.inputDisclosed) li(not, 'What the input was: only a commitment to it is public.');
  li(not, 'When, or by whom, the proof was made.');
}

// ---------------------------------------------------------------- start

$('boot').hidden = true;
if (!secure) {
  $('insecure').hidden = false;
  verifyButton.disabled = true;
}
document.body.dataset.ready = 'true';
