import type { ProofSystem } from '../receipt/receipt.js';
import type { TranscriptEntry } from '../ceremony/transcript.js';
import type { PtauIdentity } from './ptau.js';
import type { TrustLevel, TrustVerdict } from '../pipeline/trust.js';
import type { FidelityReport } from '../pipeline/fidelity.js';

/** The audit's checks, in the order they run. */
export const CHECK_NAMES = ['onnx', 'calibration', 'samples', 'circuit', 'interface', 'fidelity', 'ptau', 'proving-key', 'verification-key', 'phase2', 'manifest-keys'] as const;
/** Run only when the auditor passes test data (--data). */
export const OPTIONAL_CHECKS: readonly CheckName[] = ['fidelity'];
export type CheckName = (typeof CHECK_NAMES)[number];

/** `skip`: not run because something it needs failed; it does not count as passing. */
export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface AuditCheck {
  readonly name: CheckName;
  readonly status: CheckStatus;
  readonly detail: string;
}

/** The audit's fidelity figures (the auditor's data through onnxruntime and the audited circuit's integer program). */
export interface AuditFidelity extends Omit<FidelityReport, 'top1Agreement'> {
  /** Top-1 agreement of the integer program with the float model (classification). */
  readonly agreement?: number;
  readonly minAgreement: number;
}

export interface AuditReport {
  /** True when every check passed, trust is above none and meets the required level. */
  readonly ok: boolean;
  /**
   * Who can forge proofs for this key, judged from the files: separate from
   * the checks, which say the key is this ONNX model's circuit.
   */
  readonly trust: TrustVerdict;
  /** The level asked for (--require) and whether the build meets it. */
  readonly required: { readonly level: TrustLevel; readonly met: boolean } | null;
  readonly fidelity: AuditFidelity | null;
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
