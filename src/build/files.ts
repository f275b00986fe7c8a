import path from 'node:path';

/** Every artifact of a build directory, named in one place. */
export const BUILD_FILES = {
  manifest: 'manifest.json',
  onnx: 'model.onnx',
  /** The quantized program, as JSON lines (build/program-file.ts). */
  program: 'program.jsonl',
  /** What calibration decided (tensor ranges, exact input scale): with the ONNX file and the options, all an audit needs to recompile. */
  calibration: 'calibration.json',
  /** The calibration samples as given (kept unless the build is compiled with private calibration): an audit recomputes calibration.json from them. */
  calibrationSamples: 'calibration-samples.json',
  /** The constraint system, written by the builder (src/r1cs) in iden3's format. */
  r1cs: 'model.r1cs',
  /** Wire names, circom's .sym format. */
  sym: 'model.sym',
  /** The readable export (zkinfer export-circom): the same circuit as circom source with the circuits/ templates. */
  circomDir: 'circom',
  circom: 'circom/model.circom',
  zkey: 'model.zkey',
  vkey: 'verification_key.json',
} as const;

export type BuildFile = keyof typeof BUILD_FILES;

export const buildPath = (dir: string, file: BuildFile): string => path.join(dir, BUILD_FILES[file]);
