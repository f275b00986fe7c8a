import { importOnnx } from '../onnx/index.js';
import { parseRecordedCalibration, quantize, quantizeOptions, type Program, type QuantizeOptions } from '../quantize/index.js';
import { compileCircuit } from '../pipeline/circuit.js';
import { buildPath } from '../paths.js';
import { sha256 } from '../hash.js';

export interface Rederived {
  readonly program: Program;
  /** The r1cs compiled in the work directory. */
  readonly r1cs: string;
}

/**
 * Recompiles a build's circuit from the ONNX file and what the build
 * recorded: calibration.json (tensor ranges, exact input scale) and the
 * manifest's options with the chosen bits fixed. No samples and no
 * onnxruntime: quantization only reads the recorded ranges.
 */
export async function rederiveCircuit(onnx: Uint8Array, calibration: unknown, options: QuantizeOptions, workDir: string): Promise<Rederived> {
  const graph = importOnnx(onnx);
  const { stats, exactInputScale } = parseRecordedCalibration(calibration);
  const program = quantize({
    graph,
    onnxSha256: sha256(onnx),
    stats,
    samples: [],
    options: quantizeOptions({ ...options, autoPrecision: false }),
    exactInputScale,
  });
  compileCircuit(program, workDir);
  return { program, r1cs: buildPath(workDir, 'r1cs') };
}
