import type { ModelIO } from '../receipt/io.js';

/**
 * The quantized model as an integer program over circuit signals.
 *
 * Signals are numbered globally: the inputs first, then each layer's outputs.
 * A Form is an affine integer combination of earlier signals; linear layers
 * only build forms (they cost no constraints), and layers materialize forms
 * into new signals through a gadget (rescale, rescale+ReLU).
 */
export interface Form {
  readonly idx: number[];
  readonly w: number[];
  readonly c: number;
}

export type Gadget =
  /** Output fixed by the bounds (e.g. ReLU of an always-negative value). */
  | { readonly kind: 'const'; readonly value: number }
  /** out = top * floor(low / 2^shift), v = acc + offset in [0, 2^nb). */
  | { readonly kind: 'rescale-relu'; readonly nb: number; readonly shift: number; readonly offset: number }
  /** out = floor((acc + offset) / 2^shift) - sub. */
  | { readonly kind: 'rescale'; readonly nb: number; readonly shift: number; readonly offset: number; readonly sub: number }
  /** out = a >= b ? a : b, the sign of a - b from the top bit of a - b + 2^(nb-1). */
  | { readonly kind: 'max'; readonly nb: number }
  /** Index of the first maximum of the layer's forms (all of them: one output). */
  | { readonly kind: 'argmax'; readonly nb: number };

export type GadgetKind = Gadget['kind'];

export interface Layer {
  /** The ONNX node whose output this layer materializes. */
  readonly node: string;
  /**
   * The ONNX tensor whose values (times 2^scale) a relu or rescale layer's
   * outputs hold, to compare with the float model's.
   */
  readonly tensor?: string;
  readonly op: 'relu' | 'rescale' | 'max' | 'argmax';
  readonly shape: number[];
  /** Output values are q / 2^scale. */
  readonly scale: number;
  /** One accumulator per output; for argmax, the forms it ranks. */
  readonly forms: Form[];
  /** Second operand of each max gadget. */
  readonly rhs?: Form[];
  readonly gadgets: Gadget[];
  /** First global signal index of this layer's outputs. */
  readonly offset: number;
}

export interface Program {
  readonly io: ModelIO;
  readonly layers: Layer[];
  readonly outputForms: Form[];
  readonly outputNode: string;
  readonly signalCount: number;
  /** The float input range asked for (from calibration or an option). */
  readonly requestedRange: readonly [number, number];
  readonly scales: ScaleRecord[];
  /** What the circuit leaves out of the ONNX graph (a final Softmax). */
  readonly notes: string[];
}

/** Why each scale was chosen, kept in the build manifest. */
export interface ScaleRecord {
  readonly tensor: string;
  readonly role: 'input' | 'activation' | 'weight' | 'output';
  readonly scale: number;
  readonly reason: string;
}

/** ArgMax over n values: n-1 comparisons of nb bits, each selecting value and index. */
export const argmaxCost = (n: number, nb: number): number => (n - 1) * (nb + 2) - 1;

/** Constraint cost of a gadget in the compiled circuit (--O2); `operands` counts ArgMax's inputs. */
export function gadgetCost(g: Gadget, operands = 1): number {
  switch (g.kind) {
    case 'const': return 0;
    case 'rescale-relu': return g.nb + 1;
    case 'rescale': return g.nb;
    case 'max': return g.nb + 1;
    case 'argmax': return argmaxCost(operands, g.nb);
    default: return g satisfies never;
  }
}

export function layerCostOf(l: Layer): number {
  return l.gadgets.reduce((s, g) => s + gadgetCost(g, l.forms.length), 0);
}
