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
  | { readonly kind: 'argmax'; readonly nb: number }
  /** out = form + Σ_t a_t·b_t over the layer's `pairs` (a raw sum of products at the operands' summed scale). */
  | { readonly kind: 'product'; readonly terms: number }
  /**
   * out = floor(num·2^k / den) with num the form and den > 0 the rhs form:
   * q·den + r = num·2^k, r and den - 1 - r in [0, 2^rb), q + qoff in [0, 2^qb).
   */
  | { readonly kind: 'div'; readonly k: number; readonly rb: number; readonly qb: number; readonly qoff: number }
  /** out = floor(sqrt(x·2^k)) of x >= 0: s² <= x·2^k < (s+1)², both gaps in [0, 2^gb). */
  | { readonly kind: 'sqrt'; readonly k: number; readonly gb: number }
  /**
   * A smooth function from the layer's table, selected by the input's own bits:
   * v = acc + offset in [0, 2^nb); the window index u (m bits) is bits
   * [shift, shift + m - 1) of v and v's top bit; its top h bits pick a segment
   * and the rest, t, feed that segment's degree-d polynomial. With nb > shift + m
   * the bits in between must all equal the complement of the top bit (inside the
   * window), else the output saturates to the table's end values.
   */
  | { readonly kind: 'fn'; readonly nb: number; readonly shift: number; readonly offset: number; readonly m: number; readonly h: number; readonly d: number }
  /** out = 1 if the form is 0, else 0: x·inv = 1 - out, x·out = 0. */
  | { readonly kind: 'iszero' };

export type GadgetKind = Gadget['kind'];

export interface Layer {
  /** The ONNX node whose output this layer materializes. */
  readonly node: string;
  /**
   * The ONNX tensor whose values (times 2^scale) a relu or rescale layer's
   * outputs hold, to compare with the float model's.
   */
  readonly tensor?: string;
  readonly op: 'relu' | 'rescale' | 'max' | 'argmax' | 'product' | 'div' | 'sqrt' | 'fn' | 'iszero';
  readonly shape: number[];
  /** Output values are q / 2^scale. */
  readonly scale: number;
  /** One accumulator per output; for argmax, the forms it ranks. */
  readonly forms: Form[];
  /** Second operand of each max gadget; the denominator of each div. */
  readonly rhs?: Form[];
  /** Each product gadget's factors, flattened: [a_1, b_1, a_2, b_2, ...]. */
  readonly pairs?: Form[][];
  /** A fn layer's function table (one for all its elements). */
  readonly table?: FnTable;
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

/**
 * A piecewise polynomial: y = Σ_j coef[seg][j]·t^j inside the window, and
 * sat[0] below it, sat[1] above it (when the gadget saturates).
 */
export interface FnTable {
  /** The ONNX function it approximates (for the manifest). */
  readonly fn: string;
  /** Integer coefficients per segment (2^h of them), degree d + 1 each. */
  readonly coef: number[][];
  readonly sat: readonly [number, number];
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

/**
 * A fn gadget: nb bits; 2^h - h - 1 selector monomials; d - 1 powers of t and
 * d products (segment coefficient times power); and when it saturates, 4 more
 * (the window test, its zero test (2) and the select).
 */
export const fnCost = (g: { nb: number; shift: number; m: number; h: number; d: number }): number =>
  g.nb + 2 ** g.h - g.h - 1 + 2 * g.d - 1 + (g.nb > g.shift + g.m ? 4 : 0);

/** Constraint cost of a gadget in the compiled circuit (--O2); `operands` counts ArgMax's inputs. */
export function gadgetCost(g: Gadget, operands = 1): number {
  switch (g.kind) {
    case 'const': return 0;
    case 'rescale-relu': return g.nb + 1;
    case 'rescale': return g.nb;
    case 'max': return g.nb + 1;
    case 'argmax': return argmaxCost(operands, g.nb);
    case 'product': return g.terms;
    case 'div': return 1 + 2 * g.rb + g.qb;
    case 'sqrt': return 1 + 2 * g.gb;
    case 'fn': return fnCost(g);
    case 'iszero': return 2;
    default: return g satisfies never;
  }
}

export function layerCostOf(l: Layer): number {
  return l.gadgets.reduce((s, g) => s + gadgetCost(g, l.forms.length), 0);
}
