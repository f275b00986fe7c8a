import * as snarkjs from 'snarkjs';
import { groth16Check, type Groth16ProofJson } from './groth16.js';
import type { ProofSystem } from '../receipt/receipt.js';

export interface ProofCheck {
  readonly valid: boolean;
  /** Why the proof was refused, when that is more than a failed equation (a point off the curve, say). */
  readonly reason?: string;
}

/**
 * Checks a proof of any supported system against its verification key.
 * Groth16 uses the prepared-key verifier; PLONK and FFLONK use snarkjs'.
 * signals must be canonical field elements. Never throws: a malformed proof
 * is an invalid one.
 */
export async function checkProof(system: ProofSystem, keyId: string, vk: Record<string, unknown>, signals: readonly bigint[], proof: unknown): Promise<ProofCheck> {
  try {
    if (!proof || typeof proof !== 'object' || (proof as { protocol?: unknown }).protocol !== system || vk.protocol !== system) {
      return { valid: false, reason: `not a ${system} proof for a ${system} key` };
    }
    if (system === 'groth16') return await groth16Check(keyId, vk as never, signals, proof as Groth16ProofJson);
    return { valid: await snarkjs[system].verify(vk, signals.map(String), proof) };
  } catch (e) {
    return { valid: false, reason: `malformed proof (${(e as Error).message})` };
  }
}

/** checkProof's verdict alone. */
export async function verifyProof(system: ProofSystem, keyId: string, vk: Record<string, unknown>, signals: readonly bigint[], proof: unknown): Promise<boolean> {
  return (await checkProof(system, keyId, vk, signals, proof)).valid;
}
