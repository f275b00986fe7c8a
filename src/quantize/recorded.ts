import type { TensorStats } from './calibration.js';
import { exactScale } from './quantize.js';
import { ZkinferError } from '../errors.js';

export const CALIBRATION_FORMAT = 'zkinfer-calibration/1';

/**
 * What calibration decided, kept in the build: every tensor's float range and
 * the input's exact scale. It is a deterministic function of the ONNX file,
 * the calibration samples and the options (onnxruntime's float run and
 * exactScale), so whoever holds the samples recomputes it; with the ONNX file
 * and the manifest's options it fixes the quantized program.
 */
export interface RecordedCalibration {
  readonly format: typeof CALIBRATION_FORMAT;
  /** k >= 1 when every calibration input is a multiple of 2^-k (k at most the activation bits); otherwise null. */
  readonly exactInputScale: number | null;
  /** tensor → [min, max] over the calibration samples. */
  readonly ranges: Readonly<Record<string, readonly [number, number]>>;
}

/**
 * An exact scale of 0 or below says nothing finer than the integers, and the
 * activation scale then represents integers exactly too, so only k >= 1 is
 * recorded: a record claiming 0 or less cannot come from calibration.
 */
export const honestExactScale = (k: number | null): number | null => (k !== null && k >= 1 ? k : null);

export function recordCalibration(stats: ReadonlyMap<string, TensorStats>, exactInputScale: number | null): RecordedCalibration {
  const ranges: Record<string, [number, number]> = {};
  for (const [k, v] of [...stats].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) ranges[k] = [v.min, v.max];
  return { format: CALIBRATION_FORMAT, exactInputScale: honestExactScale(exactInputScale), ranges };
}

/** The record calibration makes from the samples' tensor ranges at these activation bits. */
export const recordFromSamples = (stats: ReadonlyMap<string, TensorStats>, samples: readonly ArrayLike<number>[], activationBits: number): RecordedCalibration =>
  recordCalibration(stats, exactScale(samples, activationBits));

export function parseRecordedCalibration(data: unknown): { stats: Map<string, TensorStats>; exactInputScale: number | null } {
  const d = data as Partial<RecordedCalibration> | null;
  if (!d || d.format !== CALIBRATION_FORMAT || typeof d.ranges !== 'object' || d.ranges === null || !(d.exactInputScale === null || Number.isInteger(d.exactInputScale))) {
    throw new ZkinferError('BUILD_INVALID', `calibration record: expected format "${CALIBRATION_FORMAT}" with ranges and exactInputScale`);
  }
  const stats = new Map<string, TensorStats>();
  for (const [k, v] of Object.entries(d.ranges)) {
    if (!Array.isArray(v) || v.length !== 2 || !v.every(Number.isFinite)) throw new ZkinferError('BUILD_INVALID', `calibration record: range of "${k}" is not [min, max]`);
    stats.set(k, { min: v[0], max: v[1] });
  }
  return { stats, exactInputScale: d.exactInputScale ?? null };
}

export interface PlausibilityContext {
  /** The model input's tensor name: its range must hold every sample. */
  readonly inputName: string;
  readonly activationBits: number;
  /** The calibration samples, when known (flattened inputs). */
  readonly samples?: readonly ArrayLike<number>[];
}

/**
 * Why a recorded calibration could not come from honest calibration, or an
 * empty list. Honest calibration records observed ranges (min <= max, the
 * input's holding every sample, its ends multiples of the exact scale since
 * they are sample values) and an exact scale from 1 to the activation bits
 * that every sample is a multiple of. Without the samples only the shape of
 * the record is judged; recomputing from the samples (audit) is the full check.
 */
export function implausibleCalibration(record: unknown, ctx: PlausibilityContext): string[] {
  let parsed: ReturnType<typeof parseRecordedCalibration>;
  try {
    parsed = parseRecordedCalibration(record);
  } catch (e) {
    return [(e as Error).message];
  }
  const { stats, exactInputScale: k } = parsed;
  const problems: string[] = [];
  if (k !== null && (k < 1 || k > ctx.activationBits)) {
    problems.push(`exactInputScale ${k} is outside 1..${ctx.activationBits} (the activation bits): calibration never records it`);
  }
  for (const [name, s] of stats) if (s.min > s.max) problems.push(`the range of "${name}" is [${s.min}, ${s.max}]: min above max`);
  const input = stats.get(ctx.inputName);
  if (!input) problems.push(`no range for the input "${ctx.inputName}"`);
  else if (k !== null && k >= 1) {
    const off = [input.min, input.max].filter((v) => !Number.isInteger(v * 2 ** k));
    if (off.length) problems.push(`the input range ends ${off.join(', ')} are not multiples of 2^-${k}, yet exactInputScale says every sample is`);
  }
  if (ctx.samples && input) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of ctx.samples) for (let i = 0; i < x.length; i++) (lo = Math.min(lo, x[i])), (hi = Math.max(hi, x[i]));
    if (lo !== input.min || hi !== input.max) problems.push(`the input range [${input.min}, ${input.max}] is not the samples' [${lo}, ${hi}]`);
    if (k !== null && k >= 1) {
      const bad = ctx.samples.findIndex((x) => Array.prototype.some.call(x, (v: number) => !Number.isInteger(v * 2 ** k)));
      if (bad >= 0) problems.push(`sample ${bad} is not a multiple of 2^-${k}, yet exactInputScale is ${k}`);
    }
  }
  return problems;
}

/** Throws (BUILD_INVALID: the build's record is at fault) naming every problem implausibleCalibration finds. */
export function assertPlausibleCalibration(record: unknown, ctx: PlausibilityContext, where: string): void {
  const p = implausibleCalibration(record, ctx);
  if (p.length) throw new ZkinferError('BUILD_INVALID', `${where}: not a calibration honest calibration can produce: ${p.join('; ')}`);
}
