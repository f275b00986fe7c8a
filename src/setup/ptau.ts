import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { devPtauPath } from '../paths.js';
import { hermezPower } from './hermez.js';
import { writeDevPtau } from './dev-ptau.js';
import { ZkinferError } from '../errors.js';

export type CeremonyKind = 'development' | 'public';

export interface PtauInfo {
  readonly kind: CeremonyKind;
  readonly file: string;
  readonly power: number;
  readonly blake2b: string;
  readonly note: string;
}

export type Progress = (msg: string) => void;

/** The smallest power of two domain a Groth16 key for this circuit needs. */
export function requiredPower(constraints: number, publicInputs: number): number {
  return Math.max(8, Math.ceil(Math.log2(constraints + publicInputs + 1)));
}

export async function blake2bFile(file: string): Promise<string> {
  const h = crypto.createHash('blake2b512');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * A public ceremony file: accepted only if its blake2b-512 is one of the
 * Hermez files and it is large enough for the circuit.
 */
export async function publicPtau(file: string, power: number): Promise<PtauInfo> {
  if (!fs.existsSync(file)) throw new ZkinferError('PTAU_REJECTED', `--ptau: no such file ${file}`);
  const blake2b = await blake2bFile(file);
  const p = hermezPower(blake2b);
  if (p === null) {
    throw new ZkinferError('PTAU_REJECTED', `--ptau ${file}: its blake2b-512 (${blake2b.slice(0, 16)}…) matches no known Hermez ceremony file; use one of powersOfTau28_hez_final_NN.ptau`);
  }
  if (p < power) {
    throw new ZkinferError('PTAU_REJECTED', `--ptau ${file} is the Hermez file for 2^${p}; this circuit needs 2^${power} or larger`);
  }
  return { kind: 'public', file: path.resolve(file), power: p, blake2b, note: `Hermez public ceremony, 2^${p}` };
}

/**
 * A development powers of tau: made from fresh random secrets that are then
 * dropped (see dev-ptau.ts). Fine for tests and demos; it proves nothing about who
 * knows tau, so production keys need a public ceremony file.
 */
export async function devPtau(keysDir: string, power: number, progress: Progress = () => {}): Promise<PtauInfo> {
  const file = devPtauPath(keysDir, power);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(keysDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    progress(`development powers of tau 2^${power}: generating (cached in ${keysDir})`);
    const t0 = Date.now();
    await writeDevPtau(tmp, power, progress);
    fs.renameSync(tmp, file);
    progress(`development powers of tau 2^${power}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return {
    kind: 'development',
    file,
    power,
    blake2b: await blake2bFile(file),
    note: 'DEVELOPMENT ceremony made on this machine: whoever ran it could forge proofs. Use --ptau with a public ceremony file in production.',
  };
}

