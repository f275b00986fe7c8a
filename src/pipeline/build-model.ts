import fs from 'node:fs';
import { importOnnx } from '../onnx/index.js';
import {
  assertPlausibleCalibration, calibrate, calibrationInputs, choosePrecision, parseCalibration, quantize, quantizeOptions, recordFromSamples, PRECISION_TOLERANCE,
  type PrecisionTrial, type QuantizeOptions, type RecordedCalibration,
} from '../quantize/index.js';
import { judgeTrust } from './trust.js';
import { compileCircuit } from './circuit.js';
import { devPtau, publicPtau, type PtauInfo } from '../setup/ptau.js';
import { keySize, setupKeys } from '../setup/systems.js';
import type { Phase2Contribution } from '../setup/groth16.js';
import { PROOF_SYSTEMS, type ProofSystem } from '../receipt/receipt.js';
import { ZkinferError } from '../errors.js';
import { sha256, sha256File } from '../hash.js';
import { acceptedRange } from '../receipt/io.js';
import { buildPath, DEFAULT_KEYS_DIR } from '../paths.js';
import { MANIFEST_FORMAT, type Manifest } from './manifest.js';
import { releaseCurve } from '../curve.js';
import { writeProgram } from '../build/program-file.js';
import { buildKey } from '../build/key.js';
import { NO_PROGRESS, runPhase, type OnProgress } from '../progress.js';

export interface BuildOptions extends QuantizeOptions {
  /** A public powers-of-tau file; null makes (or reuses) a development one. */
  readonly ptau: string | null;
  readonly keysDir: string;
  /** @defaultValue 'groth16' */
  readonly system: ProofSystem;
  /**
   * Keep the calibration samples out of the build (only their sha256 is
   * recorded): an audit then cannot recompute the calibration and has to
   * judge the quantization by its own data.
   * @defaultValue false
   */
  readonly privateCalibration: boolean;
}

export const BUILD_DEFAULTS: Readonly<Pick<BuildOptions, 'ptau' | 'keysDir' | 'system' | 'privateCalibration'>> = Object.freeze({
  ptau: null, keysDir: DEFAULT_KEYS_DIR, system: 'groth16', privateCalibration: false,
});

/** The text calibration-samples.json holds, whose sha256 the manifest records: the sample list as given. */
export const samplesText = (calibration: unknown): string => `${JSON.stringify(calibrationInputs(calibration))}\n`;


/** The key a build with these inputs records (build/key.ts): every option but where keys are cached. */
export function buildKeyFor(onnxBytes: Uint8Array, calibration: unknown, opts: Partial<BuildOptions> = {}): string {
  const { ptau, keysDir: _keys, system, privateCalibration, ...quantizeOpts } = { ...BUILD_DEFAULTS, ...opts };
  return buildKey(onnxBytes, calibration, { ...quantizeOptions(quantizeOpts), ptau, system, privateCalibration });
}

/**
 * ONNX + calibration data → a build directory: quantized program, circom
 * circuit, r1cs and witness wasm, Groth16 keys and a manifest.
 */
