import type { Program } from './program.js';
import type { QuantizeInput } from './quantize.js';
import { quantize } from './quantize.js';
import { quantizeOptions } from './config.js';
import { argmax, runReference } from './reference.js';
import { quantizeInput } from '../receipt/io.js';

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
  readonly samples: number;
  /** max |integer - float| / max |float| over the calibration outputs. */
  readonly relError: number;
  readonly accepted: boolean;
}

/** How the integer program tracks the float model on the calibration samples. */
export function trialOf(p: Program, samples: readonly Float64Array[], outputs: readonly Float64Array[]): Omit<PrecisionTrial, 'activationBits' | 'weightBits' | 'accepted'> {
  let top1 = 0;
  let err = 0;
  let mag = 0;
  const classify = outputs[0].length > 1;
  samples.forEach((x, i) => {
    let q: bigint[];
    try {
      q = quantizeInput(p.io, x);
    } catch {
      return;
    }
    const got = runReference(p, q).output.map((v) => v / 2 ** p.io.output.scale);
    const want = outputs[i];
    if (!classify || argmax(got) === argmax(want)) top1++;
    got.forEach((v, j) => {
      err = Math.max(err, Math.abs(v - want[j]));
      mag = Math.max(mag, Math.abs(want[j]));
    });
  });
  return { top1, samples: samples.length, relError: mag > 0 ? err / mag : err };
}

/**
 * Picks the cheapest precision whose integer program agrees with the float
 * model on every calibration sample's top class and stays within
 * PRECISION_TOLERANCE of its outputs. Bits cost constraints (each rescale
 * decomposes its whole accumulator), so fewer is better when fidelity holds.
 */
export function choosePrecision(input: QuantizeInput, outputs: readonly Float64Array[]): { program: Program; trials: PrecisionTrial[] } {
  const trials: PrecisionTrial[] = [];
  let last: Program | null = null;
  for (const [a, w] of PRECISION_LADDER) {
    const program = quantize({ ...input, options: quantizeOptions({ ...input.options, activationBits: a, weightBits: w }) });
    const t = trialOf(program, input.samples, outputs);
    const accepted = t.top1 === t.samples && t.relError <= PRECISION_TOLERANCE;
    trials.push({ activationBits: a, weightBits: w, ...t, accepted });
    last = program;
    if (accepted) return { program, trials };
  }
  return { program: last!, trials };
}
