import type { Program } from './program.js';
import { applyArgmax, applyGadget, applyMax } from './gadgets.js';
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
      const out = g.kind === 'max' ? applyMax(g.nb, acc, evalForm(layer.rhs![j], v)) : applyGadget(g, acc);
      if (out === null) {
        throw new ZkinferError('WITNESS_FAILED', `node "${layer.node}" element ${j}: accumulator ${acc} is outside its proven bounds`);
      }
      v[layer.offset + j] = out;
    }
  }
  return { signals: v, output: p.outputForms.map((f) => evalForm(f, v)) };
}

export const argmax = (xs: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
};