export async function buildModel(
  onnxBytes: Uint8Array,
  calibration: unknown,
  outDir: string,
  opts: Partial<BuildOptions> = {},
  progress: OnProgress = NO_PROGRESS,
): Promise<Manifest> {
  const { ptau, keysDir, system, privateCalibration, ...quantizeOpts } = { ...BUILD_DEFAULTS, ...opts };
  const options = quantizeOptions(quantizeOpts);
  if (!PROOF_SYSTEMS.includes(system)) throw new ZkinferError('USAGE', `proof system must be one of ${PROOF_SYSTEMS.join(', ')}, got "${system}"`);
  const timings: Record<string, number> = {};
  const graph = importOnnx(onnxBytes);
  const samples = parseCalibration(calibration, graph.input.shape);
  const onnxSha256 = sha256(onnxBytes);

  let trials: PrecisionTrial[] = [];
  let recorded: RecordedCalibration | null = null;
  const program = await runPhase(progress, 'quantize', timings, async (report) => {
    const { stats, outputs } = await calibrate(onnxBytes, graph, samples);
    const input = { graph, onnxSha256, stats, samples, options };
    if (!options.autoPrecision) {
      recorded = recordFromSamples(stats, samples, options.activationBits);
      return quantize(input);
    }
    const chosen = await choosePrecision(input, outputs, onnxBytes);
    trials = chosen.trials;
    const t = trials[trials.length - 1];
    recorded = recordFromSamples(stats, samples, t.activationBits);
    report(1, `precision ${t.activationBits}/${t.weightBits} bits: calibration top-1 ${t.top1}/${t.samples}, max error ${(t.relError * 100).toFixed(2)}% of the largest output`);
    return chosen.program;
  });
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(buildPath(outDir, 'onnx'), onnxBytes);
  writeProgram(buildPath(outDir, 'program'), program);
  // What the build records must pass the checks compile, audit and prove apply to any record.
  const finalOptions = trials.length ? { ...options, activationBits: trials[trials.length - 1].activationBits, weightBits: trials[trials.length - 1].weightBits } : options;
  assertPlausibleCalibration(recorded, { inputName: graph.input.name, activationBits: finalOptions.activationBits, samples }, 'calibration');
  const calibrationText = `${JSON.stringify(recorded, null, 1)}\n`;
  fs.writeFileSync(buildPath(outDir, 'calibration'), calibrationText);
  const kept = samplesText(calibration);
  fs.rmSync(buildPath(outDir, 'calibrationSamples'), { force: true });
  if (!privateCalibration) fs.writeFileSync(buildPath(outDir, 'calibrationSamples'), kept);

  const compiled = await runPhase(progress, 'compile', timings, (report) => compileCircuit(program, outDir, report));

  const size = await keySize(system, buildPath(outDir, 'r1cs'), { nConstraints: compiled.nConstraints, nPublic: compiled.publicSignals });
  if (system !== 'groth16') progress({ phase: 'setup', fraction: 0, message: `${system}: ${size.rows} gates, domain 2^${size.domainPower}, powers of tau 2^${size.ptauPower}` });
  let ceremony: PtauInfo;
  let phase2: Phase2Contribution[] = [];
  try {
    ceremony = ptau ? await publicPtau(ptau, size.ptauPower) : await runPhase(progress, 'ceremony', timings, (report) => devPtau(keysDir, size.ptauPower, (m) => report(0, m)));
    phase2 = (await runPhase(progress, 'setup', timings, () => setupKeys(system, buildPath(outDir, 'r1cs'), ceremony.file, buildPath(outDir, 'zkey'), buildPath(outDir, 'vkey'), program.io))).contributions;
  } finally {
    await releaseCurve();
  }

  const range = options.inputRange;
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    buildKey: buildKeyFor(onnxBytes, calibration, opts),
    onnx: { sha256: onnxSha256, opset: graph.opset, ops: [...new Set(graph.nodes.map((n) => n.opType))] },
    options: finalOptions,
    precision: trials.length
      ? { mode: 'auto', trials, reason: trials[trials.length - 1].accepted ? `cheapest precision that keeps every calibration sample's top class and outputs within ${PRECISION_TOLERANCE * 100}%` : 'no candidate met the target; the most precise was kept' }
      : { mode: 'fixed', trials: [], reason: 'bits given explicitly' },
    notes: program.notes,
    io: program.io,
    inputRange: {
      requested: program.requestedRange,
      accepted: acceptedRange(program.io),
      source: range ? 'option' : 'calibration',
    },
    scales: program.scales,
    constraints: { total: compiled.nConstraints, layers: compiled.costs, wires: compiled.nWires, publicSignals: compiled.publicSignals },
    system,
    domain: { rows: size.rows, power: size.domainPower },
    ceremony: { ...ceremony, phase2 },
    keys: { vkeySha256: sha256(fs.readFileSync(buildPath(outDir, 'vkey'))), zkeySha256: sha256File(buildPath(outDir, 'zkey')) },
    calibrationSha256: sha256(calibrationText),
    calibrationSamples: { sha256: sha256(kept), count: samples.length, kept: !privateCalibration },
    trust: judgeTrust({ system, ptau: ceremony.kind, phase2 }),
    timings,
    createdAt: new Date().toISOString(),
  };
  fs.writeFileSync(buildPath(outDir, 'manifest'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
