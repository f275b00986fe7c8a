import { checkLimitValues, IMPORT_LIMITS, LimitExceededError, type ImportLimits } from '../onnx/limits.js';
import type { CircuitEstimate } from './estimate.js';
import { ZkinferError } from '../errors.js';

/**
 * What a service accepts to compile: the import limits (checked while the
 * ONNX file is read) and limits on the circuit it would become (checked on
 * its estimate, before a compile is queued). For scale: LeNet-5 on 28x28
 * inputs compiles to 126,580 constraints (estimated bound: 301,940 with its
 * 9-bit inputs), 286,120 terms and 3,456 elements in its largest tensor; a
 * VGG-style CNN on 32x32 inputs (bench/models/vgg_32) to 1.1M constraints
 * (bound 2.2M) and 4.0M terms, compiled in about 10 s with 1.2 GB.
 */
export interface ModelLimits extends ImportLimits {
  /**
   * Most constraints, by the estimate's upper bound (about 2 to 3 times the
   * real count; see estimateCircuit).
   * @defaultValue 4_194_304 (2^22)
   */
  readonly maxConstraints: number;
  /**
   * Most elements of all computed tensors together.
   * @defaultValue 4_194_304 (2^22)
   */
  readonly maxTotalElements: number;
  /**
   * Most weight-times-input products and window taps (circuit source size;
   * compile time and the r1cs grow with it: each term is written twice).
   * @defaultValue 8_388_608 (2^23)
   */
  readonly maxLinearTerms: number;
}

export const MODEL_LIMITS: Readonly<ModelLimits> = Object.freeze({
  ...IMPORT_LIMITS,
  maxConstraints: 2 ** 22,
  maxTotalElements: 2 ** 22,
  maxLinearTerms: 2 ** 23,
});

/** The environment variable that sets each limit. */
export const LIMIT_ENV: Readonly<Record<keyof ModelLimits, string>> = Object.freeze({
  maxOnnxBytes: 'ZKINFER_MAX_ONNX_BYTES',
  maxTensorElements: 'ZKINFER_MAX_TENSOR_ELEMENTS',
  maxWeightElements: 'ZKINFER_MAX_WEIGHT_ELEMENTS',
  maxNodes: 'ZKINFER_MAX_NODES',
  maxConstraints: 'ZKINFER_MAX_CONSTRAINTS',
  maxTotalElements: 'ZKINFER_MAX_TOTAL_ELEMENTS',
  maxLinearTerms: 'ZKINFER_MAX_LINEAR_TERMS',
});

export function modelLimits(partial: Partial<ModelLimits> = {}): ModelLimits {
  const l = { ...MODEL_LIMITS, ...partial };
  checkLimitValues({ ...l });
  return Object.freeze(l);
}

/** The limits set in the environment (see LIMIT_ENV); a value that is not a positive integer is refused, naming the variable. */
export function limitsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): Partial<ModelLimits> {
  const out: Partial<Record<keyof ModelLimits, number>> = {};
  for (const [key, name] of Object.entries(LIMIT_ENV) as Array<[keyof ModelLimits, string]>) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const v = Number(raw);
    if (!Number.isSafeInteger(v) || v <= 0) throw new ZkinferError('USAGE', `${name} must be a positive integer, got "${raw}"`);
    out[key] = v;
  }
  return out;
}

/**
 * Refuses an estimate over a circuit limit with CIRCUIT_TOO_LARGE, naming the
 * limit and the figure. (The import limits were checked while reading the file.)
 */
export function checkLimits(estimate: CircuitEstimate, limits: Partial<ModelLimits> = {}): void {
  const l = modelLimits(limits);
  const check = (value: number, limit: 'maxConstraints' | 'maxTensorElements' | 'maxTotalElements' | 'maxLinearTerms', what: string) => {
    if (value > l[limit]) throw new LimitExceededError('CIRCUIT_TOO_LARGE', limit, value, l[limit], what);
  };
  check(estimate.constraints, 'maxConstraints', 'the circuit would have up to this many constraints');
  check(estimate.maxTensorElements, 'maxTensorElements', 'the largest computed tensor has this many elements');
  check(estimate.totalElements, 'maxTotalElements', 'the computed tensors have this many elements together');
  check(estimate.linearTerms, 'maxLinearTerms', 'the linear layers have this many weight-times-input terms');
}
