import { FIELD_PRIME } from '../receipt/field.js';
import { N8 } from './encode.js';

/** Reads a 32-byte little-endian field element. */
function readElement(dv: DataView, pos: number): bigint {
  let v = 0n;
  for (let i = N8 - 4; i >= 0; i -= 4) v = (v << 32n) | BigInt(dv.getUint32(pos + i, true));
  return v;
}

export interface Violation {
  /** Index of the first constraint A·w ∘ B·w = C·w does not hold for. */
  readonly constraint: number;
}

/**
 * Checks A·w ∘ B·w = C·w over an r1cs constraints section (as chunks of
 * whole constraints) for a witness given wire by wire. Null when every
 * constraint holds.
 */
export function firstViolation(chunks: readonly Uint8Array[], value: (wire: number) => bigint): Violation | null {
  let index = 0;
  const small = new Map<number, bigint>();
  const at = (w: number): bigint => {
    let x = small.get(w);
    if (x === undefined) {
      x = value(w);
      if (small.size < 1 << 20) small.set(w, x);
    }
    return x;
  };
  for (const chunk of chunks) {
    const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let pos = 0;
    while (pos < chunk.length) {
      const s: bigint[] = [];
      for (let k = 0; k < 3; k++) {
        const n = dv.getUint32(pos, true);
        pos += 4;
        let acc = 0n;
        for (let t = 0; t < n; t++) {
          acc += readElement(dv, pos + 4) * at(dv.getUint32(pos, true));
          pos += 4 + N8;
        }
        s.push(acc % FIELD_PRIME);
      }
      if ((s[0] * s[1] - s[2]) % FIELD_PRIME !== 0n) return { constraint: index };
      index++;
    }
  }
  return null;
}
