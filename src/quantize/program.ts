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
  | { readonly kind: 'rescale'; readonly nb: number; readonly shift: number; readonly offset: number; readonly sub: number };

export type GadgetKind = Gadget['kind'];

export interface Layer {
  /** The ONNX node whose output this layer materializes. */
  readonly node: string;
  readonly op: 'relu' | 'rescale';
  readonly shape: number[];
  /** Output values are q / 2^scale. */
  readonly scale: number;
  readonly forms: Form[];
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
}

/** Why each scale was chosen, kept in the build manifest. */
export interface ScaleRecord {
  readonly tensor: string;
  readonly role: 'input' | 'activation' | 'weight' | 'output';
  readonly scale: number;
  readonly reason: string;
}

/** Constraint cost of a gadget in the compiled circuit (--O2). */
export function gadgetCost(g: Gadget): number {
  switch (g.kind) {
    case 'const': return 0;
    case 'rescale-relu': return g.nb + 1;
    case 'rescale': return g.nb;
    default: return g satisfies never;
  }
}
