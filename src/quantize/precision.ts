import type { Graph } from '../onnx/graph.js';
import type { Program } from './program.js';
import type { QuantizeInput } from './quantize.js';
import { quantize } from './quantize.js';
import { quantizeOptions } from './config.js';
import { argmax, runReference } from './reference.js';
import { FloatModel } from './float-model.js';
import { quantizeInput } from '../receipt/io.js';
import { ZkinferError } from '../errors.js';

/** Candidate (activation bits, weight bits), cheapest first. */
export const PRECISION_LADDER: ReadonlyArray<readonly [number, number]> = Object.freeze([
  [8, 8], [9, 9], [9, 10], [10, 10], [12, 12], [14, 14],
] as const);

/** Largest output error allowed on the calibration set, as a share of the largest output. */
export const PRECISION_TOLERANCE = 0.005;

export interface PrecisionTrial {
  readonly activationBits: number;
  readonly weightBits: number;
  readonly top1: number;
  /** Calibration samples inside the accepted input range (the others cannot be proven, so are not judged). */
  readonly samples: number;
  /** max |integer - float| / max |float| over the calibration outputs. */
  readonly relError: number;
  readonly accepted: boolean;
}

/** Where a program strays furthest from the float model, relative to the tensor's own size. */
export interface TensorError {
  readonly tensor: string;
  readonly node: string;
  /** max |integer - float| over the calibration samples and the tensor's elements. */
  readonly absError: number;
  /** absError / max |float| of the tensor (absError when the tensor is all zero). */
  readonly relError: number;
}

/** No step of the precision ladder reproduces the float model on the calibration set. */
export class PrecisionError extends ZkinferError {
  constructor(readonly trials: readonly PrecisionTrial[], readonly best: PrecisionTrial, readonly worst: TensorError | null) {
    const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
    const [lo, hi] = [PRECISION_LADDER[0], PRECISION_LADDER[PRECISION_LADDER.length - 1]];
    const where = worst
      ? `; the largest error is in tensor "${worst.tensor}" (node "${worst.node}"): ${worst.absError.toPrecision(3)}, ${pct(worst.relError)} of its largest value`
      : '';
    super(
      'QUANTIZATION_FAILED',
      `no precision from ${lo.join('/')} to ${hi.join('/')} activation/weight bits keeps every calibration sample's top class and the outputs within ${pct(PRECISION_TOLERANCE)} of the float model: ` +
        `the best, ${best.activationBits}/${best.weightBits} bits, keeps the top class of ${best.top1}/${best.samples} samples with a largest output error of ${pct(best.relError)} of the largest output${where}. ` +
        'Give --activation-bits and --weight-bits to build at a fixed precision anyway.',
    );
    this.name = 'PrecisionError';
  }
}

/** The output is an ArgMax index, not scores. */
const isIndex = (p: Program): boolean => p.outputForms.length === 1 && p.layers.at(-1)?.op === 'argmax';

/** How the integer program tracks the float model on the calibration samples inside its input range. */
export function trialOf(p: Program, samples: readonly Float64Array[], outputs: readonly Float64Array[]): Omit<PrecisionTrial, 'activationBits' | 'weightBits' | 'accepted'> {
  let top1 = 0;
  let judged = 0;
  let err = 0;
  let mag = 0;
  const index = isIndex(p);
  const classify = index || outputs[0].length > 1;
  samples.forEach((x, i) => {
    let q: bigint[];
    try {
      q = quantizeInput(p.io, x);
    } catch {
      return;
    }
    judged++;
    const got = runReference(p, q).output.map((v) => v / 2 ** p.io.output.scale);
    const want = outputs[i];
    if (!classify || (index ? got[0] === want[0] : argmax(got) === argmax(want))) top1++;
    got.forEach((v, j) => {
      err = Math.max(err, Math.abs(v - want[j]));
      mag = Math.max(mag, Math.abs(want[j]));
    });
  });
  return { top1, samples: judged, relError: mag > 0 ? err / mag : err };
}

/**
 * Compares every tensor the program materializes (and its output) with the
 * float model's on the calibration samples, to name where precision is lost.
 */
export async function largestTensorError(onnx: Uint8Array, graph: Graph, p: Program, samples: readonly Float64Array[]): Promise<TensorError | null> {
  const model = await FloatModel.load(onnx, graph, true);
  const acc = new Map<string, { node: string; err: number; mag: number }>();
  const note = (tensor: string, node: string, got: ArrayLike<number>, want: ArrayLike<number> | undefined) => {
    if (!want || want.length !== got.length) return;
    const a = acc.get(tensor) ?? { node, err: 0, mag: 0 };
    for (let j = 0; j < got.length; j++) {
      a.err = Math.max(a.err, Math.abs(got[j] - want[j]));
      a.mag = Math.max(a.mag, Math.abs(want[j]));
    }
    acc.set(tensor, a);
  };
  try {
    for (const x of samples) {
      let q: bigint[];
      try {
        q = quantizeInput(p.io, x);
      } catch {
        continue;
      }
      const floats = await model.run(x);
      const ref = runReference(p, q);
      for (const l of p.layers) {
        if (!l.tensor || (l.op !== 'relu' && l.op !== 'rescale')) continue;
        const s = 2 ** l.scale;
        note(l.tensor, l.node, Array.from({ length: l.gadgets.length }, (_, j) => ref.signals[l.offset + j] / s), floats.get(l.tensor));
      }
      note(p.io.output.name, p.outputNode, ref.output.map((v) => v / 2 ** p.io.output.scale), floats.get(p.io.output.name));
    }
  } finally {
    await model.close();
  }
  let worst: TensorError | null = null;
  for (const [tensor, a] of acc) {
    const relError = a.mag > 0 ? a.err / a.mag : a.err;
    if (!worst || relError > worst.relError) worst = { tensor, node: a.node, absError: a.err, relError };
  }
  return worst;
}

const share = (t: PrecisionTrial): number => (t.samples ? t.top1 / t.samples : 0);

/**
 * Picks the cheapest precision whose integer program agrees with the float
 * model on every calibration sample's top class and stays within
 * PRECISION_TOLERANCE of its outputs. Bits cost constraints (each rescale
 * decomposes its whole accumulator), so fewer is better when fidelity holds.
 * When no step does, it throws a PrecisionError naming the best step and
 * (given the ONNX bytes) the tensor with the largest error: a build that
 * proves something other than the model must not be made silently.
 */
export async function choosePrecision(input: QuantizeInput, outputs: readonly Float64Array[], onnx?: Uint8Array): Promise<{ program: Program; trials: PrecisionTrial[] }> {
  const trials: PrecisionTrial[] = [];
  let best: { program: Program; trial: PrecisionTrial } | null = null;
  for (const [a, w] of PRECISION_LADDER) {
    const program = quantize({ ...input, options: quantizeOptions({ ...input.options, activationBits: a, weightBits: w }) });
    const t = trialOf(program, input.samples, outputs);
    const accepted = t.samples > 0 && t.top1 === t.samples && t.relError <= PRECISION_TOLERANCE;
    const trial = { activationBits: a, weightBits: w, ...t, accepted };
    trials.push(trial);
    if (accepted) return { program, trials };
    if (!best || share(trial) > share(best.trial) || (share(trial) === share(best.trial) && trial.relError <= best.trial.relError)) best = { program, trial };
  }
  const worst = onnx ? await largestTensorError(onnx, input.graph, best!.program, input.samples) : null;
  throw new PrecisionError(trials, best!.trial, worst);
}
