import type { FnTable, Gadget } from './program.js';
import { applyFn, bitsFor, MAX_BITS } from './gadgets.js';
import { fnCost } from './program.js';
import { ZkinferError } from '../errors.js';

/** A smooth element-wise function the fn gadget approximates. */
export interface SmoothFn {
  readonly name: string;
  readonly f: (x: number) => number;
  /** Largest |f'| over [lo, hi]: sets the input resolution. */
  readonly slope: (lo: number, hi: number) => number;
  /** Limits at -∞ and +∞ the output saturates to, where they exist. */
  readonly below?: number;
  readonly above?: number;
  /** Inputs must be at least this (Log: above 0). */
  readonly min?: number;
}

/** erf to ~1e-15 (W. J. Cody's rational Chebyshev fits are overkill here: a series and a continued fraction). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: converges fast for |x| < 2.5 (terms below 1e-17 by n = 60).
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 80; n++) {
      term *= (-ax * ax) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc by its continued fraction (Lentz), accurate for x >= 2.5.
  let f = ax;
  let C = ax;
  let D = 0;
  for (let n = 1; n < 200; n++) {
    const a = n / 2;
    D = ax + a * D;
    D = D === 0 ? 1e-300 : 1 / D;
    C = ax + a / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
}

export const SMOOTH_FNS: Readonly<Record<string, SmoothFn>> = Object.freeze({
  Sigmoid: { name: 'Sigmoid', f: (x) => 1 / (1 + Math.exp(-x)), slope: () => 0.25, below: 0, above: 1 },
  Tanh: { name: 'Tanh', f: Math.tanh, slope: () => 1, below: -1, above: 1 },
  Erf: { name: 'Erf', f: erf, slope: () => 2 / Math.sqrt(Math.PI), below: -1, above: 1 },
  Exp: { name: 'Exp', f: Math.exp, slope: (_, hi) => Math.exp(Math.min(hi, 40)), below: 0 },
  Log: { name: 'Log', f: Math.log, slope: (lo) => 1 / Math.max(lo, 2 ** -20), min: 0 },
});

/** Where f is within eps of its limit: beyond these the window may end. */
function saturation(fn: SmoothFn, eps: number): { lo: number; hi: number } {
  const find = (limit: number, dir: -1 | 1): number => {
    let x: number = dir;
    while (Math.abs(fn.f(x) - limit) > eps && Math.abs(x) < 1e4) x *= 2;
    // Bisect between x/2 and x for the first point within eps.
    let a = x / 2;
    let b = x;
    for (let i = 0; i < 60; i++) {
      const mid = (a + b) / 2;
      if (Math.abs(fn.f(mid) - limit) > eps) a = mid;
      else b = mid;
    }
    return b;
  };
  return { lo: fn.below !== undefined ? find(fn.below, -1) : -Infinity, hi: fn.above !== undefined ? find(fn.above, 1) : Infinity };
}

/** Least-squares polynomial of degree d through (τ_i, y_i), τ in [0, 1): coefficients b_0..b_d. */
function fit(ts: readonly number[], ys: readonly number[], d: number): number[] {
  const n = d + 1;
  const A = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0));
  for (let i = 0; i < ts.length; i++) {
    const pw = [1];
    for (let j = 1; j < 2 * n; j++) pw.push(pw[j - 1] * ts[i]);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) A[r][c] += pw[r + c];
      A[r][n] += pw[r] * ys[i];
    }
  }
  // Gauss-Jordan with partial pivoting: n <= 5.
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r;
    [A[c], A[p]] = [A[p], A[c]];
    if (Math.abs(A[c][c]) < 1e-300) continue;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const k = A[r][c] / A[c][c];
      for (let j = c; j <= n; j++) A[r][j] -= k * A[c][j];
    }
  }
  return A.map((row, r) => (Math.abs(row[r]) < 1e-300 ? 0 : row[n] / row[r]));
}

/** The accumulator a fn gadget reads: its bounds and scale. */
export interface FnInput {
  readonly lo: number;
  readonly hi: number;
  /** The accumulator's scale. */
  readonly scale: number;
}

export interface FnChoice {
  readonly gadget: Extract<Gadget, { kind: 'fn' }>;
  readonly table: FnTable;
  /** Output values are y / 2^outScale. */
  readonly outScale: number;
  readonly outLo: number;
  readonly outHi: number;
  /** Largest |y / 2^outScale - f(x)| over every representable input x. */
  readonly maxError: number;
  /** Input resolution inside the gadget: x = x_q / 2^inScale. */
  readonly inScale: number;
}

const MAX_H = 6;
const MAX_D = 4;
const MAX_OUT_SCALE = 32;

/**
 * Chooses a fn gadget for f on accumulators in [lo, hi]: the input
 * resolution from f's slope and the output scale, the window from where f
 * saturates, and the segments (h) and degree (d) of least cost whose largest
 * error, measured on every representable input, is at most half an output
 * step; failing that, the most accurate.
 */
