import crypto from 'node:crypto';
import fs from 'node:fs';
import * as snarkjs from 'snarkjs';
import type { ModelIO } from '../receipt/io.js';
import { writeVerificationKey } from './vkey.js';

export interface Phase2Contribution {
  readonly name: string;
  /** blake2b-512 of the contribution, as snarkjs prints it; publishing it lets each contributor find their own. */
  readonly hash: string;
  readonly kind: 'contribution' | 'beacon';
}

/**
 * Groth16 circuit-specific setup from a prepared powers of tau, with one
 * phase-2 contribution from fresh local randomness. The verification key
 * file embeds the model's public interface, so its hash binds both.
 */
export async function groth16Setup(r1cs: string, ptau: string, zkeyOut: string, vkeyOut: string, io: ModelIO): Promise<{ contributions: Phase2Contribution[] }> {
  const zkey0 = `${zkeyOut}.0`;
  await snarkjs.zKey.newZKey(r1cs, ptau, zkey0);
  const name = 'zkinfer local phase-2 contribution';
  const hash = (await snarkjs.zKey.contribute(zkey0, zkeyOut, name, crypto.randomBytes(64).toString('hex'))) as Uint8Array;
  fs.rmSync(zkey0);
  await writeVerificationKey(zkeyOut, vkeyOut, io);
  return { contributions: [{ name, hash: Buffer.from(hash).toString('hex'), kind: 'contribution' }] };
}
