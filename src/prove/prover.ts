import crypto from 'node:crypto';
import fs from 'node:fs';
import * as snarkjs from 'snarkjs';
import { Groth16Prover } from './groth16-prover.js';
import type { Program } from '../quantize/program.js';
import { lowerProgram } from '../lower/circuit.js';
import { assertPlausibleCalibration } from '../quantize/recorded.js';
import { parseCalibration } from '../quantize/calibration.js';
import type { Manifest } from '../pipeline/manifest.js';
import { buildPath } from '../paths.js';
import {
  commitInputs, dequantize, flattenTensor, fromField, nest, quantizeInput, RECEIPT_FORMAT, sha256Hex, signalLayout,
  FIELD_PRIME, type ProofSystem, type Receipt,
} from '../receipt/index.js';
import { ZkinferError, fileError } from '../errors.js';
import { openBuild } from '../build/open.js';
import { NO_PROGRESS, type OnProgress } from '../progress.js';


export interface ProveOptions {
  /** Hashed visibility: put the input (and salt) in the receipt. @defaultValue true */
  readonly disclose: boolean;
  /** Hashed visibility: commitment salt; random when omitted. */
  readonly salt?: bigint;
}

export interface ProveResult {
  readonly receipt: Receipt;
  readonly timings: { readonly witness: number; readonly prove: number };
}

/**
 * Refuses to prove with a build whose calibration.json honest calibration
 * cannot produce (see quantize/recorded.ts), judged with the kept samples
 * when the build has them. A build without the record (one materialized
 * from the store) is left to the audit.
 */
function checkRecordedCalibration(dir: string, manifest: Manifest, program: Program): void {
  const cal = buildPath(dir, 'calibration');
  if (!fs.existsSync(cal)) return;
  const kept = buildPath(dir, 'calibrationSamples');
  let samples: Float64Array[] | undefined;
  try {
    samples = fs.existsSync(kept) ? parseCalibration(JSON.parse(fs.readFileSync(kept, 'utf8')), program.io.input.shape) : undefined;
  } catch (e) {
    throw new ZkinferError('BUILD_INVALID', `${kept}: ${(e as Error).message}`);
  }
  let record: unknown;
  try {
    record = JSON.parse(fs.readFileSync(cal, 'utf8'));
  } catch (e) {
    throw new ZkinferError('BUILD_INVALID', `${cal}: ${(e as Error).message}`);
  }
  assertPlausibleCalibration(record, { inputName: program.io.input.name, activationBits: manifest.options.activationBits, ...(samples ? { samples } : {}) }, cal);
}

const randomSalt = (): bigint => BigInt(`0x${crypto.randomBytes(32).toString('hex')}`) % FIELD_PRIME;

type Prove = (wtns: Uint8Array) => Promise<{ proof: unknown; publicSignals: string[] }>;

/**
 * Groth16 runs on our prover with the key parsed once; PLONK and FFLONK on
 * snarkjs' provers, with the key's bytes kept in memory.
 */
async function loadProver(system: ProofSystem, zkeyFile: string): Promise<Prove> {
  if (system === 'groth16') {
    const g = await Groth16Prover.loadFile(zkeyFile);
    return (wtns) => g.prove(wtns);
  }
  const zkey = fs.readFileSync(zkeyFile);
  return (wtns) => snarkjs[system].prove({ type: 'mem', data: zkey }, { type: 'mem', data: wtns });
}

/**
 * A model loaded for proving: the program and the proving key stay in
 * memory, so a long-running prover pays for loading them once. The witness
 * comes from the program itself (lower/circuit.ts, values only), numbered as
 * the compiled r1cs numbers its wires.
 */
export class ModelProver {
  private constructor(
    readonly manifest: Manifest,
    private readonly program: Program,
    private readonly proveWitness: Prove,
    readonly vkeyText: string,
  ) {}

  get system(): ProofSystem {
    return this.manifest.system;
  }

