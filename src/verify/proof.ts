import * as snarkjs from 'snarkjs';
import { groth16Verify, type Groth16ProofJson } from './groth16.js';
import type { ProofSystem } from '../receipt/receipt.js';

/**
 * Checks a proof of any supported system against its verification key.
 * Groth16 uses the prepared-key verifier; PLONK and FFLONK use snarkjs'.
 * signals must be canonical field elements. Never throws: a malformed proof
 * is an invalid one.
 */
export async function verifyProof(system: ProofSystem, keyId: string, vk: Record<string, unknown>, signals: readonly bigint[], proof: unknown): Promise<boolean> {
  try {
    if (!proof || typeof proof !== 'object' || (proof as { protocol?: unknown }).protocol !== system || vk.protocol !== system) return false;
    if (system === 'groth16') return await groth16Verify(keyId, vk as never, signals, proof as Groth16ProofJson);
    return await snarkjs[system].verify(vk, signals.map(String), proof);
  } catch {
    return false;
  }
}
