import { FIELD_PRIME } from '../receipt/field.js';
import { mod, normalize, type Coef, type Lin } from './lin.js';

/** Bytes of a field element in iden3 files (r1cs, wtns): 32, little-endian, standard form. */
export const N8 = 32;

const P32 = (() => {
  const out = new Uint32Array(8);
  let p = FIELD_PRIME;
  for (let i = 0; i < 8; i++, p >>= 32n) out[i] = Number(p & 0xffffffffn);
  return out;
})();

const TWO32 = 2 ** 32;

/**
 * Writes k mod p at `pos` as 32 little-endian bytes. Safe-integer
 * coefficients avoid bigints: a negative one is p - |k|, subtracted limb by
 * limb from p.
 */
export function writeCoef(dv: DataView, pos: number, k: Coef): void {
  if (typeof k === 'number') {
    const m = Math.abs(k);
    const lo = m % TWO32;
    const hi = Math.floor(m / TWO32);
    if (k >= 0) {
      dv.setUint32(pos, lo, true);
      dv.setUint32(pos + 4, hi, true);
      for (let i = 8; i < N8; i += 4) dv.setUint32(pos + i, 0, true);
      return;
    }
    let borrow = 0;
    for (let i = 0; i < 8; i++) {
      let v = P32[i] - (i === 0 ? lo : i === 1 ? hi : 0) - borrow;
      borrow = v < 0 ? 1 : 0;
      if (v < 0) v += TWO32;
      dv.setUint32(pos + 4 * i, v, true);
    }
    return;
  }
  writeElement(dv, pos, mod(k));
}

/** Writes a non-negative integer below 2^256 as 32 little-endian bytes (the prime itself, in headers). */
export function writeElement(dv: DataView, pos: number, v: bigint): void {
  for (let i = 0; i < N8; i += 4, v >>= 32n) dv.setUint32(pos + i, Number(v & 0xffffffffn), true);
}

/**
 * Merges repeated wires cheaply: a stamp per wire detects a repeat in one
 * pass, and only then does the lin go through normalize.
 */
export class LinPacker {
  private stamp = new Int32Array(1 << 16);
  private round = 0;

  pack(x: Lin): Lin {
    const n = x.w.length;
    if (n <= 1) return n === 1 && (x.c[0] === 0 || x.c[0] === 0n) ? normalize(x) : x;
    if (++this.round === 0x7fffffff) {
      this.stamp.fill(0);
      this.round = 1;
    }
    let zero = false;
    for (let i = 0; i < n; i++) {
      const w = x.w[i];
      if (w >= this.stamp.length) this.grow(w);
      if (this.stamp[w] === this.round) return normalize(x);
      this.stamp[w] = this.round;
      const c = x.c[i];
      if (c === 0 || c === 0n) zero = true;
    }
    return zero ? normalize(x) : x;
  }

  private grow(w: number): void {
    let size = this.stamp.length;
    while (size <= w) size *= 2;
    const s = new Int32Array(size);
    s.set(this.stamp);
    this.stamp = s;
  }
}

/** Bytes of one encoded constraint. */
export const constraintBytes = (a: Lin, b: Lin, c: Lin): number => 12 + (N8 + 4) * (a.w.length + b.w.length + c.w.length);

/** Encodes a constraint (lins already packed) at `pos`; returns the end. */
export function encodeConstraint(dv: DataView, pos: number, lins: readonly [Lin, Lin, Lin]): number {
  for (const x of lins) {
    dv.setUint32(pos, x.w.length, true);
    pos += 4;
    for (let i = 0; i < x.w.length; i++) {
      dv.setUint32(pos, x.w[i], true);
      writeCoef(dv, pos + 4, x.c[i]);
      pos += 4 + N8;
    }
  }
  return pos;
}
