import type { ConstTensor, Graph, GraphNode } from '../onnx/graph.js';
import { size } from '../onnx/graph.js';
import type { Form, Gadget, Layer, ScaleRecord } from './program.js';
import type { QuantizeOptions } from './config.js';
import type { TensorStats } from './calibration.js';
import { combine, constForm, formBounds, signalForm } from './forms.js';
import { bitsFor, chooseGadget, compareBits, gadgetRange, MAX_BITS } from './gadgets.js';
import { foldNode, type FoldInput } from './fold.js';
import { type IndexMap } from './shape-ops.js';
import { IMPORT_LIMITS } from '../onnx/limits.js';
import { ZkinferError } from '../errors.js';


export interface ConstValue { kind: 'const'; t: ConstTensor }
export interface ActValue {
  kind: 'act';
  shape: number[];
  scale: number;
  forms: Form[];
  /** Forms still carry weight products (scale above the tensor's own). */
  raw: boolean;
  /** A ReLU deferred past a MaxPool (they commute); applied when materialized. */
  relu: boolean;
  /**
   * Every element >= 0 and each row along the last axis sums to at most
   * this (a softmax's rows): a MatMul by it is a weighted mean, bounded by
   * the other operand's extremes rather than by their sum.
   */
  rowSum?: number;
}
export type Value = ConstValue | ActValue;

/** A linear map: output j = Σ w[t] * input[idx[t]] + bias[j], weights in float. */
export interface LinearRows {
  idx: number[][];
  w: number[][];
  bias: Float64Array | null;
}

/** Forms larger than this are materialized before composing further. */
export const MAX_FORM_TERMS = 8192;
/** Output bits a function table aims for at most: past them its segments and degree cost more than the error they remove. */
export const FN_MAX_BITS = 9;
/**
 * Composing a linear map over forms that are themselves sums multiplies the
 * terms the circuit compiler has to handle. Past this factor (and size), the
 * input is rescaled into signals first: a few constraints per element buy a
 * circuit that compiles in minutes instead of hours.
 */
export const MAX_COMPOSE_GROWTH = 2;
export const COMPOSE_TERMS_FLOOR = 20_000;

export const log2ceil = (m: number): number => Math.ceil(Math.log2(m));
/**
 * A constant added to a computed tensor never rounds to zero: a LayerNorm's
 * epsilon must keep the variance it is added to above zero, or the square
 * root it feeds could be 0 and the division by it unbounded. The rounding
 * error stays within one step.
 */
export const roundKeepSign = (x: number): number => {
  const r = Math.round(x);
  return r === 0 && x !== 0 ? Math.sign(x) : r;
};
export const attrInt = (n: GraphNode, name: string, dflt: number): number => {
  const a = n.attrs.get(name);
  return a && a.kind === 'int' ? a.value : dflt;
};
export const attrFloat = (n: GraphNode, name: string, dflt: number): number => {
  const a = n.attrs.get(name);
  return a && (a.kind === 'float' || a.kind === 'int') ? a.value : dflt;
};
export const attrInts = (n: GraphNode, name: string): number[] | null => {
  const a = n.attrs.get(name);
  return a && a.kind === 'ints' ? a.value : null;
};
export const strides = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
};
/** Channel (ONNX axis 1) of each row-major element of a tensor of shape `shape`. */
export const channelOf = (shape: readonly number[]): ((j: number) => number) => {
  const inner = size(shape.slice(2));
  return (j) => Math.floor(j / inner) % shape[1];
};
export const normAxis = (axis: number, rank: number, node: GraphNode): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ZkinferError('ONNX_INVALID', `node "${node.name}" (${node.opType}): axis ${axis} is out of range for rank ${rank}`);
  return a;
};

export interface QuantizeInput {
  graph: Graph;
  onnxSha256: string;
  stats: ReadonlyMap<string, TensorStats>;
  samples: readonly Float64Array[];
  options: QuantizeOptions;
  /**
   * The input's exact scale, when already known (an audit replays a build
   * from its recorded calibration, without the samples); computed from the
   * samples when undefined.
   */
  exactInputScale?: number | null;
}

/** Smallest k <= maxBits with every value an exact multiple of 2^-k, if any. */
export function exactScale(values: Iterable<ArrayLike<number>>, maxBits: number): number | null {
  const all = [...values];
  for (let k = -8; k <= maxBits; k++) {
    const s = 2 ** k;
    if (all.every((x) => Array.prototype.every.call(x, (v: number) => Number.isInteger(v * s)))) return k;
  }
  return null;
}

