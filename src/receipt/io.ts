import { ZkinferError } from '../errors.js';

/**
 * The model's public interface: how inputs and outputs map to circuit signals.
 * It is embedded in the verification key file, so the key's hash binds it.
 */
export interface ModelIO {
  readonly onnxSha256: string;
  readonly visibility: InputVisibility;
  readonly input: {
    readonly name: string;
    readonly shape: readonly number[];
    /** Values are quantized as round(x * 2^scale). */
    readonly scale: number;
    /** The circuit accepts quantized inputs in [lo, lo + 2^bits - 1]. */
    readonly lo: number;
    readonly bits: number;
    /**
     * Public visibility: how many inputs share one public signal, packed
     * little end first (see commitment.ts packInputs). Absent: one each.
     */
    readonly perSignal?: number;
  };
  readonly output: {
    readonly name: string;
    readonly shape: readonly number[];
    /** Output float = quantized / 2^scale. */
    readonly scale: number;
  };
  /**
   * What the circuit computes differently from the ONNX graph (a Softmax
   * dropped, so the proof covers the logits; a BatchNormalization folded).
   * Part of the key, so a receipt's notes are bound by its hash. Absent: none.
   */
  readonly notes?: readonly string[];
}

export const INPUT_VISIBILITIES = ['public', 'hashed'] as const;
export type InputVisibility = (typeof INPUT_VISIBILITIES)[number];

export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The float range the circuit accepts, ends included. */
export function acceptedRange(io: ModelIO): [number, number] {
  const s = 2 ** io.input.scale;
  return [io.input.lo / s, (io.input.lo + 2 ** io.input.bits - 1) / s];
}

function shapeOf(v: unknown): number[] {
  const dims: number[] = [];
  let cur = v;
  while (Array.isArray(cur)) {
    dims.push(cur.length);
    cur = cur[0];
  }
  return dims;
}

/**
 * Flattens a nested array given in `shape` (a leading batch dimension of 1 may
 * be left out). Every element must be a finite number.
 */
export function flattenTensor(value: unknown, shape: readonly number[], label: string): Float64Array {
  const want = [...shape];
  const got = shapeOf(value);
  const dims = got.length === want.length - 1 && want[0] === 1 ? want.slice(1) : want;
  const out = new Float64Array(elementCount(dims));
  let k = 0;
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === dims.length) {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        const what = typeof v === 'number' ? String(v) : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
        throw new ZkinferError('INPUT_INVALID', `${label}${path} is ${what}; expected a finite number`);
      }
      out[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== dims[depth]) {
      throw new ZkinferError(
        'INPUT_INVALID',
        `${label} has shape [${shapeOf(value)}]; expected [${want}]` +
          (Array.isArray(v) ? ` (${label}${path} has ${v.length} entries, expected ${dims[depth]})` : ` (${label}${path} is not an array)`),
      );
    }
    v.forEach((x, i) => walk(x, depth + 1, `${path}[${i}]`));
  };
  walk(value, 0, '');
  return out;
}

/** Nests a flat array into `shape`. */
export function nest<T>(flat: ArrayLike<T>, shape: readonly number[]): unknown {
  let idx = 0;
  const build = (d: number): unknown => {
    if (d === shape.length) return flat[idx++];
    return Array.from({ length: shape[d] }, () => build(d + 1));
  };
  return build(0);
}

function indexPath(i: number, shape: readonly number[]): string {
  const parts: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    parts.unshift(i % shape[d]);
    i = Math.floor(i / shape[d]);
  }
  return parts.map((p) => `[${p}]`).join('');
}

/** Quantizes a flat float input and checks it against the circuit's range. */
export function quantizeInput(io: ModelIO, x: Float64Array, label = 'input'): bigint[] {
  const s = 2 ** io.input.scale;
  const hi = io.input.lo + 2 ** io.input.bits - 1;
  const [flo, fhi] = acceptedRange(io);
  return Array.from(x, (v, i) => {
    const q = Math.round(v * s);
    if (q < io.input.lo || q > hi) {
      throw new ZkinferError(
        'INPUT_OUT_OF_RANGE',
        `${label}${indexPath(i, io.input.shape)} = ${v} is outside the model's input range [${flo}, ${fhi}]`,
      );
    }
    return BigInt(q);
  });
}

/** Float value of a quantized output. Exact: a power-of-two scale. */
export const dequantize = (q: bigint, scale: number): number => Number(q) / 2 ** scale;
