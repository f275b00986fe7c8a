import type { Builder } from '../builder.js';
import { invCoef, addScaled, addTerm, constLin, lin, ONE, plus, wireLin, type Lin } from '../lin.js';
import { bitOf, decompose } from './bits.js';
import type { OutWire, Signal } from './rescale.js';
import type { FnTable } from '../../quantize/program.js';
import { fnIndex, fnPoly } from '../../quantize/gadgets.js';
import { ZkinferError } from '../../errors.js';

export interface FnParams {
  readonly nb: number;
  readonly shift: number;
  readonly offset: number;
  readonly m: number;
  readonly h: number;
  readonly d: number;
}

/**
 * The multilinear coefficients of each degree's segment table over the h
 * selector bits: c_j(s) = Σ_S α_j[S]·Π_{i∈S} s_i equals coef[seg][j] at every
 * boolean s (seg = Σ 2^i·s_i). Möbius inversion over subsets.
 */
export function multilinear(table: FnTable, h: number, d: number): number[][] {
  const out: number[][] = [];
  for (let j = 0; j <= d; j++) {
    const a = table.coef.map((c) => c[j]);
    for (let i = 0; i < h; i++) {
      for (let S = 0; S < 2 ** h; S++) if (S & (1 << i)) a[S] -= a[S ^ (1 << i)];
    }
    out.push(a);
  }
  return out;
}

/**
 * Fn(nb, shift, offset, m, h, d): a piecewise polynomial of the input, on its
 * own bits. v = acc + offset is decomposed (nb); the window index's top h bits
 * select the segment through their 2^h - h - 1 product monomials (each a
 * wire), its low bits are t; t's powers (d - 1 products) times each degree's
 * selected coefficient (d products) sum to the segment's polynomial. When the
 * decomposition is wider than the window (K = nb - shift - m > 0), the K bits
 * between must all be the complement of the top bit s: w = s·(2z - K) + K - z
 * (z their sum) is 0 exactly inside; o = [w != 0] by w·inv = o, w·(1 - o) = 0;
 * and out = y + o·(sat(s) - y). Cost: see fnCost (program.ts).
 */
export function fnGadget(cs: Builder, acc: Signal, g: FnParams, table: FnTable, alpha: readonly number[][], out: OutWire, where: () => string, name?: (i: number) => string): Signal {
  const ix = fnIndex(g, acc.value);
  if (!ix) throw new ZkinferError('WITNESS_FAILED', `${where()}: value ${acc.value + g.offset} is outside its proven range [0, 2^${g.nb})`);
  const v = acc.value + g.offset;
  const bits = decompose(cs, () => plus(acc.lin(), g.offset), v, g.nb, where, name ? { name } : {});
  const { m, h, d, shift, nb } = g;
  const tb = m - h;
  // Bit i of the window index: v's bit shift + i below the top, v's top bit at m - 1.
  const uBit = (i: number): Lin => bits.lin(i === m - 1 ? nb - 1 : shift + i);
  const uBitValue = (i: number): number => bitOf(v, i === m - 1 ? nb - 1 : shift + i);

  // Monomials of the selector bits, by subset mask; singletons and ∅ are linear.
  const mono = new Map<number, { value: number; lin: () => Lin }>();
  mono.set(0, { value: 1, lin: () => constLin(1) });
  for (let S = 1; S < 2 ** h; S++) {
    const top = 31 - Math.clz32(S);
    const rest = S ^ (1 << top);
    const sel = { value: uBitValue(tb + top), lin: () => uBit(tb + top) };
    if (rest === 0) {
      mono.set(S, sel);
      continue;
    }
    const r = mono.get(rest)!;
    const value = r.value * sel.value;
    const w = cs.wire(value);
    cs.enforce(() => [r.lin(), sel.lin(), wireLin(w)]);
    mono.set(S, { value, lin: () => wireLin(w) });
  }
  const seg = Math.floor(ix.u / 2 ** tb);
  const t = ix.u % 2 ** tb;
  const coefLin = (j: number): Lin => {
    const l = lin();
    alpha[j].forEach((a, S) => a !== 0 && addScaled(l, mono.get(S)!.lin(), a));
    return l;
  };
  const tLin = (): Lin => {
    const l = lin();
    for (let i = 0; i < tb; i++) addScaled(l, uBit(i), 2 ** i);
    return l;
  };
  // Powers of t: T_1 = t (linear), T_j = T_{j-1}·t.
  const powers: Array<{ value: number; lin: () => Lin }> = [{ value: t, lin: tLin }];
  for (let j = 2; j <= d; j++) {
    const prev = powers[j - 2];
    const value = prev.value * t;
    const w = cs.wire(value);
    cs.enforce(() => [prev.lin(), tLin(), wireLin(w)]);
    powers.push({ value, lin: () => wireLin(w) });
  }
  const coef = table.coef[seg];
  const yValue = fnPoly(coef, t);
  const K = nb - shift - m;
  const saturates = K > 0;
  const outValue = ix.inside ? yValue : table.sat[ix.s];
  // p_j = c_j(s)·T_j; without saturation the last one carries the output.
  const ps: number[] = [];
  let o = -1;
  for (let j = 1; j <= d; j++) {
    const pv = coef[j] * powers[j - 1].value;
    if (j === d && !saturates) {
      o = out(outValue);
      const ow = o;
      cs.enforce(() => {
        const c = addScaled(wireLin(ow), coefLin(0), -1);
        for (const p of ps) addTerm(c, p, -1);
        return [coefLin(j), powers[j - 1].lin(), c];
      });
      break;
    }
    const w = cs.wire(pv);
    const jj = j;
    cs.enforce(() => [coefLin(jj), powers[jj - 1].lin(), wireLin(w)]);
    ps.push(w);
  }
  if (saturates) {
    const yLin = (): Lin => {
      const l = coefLin(0);
      for (const p of ps) addTerm(l, p, 1);
      return l;
    };
    const s = () => bits.lin(nb - 1);
    let z = 0;
    for (let i = shift + m - 1; i < nb - 1; i++) z += bitOf(v, i);
    const zLin = (): Lin => {
      const l = lin();
      for (let i = shift + m - 1; i < nb - 1; i++) addScaled(l, bits.lin(i), 1);
      return l;
    };
    const wv = ix.s * (2 * z - K) + K - z;
    const w = cs.wire(wv);
    cs.enforce(() => [s(), plus(addScaled(lin(), zLin(), 2), -K), addScaled(plus(wireLin(w), -K), zLin(), 1)]);
    const ov = wv === 0 ? 0 : 1;
    const inv = cs.wire(wv === 0 ? 0n : invCoef(wv), name ? () => `${name(0)}.inv` : undefined);
    const flag = cs.wire(ov);
    cs.enforce(() => [wireLin(w), wireLin(inv), wireLin(flag)]);
    cs.enforce(() => [wireLin(w), plus(wireLin(flag, -1), 1), lin()]);
    o = out(outValue);
    const ow = o;
    const [s0, s1] = table.sat;
    cs.enforce(() => {
      const satLin = addTerm(addScaled(lin(), s(), s1 - s0), ONE, s0);
      return [wireLin(flag), addScaled(satLin, yLin(), -1), addScaled(wireLin(ow), yLin(), -1)];
    });
  }
  return { value: outValue, lin: () => wireLin(o) };
}
