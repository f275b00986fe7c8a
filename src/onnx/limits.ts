import { ZkinferError, type ErrorCode } from '../errors.js';

/**
 * How much of an ONNX file the importer accepts. Every figure is checked
 * against what the file declares before anything of that size is allocated,
 * so a small file that declares a huge tensor costs nothing to refuse.
 */
export interface ImportLimits {
  /**
   * Largest ONNX file, in bytes.
   * @defaultValue 67_108_864 (64 MiB)
   */
  readonly maxOnnxBytes: number;
  /**
   * Most elements in any one tensor: an initializer, a Constant, or the
   * graph's declared input and output. LeNet-5's largest is 30,720.
   * @defaultValue 1_048_576 (2^20)
   */
  readonly maxTensorElements: number;
  /**
   * Most weight elements in all initializers and Constants together. Every
   * weight is a term of the generated circuit. LeNet-5 has 44,442.
   * @defaultValue 2_097_152 (2^21)
   */
  readonly maxWeightElements: number;
  /**
   * Most graph nodes, Constant nodes included. LeNet-5 has 14 others.
   * @defaultValue 4096
   */
  readonly maxNodes: number;
}

export const IMPORT_LIMITS: Readonly<ImportLimits> = Object.freeze({
  maxOnnxBytes: 64 * 2 ** 20,
  maxTensorElements: 2 ** 20,
  maxWeightElements: 2 ** 21,
  maxNodes: 4096,
});

/** Checks that every given limit is a positive safe integer; names the first that is not. */
export function checkLimitValues(limits: Readonly<Record<string, number>>): void {
  for (const [name, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v) || v <= 0) {
      throw new ZkinferError('USAGE', `limit ${name} must be a positive integer, got ${v}`);
    }
  }
}

export function importLimits(partial: Partial<ImportLimits> = {}): ImportLimits {
  const l = { ...IMPORT_LIMITS, ...partial };
  checkLimitValues({ maxOnnxBytes: l.maxOnnxBytes, maxTensorElements: l.maxTensorElements, maxWeightElements: l.maxWeightElements, maxNodes: l.maxNodes });
  return Object.freeze(l);
}

const fmt = (n: number): string => (Number.isFinite(n) ? n.toLocaleString('en-US') : String(n));

/**
 * A model over one of the size limits. `ONNX_TOO_LARGE`: the file itself
 * (bytes, weights, nodes, declared shapes), found on import. `CIRCUIT_TOO_LARGE`:
 * what it would compile to (constraints, intermediate tensors), found by the
 * estimate. Carries the limit's name, the figure and the maximum.
 */
export class LimitExceededError extends ZkinferError {
  readonly limit: string;
  readonly value: number;
  readonly max: number;
  constructor(code: Extract<ErrorCode, 'ONNX_TOO_LARGE' | 'CIRCUIT_TOO_LARGE'>, limit: string, value: number, max: number, what: string) {
    super(code, `${what}: ${fmt(value)}, over the limit of ${fmt(max)} (${limit})`);
    this.name = 'LimitExceededError';
    this.limit = limit;
    this.value = value;
    this.max = max;
  }
}

/**
 * Number of elements of a tensor with these dims, or a malformed-model error
 * naming it: each dim must be a non-negative safe integer and their product
 * must stay exact. An empty dim list is a scalar (1 element).
 */
export function elementsOf(dims: readonly number[], what: string): number {
  let n = 1;
  for (const [i, d] of dims.entries()) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new ZkinferError('ONNX_MALFORMED', `${what}: dimension ${i} is ${d}; dimensions must be non-negative integers`);
    }
  }
  if (dims.includes(0)) return 0;
  for (const d of dims) {
    n *= d;
    if (!Number.isSafeInteger(n)) {
      throw new ZkinferError('ONNX_MALFORMED', `${what}: dims [${dims}] multiply to more than 2^53 elements`);
    }
  }
  return n;
}
