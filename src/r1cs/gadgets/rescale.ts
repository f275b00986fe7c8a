import type { Builder } from '../builder.js';
import { plus, wireLin, type Lin } from '../lin.js';
import { assertRange, bitOf, decompose } from './bits.js';

/** Allocates a gadget's output: a wire, or a pivot the outputs eliminate. */
export type OutWire = (value: number) => number;

/** A value as the circuit holds it: a wire, or a linear combination of wires. */
export interface Signal {
  readonly value: number;
  /** Its lin (constraint mode only). */
  readonly lin: () => Lin;
}

/** floor(v / 2^shift) for 0 <= v < 2^53. */
const shiftDown = (v: number, shift: number): number => Math.floor(v / 2 ** shift);

/**
 * RescaleRelu(nb, shift, offset): out = max(0, floor((acc + half) / 2^shift)),
 * with v = acc + offset in [0, 2^nb) and offset = half + 2^(nb-1), so the top
 * bit of v is the sign of acc + half and the bits below it are then
 * acc + half. Cost: nb + 1 constraints (nb bits; one product, sign times
 * quotient, whose result is the output wire).
 */
export function rescaleRelu(cs: Builder, acc: Signal, nb: number, shift: number, offset: number, out: OutWire, where: () => string, name?: (i: number) => string): Signal {
  const v = acc.value + offset;
  const bits = decompose(cs, () => plus(acc.lin(), offset), v, nb, where, name ? { name } : {});
  const top = nb - 1;
  const value = bitOf(v, top) === 1 ? shiftDown(v - 2 ** top, shift) : 0;
  const o = out(value);
  cs.enforce(() => [bits.lin(top), bits.range(shift, top), wireLin(o)]);
  return { value, lin: () => wireLin(o) };
}

/**
 * Rescale(nb, shift, offset, sub): out = floor((acc + offset) / 2^shift) - sub,
 * v = acc + offset in [0, 2^nb). Cost: nb constraints. The output is a wire
 * at no cost: bit `shift` is defined from it (b_shift = out + sub - higher
 * bits), so downstream forms read one wire instead of the quotient's bits.
 * With shift 0 the output is v - sub itself, a linear combination.
 */
export function rescale(cs: Builder, acc: Signal, nb: number, shift: number, offset: number, sub: number, out: OutWire, where: () => string, name?: (i: number) => string): Signal {
  const v = acc.value + offset;
  const x = () => plus(acc.lin(), offset);
  const value = shiftDown(v, shift) - sub;
  if (shift === 0) {
    decompose(cs, x, v, nb, where, name ? { name } : {});
    return { value, lin: () => plus(x(), -sub) };
  }
  // The output wire comes first: bit `shift` is defined from it.
  assertRange(v, nb, where);
  const o = out(value);
  decompose(cs, x, v, nb, where, { ...(name ? { name } : {}), quotient: { at: shift, out: o, sub } });
  return { value, lin: () => wireLin(o) };
}
