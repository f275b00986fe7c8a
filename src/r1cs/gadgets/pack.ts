import type { Builder } from '../builder.js';
import { addTerm, lin, type Lin } from '../lin.js';
import type { FieldSignal } from './poseidon.js';

/**
 * PackInputs(per, nb, lo): range-checked inputs (in - lo in [0, 2^nb), which
 * InRange checks), `per` to a field element, little end first. per·nb <= 248,
 * so a pack never wraps the field and packing is injective. Cost: none; a
 * pack is a linear combination (a public pack folds into an input's checks,
 * see lower/pivots.ts).
 */
export function packInputs(cs: Builder, inputs: readonly number[], values: readonly bigint[], per: number, nb: number, lo: number): FieldSignal[] {
  const packs: FieldSignal[] = [];
  for (let p = 0; p * per < inputs.length; p++) {
    let v = 0n;
    const l: Lin | null = cs.constraining ? lin() : null;
    const end = Math.min(inputs.length, (p + 1) * per);
    for (let j = end - 1; j >= p * per; j--) v = (v << BigInt(nb)) + (values[j] - BigInt(lo));
    if (l) {
      let offset = 0n;
      for (let j = p * per; j < end; j++) {
        const k = 1n << BigInt(nb * (j - p * per));
        addTerm(l, inputs[j], k);
        offset -= k * BigInt(lo);
      }
      addTerm(l, 0, offset);
    }
    packs.push({ value: v, lin: l });
  }
  return packs;
}