/** Scale that maps a tensor's calibration range onto about activationBits bits. */
export function activationScaleOf(st: TensorStats | undefined, bits: number): { scale: number; reason: string } {
  const m = st ? Math.max(Math.abs(st.min), Math.abs(st.max)) : 0;
  if (!(m > 0)) return { scale: bits, reason: 'no non-zero calibration value' };
  return { scale: bits - log2ceil(m), reason: `calibration max |x| = ${m.toPrecision(4)} mapped to 2^${bits}` };
}

/** How the circuit takes its input: scale, accepted float range, and the quantized range [lo, lo + 2^bits). */
export interface InputQuantization {
  readonly scale: number;
  readonly reason: string;
  readonly range: readonly [number, number];
  readonly lo: number;
  readonly bits: number;
}

/**
 * The input's scale and accepted range from its calibration range, the exact
 * input scale (if the samples have one) and the options.
 */
export function inputQuantization(st: TensorStats | undefined, exact: number | null, options: QuantizeOptions): InputQuantization {
  const input = exact !== null && exact > 0
    ? { scale: exact, reason: `calibration inputs are exact multiples of 2^-${exact}` }
    : activationScaleOf(st, options.activationBits);
  let range = options.inputRange;
  if (!range) {
    const pad = (st!.max - st!.min) * options.rangeMargin || options.rangeMargin;
    range = [st!.min >= 0 ? Math.max(0, st!.min - pad) : st!.min - pad, st!.max + pad];
  }
  const s = 2 ** input.scale;
  const lo = Math.floor(range[0] * s);
  const bits = Math.max(1, bitsFor(Math.ceil(range[1] * s) - lo));
  return { ...input, range, lo, bits };
}

/**
 * The quantizer's state and primitives: values by tensor name, every
 * signal's interval, and the steps every op is built from (materialize,
 * linear maps, comparisons). The op handlers extend it (linear-ops.ts,
 * nonlinear-ops.ts) and quantize.ts walks the graph.
 */
export class QuantizerCore {
  protected readonly values = new Map<string, Value>();

  protected readonly lo: number[] = [];

  protected readonly hi: number[] = [];

  protected readonly consumers = new Map<string, GraphNode[]>();

  protected readonly folded = new Set<GraphNode>();

  /** Nodes inside a found pattern (a decomposed LayerNorm), computed by the pattern's last node. */
  protected readonly skipped = new Set<GraphNode>();

  protected readonly layerNorms = new Map<GraphNode, { x: string; axes: number[]; eps: number }>();

  readonly layers: Layer[] = [];

  readonly scales: ScaleRecord[] = [];

  readonly notes: string[] = [];

  constructor(protected readonly q: QuantizeInput) {
    for (const n of q.graph.nodes) for (const i of n.inputs) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
  }

  protected soleConsumer(tensor: string): GraphNode | null {
    const c = this.consumers.get(tensor) ?? [];
    return c.length === 1 && tensor !== this.q.graph.output.name ? c[0] : null;
  }

  protected activationScale(tensor: string): { scale: number; reason: string } {
    return activationScaleOf(this.q.stats.get(tensor), this.q.options.activationBits);
  }

  protected pushSignal(lo: number, hi: number): number {
    this.lo.push(lo);
    this.hi.push(hi);
    return this.lo.length - 1;
  }

  protected bounds(f: Form, node: string): { lo: number; hi: number; abs: number } {
    const b = formBounds(f, this.lo, this.hi);
    if (b.abs >= 2 ** MAX_BITS) {
      throw new ZkinferError('QUANTIZATION_FAILED', `node "${node}" reaches magnitude 2^${Math.ceil(Math.log2(b.abs))} (limit 2^${MAX_BITS}); lower --activation-bits or --weight-bits`);
    }
    return b;
  }

  protected act(name: string, node: GraphNode): ActValue {
    const v = this.values.get(name);
    if (!v) throw new ZkinferError('ONNX_INVALID', `node "${node.name}" reads "${name}", which is not available`);
    if (v.kind !== 'act') throw new ZkinferError('ONNX_UNSUPPORTED', `node "${node.name}" (${node.opType}) has constant input "${name}" where a computed tensor is expected`);
    return v.relu ? this.materialize(node.name, name, v, true) : v;
  }

  protected constant(name: string, node: GraphNode): ConstTensor {
    const v = this.values.get(name);
    if (!v) throw new ZkinferError('ONNX_INVALID', `node "${node.name}" reads "${name}", which is not available`);
    if (v.kind !== 'const') {
      throw new ZkinferError('ONNX_UNSUPPORTED', `node "${node.name}" (${node.opType}): input "${name}" is computed; only a constant is supported there`);
    }
    return v.t;
  }

