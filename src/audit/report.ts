import type { ProofSystem } from '../receipt/receipt.js';
import type { TranscriptEntry } from '../ceremony/transcript.js';
import type { PtauIdentity } from './ptau.js';

/** The audit's checks, in the order they run. */
export const CHECK_NAMES = ['onnx', 'calibration', 'circuit', 'interface', 'ptau', 'proving-key', 'verification-key', 'phase2', 'manifest-keys'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** `skip`: not run because something it needs failed; it does not count as passing. */
export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface AuditCheck {
  readonly name: CheckName;
  readonly status: CheckStatus;
  readonly detail: string;
}

export interface AuditReport {
  /** True when every check passed. */
  readonly ok: boolean;
  readonly build: string;
  readonly system: ProofSystem;
  /** sha256 of verification_key.json: the model identity receipts name. */
  readonly vkeySha256: string;
  readonly checks: readonly AuditCheck[];
  /** The powers of tau the keys were checked against, when one was found. */
  readonly ptau: PtauIdentity | null;
  /** Phase-2 contributions recorded in the proving key (Groth16), oldest first. */
  readonly contributions: readonly TranscriptEntry[];
}

export const pass = (name: CheckName, detail: string): AuditCheck => ({ name, status: 'pass', detail });
export const fail = (name: CheckName, detail: string): AuditCheck => ({ name, status: 'fail', detail });
export const skip = (name: CheckName, detail: string): AuditCheck => ({ name, status: 'skip', detail });

export const failedChecks = (checks: readonly AuditCheck[]): AuditCheck[] => checks.filter((c) => c.status !== 'pass');
