import { ZkinferError } from '../../errors.js';
import { bitOf } from '../../int.js';
import type { Builder, Name } from '../builder.js';
import { addScaled, addTerm, lin, ONE, plus, wireLin, type Lin } from '../lin.js';

export { bitOf };

/**
 * The bits of a decomposed value. Bit `eliminated` (bit 0) is not a wire:
 * the recomposition Σ 2^i·b_i = v defines it as a linear combination of v
 * and the other bits, which is how the recomposition costs no constraint.
 */
export class Bits {
  constructor(
    readonly nb: number,
    readonly value: number,
    /** Wire of each bit; -1 for a bit defined by a linear combination. */
    readonly wires: Int32Array,
    private readonly defined: Map<number, () => Lin>,
  ) {}

  bit(i: number): number {
    return bitOf(this.value, i);
  }

  /** Bit i as a linear combination (constraint mode only). */
  lin(i: number): Lin {
    const w = this.wires[i];
    return w >= 0 ? wireLin(w) : this.defined.get(i)!();
  }

  /** Σ_{i in [from, to)} 2^(i-from)·b_i. */
  range(from: number, to: number): Lin {
    const out = lin();
    for (let i = from; i < to; i++) addScaled(out, this.lin(i), 2 ** (i - from));
    return out;
  }
}

/** A bit constrained boolean: b·(b - 1) = 0. One constraint. */
export const booleanity = (cs: Builder, b: () => Lin): void => cs.enforce(() => {
  const x = b();
  return [x, plus(x, -1), lin()];
});

export interface DecomposeOptions {
  /** Names bit i (compile only). */
  readonly name?: (i: number) => string;
  /**
   * A second bit defined linearly instead of allocated: bit `at`, from
   * out = Σ_{i>=at} 2^(i-at)·b_i - sub with `out` already a wire. Lets a
   * rescale's output be a wire at no extra constraint.
   */
  readonly quotient?: { readonly at: number; readonly out: number; readonly sub: number };
}

/** A value the circuit cannot decompose is an error naming where it arose. */
export function assertRange(v: number, nb: number, where: () => string): void {
  if (!(v >= 0 && v < 2 ** nb && Number.isInteger(v))) {
    throw new ZkinferError('WITNESS_FAILED', `${where()}: value ${v} is outside its proven range [0, 2^${nb})`);
  }
}

/**
 * Decompose(nb): the nb little-endian bits of v = value(x), which must lie in
 * [0, 2^nb). Cost: nb constraints, one booleanity check per bit; the
 * recomposition is folded into bit 0's check (and, with `quotient`, the
 * quotient's definition into bit `at`'s), as circom's --O2 would fold it.
 * nb stays far below 253, so the decomposition is unique in the field.
 */
export function decompose(cs: Builder, x: () => Lin, v: number, nb: number, where: () => string, opts: DecomposeOptions = {}): Bits {
  assertRange(v, nb, where);
  const wires = new Int32Array(nb);
  const defined = new Map<number, () => Lin>();
  const q = opts.quotient;
  for (let i = 0; i < nb; i++) {
    if (i === 0 || (q && i === q.at)) {
      wires[i] = -1;
      continue;
    }
    const name = opts.name;
    wires[i] = cs.wire(bitOf(v, i), name ? () => name(i) : undefined);
  }
  const bits = new Bits(nb, v, wires, defined);
  if (q) {
    // b_at = out + sub - Σ_{i>at} 2^(i-at)·b_i
    defined.set(q.at, () => {
      const l = addTerm(wireLin(q.out), ONE, q.sub);
      for (let i = q.at + 1; i < nb; i++) addTerm(l, wires[i], -(2 ** (i - q.at)));
      return l;
    });
  }
  // b_0 = v - Σ_{i>0} 2^i·b_i
  defined.set(0, () => {
    const l = addScaled(lin(), x());
    for (let i = 1; i < nb; i++) {
      if (wires[i] >= 0) addTerm(l, wires[i], -(2 ** i));
      else addScaled(l, defined.get(i)!(), -(2 ** i));
    }
    return l;
  });
  for (let i = 0; i < nb; i++) booleanity(cs, () => bits.lin(i));
  return bits;
}

/**
 * InRange(nb, lo): lo <= in < lo + 2^nb. Cost: nb constraints.
 */
export function inRange(cs: Builder, input: number, v: number, nb: number, lo: number, where: () => string, name?: (i: number) => string): Bits {
  return decompose(cs, () => plus(wireLin(input), -lo), v - lo, nb, where, name ? { name } : {});
}

export type { Name };
