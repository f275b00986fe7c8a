import type { ModelIO } from '../receipt/io.js';
import type { ScaleRecord } from '../quantize/program.js';
import type { LayerCost } from '../lower/emit.js';
import type { PtauInfo } from '../setup/ptau.js';
import type { QuantizeOptions } from '../quantize/config.js';
import type { PrecisionTrial } from '../quantize/precision.js';

export const MANIFEST_FORMAT = 'zkinfer-build/1';

/** What a build directory holds and how it was made. */
export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
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
  readonly system: 'groth16';
  readonly ceremony: Omit<PtauInfo, 'file'> & { readonly file: string; readonly phase2: readonly { name: string }[] };
  readonly keys: { readonly vkeySha256: string; readonly zkeySha256: string };
  readonly timings: Readonly<Record<string, number>>;
  readonly createdAt: string;
}