  /** Materializes forms through rescale(+ReLU) gadgets into a new layer of signals. */
  protected materialize(node: string, tensor: string, v: ActValue, relu: boolean): ActValue {
    const act = this.activationScale(tensor);
    const target = Math.min(act.scale, v.scale);
    const shift = v.scale - target;
    const gadgets: Gadget[] = [];
    const offset = this.lo.length;
    const forms = v.forms.map((f) => {
      const b = this.bounds(f, node);
      const g = chooseGadget(b.lo, b.hi, shift, relu, node);
      gadgets.push(g);
      const [lo, hi] = gadgetRange(g, b.lo, b.hi);
      return g.kind === 'const' ? (this.pushSignal(lo, hi), constForm(g.value)) : signalForm(this.pushSignal(lo, hi));
    });
    this.layers.push({ node, tensor, op: relu ? 'relu' : 'rescale', shape: v.shape, scale: target, forms: v.forms, gadgets, offset });
    this.scales.push({ tensor, role: 'activation', scale: target, reason: act.reason });
    // Rounding half up adds at most half a step per element to a row's sum.
    const rowSum = v.rowSum !== undefined ? v.rowSum / 2 ** shift + v.shape[v.shape.length - 1] : undefined;
    return { kind: 'act', shape: v.shape, scale: target, forms, raw: false, relu: false, ...(rowSum !== undefined ? { rowSum } : {}) };
  }

  /** Power-of-two weight scale: exact when the weights allow, else weightBits of precision. */
  protected weightScale(node: string, weights: Iterable<number>): number {
    const all = Float64Array.from(weights);
    let m = 0;
    for (const x of all) m = Math.max(m, Math.abs(x));
    const wb = this.q.options.weightBits;
    const dflt = m > 0 ? wb - 1 - log2ceil(m) : 0;
    const exact = exactScale([all], dflt);
    const ws = exact ?? dflt;
    this.scales.push({
      tensor: `${node}:weights`, role: 'weight', scale: ws,
      reason: exact !== null ? `weights are exact multiples of 2^-${exact}` : `max |w| = ${m.toPrecision(4)} mapped to 2^${wb - 1}`,
    });
    return ws;
  }

  /**
   * Applies a constant linear map. Linear maps compose into the forms and cost
   * no constraints; the input is materialized first only when composing would
   * overflow the exact range or grow the forms too large.
   */
  protected linear(node: GraphNode, inName: string, a: ActValue, rows: LinearRows, outShape: number[]): ActValue {
    const ws = this.weightScale(node.name, rows.w.flat());
    const direct = rows.idx.reduce((n, r) => n + r.length, 0);
    const attempt = (x: ActValue): ActValue | null => {
      const scale = x.scale + ws;
      const forms: Form[] = [];
      let terms = 0;
      for (let j = 0; j < rows.idx.length; j++) {
        const idx = rows.idx[j];
        const wq = rows.w[j].map((w) => Math.round(w * 2 ** ws));
        const b = rows.bias ? Math.round(rows.bias[j] * 2 ** scale) : 0;
        const f = combine(idx.map((i) => x.forms[i]), wq, b);
        if (x.raw && (f.idx.length > MAX_FORM_TERMS || formBounds(f, this.lo, this.hi).abs >= 2 ** (MAX_BITS - 1))) return null;
        terms += f.idx.length;
        if (x.raw && terms > COMPOSE_TERMS_FLOOR && terms > MAX_COMPOSE_GROWTH * direct) return null;
        forms.push(f);
      }
      return { kind: 'act', shape: outShape, scale, forms, raw: true, relu: false };
    };
    return attempt(a) ?? attempt(this.materialize(node.name, inName, a, false))!;
  }

  /** Max of two forms, through a Max2 gadget unless the bounds decide it. */
  protected max2(node: string, layer: { forms: Form[]; rhs: Form[]; gadgets: Gadget[] }, a: Form, b: Form): Form {
    const ba = this.bounds(a, node);
    const bb = this.bounds(b, node);
    const nb = compareBits(ba.lo - bb.hi, ba.hi - bb.lo, node);
    if (nb === null) return ba.lo - bb.hi >= 0 ? a : b;
    layer.forms.push(a);
    layer.rhs.push(b);
    layer.gadgets.push({ kind: 'max', nb });
    return signalForm(this.pushSignal(Math.max(ba.lo, bb.lo), Math.max(ba.hi, bb.hi)));
  }

  /** Some form's magnitude leaves no headroom for exact composition (by default half the exact limit). */
  protected tooWide(forms: readonly Form[], bits = MAX_BITS - 1): boolean {
    return forms.some((f) => formBounds(f, this.lo, this.hi).abs >= 2 ** bits);
  }

