import type { Builder } from '../builder.js';
import { addScaled, addTerm, invCoef, lin, ONE, plus, wireLin, type Lin } from '../lin.js';
import { bitOf, decompose } from './bits.js';
import type { OutWire, Signal } from './rescale.js';

const minus = (a: Lin, b: Lin): Lin => addScaled(addScaled(lin(), a), b, -1);

/**
 * Max2(nb): out = max(a, b). The top bit of a - b + 2^(nb-1) is 1 exactly
 * when a >= b (the compiler's bounds keep |a - b| < 2^(nb-1)); one product
 * selects. Cost: nb + 1 constraints. A k-element pooling window is a chain
 * of k - 1.
 */
export function max2(cs: Builder, a: Signal, b: Signal, nb: number, out: OutWire, where: () => string, name?: (i: number) => string): Signal {
  const half = 2 ** (nb - 1);
  const v = a.value - b.value + half;
  const bits = decompose(cs, () => plus(minus(a.lin(), b.lin()), half), v, nb, where, name ? { name } : {});
  const value = bitOf(v, nb - 1) === 1 ? a.value : b.value;
  const o = out(value);
  // s·(a - b) = out - b
  cs.enforce(() => [bits.lin(nb - 1), minus(a.lin(), b.lin()), minus(wireLin(o), b.lin())]);
  return { value, lin: () => wireLin(o) };
}

export interface ArgMaxNames {
  readonly bits: (step: number, i: number) => string;
  readonly max: (step: number) => string;
  readonly index: (step: number) => string;
}

/**
 * ArgMax(n, nb): the index of the first maximum of xs (ties keep the earlier
 * index, as ONNX's ArgMax does). A running maximum and its index are updated
 * with one comparison per element. Cost: (n - 1)·(nb + 2) - 1 constraints:
 * per step nb bits and two products (maximum, index), except that the first
 * index select is linear (1 - keep).
 */
export function argMax(cs: Builder, xs: readonly Signal[], nb: number, out: OutWire, where: (i: number) => string, names?: ArgMaxNames): Signal {
  const half = 2 ** (nb - 1);
  let m: Signal = xs[0];
  let idx: Signal = { value: 0, lin: () => lin() };
  for (let i = 1; i < xs.length; i++) {
    const x = xs[i];
    const prev = m;
    const prevIdx = idx;
    const v = prev.value - x.value + half;
    const step = i;
    const bits = decompose(cs, () => plus(minus(prev.lin(), x.lin()), half), v, nb, () => where(i), names ? { name: (b) => names.bits(step, b) } : {});
    const keep = bitOf(v, nb - 1) === 1;
    const keepLin = () => bits.lin(nb - 1);
    // m_i = x + keep·(m_{i-1} - x)
    const mValue = keep ? prev.value : x.value;
    const mw = cs.wire(mValue, names ? () => names.max(step) : undefined);
    cs.enforce(() => [keepLin(), minus(prev.lin(), x.lin()), minus(wireLin(mw), x.lin())]);
    m = { value: mValue, lin: () => wireLin(mw) };
    const iValue = keep ? prevIdx.value : i;
    if (i === 1) {
      // idx_1 = 1 - keep: linear.
      idx = { value: iValue, lin: () => addTerm(addScaled(lin(), keepLin(), -1), ONE, 1) };
    } else {
      const last = i === xs.length - 1;
      const iw = last ? out(iValue) : cs.wire(iValue, names ? () => names.index(step) : undefined);
      // idx_i = i + keep·(idx_{i-1} - i)
      cs.enforce(() => [keepLin(), plus(prevIdx.lin(), -step), plus(wireLin(iw), -step)]);
      idx = { value: iValue, lin: () => wireLin(iw) };
    }
  }
  return idx;
}

/**
 * IsZero: out = 1 when x = 0, else 0. x·inv = 1 - out and x·out = 0: a
 * nonzero x forces out = 0 (second) and then inv = 1/x; a zero x forces
 * out = 1 (first), and inv is then free (it cannot change out). Cost: 2.
 */
export function isZero(cs: Builder, x: Signal, out: OutWire, name?: () => string): Signal {
  const value = x.value === 0 ? 1 : 0;
  const inv = cs.wire(x.value === 0 ? 0n : invCoef(x.value), name);
  const o = out(value);
  cs.enforce(() => [x.lin(), wireLin(inv), plus(wireLin(o, -1), 1)]);
  cs.enforce(() => [x.lin(), wireLin(o), lin()]);
  return { value, lin: () => wireLin(o) };
}
