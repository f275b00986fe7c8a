import type { FnTable, Gadget } from './program.js';
import { ZkinferError } from '../errors.js';
import { bitOf, floorDiv } from '../int.js';

/** Widest decomposition we allow; keeps every integer exact in a float64. */
export const MAX_BITS = 50;

/** Bits to write a non-negative integer x. */
export const bitsFor = (x: number): number => (x <= 0 ? 0 : Math.floor(Math.log2(x)) + 1);

const checkWidth = (nb: number, node: string): number => {
  if (nb > MAX_BITS) {
    throw new ZkinferError('QUANTIZATION_FAILED', `node "${node}" needs a ${nb}-bit accumulator (limit ${MAX_BITS}); lower --activation-bits or --weight-bits`);
  }
  return nb;
};

/**
 * Picks the narrowest gadget for an accumulator in [lo, hi] rescaled by 2^shift
 * with rounding half up: out = floor((acc + half) / 2^shift), optionally ReLU'd.
 */
export function chooseGadget(lo: number, hi: number, shift: number, relu: boolean, node: string): Gadget {
  const half = shift > 0 ? 2 ** (shift - 1) : 0;
  const a = lo + half;
  const b = hi + half;
  const div = 2 ** shift;
  if (Math.floor(a / div) === Math.floor(b / div)) {
    const v = Math.floor(a / div);
    return { kind: 'const', value: relu ? Math.max(0, v) : v };
  }
  if (relu && b < div) return { kind: 'const', value: 0 };
  if (a >= 0) {
    // Never negative: ReLU is the identity and no sign bit is needed.
    const nb = checkWidth(Math.max(shift, bitsFor(b)), node);
    return { kind: 'rescale', nb, shift, offset: half, sub: 0 };
  }
  // |acc + half| < 2^(nb-1): the top bit of acc + half + 2^(nb-1) is the sign.
  const top = Math.max(shift, bitsFor(-a - 1), bitsFor(b));
  const nb = checkWidth(top + 1, node);
  const offset = half + 2 ** top;
  if (relu) return { kind: 'rescale-relu', nb, shift, offset };
  return { kind: 'rescale', nb, shift, offset, sub: 2 ** (top - shift) };
}

/** Width of the comparison of a and b with a - b in [lo, hi]; null when the answer is fixed. */
export function compareBits(lo: number, hi: number, node: string): number | null {
  if (lo >= 0 || hi < 0) return null;
  return checkWidth(Math.max(bitsFor(-lo - 1), bitsFor(hi)) + 1, node);
}

/** max(a, b) as the circuit computes it; null if a - b is outside the gadget's range. */
export function applyMax(nb: number, a: number, b: number): number | null {
  const v = a - b + 2 ** (nb - 1);
  if (v < 0 || v >= 2 ** nb) return null;
  return v >= 2 ** (nb - 1) ? a : b;
}

/** Index of the first maximum, comparing as the ArgMax template does. */
export function applyArgmax(nb: number, xs: ArrayLike<number>): number | null {
  let m = xs[0];
  let idx = 0;
  for (let i = 1; i < xs.length; i++) {
    const v = m - xs[i] + 2 ** (nb - 1);
    if (v < 0 || v >= 2 ** nb) return null;
    if (v < 2 ** (nb - 1)) {
      m = xs[i];
      idx = i;
    }
  }
  return idx;
}

/** Integer semantics of a one-operand gadget, identical to its circuit. Null if unsatisfiable. */
export function applyGadget(g: Gadget, acc: number): number | null {
  switch (g.kind) {
    case 'max':
    case 'argmax':
    case 'product':
    case 'div':
      throw new Error(`${g.kind} takes several operands`);
    case 'fn':
      throw new Error('fn needs its table');
    case 'sqrt': return applySqrt(g, acc);
    case 'iszero': return acc === 0 ? 1 : 0;
    case 'const': return g.value;
    case 'rescale-relu': {
      const v = acc + g.offset;
      if (v < 0 || v >= 2 ** g.nb) return null;
      const top = 2 ** (g.nb - 1);
      return v >= top ? Math.floor((v - top) / 2 ** g.shift) : 0;
    }
    case 'rescale': {
      const v = acc + g.offset;
      if (v < 0 || v >= 2 ** g.nb) return null;
      return Math.floor(v / 2 ** g.shift) - g.sub;
    }
    default: return g satisfies never;
  }
}

/** Output interval of a gadget over accumulators in [lo, hi]. */
export function gadgetRange(g: Gadget, lo: number, hi: number): [number, number] {
  if (g.kind === 'const') return [g.value, g.value];
  return [applyGadget(g, lo)!, applyGadget(g, hi)!];
}

/** floor(num·2^k / den) as the div gadget proves it; null outside its proven ranges. */
export function applyDiv(g: { k: number; rb: number; qb: number; qoff: number }, num: number, den: number): number | null {
  if (!(den > 0) || den > 2 ** g.rb) return null;
  const n = num * 2 ** g.k;
  const q = floorDiv(n, den);
  const v = q + g.qoff;
  return v >= 0 && v < 2 ** g.qb ? q : null;
}

/** floor(sqrt(x·2^k)) as the sqrt gadget proves it; null outside its proven range. */
export function applySqrt(g: { k: number; gb: number }, x: number): number | null {
  const X = x * 2 ** g.k;
  if (X < 0) return null;
  let s = Math.floor(Math.sqrt(X));
  while (s * s > X) s--;
  while ((s + 1) * (s + 1) <= X) s++;
  return 2 * s < 2 ** g.gb ? s : null;
}

/** The parts of a fn gadget's input: v's top bit, the window index and whether v is inside the window. */
export function fnIndex(g: { nb: number; shift: number; offset: number; m: number }, acc: number): { s: number; u: number; inside: boolean } | null {
  const v = acc + g.offset;
  if (!(v >= 0 && v < 2 ** g.nb)) return null;
  const s = bitOf(v, g.nb - 1);
  const q = Math.floor(v / 2 ** g.shift);
  const u = (q % 2 ** (g.m - 1)) + s * 2 ** (g.m - 1);
  const K = g.nb - g.shift - g.m;
  if (K <= 0) return { s, u, inside: true };
  const high = Math.floor(q / 2 ** (g.m - 1)) % 2 ** K;
  return { s, u, inside: s === 1 ? high === 0 : high === 2 ** K - 1 };
}

/** A segment's polynomial at t, exactly (the quantizer keeps every term below 2^50). */
export function fnPoly(coef: readonly number[], t: number): number {
  let y = 0;
  let p = 1;
  for (let j = 0; j < coef.length; j++, p *= t) y += coef[j] * p;
  return y;
}

/** A fn gadget's output, identical to its circuit; null outside its proven range. */
export function applyFn(g: { nb: number; shift: number; offset: number; m: number; h: number; d: number }, table: FnTable, acc: number): number | null {
  const ix = fnIndex(g, acc);
  if (!ix) return null;
  if (!ix.inside) return table.sat[ix.s];
  const tb = g.m - g.h;
  return fnPoly(table.coef[Math.floor(ix.u / 2 ** tb)], ix.u % 2 ** tb);
}
