import { FIELD_PRIME, toField } from '../receipt/field.js';

/**
 * Linear combinations over BN254's scalar field. Wire 0 is the constant 1.
 * Coefficients stay JavaScript numbers while they are safe integers (the
 * weights, offsets and powers of two of every fixed-point gadget) and become
 * bigints only where the field needs them (Poseidon, input packs, inverses).
 */
export type Coef = number | bigint;

export interface Lin {
  readonly w: number[];
  readonly c: Coef[];
}

export const ONE = 0;

export const lin = (): Lin => ({ w: [], c: [] });

export const wireLin = (wire: number, coef: Coef = 1): Lin => ({ w: [wire], c: [coef] });

export const constLin = (k: Coef): Lin => (isZero(k) ? lin() : { w: [ONE], c: [k] });

export const isZero = (k: Coef): boolean => (typeof k === 'number' ? k === 0 : mod(k) === 0n);

/** The canonical field element of a coefficient. */
export const mod = (k: Coef): bigint => toField(BigInt(k));

/** a·b, kept a number while exact. */
export function mulCoef(a: Coef, b: Coef): Coef {
  if (typeof a === 'number' && typeof b === 'number') {
    const p = a * b;
    if (Number.isSafeInteger(p)) return p;
  }
  return mod(BigInt(a) * BigInt(b));
}

export function addCoef(a: Coef, b: Coef): Coef {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    if (Number.isSafeInteger(s)) return s;
  }
  return mod(BigInt(a) + BigInt(b));
}

/** Appends k·x to `into` (terms are merged when the lin is encoded). */
export function addScaled(into: Lin, x: Lin, k: Coef = 1): Lin {
  if (isZero(k)) return into;
  const one = typeof k === 'number' && k === 1;
  for (let i = 0; i < x.w.length; i++) {
    into.w.push(x.w[i]);
    into.c.push(one ? x.c[i] : mulCoef(x.c[i], k));
  }
  return into;
}

export const addTerm = (into: Lin, wire: number, k: Coef): Lin => {
  if (!isZero(k)) {
    into.w.push(wire);
    into.c.push(k);
  }
  return into;
};

/** x + k. */
export const plus = (x: Lin, k: Coef): Lin => addTerm(addScaled(lin(), x), ONE, k);

/** Σ k_i·x_i. */
export function sum(parts: ReadonlyArray<readonly [Lin, Coef]>): Lin {
  const out = lin();
  for (const [x, k] of parts) addScaled(out, x, k);
  return out;
}

/** Multiplicative inverse in the field (for the rare division of an elimination). */
export function invCoef(k: Coef): bigint {
  let a = mod(k);
  if (a === 0n) throw new Error('inverse of zero');
  let [r0, r1, s0, s1] = [FIELD_PRIME, a, 0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  a = s0 % FIELD_PRIME;
  return a < 0n ? a + FIELD_PRIME : a;
}

/**
 * Merges repeated wires and drops zero terms, in first-appearance order: an
 * r1cs reader keeps one coefficient per wire, so a repeated wire must be summed.
 */
export function normalize(x: Lin): Lin {
  const n = x.w.length;
  if (n <= 1) return n === 1 && isZero(x.c[0]) ? lin() : x;
  const at = new Map<number, number>();
  const w: number[] = [];
  const c: Coef[] = [];
  let merged = false;
  for (let i = 0; i < n; i++) {
    const j = at.get(x.w[i]);
    if (j === undefined) {
      at.set(x.w[i], w.length);
      w.push(x.w[i]);
      c.push(x.c[i]);
    } else {
      c[j] = addCoef(c[j], x.c[i]);
      merged = true;
    }
  }
  if (!merged && !c.some(isZero)) return x;
  const out = lin();
  for (let i = 0; i < w.length; i++) addTerm(out, w[i], c[i]);
  return out;
}
