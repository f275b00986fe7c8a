import type { Program } from './program.js';
import { applyArgmax, applyDiv, applyFn, applyGadget, applyMax } from './gadgets.js';
import type { Gadget, Layer } from './program.js';
import { evalForm } from './forms.js';
import { ZkinferError } from '../errors.js';

export interface ReferenceResult {
  /** Every signal value, inputs first (the circuit's witness, in our numbering). */
  readonly signals: Float64Array;
  readonly output: number[];
}

/**
 * Integer forward pass with exactly the circuit's semantics. All values stay
 * below 2^50 (checked by the bound analysis), so float64 arithmetic is exact.
 */
export function runReference(p: Program, input: readonly bigint[]): ReferenceResult {
  const v = new Float64Array(p.signalCount);
  input.forEach((x, i) => (v[i] = Number(x)));
  for (const layer of p.layers) {
    if (layer.op === 'argmax') {
      const g = layer.gadgets[0];
      const out = g.kind === 'argmax' ? applyArgmax(g.nb, layer.forms.map((f) => evalForm(f, v))) : null;
      if (out === null) throw new ZkinferError('WITNESS_FAILED', `node "${layer.node}": a comparison is outside its proven bounds`);
      v[layer.offset] = out;
      continue;
    }
    for (let j = 0; j < layer.gadgets.length; j++) {
      const g = layer.gadgets[j];
      const acc = evalForm(layer.forms[j], v);
      const out = applyElement(layer, g, j, acc, v);
      if (out === null) {
        throw new ZkinferError('WITNESS_FAILED', `node "${layer.node}" element ${j}: accumulator ${acc} is outside its proven bounds`);
      }
      v[layer.offset + j] = out;
    }
  }
  return { signals: v, output: p.outputForms.map((f) => evalForm(f, v)) };
}

/** One output of a layer's gadget, with the operands beyond its form. */
function applyElement(layer: Layer, g: Gadget, j: number, acc: number, v: Float64Array): number | null {
  switch (g.kind) {
    case 'max': return applyMax(g.nb, acc, evalForm(layer.rhs![j], v));
    case 'div': return applyDiv(g, acc, evalForm(layer.rhs![j], v));
    case 'fn': return applyFn(g, layer.table!, acc);
    case 'product': {
      const f = layer.pairs![j];
      let s = acc;
      for (let t = 0; t < f.length; t += 2) s += evalForm(f[t], v) * evalForm(f[t + 1], v);
      return s;
    }
    default: return applyGadget(g, acc);
  }
}

export const argmax = (xs: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
};