  static async load(dir: string): Promise<ModelProver> {
    // The manifest's format says the build's r1cs numbers its wires as the witness does.
    const build = openBuild(dir);
    const program = build.program();
    checkRecordedCalibration(dir, build.manifest, program);
    let prove: Prove;
    try {
      prove = await loadProver(build.manifest.system, build.path('zkey'));
    } catch (e) {
      // A truncated or corrupt key fails inside its parser: name the file instead.
      throw fileError('BUILD_INVALID', build.path('zkey'), e);
    }
    return new ModelProver(build.manifest, program, prove, build.vkeyText());
  }

  get io() {
    return this.program.io;
  }

  /** Checks and quantizes a nested float input; throws INPUT_* errors. */
  quantize(input: unknown): bigint[] {
    return quantizeInput(this.io, flattenTensor(input, this.io.input.shape, 'input'));
  }

  async prove(input: unknown, opts: Partial<ProveOptions> = {}, progress: OnProgress = NO_PROGRESS): Promise<ProveResult> {
    const io = this.io;
    const q = this.quantize(input);
    const hashed = io.visibility === 'hashed';
    const salt = hashed ? (opts.salt ?? randomSalt()) : 0n;
    const disclose = opts.disclose ?? true;

    progress({ phase: 'witness', fraction: 0 });
    const t0 = performance.now();
    // A value outside its gadget's proven range throws here, naming the layer and element.
    const witness = lowerProgram(this.program, q, { constraints: false, salt });
    const expected = witness.output;
    // The key's circuit and the program must agree wire for wire (a build assembled from mismatched files does not).
    if (witness.circuit.nWires !== this.manifest.constraints.wires) {
      throw new ZkinferError('WITNESS_FAILED', `the circuit cannot be satisfied for this input: the program gives ${witness.circuit.nWires} wires where the circuit has ${this.manifest.constraints.wires}`);
    }
    const wtns = witness.circuit.wtns();
    const tWitness = performance.now() - t0;
    progress({ phase: 'witness', fraction: 1, message: `done in ${(tWitness / 1000).toFixed(2)} s` });

    progress({ phase: 'proof', fraction: 0 });
    const t1 = performance.now();
    const { proof, publicSignals } = await this.proveWitness(wtns);
    const tProve = performance.now() - t1;
    progress({ phase: 'proof', fraction: 1, message: `done in ${(tProve / 1000).toFixed(2)} s` });

    const layout = signalLayout(io);
    const outQ = publicSignals.slice(0, layout.outputs).map((s) => fromField(BigInt(s)));
    outQ.forEach((v, i) => {
      if (Number(v) !== expected[i]) {
        throw new ZkinferError('WITNESS_FAILED', `circuit output ${i} (${v}) differs from the integer reference (${expected[i]})`);
      }
    });
    const commitment = hashed ? await commitInputs(io, q, salt) : null;
    if (commitment !== null && BigInt(publicSignals[layout.outputs]) !== commitment) {
      throw new ZkinferError('WITNESS_FAILED', 'circuit commitment differs from the reference commitment');
    }
    const showInput = !hashed || disclose;
    const receipt: Receipt = {
      format: RECEIPT_FORMAT,
      model: { onnxSha256: io.onnxSha256, vkeySha256: await sha256Hex(this.vkeyText) },
      system: this.system,
      visibility: io.visibility,
      input: showInput ? (input as Receipt['input']) : null,
      inputQuantized: showInput ? q.map(String) : null,
      commitment: commitment === null ? null : { value: commitment.toString(), salt: disclose ? salt.toString() : null },
      output: nest(outQ.map((v) => dequantize(v, io.output.scale)), io.output.shape) as Receipt['output'],
      outputQuantized: outQ.map(String),
      outputShape: [...io.output.shape],
      outputScale: io.output.scale,
      notes: [...(io.notes ?? [])],
      proof: proof as Receipt['proof'],
      publicSignals,
      createdAt: new Date().toISOString(),
    };
    return { receipt, timings: { witness: Math.round(tWitness), prove: Math.round(tProve) } };
  }
}
