import type { ModelIO } from '../receipt/io.js';
import type { ScaleRecord } from '../quantize/program.js';
import type { LayerCost } from '../lower/circuit.js';
import type { PtauInfo } from '../setup/ptau.js';
import type { QuantizeOptions } from '../quantize/config.js';
import type { PrecisionTrial } from '../quantize/precision.js';
import type { ProofSystem } from '../receipt/receipt.js';
import type { Phase2Contribution } from '../setup/groth16.js';
import type { TrustVerdict } from './trust.js';

/** 2: the r1cs comes from the constraint builder, whose wire numbering the prover's witness follows (1 was circom's). */
export const MANIFEST_FORMAT = 'zkinfer-build/2';

/** What a build directory holds and how it was made. */
export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  /** sha256 of the ONNX bytes, calibration samples and options (build/key.ts): the reuse policy compares it. */
  readonly buildKey?: string;
  readonly onnx: { readonly sha256: string; readonly opset: number; readonly ops: readonly string[] };
  readonly options: QuantizeOptions;
  readonly precision: { readonly mode: 'auto' | 'fixed'; readonly trials: readonly PrecisionTrial[]; readonly reason: string };
  /** Graph transformations worth knowing (folded BatchNorm, dropped Softmax). */
  readonly notes: readonly string[];
  readonly io: ModelIO;
  readonly inputRange: {
    readonly requested: readonly [number, number];
    /** What the circuit accepts: inputs outside are refused before proving. */
    readonly accepted: readonly [number, number];
    readonly source: 'calibration' | 'option';
  };
  readonly scales: readonly ScaleRecord[];
  readonly constraints: {
    readonly total: number;
    readonly layers: readonly LayerCost[];
    readonly wires: number;
    readonly publicSignals: number;
  };
  readonly system: ProofSystem;
  /** Rows the proof system proves (r1cs constraints for Groth16, gates for PLONK/FFLONK) and its domain 2^power. */
  readonly domain: { readonly rows: number; readonly power: number };
  /** Phase 2 (Groth16 only): every contribution to the proving key, in order. */
  readonly ceremony: Omit<PtauInfo, 'file'> & { readonly file: string; readonly phase2: readonly Phase2Contribution[] };
  readonly keys: { readonly vkeySha256: string; readonly zkeySha256: string };
  /** sha256 of calibration.json, what calibration decided (see quantize/recorded.ts). */
  readonly calibrationSha256: string;
  /**
   * The calibration samples: sha256 of calibration-samples.json's text (the
   * samples as given), and whether the build keeps that file (not with
   * --private-calibration). With them an audit recomputes calibration.json.
   */
  readonly calibrationSamples: { readonly sha256: string; readonly count: number; readonly kept: boolean };
  /**
   * Who can forge proofs for this key, judged when the keys were made (and
   * again at each ceremony step) from the ptau and the phase-2 chain. A
   * record, not a check: `zkinfer audit` judges it from the files.
   */
  readonly trust: TrustVerdict;
  readonly timings: Readonly<Record<string, number>>;
  readonly createdAt: string;
}
