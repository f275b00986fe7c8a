import crypto from 'node:crypto';
import fs from 'node:fs';
import * as snarkjs from 'snarkjs';
import type { ModelIO } from '../receipt/io.js';
import { VKEY_IO_FIELD } from '../receipt/receipt.js';

export interface Phase2Contribution {
  readonly name: string;
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
  await snarkjs.zKey.contribute(zkey0, zkeyOut, name, crypto.randomBytes(64).toString('hex'));
  fs.rmSync(zkey0);
  const vk = await snarkjs.zKey.exportVerificationKey(zkeyOut);
  fs.writeFileSync(vkeyOut, `${JSON.stringify({ ...vk, [VKEY_IO_FIELD]: io }, null, 1)}\n`);
  return { contributions: [{ name }] };
}
