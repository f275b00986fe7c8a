import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { FIELD_PRIME } from '../receipt/field.js';
import { VKEY_IO_FIELD } from '../receipt/receipt.js';
import { ZkinferError } from '../errors.js';
import { asSolidityProtocol, type SolidityProtocol } from './protocols.js';

const require = createRequire(import.meta.url);
const ejs = require('ejs') as { render(template: string, data: object): string };

/** A snarkjs verification key, checked to hold only what the templates may print. */
export interface SolidityKey {
  readonly protocol: SolidityProtocol;
  readonly nPublic: number;
  readonly [k: string]: unknown;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Parses a verification key for rendering. The templates paste key values into
 * Solidity source, so every value (but our model interface, which they never
 * read) must be a decimal number: a key edited to carry code is refused.
 */
export function parseSolidityKey(vkText: string): SolidityKey {
  let vk: unknown;
  try {
    vk = JSON.parse(vkText);
  } catch {
    throw new ZkinferError('BUILD_INVALID', 'verification key is not valid JSON');
  }
  if (!vk || typeof vk !== 'object' || Array.isArray(vk)) throw new ZkinferError('BUILD_INVALID', 'verification key is not a JSON object');
  const v = vk as Record<string, unknown>;
  const protocol = asSolidityProtocol(v.protocol, 'verification key', 'BUILD_INVALID');
  if (v.curve !== 'bn128') throw new ZkinferError('BUILD_INVALID', `verification key is over curve ${JSON.stringify(v.curve)}; the EVM verifies bn128 only`);
  if (!Number.isInteger(v.nPublic) || (v.nPublic as number) < 0) throw new ZkinferError('BUILD_INVALID', 'verification key lacks a valid nPublic');
  const check = (x: unknown, where: string): void => {
    if (Array.isArray(x)) x.forEach((e, i) => check(e, `${where}[${i}]`));
    else if (typeof x === 'string') {
      if (!DECIMAL.test(x)) throw new ZkinferError('BUILD_INVALID', `verification key field ${where} is not a decimal number`);
    } else if (typeof x !== 'number' || !Number.isInteger(x)) {
      throw new ZkinferError('BUILD_INVALID', `verification key field ${where} is not a number or an array of numbers`);
    }
  };
  for (const [k, x] of Object.entries(v)) if (k !== 'protocol' && k !== 'curve' && k !== VKEY_IO_FIELD) check(x, k);
  const need = { groth16: ['vk_alpha_1', 'vk_beta_2', 'vk_gamma_2', 'vk_delta_2', 'IC'], plonk: ['power', 'k1', 'k2', 'Qm', 'Ql', 'Qr', 'Qo', 'Qc', 'S1', 'S2', 'S3', 'X_2', 'w'], fflonk: ['power', 'k1', 'k2', 'w', 'w3', 'w4', 'w8', 'wr', 'X_2', 'C0'] }[protocol];
  const missing = need.filter((k) => !(k in v));
  if (missing.length) throw new ZkinferError('BUILD_INVALID', `${protocol} verification key lacks ${missing.join(', ')}`);
  if (protocol === 'groth16' && (v.IC as unknown[]).length !== (v.nPublic as number) + 1) {
    throw new ZkinferError('BUILD_INVALID', `groth16 verification key has ${(v.IC as unknown[]).length} IC points for ${v.nPublic} public signals`);
  }
  return v as SolidityKey;
}

let templateDir: string | null = null;
/** snarkjs' exports hide package.json, so find its root from the entry point. */
function snarkjsTemplates(): string {
  if (templateDir) return templateDir;
  let dir = path.dirname(require.resolve('snarkjs'));
  while (!fs.existsSync(path.join(dir, 'templates', 'verifier_groth16.sol.ejs'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new ZkinferError('INTERNAL', 'the snarkjs package has no Solidity verifier templates');
    dir = up;
  }
  return (templateDir = path.join(dir, 'templates'));
}

const templates = new Map<SolidityProtocol, string>();
const template = (protocol: SolidityProtocol): string => {
  let t = templates.get(protocol);
  if (t === undefined) templates.set(protocol, (t = fs.readFileSync(path.join(snarkjsTemplates(), `verifier_${protocol}.sol.ejs`), 'utf8')));
  return t;
};

const mulmod = (a: bigint, b: bigint): bigint => (a * b) % FIELD_PRIME;

/**
 * The powers of the FFLONK roots of unity its template expects, as snarkjs'
 * fflonkExportSolidityVerifier adds them (there through the curve's Fr, here
 * with plain modular arithmetic: the same numbers).
 */
function fflonkExtras(vk: SolidityKey): Record<string, string> {
  const w3 = BigInt(vk.w3 as string);
  const w4 = BigInt(vk.w4 as string);
  const w8 = BigInt(vk.w8 as string);
  const extra: Record<string, string> = {
    w3_2: mulmod(w3, w3).toString(),
    w4_2: mulmod(w4, w4).toString(),
    w4_3: mulmod(mulmod(w4, w4), w4).toString(),
  };
  let acc = 1n;
  for (let i = 1; i < 8; i++) extra[`w8_${i}`] = (acc = mulmod(acc, w8)).toString();
  return extra;
}

/** The snarkjs Solidity verifier for a verification key (Groth16, PLONK or FFLONK), from the key JSON alone. */
export function solidityVerifier(vkText: string): string {
  const vk = parseSolidityKey(vkText);
  const data = vk.protocol === 'fflonk' ? { ...vk, ...fflonkExtras(vk) } : vk;
  return ejs.render(template(vk.protocol), data);
}
