import type { Builder } from '../builder.js';
import { addScaled, addTerm, wireLin } from '../lin.js';
import type { OutWire, Signal } from './rescale.js';

/**
 * Product(k): out = base + Σ_t a_t·b_t. Each product but the last is a wire;
 * the last one's constraint carries the sum, a_k·b_k = out - base - Σ p_t, so
 * the output is a wire at no extra cost. Cost: k constraints. The caller's
 * bounds keep every value exact (below 2^50), far from the field's wrap.
 */
export function product(cs: Builder, base: Signal, pairs: ReadonlyArray<readonly [Signal, Signal]>, out: OutWire): Signal {
  let value = base.value;
  for (const [a, b] of pairs) value += a.value * b.value;
  const ps: number[] = [];
  pairs.slice(0, -1).forEach(([a, b]) => {
    const p = cs.wire(a.value * b.value);
    cs.enforce(() => [a.lin(), b.lin(), wireLin(p)]);
    ps.push(p);
  });
  const o = out(value);
  const [a, b] = pairs[pairs.length - 1];
  cs.enforce(() => {
    const c = addScaled(wireLin(o), base.lin(), -1);
    for (const p of ps) addTerm(c, p, -1);
    return [a.lin(), b.lin(), c];
  });
  return { value, lin: () => wireLin(o) };
}
