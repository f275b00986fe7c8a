import crypto from 'node:crypto';
import fs from 'node:fs';
import * as snarkjs from 'snarkjs';
import type { ModelIO } from '../receipt/io.js';
import { nativeBn254 } from '../prove/native.js';
import { nativeGroth16Setup, type SetupProgress } from './native-groth16.js';
import { writeVerificationKey } from './vkey.js';

export interface Phase2Contribution {
  readonly name: string;
  /** blake2b-512 of the contribution, as snarkjs prints it; publishing it lets each contributor find their own. */
  readonly hash: string;
  readonly kind: 'contribution' | 'beacon';
}

const CONTRIBUTION_NAME = 'zkinfer local phase-2 contribution';

/**
 * Groth16 circuit-specific setup from a prepared powers of tau, with one
 * phase-2 contribution from fresh local randomness. The verification key
 * file embeds the model's public interface, so its hash binds both.
 *
 * With the native kernels the key is computed natively (native-groth16.ts),
 * byte for byte what snarkjs' newZKey and contribute write; without them,
 * snarkjs does it.
 */
export async function groth16Setup(
  r1cs: string, ptau: string, zkeyOut: string, vkeyOut: string, io: ModelIO, progress?: SetupProgress,
): Promise<{ contributions: Phase2Contribution[] }> {
  const name = CONTRIBUTION_NAME;
  const nat = nativeBn254();
  let hash: Uint8Array;
  if (nat) {
    hash = (await nativeGroth16Setup(nat, r1cs, ptau, zkeyOut, { contribution: name, progress })).contributionHash!;
  } else {
    const zkey0 = `${zkeyOut}.0`;
    progress?.(0, 'snarkjs newZKey');
    await snarkjs.zKey.newZKey(r1cs, ptau, zkey0);
    progress?.(0.8, 'snarkjs contribute');
    hash = (await snarkjs.zKey.contribute(zkey0, zkeyOut, name, crypto.randomBytes(64).toString('hex'))) as Uint8Array;
    fs.rmSync(zkey0);
    progress?.(1, 'done');
  }
  await writeVerificationKey(zkeyOut, vkeyOut, io);
  return { contributions: [{ name, hash: Buffer.from(hash).toString('hex'), kind: 'contribution' }] };
}
