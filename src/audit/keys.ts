import fs from 'node:fs';
import path from 'node:path';
import * as snarkjs from 'snarkjs';
import { setupKeys } from '../setup/systems.js';
import { VKEY_IO_FIELD, type VerificationKey } from '../receipt/receipt.js';
import type { ProofSystem } from '../receipt/receipt.js';
import type { ModelIO } from '../receipt/io.js';
import { fail, pass, type AuditCheck } from './report.js';
import { jsonDiff } from './compare.js';
import { sha256, sha256File } from '../hash.js';
import type { PtauIdentity } from './ptau.js';

/**
 * Runs a snarkjs check with its messages collected. snarkjs' phase-2
 * verifier reports some failures through console.log rather than its
 * logger; they are captured so they land in the check's detail and never
 * on stdout (where --json output goes).
 */
async function collectingLog<T>(f: (logger: snarkjs.Logger) => Promise<T>): Promise<{ value: T | null; error: Error | null; messages: string[] }> {
  const messages: string[] = [];
  const none = () => {};
  const logger: snarkjs.Logger = { debug: none, info: none, warn: (...a) => messages.push(a.join(' ')), error: (...a) => messages.push(a.join(' ')) };
  const consoleLog = console.log;
  console.log = (...a: unknown[]) => messages.push(a.join(' ').trim());
  try {
    return { value: await f(logger), error: null, messages };
  } catch (e) {
    return { value: null, error: e as Error, messages };
  } finally {
    console.log = consoleLog;
  }
}

/** The verification key as snarkjs exports it, without zkinfer's model interface. */
const bareKey = (vk: VerificationKey | Record<string, unknown>): Record<string, unknown> => {
  const { [VKEY_IO_FIELD]: _io, ...rest } = vk as Record<string, unknown>;
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
};

/** snarkjs' in-memory file: newZKey fills `data`, verifyFromInit reads it. */
type MemFile = { type: 'bigMem'; data?: unknown };
const zKey = snarkjs.zKey as unknown as {
  newZKey(r1cs: string, ptau: string, out: MemFile, logger?: snarkjs.Logger): Promise<unknown>;
  verifyFromInit(init: MemFile, ptau: string, zkey: string, logger?: snarkjs.Logger): Promise<boolean>;
};

/**
 * The phase-2 starting key of a circuit (no contribution yet). It is a pure
 * function of the r1cs and the ptau and costs most of a verification, so the
 * last one is kept, keyed by their hashes: an audit and a ceremony verify in
 * one process, or audits of copies of one build, make it once.
 */
let lastInit: { key: string; zkey: MemFile } | null = null;
async function initialKey(r1cs: string, ptau: PtauIdentity, logger: snarkjs.Logger): Promise<MemFile> {
  const key = `${sha256File(r1cs)}:${ptau.blake2b}`;
  if (lastInit?.key === key) return lastInit.zkey;
  const zkey: MemFile = { type: 'bigMem' };
  if ((await zKey.newZKey(r1cs, ptau.file, zkey, logger)) === -1) throw new Error('snarkjs could not make the initial key (is the powers of tau large enough?)');
  lastInit = { key, zkey };
  return zkey;
}

/**
 * The proving key follows from the r1cs and the powers of tau. Groth16:
 * snarkjs' zkey verify (verifyFromR1cs, in two steps so the initial key can
 * be reused) checks every phase-2 contribution and the key's point sections
 * against the initial key. PLONK and FFLONK keys hold no secret beyond the
 * ptau, so the setup is run again and the result compared.
 */
export async function provingKeyCheck(system: ProofSystem, r1cs: string, r1csSource: string, ptauId: PtauIdentity, zkey: string, io: ModelIO, workDir: string): Promise<AuditCheck> {
  const ptau = ptauId.file;
  if (system === 'groth16') {
    const r = await collectingLog(async (logger) => zKey.verifyFromInit(await initialKey(r1cs, ptauId, logger), ptau, zkey, logger));
    if (r.value === true) return pass('proving-key', `consistent with the ${r1csSource} r1cs and the powers of tau, phase-2 chain included (snarkjs zkey verify)`);
    const why = [...r.messages, ...(r.error ? [r.error.message] : [])].filter(Boolean).join('; ');
    return fail('proving-key', `does not follow from the ${r1csSource} r1cs and the powers of tau: ${why || 'snarkjs zkey verify failed'}`);
  }
  const dir = fs.mkdtempSync(path.join(workDir, 'setup-'));
  const again = path.join(dir, 'model.zkey');
  const vkAgain = path.join(dir, 'verification_key.json');
  try {
    await setupKeys(system, r1cs, ptau, again, vkAgain, io);
  } catch (e) {
    return fail('proving-key', `${system} setup from the ${r1csSource} r1cs and the powers of tau failed: ${(e as Error).message}`);
  }
  if (sha256File(again) === sha256File(zkey)) {
    return pass('proving-key', `${system} setup rerun from the ${r1csSource} r1cs and the powers of tau gives a byte-identical proving key`);
  }
  const diff = jsonDiff(bareKey(JSON.parse(fs.readFileSync(vkAgain, 'utf8'))), bareKey(await snarkjs.zKey.exportVerificationKey(zkey)));
  return fail('proving-key', `${system} setup rerun from the ${r1csSource} r1cs and the powers of tau gives another proving key${diff.length ? ` (verification keys differ at ${diff.join(', ')})` : ''}`);
}

/** verification_key.json is the key exported from the proving key, plus the model interface. */
export async function verificationKeyCheck(vkey: VerificationKey, zkey: string): Promise<AuditCheck> {
  let exported: Record<string, unknown>;
  try {
    exported = await snarkjs.zKey.exportVerificationKey(zkey);
  } catch (e) {
    return fail('verification-key', `cannot export a verification key from the proving key: ${(e as Error).message}`);
  }
  const diff = jsonDiff(bareKey(vkey), bareKey(exported));
  return diff.length
    ? fail('verification-key', `verification_key.json is not the proving key's verification key: differs at ${diff.join(', ')}`)
    : pass('verification-key', 'verification_key.json equals the verification key exported from the proving key (apart from the model interface)');
}

/** The manifest's key hashes name these files (the service reports them as the model's identity). */
export function manifestKeysCheck(keys: { vkeySha256: string; zkeySha256: string }, vkeyText: string, zkey: string): AuditCheck {
  const v = sha256(vkeyText);
  const z = sha256File(zkey);
  const bad = [
    ...(v !== keys.vkeySha256 ? [`verification key sha256 ${v.slice(0, 16)}… (manifest: ${keys.vkeySha256.slice(0, 16)}…)`] : []),
    ...(z !== keys.zkeySha256 ? [`proving key sha256 ${z.slice(0, 16)}… (manifest: ${keys.zkeySha256.slice(0, 16)}…)`] : []),
  ];
  return bad.length ? fail('manifest-keys', `the manifest names other keys: ${bad.join('; ')}`) : pass('manifest-keys', 'manifest key hashes match model.zkey and verification_key.json');
}
