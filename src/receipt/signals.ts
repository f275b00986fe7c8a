import type { ModelIO } from './io.js';
import { dequantize, elementCount, nest } from './io.js';
import { fromField } from './field.js';
import { signalLayout } from './receipt.js';
import { PACK_BITS } from './commitment.js';
import { ZkinferError } from '../errors.js';

/** What a model's public signals say, decoded with its interface. */
export interface DecodedSignals {
  /** Floats, nested in the output shape. */
  readonly output: unknown;
  readonly outputQuantized: string[];
  /** Public visibility: the proven quantized inputs; null for hashed visibility. */
  readonly inputQuantized: string[] | null;
  /** Hashed visibility: the proven Poseidon commitment (decimal); null for public visibility. */
  readonly commitment: string | null;
}

/**
 * Unpacks the input signals of a public-visibility model: the inverse of
 * publicInputSignals. Throws unless every signal holds exactly its inputs'
 * bits, the only values the circuit can prove.
 */
export function unpackInputs(io: ModelIO, signals: readonly bigint[]): bigint[] {
  const n = elementCount(io.input.shape);
  const per = io.input.perSignal ?? 1;
  const bits = BigInt(io.input.bits);
  const lo = BigInt(io.input.lo);
  if (!Number.isInteger(per) || per < 1 || (per > 1 && per * io.input.bits > PACK_BITS)) {
    throw new ZkinferError('BUILD_INVALID', `the key packs ${per} inputs of ${io.input.bits} bits to a signal, more than fit`);
  }
  if (signals.length !== Math.ceil(n / per)) throw new ZkinferError('RECEIPT_INVALID', `expected ${Math.ceil(n / per)} input signals, got ${signals.length}`);
  const mask = (1n << bits) - 1n;
  const out: bigint[] = [];
  signals.forEach((s, p) => {
    const count = Math.min(per, n - p * per);
    // One input per signal (no packing) carries the signed value itself.
    if (per === 1) return void out.push(fromField(s));
    let acc = s;
    for (let j = 0; j < count; j++, acc >>= bits) out.push((acc & mask) + lo);
    if (acc !== 0n) throw new ZkinferError('RECEIPT_INVALID', `input signal ${p} has bits beyond its ${count} inputs of ${io.input.bits} bits`);
  });
  return out;
}

/**
 * Decodes public signals (canonical field elements, in the key's layout):
 * outputs, then the inputs or their commitment. It checks the layout, not the
 * proof: verify first.
 */
export function decodeSignals(io: ModelIO, signals: readonly bigint[]): DecodedSignals {
  const layout = signalLayout(io);
  if (signals.length !== layout.total) throw new ZkinferError('RECEIPT_INVALID', `expected ${layout.total} public signals, got ${signals.length}`);
  const outQ = signals.slice(0, layout.outputs).map(fromField);
  const hashed = io.visibility === 'hashed';
  return {
    output: nest(outQ.map((q) => dequantize(q, io.output.scale)), io.output.shape),
    outputQuantized: outQ.map(String),
    inputQuantized: hashed ? null : unpackInputs(io, signals.slice(layout.outputs)).map(String),
    commitment: hashed ? signals[layout.outputs].toString() : null,
  };
}
