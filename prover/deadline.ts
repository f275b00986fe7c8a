/**
 * Every job runs against a deadline, so a prover that hangs or crawls never
 * holds a job (and a worker slot) forever. Proofs get a base allowance plus
 * one per row of the proof system (r1cs constraints for Groth16, gates for
 * PLONK/FFLONK), since proving time grows with the domain; compiles get one
 * fixed allowance (they are dominated by key generation).
 */
import { ZkinferError } from '../src/errors.js';

export interface DeadlineConfig {
  /** Seconds any proof may take before its rows are counted (loading the model included). @defaultValue 120 */
  readonly proveBaseS: number;
  /** Milliseconds more per proof-system row. @defaultValue 2 */
  readonly proveMsPerRow: number;
  /** Seconds a compile (quantize, circuit, keys) may take. @defaultValue 1800 */
  readonly compileS: number;
}

export const DEADLINE_DEFAULTS: Readonly<DeadlineConfig> = Object.freeze({ proveBaseS: 120, proveMsPerRow: 2, compileS: 1800 });

const num = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ZkinferError('USAGE', `${name} must be a positive number of seconds (or milliseconds per row), got ${JSON.stringify(v)}`);
  return n;
};

/** ZKINFER_PROVE_TIMEOUT_S, ZKINFER_PROVE_TIMEOUT_MS_PER_ROW, ZKINFER_COMPILE_TIMEOUT_S over the defaults. */
export function deadlineConfig(env: NodeJS.ProcessEnv = process.env): DeadlineConfig {
  const proveBaseS = num(env.ZKINFER_PROVE_TIMEOUT_S, 'ZKINFER_PROVE_TIMEOUT_S');
  const proveMsPerRow = num(env.ZKINFER_PROVE_TIMEOUT_MS_PER_ROW, 'ZKINFER_PROVE_TIMEOUT_MS_PER_ROW');
  const compileS = num(env.ZKINFER_COMPILE_TIMEOUT_S, 'ZKINFER_COMPILE_TIMEOUT_S');
  return Object.freeze({
    ...DEADLINE_DEFAULTS,
    ...(proveBaseS !== undefined ? { proveBaseS } : {}),
    ...(proveMsPerRow !== undefined ? { proveMsPerRow } : {}),
    ...(compileS !== undefined ? { compileS } : {}),
  });
}

/** Milliseconds a proof of a model with `rows` proof-system rows may take (rows unknown: the base alone). */
export const proveDeadlineMs = (c: DeadlineConfig, rows: number | null): number => Math.round(c.proveBaseS * 1000 + (rows ?? 0) * c.proveMsPerRow);

export const compileDeadlineMs = (c: DeadlineConfig): number => Math.round(c.compileS * 1000);
