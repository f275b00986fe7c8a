import type { Builder } from '../builder.js';
import { addScaled, addTerm, lin, plus, wireLin, type Lin } from '../lin.js';
import { decompose } from './bits.js';
import type { OutWire, Signal } from './rescale.js';
import { applyDiv, applySqrt } from '../../quantize/gadgets.js';
import { ZkinferError } from '../../errors.js';

const minus = (a: Lin, b: Lin): Lin => addScaled(addScaled(lin(), a), b, -1);

/**
 * Div(k, rb, qb, qoff): q = floor(num·2^k / den) for den in (0, 2^rb]:
 * q·den = P, r = num·2^k - P with r and den - 1 - r in [0, 2^rb), and
 * q + qoff in [0, 2^qb). Every quantity is far below the field's size, so
 * q·den + r = num·2^k holds over the integers and fixes q. Cost:
 * 1 + 2·rb + qb constraints.
 */
export function divide(cs: Builder, num: Signal, den: Signal, g: { k: number; rb: number; qb: number; qoff: number }, out: OutWire, where: () => string, name?: (part: string, i: number) => string): Signal {
  const q = applyDiv(g, num.value, den.value);
  if (q === null) throw new ZkinferError('WITNESS_FAILED', `${where()}: ${num.value}·2^${g.k} / ${den.value} is outside its proven range`);
  const n = () => addScaled(lin(), num.lin(), 2 ** g.k);
  const o = out(q);
  const prod = q * den.value;
  const p = cs.wire(prod, name ? () => name('qd', 0) : undefined);
  cs.enforce(() => [wireLin(o), den.lin(), wireLin(p)]);
  const r = num.value * 2 ** g.k - prod;
  const rLin = () => addTerm(n(), p, -1);
  const nm = (part: string) => (name ? { name: (i: number) => name(part, i) } : {});
  decompose(cs, rLin, r, g.rb, where, nm('r'));
  decompose(cs, () => plus(minus(den.lin(), rLin()), -1), den.value - 1 - r, g.rb, where, nm('gap'));
  decompose(cs, () => plus(wireLin(o), g.qoff), q + g.qoff, g.qb, where, nm('q'));
  return { value: q, lin: () => wireLin(o) };
}

/**
 * Sqrt(k, gb): s = floor(sqrt(x·2^k)) for x >= 0: s·s = S, and
 * x·2^k - S and S + 2s - x·2^k in [0, 2^gb). Then s is the small root
 * (g1 + g2) / 2 (the other root fails a range check), s² <= x·2^k and
 * (s + 1)² > x·2^k. Cost: 1 + 2·gb constraints.
 */
export function sqrt(cs: Builder, x: Signal, g: { k: number; gb: number }, out: OutWire, where: () => string, name?: (part: string, i: number) => string): Signal {
  const s = applySqrt(g, x.value);
  if (s === null) throw new ZkinferError('WITNESS_FAILED', `${where()}: sqrt(${x.value}·2^${g.k}) is outside its proven range`);
  const X = () => addScaled(lin(), x.lin(), 2 ** g.k);
  const o = out(s);
  const sq = cs.wire(s * s, name ? () => name('sq', 0) : undefined);
  cs.enforce(() => [wireLin(o), wireLin(o), wireLin(sq)]);
  const nm = (part: string) => (name ? { name: (i: number) => name(part, i) } : {});
  const Xv = x.value * 2 ** g.k;
  decompose(cs, () => addTerm(X(), sq, -1), Xv - s * s, g.gb, where, nm('lo'));
  decompose(cs, () => addTerm(addTerm(addScaled(lin(), X(), -1), sq, 1), o, 2), s * s + 2 * s - Xv, g.gb, where, nm('hi'));
  return { value: s, lin: () => wireLin(o) };
}

