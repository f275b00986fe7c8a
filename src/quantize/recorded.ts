import type { TensorStats } from './calibration.js';
import { ZkinferError } from '../errors.js';

export const CALIBRATION_FORMAT = 'zkinfer-calibration/1';

/**
 * What calibration decided, kept in the build: every tensor's float range and
 * the input's exact scale. With the ONNX file and the manifest's options it
 * fixes the quantized program, so anyone can recompile the circuit without
 * the calibration samples.
 */
export interface RecordedCalibration {
  readonly format: typeof CALIBRATION_FORMAT;
  readonly exactInputScale: number | null;
  /** tensor → [min, max] over the calibration samples. */
  readonly ranges: Readonly<Record<string, readonly [number, number]>>;
}

export function recordCalibration(stats: ReadonlyMap<string, TensorStats>, exactInputScale: number | null): RecordedCalibration {
  const ranges: Record<string, [number, number]> = {};
  for (const [k, v] of [...stats].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) ranges[k] = [v.min, v.max];
  return { format: CALIBRATION_FORMAT, exactInputScale, ranges };
}

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