export function chooseFn(fn: SmoothFn, input: FnInput, outBits: number, node: string): FnChoice {
  const target = 2 ** -(outBits + 1);
  // Input rounding costs |f'|·2^-(s_in+1): keep it to a quarter of the target.
  const slope = fn.slope(input.lo / 2 ** input.scale, input.hi / 2 ** input.scale);
  const sIn = Math.min(input.scale, Math.ceil(Math.log2(slope / (target / 2))));
  const shift = input.scale - sIn;
  const half = shift > 0 ? 2 ** (shift - 1) : 0;
  const qlo = Math.floor((input.lo + half) / 2 ** shift);
  const qhi = Math.floor((input.hi + half) / 2 ** shift);
  if (fn.min !== undefined && qlo / 2 ** sIn <= fn.min) {
    throw new ZkinferError('QUANTIZATION_FAILED', `node "${node}" (${fn.name}): its input may reach ${(qlo / 2 ** sIn).toPrecision(4)}, outside the function's domain (> ${fn.min})`);
  }
  const sat = saturation(fn, target / 4);
  const dlo = Math.max(qlo, Math.ceil(sat.lo * 2 ** sIn));
  const dhi = Math.min(qhi, Math.floor(sat.hi * 2 ** sIn));
  const m = Math.max(2, bitsFor(Math.max(1, dhi - dlo)));
  const c = dlo + 2 ** (m - 1);
  const n1 = Math.max(m - 1, bitsFor(c - qlo - 1), bitsFor(qhi - c));
  const nb = n1 + 1 + shift;
  if (nb > MAX_BITS) throw new ZkinferError('QUANTIZATION_FAILED', `node "${node}" (${fn.name}) needs a ${nb}-bit input (limit ${MAX_BITS})`);
  const offset = half + 2 ** (nb - 1) - c * 2 ** shift;
  const sOut = outBits + 2;

  let best: FnChoice | null = null;
  let bestCost = Infinity;
  for (let h = 1; h <= Math.min(MAX_H, m); h++) {
    const tb = m - h;
    for (let d = 1; d <= Math.min(MAX_D, Math.max(1, 2 ** tb - 1)); d++) {
      const outScale = sOut + d * tb;
      // Outputs past 2^32 leave later layers no room to compose them.
      if (outScale > MAX_OUT_SCALE) continue;
      const coef: number[][] = [];
      for (let seg = 0; seg < 2 ** h; seg++) {
        const ts: number[] = [];
        const ys: number[] = [];
        for (let t = 0; t < 2 ** tb; t++) {
          const xq = c - 2 ** (m - 1) + seg * 2 ** tb + t;
          const x = xq / 2 ** sIn;
          if (fn.min !== undefined && x <= fn.min) continue;
          ts.push(t / 2 ** tb);
          ys.push(fn.f(x));
        }
        const b = ts.length ? fit(ts, ys, d) : new Array<number>(d + 1).fill(0);
        coef.push(b.map((bj, j) => Math.round(bj * 2 ** (sOut + (d - j) * tb))));
      }
      const limit = (v: number | undefined, x: number) => Math.round((v ?? fn.f(x)) * 2 ** outScale);
      const table: FnTable = { fn: fn.name, coef, sat: [limit(fn.below, dlo / 2 ** sIn), limit(fn.above, dhi / 2 ** sIn)] };
      const gadget = { kind: 'fn', nb, shift, offset, m, h, d } as const;
      let err = 0;
      let lo = Infinity;
      let hi = -Infinity;
      let big = false;
      // Every input inside the window, and the first ones past each end (beyond them the output is constant).
      const wlo = Math.max(qlo, c - 2 ** (m - 1) - 2);
      const whi = Math.min(qhi, c + 2 ** (m - 1) + 1);
      for (let xq = wlo; xq <= whi; xq++) {
        const y = applyFn(gadget, table, xq * 2 ** shift);
        if (y === null || Math.abs(y) >= 2 ** (MAX_BITS - 2)) {
          big = true;
          break;
        }
        lo = Math.min(lo, y);
        hi = Math.max(hi, y);
        err = Math.max(err, Math.abs(y / 2 ** outScale - fn.f(xq / 2 ** sIn)));
      }
      if (big) continue;
      // Constraint cost, plus the bits a later rescale of the output spends on d·tb.
      const cost = fnCost(gadget) + d * tb;
      const ok = err <= target;
      const bestOk = best !== null && best.maxError <= target;
      if (best === null || (ok && (!bestOk || cost < bestCost)) || (!ok && !bestOk && err < best.maxError)) {
        best = { gadget, table, outScale, outLo: lo, outHi: hi, maxError: err, inScale: sIn };
        bestCost = cost;
      }
    }
  }
  if (!best) throw new ZkinferError('QUANTIZATION_FAILED', `node "${node}" (${fn.name}): no table fits its input range`);
  return best;
}