  /**
   * Brings act and constant operands to one scale (exact: scales only go up).
   * With `settle`, raw operands are rescaled into signals first, for a sum or
   * scale-up that would pass the exact range otherwise.
   */
  protected aligned(node: GraphNode, names: readonly string[], settle = false): { vals: ActValue[]; scale: number } {
    const inputs = names.map((n) => {
      const v = this.values.get(n);
      if (!v) throw new ZkinferError('ONNX_INVALID', `node "${node.name}" reads "${n}", which is not available`);
      if (v.kind !== 'act') return v;
      const a = this.act(n, node);
      return settle && a.raw ? this.materialize(node.name, n, a, false) : a;
    });
    const acts = inputs.filter((v): v is ActValue => v.kind === 'act');
    if (acts.length === 0) throw new ZkinferError('ONNX_UNSUPPORTED', `node "${node.name}" (${node.opType}) has only constant inputs`);
    const scale = Math.max(...acts.map((a) => a.scale));
    const vals = inputs.map((v): ActValue => {
      if (v.kind === 'const') {
        return { kind: 'act', shape: [...v.t.dims], scale, raw: false, relu: false, forms: Array.from(v.t.data, (x) => constForm(roundKeepSign(x * 2 ** scale))) };
      }
      const k = 2 ** (scale - v.scale);
      return k === 1 ? v : { ...v, scale, forms: v.forms.map((f) => combine([f], [k], 0)) };
    });
    return { vals, scale };
  }

  /** A computed input as signals of its own scale: products multiply magnitudes, so raw forms are rescaled first. */
  protected settled(name: string, node: GraphNode): ActValue {
    const a = this.act(name, node);
    return a.raw ? this.materialize(node.name, name, a, false) : a;
  }

  protected checkMagnitude(lo: number, hi: number, node: string): void {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    if (m >= 2 ** MAX_BITS) {
      throw new ZkinferError('QUANTIZATION_FAILED', `node "${node}" reaches magnitude 2^${Math.ceil(Math.log2(m))} (limit 2^${MAX_BITS}); lower --activation-bits or --weight-bits`);
    }
  }

  /** Rows along `axis`: for each, the flat indices of its elements. */
  protected rows(shape: readonly number[], axis: number): number[][] {
    const st = strides(shape);
    const n = shape[axis];
    const out: number[][] = [];
    for (let f = 0; f < size(shape); f++) {
      if (Math.floor(f / st[axis]) % n !== 0) continue;
      out.push(Array.from({ length: n }, (_, i) => f + i * st[axis]));
    }
    return out;
  }

  /** Element-wise max (sign 1) or min (sign -1) of form pairs, by Max2 gadgets in one layer (min(a, b) = -max(-a, -b)). */
  protected maxOf(node: GraphNode, pairs: Array<[Form, Form]>, scale: number, sign: 1 | -1): Form[] {
    const offset = this.lo.length;
    const layer = { forms: [] as Form[], rhs: [] as Form[], gadgets: [] as Gadget[] };
    const neg = (f: Form) => combine([f], [-1], 0);
    const out = pairs.map(([a, b]) => (sign === 1 ? this.max2(node.name, layer, a, b) : neg(this.max2(node.name, layer, neg(a), neg(b)))));
    if (layer.gadgets.length > 0) this.layers.push({ node: node.name, op: 'max', shape: [layer.gadgets.length], scale, ...layer, offset });
    return out;
  }

  protected mapped(a: ActValue, m: IndexMap): ActValue {
    return { ...a, shape: m.shape, forms: Array.from(m.src, (i) => a.forms[i]) };
  }

  protected intsOf(node: GraphNode, k: number): number[] | null {
    return node.inputs[k] ? Array.from(this.constant(node.inputs[k], node).data) : null;
  }

  /** A node evaluated at compile time: constant inputs, or the shape of a computed one. */
  protected fold(node: GraphNode): ConstTensor | null {
    const inputs: FoldInput[] = node.inputs.map((n) => {
      const v = n === '' ? undefined : this.values.get(n);
      return v === undefined ? undefined : v.kind === 'const' ? v.t : { shape: v.shape };
    });
    return foldNode(node, inputs, IMPORT_LIMITS.maxTensorElements);
  }

  /** The maximum of each row, by a chain of Max2 gadgets in one layer. */
  protected rowMax(node: GraphNode, a: ActValue, rows: number[][]): Form[] {
    const offset = this.lo.length;
    const layer = { forms: [] as Form[], rhs: [] as Form[], gadgets: [] as Gadget[] };
    const out = rows.map((r) => r.slice(1).reduce((m, i) => this.max2(node.name, layer, m, a.forms[i]), a.forms[r[0]]));
    if (layer.gadgets.length > 0) this.layers.push({ node: node.name, op: 'max', shape: [layer.gadgets.length], scale: a.scale, ...layer, offset });
    return out;
  }

  protected settledAct(node: GraphNode): ActValue {
    const a = this.act(node.inputs[0], node);
    return a.raw && this.tooWide(a.forms, MAX_BITS - 12) ? this.materialize(node.name, node.inputs[0], a, false) : a;
  }
}
