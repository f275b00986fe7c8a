import * as snarkjs from 'snarkjs';
import type { ModelIO } from '../receipt/io.js';
import type { ProofSystem } from '../receipt/receipt.js';
import { writeVerificationKey } from './vkey.js';
import { groth16Setup, type Phase2Contribution } from './groth16.js';
import { r1csPlonkGates } from './plonk-size.js';
import { requiredPower } from './ptau.js';
import { ZkinferError } from '../errors.js';

export interface KeySize {
  /** Power of the powers-of-tau file the setup needs. */
  readonly ptauPower: number;
  /** Evaluation domain of the proof system: 2^domainPower. */
  readonly domainPower: number;
  /** Rows the system proves: r1cs constraints for Groth16, PLONK gates otherwise. */
  readonly rows: number;
}

const ceilLog2 = (n: number) => Math.ceil(Math.log2(Math.max(2, n)));

/**
 * What a system needs from the ceremony. Groth16 needs a domain over the
 * r1cs rows; PLONK one over its gates; FFLONK commits to polynomials of up
 * to 9 times the domain, so its tau powers go 3 powers further.
 */
export async function keySize(system: ProofSystem, r1cs: string, info: { nConstraints: number; nPublic: number }): Promise<KeySize> {
  switch (system) {
    case 'groth16': {
      const p = requiredPower(info.nConstraints, info.nPublic);
      return { ptauPower: p, domainPower: p, rows: info.nConstraints };
    }
    case 'plonk': {
      const gates = await r1csPlonkGates(r1cs);
      const p = Math.max(3, ceilLog2(gates));
      return { ptauPower: Math.max(8, p), domainPower: p, rows: gates };
    }
    case 'fflonk': {
      const gates = await r1csPlonkGates(r1cs);
      const p = Math.max(3, ceilLog2(gates + 2));
      return { ptauPower: Math.max(8, p + 3), domainPower: p, rows: gates };
    }
    default:
      return system satisfies never;
  }
}

/** Collects snarkjs' error log lines: its PLONK setup reports failures only there. */
function errorLog(): { logger: snarkjs.Logger; errors: string[] } {
  const errors: string[] = [];
  const none = () => {};
  return { errors, logger: { debug: none, info: none, warn: none, error: (...a: unknown[]) => errors.push(a.join(' ')) } };
}

/**
 * Proving and verification keys for a system. Groth16 gets a circuit-specific
 * phase 2 (one local contribution); PLONK and FFLONK keys follow from the
 * r1cs and the universal powers of tau alone, with nothing secret added.
 */
export async function setupKeys(system: ProofSystem, r1cs: string, ptau: string, zkeyOut: string, vkeyOut: string, io: ModelIO): Promise<{ contributions: Phase2Contribution[] }> {
  if (system === 'groth16') return groth16Setup(r1cs, ptau, zkeyOut, vkeyOut, io);
  const { logger, errors } = errorLog();
  let r: unknown;
  try {
    r = await snarkjs[system].setup(r1cs, ptau, zkeyOut, logger);
  } catch (e) {
    throw new ZkinferError('SETUP_FAILED', `${system} setup failed: ${(e as Error).message}`);
  }
  if (r === -1 || errors.length) throw new ZkinferError('SETUP_FAILED', `${system} setup failed: ${errors.join('; ') || 'unknown error'}`);
  await writeVerificationKey(zkeyOut, vkeyOut, io);
  return { contributions: [] };
}
