import crypto from 'node:crypto';
import fs from 'node:fs';
import * as snarkjs from 'snarkjs';
import { buildPath } from '../paths.js';
import type { Manifest } from '../pipeline/manifest.js';
import type { Program } from '../quantize/program.js';
import { writeVerificationKey } from '../setup/vkey.js';
import type { Phase2Contribution } from '../setup/groth16.js';
import { loadBuild } from '../audit/build.js';
import { sha256, sha256File } from '../hash.js';
import { ZkinferError } from '../errors.js';
import { readPhase2Transcript } from './transcript.js';
import { judgeTrust } from '../pipeline/trust.js';
import { readProgram } from '../build/program-file.js';

export interface ContributionResult {
  readonly contribution: Phase2Contribution;
  /** Contributions now in the proving key, this one included. */
  readonly total: number;
  /** The model identity before and after: receipts name the verification key's sha256. */
  readonly vkeySha256: { readonly before: string; readonly after: string };
}

/** snarkjs keeps at most 64 characters of a name, in a length byte. */
export function checkContributionName(name: string): void {
  if (!name || name.length > 64 || Buffer.byteLength(name, 'utf8') > 255) {
    throw new ZkinferError('USAGE', `contribution name must be 1 to 64 characters (got ${name.length}): it is stored in the proving key as given`);
  }
}

type Step = (oldZkey: string, newZkey: string) => Promise<unknown>;

/**
 * Adds one phase-2 step to a Groth16 build: the new proving key is written
 * beside the old one, the verification key is exported from it (with the
 * model interface from program.json), then both replace the old files and
 * the manifest records the contribution and the new key hashes.
 */
async function addToBuild(dir: string, name: string, kind: Phase2Contribution['kind'], step: Step): Promise<ContributionResult> {
  const b = loadBuild(dir);
  const m = b.manifest;
  const system = m.system;
  if (system !== 'groth16') {
    throw new ZkinferError('USAGE', `${dir} is a ${system} build: ${system} keys follow from the r1cs and the universal powers of tau alone, so there is no circuit-specific phase 2 to contribute to`);
  }
  const zkey = buildPath(dir, 'zkey');
  const vkey = buildPath(dir, 'vkey');
  const before = sha256File(zkey);
  // The new step builds on the key's transcript: the manifest must describe that transcript, or its record would be wrong.
  const t = await readPhase2Transcript(zkey);
  const recorded = m.ceremony.phase2 ?? [];
  if (t.contributions.length !== recorded.length || t.contributions.some((c, i) => c.hash !== recorded[i].hash)) {
    throw new ZkinferError('BUILD_INVALID', `${dir}: the proving key holds ${t.contributions.length} phase-2 contribution(s) that the manifest does not record as such; run zkinfer ceremony verify`);
  }
  let io: Program['io'];
  try {
    io = readProgram(buildPath(dir, 'program')).io;
  } catch (e) {
    throw new ZkinferError('BUILD_INVALID', `${buildPath(dir, 'program')}: ${(e as Error).message}`);
  }

  const tmp = `.${process.pid}.tmp`;
  try {
    const hash = await step(zkey, zkey + tmp);
    if (!(hash instanceof Uint8Array)) throw new ZkinferError('SETUP_FAILED', `snarkjs refused the ${kind}`);
    await writeVerificationKey(zkey + tmp, vkey + tmp, io);
    if (sha256File(zkey) !== before) {
      throw new ZkinferError('SETUP_FAILED', `${zkey} changed while this ${kind} was computed (another contribution?); nothing was replaced`);
    }
    const contribution: Phase2Contribution = { name, hash: Buffer.from(hash).toString('hex'), kind };
    const vkeyText = fs.readFileSync(vkey + tmp, 'utf8');
    const phase2 = [...recorded, contribution];
    const manifest: Manifest = {
      ...m,
      ceremony: { ...m.ceremony, phase2 },
      // The verdict follows the chain: a second contribution makes it multi-party.
      trust: judgeTrust({ system, ptau: m.ceremony.kind, phase2 }),
      keys: { vkeySha256: sha256(vkeyText), zkeySha256: sha256File(zkey + tmp) },
    };
    fs.writeFileSync(buildPath(dir, 'manifest') + tmp, `${JSON.stringify(manifest, null, 2)}\n`);
    fs.renameSync(zkey + tmp, zkey);
    fs.renameSync(vkey + tmp, vkey);
    fs.renameSync(buildPath(dir, 'manifest') + tmp, buildPath(dir, 'manifest'));
    return { contribution, total: manifest.ceremony.phase2.length, vkeySha256: { before: sha256(b.vkeyText), after: manifest.keys.vkeySha256 } };
  } finally {
    for (const f of [zkey, vkey, buildPath(dir, 'manifest')]) fs.rmSync(f + tmp, { force: true });
  }
}

/**
 * A contribution from this machine. The entropy (random when not given) is
 * hashed by snarkjs together with its own system randomness; the secret it
 * yields is dropped when the key is written.
 */
export async function contribute(dir: string, name: string, entropy?: string): Promise<ContributionResult> {
  checkContributionName(name);
  const e = entropy || crypto.randomBytes(64).toString('hex');
  return addToBuild(dir, name, 'contribution', (o, n) => snarkjs.zKey.contribute(o, n, name, e));
}

/**
 * A contribution anyone can recompute, from a public random value (e.g. a
 * future block hash) hashed 2^iterationsExp times: it closes a ceremony so
 * that the last contributor cannot choose the final key.
 */
export async function beacon(dir: string, hash: string, iterationsExp: number, name = 'beacon'): Promise<ContributionResult> {
  checkContributionName(name);
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hash) || hash.length > 510) {
    throw new ZkinferError('USAGE', `beacon hash must be hexadecimal, an even number of digits, at most 255 bytes; got "${hash.length > 20 ? `${hash.slice(0, 20)}…` : hash}"`);
  }
  if (!Number.isInteger(iterationsExp) || iterationsExp < 10 || iterationsExp > 63) {
    throw new ZkinferError('USAGE', `beacon iterations must be an exponent from 10 to 63 (2^N hash iterations), got ${iterationsExp}`);
  }
  return addToBuild(dir, name, 'beacon', (o, n) => snarkjs.zKey.beacon(o, n, name, hash.toLowerCase(), iterationsExp));
}
