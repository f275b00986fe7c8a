import type { AuditedBuild } from './build.js';
import type { AuditCheck } from './report.js';
import type { PtauIdentity } from './ptau.js';
import type { TranscriptEntry } from '../ceremony/transcript.js';
import { judgeTrust, type TrustVerdict } from '../pipeline/trust.js';

/** BN254's G2 generator as snarkjs writes a G2 point in a verification key (affine, Fq2 as [c0, c1]). */
const G2_GENERATOR = [
  ['10857046999023057135944570762232829481370756359578518086990519993285655852781', '11559732032986387107991004021392285783925812861821192530917403151452391805634'],
  ['8495653923123431417604973247489272438418190587263600148770280649306958101930', '4082367875863433681332203403145435568316851327593401208105741076214120093531'],
  ['1', '0'],
];

/**
 * delta = 1: the key from snarkjs' newZKey before any contribution. Checked
 * on the verification key itself, whatever the transcript says, since the
 * verifier uses only the key.
 */
export function deltaIsGenerator(vkey: unknown): boolean {
  const d = (vkey as { vk_delta_2?: unknown }).vk_delta_2;
  return JSON.stringify(d) === JSON.stringify(G2_GENERATOR);
}

/**
 * Who can forge, judged from what the audit found in the files: the ptau it
 * identified (and whether it is the one recorded), the key's own phase-2
 * transcript and delta.
 */
export function auditedTrust(b: AuditedBuild, ptau: PtauIdentity | null, ptauCheck: AuditCheck | undefined, contributions: readonly TranscriptEntry[]): TrustVerdict {
  const system = b.manifest.system;
  const common = { system, phase2: contributions, deltaIsGenerator: system === 'groth16' && deltaIsGenerator(b.vkey) };
  if (!ptau || ptauCheck?.status !== 'pass') {
    return judgeTrust({ ...common, ptau: null, ptauProblem: `the powers of tau is not established: ${ptauCheck?.detail ?? 'none was found'}` });
  }
  return judgeTrust({ ...common, ptau: ptau.kind, ...(ptau.kind === 'unknown' ? { ptauProblem: `powers of tau ${ptau.description}` } : {}) });
}
