import type { ConstTensor, Graph, GraphNode } from '../onnx/graph.js';
import { size } from '../onnx/graph.js';
import type { ModelIO } from '../receipt/io.js';
import { inputsPerPack } from '../receipt/commitment.js';
import type { Form, Gadget, Layer, Program, ScaleRecord } from './program.js';
import type { QuantizeOptions } from './config.js';
import type { TensorStats } from './calibration.js';
import { addConst, combine, constForm, formBounds, signalForm } from './forms.js';
import { applyDiv, applySqrt, bitsFor, chooseGadget, compareBits, gadgetRange, MAX_BITS } from './gadgets.js';
import { chooseFn, SMOOTH_FNS } from './fn-table.js';
import { broadcastIndex } from './broadcast.js';
import { window2d, windowTaps } from './windows.js';
import { foldNode, FLOAT_TYPES, INT_CASTS, type FoldInput } from './fold.js';
import { expandMap, gatherMap, sliceMap, splitMaps, tileMap, type IndexMap } from './shape-ops.js';
import { IMPORT_LIMITS } from '../onnx/limits.js';
import { ZkinferError } from '../errors.js';

interface ConstValue { kind: 'const'; t: ConstTensor }
interface ActValue {
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
type Value = ConstValue | ActValue;

/** A linear map: output j = Σ w[t] * input[idx[t]] + bias[j], weights in float. */
interface LinearRows {
  idx: number[][];
  w: number[][];
  bias: Float64Array | null;
}

/** Forms larger than this are materialized before composing further. */
const MAX_FORM_TERMS = 8192;
/** Output bits a function table aims for at most: past them its segments and degree cost more than the error they remove. */
const FN_MAX_BITS = 9;
/**
 * Composing a linear map over forms that are themselves sums multiplies the
 * terms the circuit compiler has to handle. Past this factor (and size), the
 * input is rescaled into signals first: a few constraints per element buy a
 * circuit that compiles in minutes instead of hours.
 */
const MAX_COMPOSE_GROWTH = 2;
const COMPOSE_TERMS_FLOOR = 20_000;

const log2ceil = (m: number): number => Math.ceil(Math.log2(m));
/**
 * A constant added to a computed tensor never rounds to zero: a LayerNorm's
 * epsilon must keep the variance it is added to above zero, or the square
 * root it feeds could be 0 and the division by it unbounded. The rounding
 * error stays within one step.
 */
const roundKeepSign = (x: number): number => {
  const r = Math.round(x);
  return r === 0 && x !== 0 ? Math.sign(x) : r;
};
const attrInt = (n: GraphNode, name: string, dflt: number): number => {
  const a = n.attrs.get(name);
  return a && a.kind === 'int' ? a.value : dflt;
};
const attrFloat = (n: GraphNode, name: string, dflt: number): number => {
  const a = n.attrs.get(name);
  return a && (a.kind === 'float' || a.kind === 'int') ? a.value : dflt;
};
const attrInts = (n: GraphNode, name: string): number[] | null => {
  const a = n.attrs.get(name);
  return a && a.kind === 'ints' ? a.value : null;
};
const strides = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
};
/** Channel (ONNX axis 1) of each row-major element of a tensor of shape `shape`. */
const channelOf = (shape: readonly number[]): ((j: number) => number) => {
  const inner = size(shape.slice(2));
  return (j) => Math.floor(j / inner) % shape[1];
};
const normAxis = (axis: number, rank: number, node: GraphNode): number => {
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

class Quantizer {
  private readonly values = new Map<string, Value>();
  private readonly lo: number[] = [];
  private readonly hi: number[] = [];
  private readonly consumers = new Map<string, GraphNode[]>();
  private readonly folded = new Set<GraphNode>();
  /** Nodes inside a found pattern (a decomposed LayerNorm), computed by the pattern's last node. */
  private readonly skipped = new Set<GraphNode>();
  private readonly layerNorms = new Map<GraphNode, { x: string; axes: number[]; eps: number }>();
  readonly layers: Layer[] = [];
  readonly scales: ScaleRecord[] = [];
  readonly notes: string[] = [];

  constructor(private readonly q: QuantizeInput) {
    for (const n of q.graph.nodes) for (const i of n.inputs) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
  }

  private soleConsumer(tensor: string): GraphNode | null {
    const c = this.consumers.get(tensor) ?? [];
    return c.length === 1 && tensor !== this.q.graph.output.name ? c[0] : null;
  }

  private activationScale(tensor: string): { scale: number; reason: string } {
    return activationScaleOf(this.q.stats.get(tensor), this.q.options.activationBits);
  }

  private pushSignal(lo: number, hi: number): number {
    this.lo.push(lo);
    this.hi.push(hi);
    return this.lo.length - 1;
  }

  private bounds(f: Form, node: string): { lo: number; hi: number; abs: number } {
    const b = formBounds(f, this.lo, this.hi);
    if (b.abs >= 2 ** MAX_BITS) {
      throw new ZkinferError('QUANTIZATION_FAILED', `node "${node}" reaches magnitude 2^${Math.ceil(Math.log2(b.abs))} (limit 2^${MAX_BITS}); lower --activation-bits or --weight-bits`);
    }
    return b;
  }

  private act(name: string, node: GraphNode): ActValue {
    const v = this.values.get(name);
    if (!v) throw new ZkinferError('ONNX_INVALID', `node "${node.name}" reads "${name}", which is not available`);
    if (v.kind !== 'act') throw new ZkinferError('ONNX_UNSUPPORTED', `node "${node.name}" (${node.opType}) has constant input "${name}" where a computed tensor is expected`);
    return v.relu ? this.materialize(node.name, name, v, true) : v;
  }

  private constant(name: string, node: GraphNode): ConstTensor {
    const v = this.values.get(name);
    if (!v) throw new ZkinferError('ONNX_INVALID', `node "${node.name}" reads "${name}", which is not available`);
    if (v.kind !== 'const') {
      throw new ZkinferError('ONNX_UNSUPPORTED', `node "${node.name}" (${node.opType}): input "${name}" is computed; only a constant is supported there`);
    }
    return v.t;
  }

  /** Materializes forms through rescale(+ReLU) gadgets into a new layer of signals. */
  private materialize(node: string, tensor: string, v: ActValue, relu: boolean): ActValue {
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
  private weightScale(node: string, weights: Iterable<number>): number {
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
  private linear(node: GraphNode, inName: string, a: ActValue, rows: LinearRows, outShape: number[]): ActValue {
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

  /**
   * A BatchNormalization right after a linear node folds into its weights:
   * every output element has its own row, so scaling row j by the factor of
   * j's channel is exact. The channel is ONNX's axis 1 at every rank (for a
   * rank-3 MatMul output that is not the axis the weights run along).
   */
  private foldBatchNorm(node: GraphNode, rows: LinearRows, outShape: readonly number[]): LinearRows {
    const bn = this.soleConsumer(node.outputs[0]);
    if (!bn || bn.opType !== 'BatchNormalization' || outShape.length < 2) return rows;
    const p = this.bnAffine(bn, outShape);
    this.folded.add(bn);
    this.notes.push(`BatchNormalization "${bn.name}" folded into "${node.name}"`);
    const ch = channelOf(outShape);
    const n = rows.idx.length;
    const bias = new Float64Array(n);
    for (let j = 0; j < n; j++) bias[j] = (rows.bias ? rows.bias[j] : 0) * p.a[ch(j)] + p.b[ch(j)];
    return { idx: rows.idx, w: rows.w.map((r, j) => r.map((x) => x * p.a[ch(j)])), bias };
  }

  /** y = a[c] * x + b[c] for channel c (axis 1) of a tensor of shape `shape`. */
  private bnAffine(bn: GraphNode, shape: readonly number[]): { a: Float64Array; b: Float64Array } {
    const [, sName, bName, mName, vName] = bn.inputs;
    const [gamma, beta, mean, variance] = [sName, bName, mName, vName].map((n) => this.constant(n, bn).data);
    const C = shape[1];
    if (shape.length < 2 || [gamma, beta, mean, variance].some((t) => t.length !== C)) {
      throw new ZkinferError('ONNX_INVALID', `BatchNormalization node "${bn.name}": input [${shape}] needs ${C ?? 'a channel axis and'} parameters per channel (axis 1), got scale, bias, mean, variance of ${[gamma, beta, mean, variance].map((t) => t.length).join(', ')}`);
    }
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const a = gamma.map((g, i) => g / Math.sqrt(variance[i] + eps));
    const b = beta.map((x, i) => x - mean[i] * a[i]);
    return { a, b };
  }

  private gemm(node: GraphNode): ActValue {
    const [aName, bName, cName] = node.inputs;
    const a = this.act(aName, node);
    const b = this.constant(bName, node);
    const alpha = attrFloat(node, 'alpha', 1);
    const beta = attrFloat(node, 'beta', 1);
    const transA = attrInt(node, 'transA', 0);
    const transB = attrInt(node, 'transB', 0);
    if (a.shape.length !== 2 || b.dims.length !== 2) {
      throw new ZkinferError('ONNX_INVALID', `Gemm node "${node.name}" needs 2-D operands, got [${a.shape}] and [${b.dims}]`);
    }
    const [m, k] = transA ? [a.shape[1], a.shape[0]] : a.shape;
    if (transA && m !== 1) throw new ZkinferError('ONNX_UNSUPPORTED', `Gemm node "${node.name}": transA with ${m} rows is not supported`);
    const [kb, n] = transB ? [b.dims[1], b.dims[0]] : b.dims;
    if (kb !== k) throw new ZkinferError('ONNX_INVALID', `Gemm node "${node.name}": inner dimensions differ (${k} vs ${kb})`);
    let bias: Float64Array | null = null;
    if (cName) {
      const c = this.constant(cName, node);
      const map = broadcastIndex(c.dims, [m, n], node.name);
      bias = Float64Array.from(map, (i) => beta * c.data[i]);
    }
    const rows: LinearRows = { idx: [], w: [], bias };
    for (let r = 0; r < m; r++) {
      for (let j = 0; j < n; j++) {
        rows.idx.push(Array.from({ length: k }, (_, t) => r * k + t));
        rows.w.push(Array.from({ length: k }, (_, t) => alpha * (transB ? b.data[j * k + t] : b.data[t * n + j])));
      }
    }
    return this.linear(node, aName, a, this.foldBatchNorm(node, rows, [m, n]), [m, n]);
  }

  private matmul(node: GraphNode): ActValue {
    const [aName, bName] = node.inputs;
    if (this.values.get(aName)?.kind === 'act' && this.values.get(bName)?.kind === 'act') return this.matmul2(node);
    if (this.values.get(aName)?.kind === 'const') {
      throw new ZkinferError('ONNX_UNSUPPORTED', `MatMul node "${node.name}": a constant left operand is not supported (computed tensor times constant only)`);
    }
    const a = this.act(aName, node);
    const b = this.constant(bName, node);
    if (b.dims.length !== 2) throw new ZkinferError('ONNX_UNSUPPORTED', `MatMul node "${node.name}": the constant operand must be 2-D, got [${b.dims}]`);
    const k = a.shape[a.shape.length - 1];
    const [kb, n] = b.dims;
    if (kb !== k) throw new ZkinferError('ONNX_INVALID', `MatMul node "${node.name}": inner dimensions differ (${k} vs ${kb})`);
    const rowsN = a.forms.length / k;
    const rows: LinearRows = { idx: [], w: [], bias: null };
    for (let r = 0; r < rowsN; r++) {
      for (let j = 0; j < n; j++) {
        rows.idx.push(Array.from({ length: k }, (_, t) => r * k + t));
        rows.w.push(Array.from({ length: k }, (_, t) => b.data[t * n + j]));
      }
    }
    const outShape = [...a.shape.slice(0, -1), n];
    return this.linear(node, aName, a, this.foldBatchNorm(node, rows, outShape), outShape);
  }

  private conv(node: GraphNode): ActValue {
    const [xName, wName, bName] = node.inputs;
    const x = this.act(xName, node);
    const W = this.constant(wName, node);
    if (W.dims.length !== 4) throw new ZkinferError('ONNX_UNSUPPORTED', `Conv node "${node.name}": only 2-D convolutions are supported (weight dims [${W.dims}])`);
    const [M, Cg, kh, kw] = W.dims;
    const group = attrInt(node, 'group', 1);
    const C = x.shape[1];
    if (C !== Cg * group || M % group !== 0) {
      throw new ZkinferError('ONNX_INVALID', `Conv node "${node.name}": ${C} input channels do not match weights [${W.dims}] with group ${group}`);
    }
    const win = window2d(node, x.shape, [kh, kw]);
    const bias = bName ? this.constant(bName, node).data : null;
    const rows: LinearRows = { idx: [], w: [], bias: bias ? new Float64Array(M * win.outH * win.outW) : null };
    const mPerG = M / group;
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / mPerG);
      for (let oy = 0; oy < win.outH; oy++) {
        for (let ox = 0; ox < win.outW; ox++) {
          const idx: number[] = [];
          const w: number[] = [];
          const taps = windowTaps(win, oy, ox);
          for (let c = 0; c < Cg; c++) {
            const ci = g * Cg + c;
            for (const [ky, kx, y, xx] of taps) {
              if (y < 0) continue;
              const wv = W.data[((m * Cg + c) * kh + ky) * kw + kx];
              if (wv === 0) continue;
              idx.push((ci * win.inH + y) * win.inW + xx);
              w.push(wv);
            }
          }
          if (rows.bias) rows.bias[rows.idx.length] = bias![m];
          rows.idx.push(idx);
          rows.w.push(w);
        }
      }
    }
    const outShape = [1, M, win.outH, win.outW];
    return this.linear(node, xName, x, this.foldBatchNorm(node, rows, outShape), outShape);
  }

  private averagePool(node: GraphNode, global: boolean): ActValue {
    const x = this.act(node.inputs[0], node);
    if (x.shape.length !== 4) throw new ZkinferError('ONNX_UNSUPPORTED', `${node.opType} node "${node.name}": only 2-D inputs (N, C, H, W) are supported, got [${x.shape}]`);
    const [, C, H, Wd] = x.shape;
    const win = global ? window2d(node, x.shape, [H, Wd]) : window2d(node, x.shape);
    const includePad = attrInt(node, 'count_include_pad', 0) === 1;
    const rows: LinearRows = { idx: [], w: [], bias: null };
    for (let c = 0; c < C; c++) {
      for (let oy = 0; oy < win.outH; oy++) {
        for (let ox = 0; ox < win.outW; ox++) {
          const taps = windowTaps(win, oy, ox);
          const inside = taps.filter((t) => t[2] >= 0);
          const div = includePad ? taps.length : inside.length;
          rows.idx.push(inside.map(([, , y, xx]) => (c * H + y) * Wd + xx));
          rows.w.push(inside.map(() => 1 / div));
        }
      }
    }
    return this.linear(node, node.inputs[0], x, rows, [1, C, win.outH, win.outW]);
  }

  /** Max of two forms, through a Max2 gadget unless the bounds decide it. */
  private max2(node: string, layer: { forms: Form[]; rhs: Form[]; gadgets: Gadget[] }, a: Form, b: Form): Form {
    const ba = this.bounds(a, node);
    const bb = this.bounds(b, node);
    const nb = compareBits(ba.lo - bb.hi, ba.hi - bb.lo, node);
    if (nb === null) return ba.lo - bb.hi >= 0 ? a : b;
    layer.forms.push(a);
    layer.rhs.push(b);
    layer.gadgets.push({ kind: 'max', nb });
    return signalForm(this.pushSignal(Math.max(ba.lo, bb.lo), Math.max(ba.hi, bb.hi)));
  }

  /**
   * MaxPool as one comparison chain per window: (k-1) Max2 gadgets. It runs on
   * the accumulators before rescaling and ReLU, which are monotone, so one
   * rescale per window replaces one per input element.
   */
  private maxPool(node: GraphNode): ActValue {
    let v = this.values.get(node.inputs[0]);
    if (!v || v.kind !== 'act') throw new ZkinferError('ONNX_UNSUPPORTED', `MaxPool node "${node.name}" needs a computed input`);
    // A comparison takes the difference of two accumulators, one bit wider than
    // either: near the exact limit, rescale them first.
    if (v.raw && this.tooWide(v.forms, MAX_BITS - 2)) v = this.materialize(node.name, node.inputs[0], v, v.relu);
    const win = window2d(node, v.shape);
    const [, C, H, W] = v.shape;
    const offset = this.lo.length;
    const layer = { forms: [] as Form[], rhs: [] as Form[], gadgets: [] as Gadget[] };
    const out: Form[] = [];
    for (let c = 0; c < C; c++) {
      for (let oy = 0; oy < win.outH; oy++) {
        for (let ox = 0; ox < win.outW; ox++) {
          const taps = windowTaps(win, oy, ox).filter((t) => t[2] >= 0);
          let m = v.forms[(c * H + taps[0][2]) * W + taps[0][3]];
          for (const [, , y, x] of taps.slice(1)) m = this.max2(node.name, layer, m, v.forms[(c * H + y) * W + x]);
          out.push(m);
        }
      }
    }
    if (layer.gadgets.length > 0) {
      this.layers.push({ node: node.name, op: 'max', shape: [layer.gadgets.length], scale: v.scale, forms: layer.forms, rhs: layer.rhs, gadgets: layer.gadgets, offset });
    }
    const pooled: ActValue = { kind: 'act', shape: [1, C, win.outH, win.outW], scale: v.scale, forms: out, raw: v.raw, relu: false };
    return v.relu ? this.materialize(node.name, node.outputs[0], pooled, true) : pooled;
  }

  /** Some form's magnitude leaves no headroom for exact composition (by default half the exact limit). */
  private tooWide(forms: readonly Form[], bits = MAX_BITS - 1): boolean {
    return forms.some((f) => formBounds(f, this.lo, this.hi).abs >= 2 ** bits);
  }

  /**
   * Brings act and constant operands to one scale (exact: scales only go up).
   * With `settle`, raw operands are rescaled into signals first, for a sum or
   * scale-up that would pass the exact range otherwise.
   */
  private aligned(node: GraphNode, names: readonly string[], settle = false): { vals: ActValue[]; scale: number } {
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

  /** Add or Sub, of constants or computed tensors, with broadcasting. */
  private addSub(node: GraphNode, sign: 1 | -1): ActValue {
    const r = this.addSubOf(node, sign, false);
    return r.raw && this.tooWide(r.forms) ? this.addSubOf(node, sign, true) : r;
  }

  private addSubOf(node: GraphNode, sign: 1 | -1, settle: boolean): ActValue {
    const { vals, scale } = this.aligned(node, node.inputs.slice(0, 2), settle);
    const [x, y] = vals;
    const shape = x.shape.length >= y.shape.length && size(x.shape) >= size(y.shape) ? x.shape : y.shape;
    const mx = broadcastIndex(x.shape, shape, node.name);
    const my = broadcastIndex(y.shape, shape, node.name);
    const forms = Array.from(mx, (ix, i) => {
      const fy = y.forms[my[i]];
      const fx = x.forms[ix];
      return fy.idx.length === 0 ? addConst(fx, sign * fy.c) : combine([fx, fy], [1, sign], 0);
    });
    return { kind: 'act', shape: [...shape], scale, forms, raw: x.raw || y.raw, relu: false };
  }

  private mul(node: GraphNode): ActValue {
    const [p, q] = node.inputs;
    const vp = this.values.get(p);
    const vq = this.values.get(q);
    if (vp?.kind === 'act' && vq?.kind === 'act') return this.mul2(node);
    const [actName, cName] = vp?.kind === 'act' ? [p, q] : [q, p];
    const a = this.act(actName, node);
    const c = this.constant(cName, node);
    const map = broadcastIndex(c.dims, a.shape, node.name);
    const rows: LinearRows = { idx: a.forms.map((_, i) => [i]), w: Array.from(map, (k) => [c.data[k]]), bias: null };
    return this.linear(node, actName, a, rows, [...a.shape]);
  }

  private batchNorm(node: GraphNode): Value {
    if (this.folded.has(node)) return this.values.get(node.inputs[0])!;
    const a = this.act(node.inputs[0], node);
    const p = this.bnAffine(node, a.shape);
    const ch = channelOf(a.shape);
    const rows: LinearRows = {
      idx: a.forms.map((_, j) => [j]),
      w: a.forms.map((_, j) => [p.a[ch(j)]]),
      bias: Float64Array.from(a.forms, (_, j) => p.b[ch(j)]),
    };
    return this.linear(node, node.inputs[0], a, rows, [...a.shape]);
  }

  private pad(node: GraphNode): ActValue {
    const a = this.act(node.inputs[0], node);
    const modeAttr = node.attrs.get('mode');
    const mode = modeAttr && modeAttr.kind === 'string' ? modeAttr.value : 'constant';
    if (mode !== 'constant') throw new ZkinferError('ONNX_UNSUPPORTED', `Pad node "${node.name}": mode "${mode}" is not supported (constant only)`);
    const pads = node.inputs[1] ? Array.from(this.constant(node.inputs[1], node).data) : attrInts(node, 'pads') ?? [];
    if (node.inputs[3]) throw new ZkinferError('ONNX_UNSUPPORTED', `Pad node "${node.name}": the axes input is not supported`);
    const value = node.inputs[2] ? this.constant(node.inputs[2], node).data[0] ?? 0 : attrFloat(node, 'value', 0);
    const r = a.shape.length;
    if (pads.length !== 2 * r) throw new ZkinferError('ONNX_INVALID', `Pad node "${node.name}": ${pads.length} pads for a rank-${r} tensor`);
    const shape = a.shape.map((d, i) => d + pads[i] + pads[i + r]);
    const inStr = strides(a.shape);
    const outStr = strides(shape);
    const fill = constForm(Math.round(value * 2 ** a.scale));
    const forms = Array.from({ length: size(shape) }, (_, o) => {
      let src = 0;
      for (let d = 0; d < r; d++) {
        const c = Math.floor(o / outStr[d]) % shape[d] - pads[d];
        if (c < 0 || c >= a.shape[d]) return fill;
        src += c * inStr[d];
      }
      return a.forms[src];
    });
    return { ...a, shape, forms };
  }

  private transpose(node: GraphNode): ActValue {
    const a = this.act(node.inputs[0], node);
    const r = a.shape.length;
    const perm = attrInts(node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    const shape = perm.map((p) => a.shape[p]);
    const inStr = strides(a.shape);
    const outStr = strides(shape);
    const forms = Array.from({ length: a.forms.length }, (_, o) => {
      let src = 0;
      for (let d = 0; d < r; d++) src += (Math.floor(o / outStr[d]) % shape[d]) * inStr[perm[d]];
      return a.forms[src];
    });
    return { ...a, shape, forms };
  }

  private axesOf(node: GraphNode): number[] | null {
    if (node.inputs[1]) return Array.from(this.constant(node.inputs[1], node).data);
    return attrInts(node, 'axes');
  }

  private concat(node: GraphNode): ActValue {
    const r = this.concatOf(node, false);
    return r.raw && this.tooWide(r.forms) ? this.concatOf(node, true) : r;
  }

  private concatOf(node: GraphNode, settle: boolean): ActValue {
    const { vals, scale } = this.aligned(node, node.inputs, settle);
    const r = vals[0].shape.length;
    const axis = normAxis(attrInt(node, 'axis', 0), r, node);
    const outer = size(vals[0].shape.slice(0, axis));
    const forms: Form[] = [];
    for (let o = 0; o < outer; o++) {
      for (const v of vals) {
        const chunk = size(v.shape.slice(axis));
        forms.push(...v.forms.slice(o * chunk, (o + 1) * chunk));
      }
    }
    const shape = [...vals[0].shape];
    shape[axis] = vals.reduce((s, v) => s + v.shape[axis], 0);
    return { kind: 'act', shape, scale, forms, raw: vals.some((v) => v.raw), relu: false };
  }

  private reshape(node: GraphNode, a: ActValue, shape: number[]): ActValue {
    if (size(shape) !== a.forms.length) {
      throw new ZkinferError('ONNX_INVALID', `node "${node.name}" (${node.opType}): cannot reshape [${a.shape}] to [${shape}]`);
    }
    return { ...a, shape };
  }

  private reshapeTarget(node: GraphNode, a: ActValue): number[] {
    const t = this.constant(node.inputs[1], node);
    const allowzero = attrInt(node, 'allowzero', 0);
    const dims = Array.from(t.data, (d, i) => (d === 0 && !allowzero ? a.shape[i] : d));
    const known = dims.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    return dims.map((d) => (d === -1 ? a.forms.length / known : d));
  }


  /** A computed input as signals of its own scale: products multiply magnitudes, so raw forms are rescaled first. */
  private settled(name: string, node: GraphNode): ActValue {
    const a = this.act(name, node);
    return a.raw ? this.materialize(node.name, name, a, false) : a;
  }

  private checkMagnitude(lo: number, hi: number, node: string): void {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    if (m >= 2 ** MAX_BITS) {
      throw new ZkinferError('QUANTIZATION_FAILED', `node "${node}" reaches magnitude 2^${Math.ceil(Math.log2(m))} (limit 2^${MAX_BITS}); lower --activation-bits or --weight-bits`);
    }
  }

  /** Interval of a·b; a form times itself is a square (never negative). */
  private productBounds(a: Form, b: Form, node: string): [number, number] {
    const ba = this.bounds(a, node);
    if (a === b || (a.c === b.c && a.idx.length === b.idx.length && a.idx.every((x, t) => x === b.idx[t] && a.w[t] === b.w[t]))) {
      const m = Math.max(ba.lo * ba.lo, ba.hi * ba.hi);
      return [ba.lo <= 0 && ba.hi >= 0 ? 0 : Math.min(ba.lo * ba.lo, ba.hi * ba.hi), m];
    }
    const bb = this.bounds(b, node);
    const c = [ba.lo * bb.lo, ba.lo * bb.hi, ba.hi * bb.lo, ba.hi * bb.hi];
    return [Math.min(...c), Math.max(...c)];
  }

  /**
   * Sums of products of computed values, one product gadget per output (one
   * constraint per product). A factor that is a constant folds into the base.
   * The outputs are raw: at the factors' summed scale.
   */
  private products(node: GraphNode, shape: number[], scale: number, items: Array<{ base: Form; pairs: Form[]; bound?: readonly [number, number] }>, absBound = Infinity): ActValue {
    const offset = this.lo.length;
    const layer = { forms: [] as Form[], pairs: [] as Form[][], gadgets: [] as Gadget[] };
    const out = items.map(({ base, pairs, bound }) => {
      let b = base;
      const kept: Form[] = [];
      let lo = 0;
      let hi = 0;
      for (let t = 0; t < pairs.length; t += 2) {
        const [x, y] = [pairs[t], pairs[t + 1]];
        if (x.idx.length === 0 || y.idx.length === 0) {
          const [k, f] = x.idx.length === 0 ? [x.c, y] : [y.c, x];
          b = combine([b, f], [1, k], 0);
          continue;
        }
        const [l, h] = this.productBounds(x, y, node.name);
        lo += l;
        hi += h;
        kept.push(x, y);
      }
      if (kept.length === 0) return b;
      const bb = this.bounds(b, node.name);
      lo = Math.max(lo + bb.lo, -absBound, bound ? bound[0] + bb.lo : -Infinity);
      hi = Math.min(hi + bb.hi, absBound, bound ? bound[1] + bb.hi : Infinity);
      this.checkMagnitude(lo, hi, node.name);
      layer.forms.push(b);
      layer.pairs.push(kept);
      layer.gadgets.push({ kind: 'product', terms: kept.length / 2 });
      return signalForm(this.pushSignal(lo, hi));
    });
    if (layer.gadgets.length > 0) this.layers.push({ node: node.name, op: 'product', shape: [layer.gadgets.length], scale, ...layer, offset });
    return { kind: 'act', shape, scale, forms: out, raw: true, relu: false };
  }

  /** Mul of two computed tensors (with broadcasting): one product each. */
  private mul2(node: GraphNode): ActValue {
    const [a, b] = node.inputs.map((n) => this.settled(n, node));
    const shape = a.shape.length >= b.shape.length && size(a.shape) >= size(b.shape) ? a.shape : b.shape;
    const ma = broadcastIndex(a.shape, shape, node.name);
    const mb = broadcastIndex(b.shape, shape, node.name);
    const items = Array.from(ma, (ia, j) => ({ base: constForm(0), pairs: [a.forms[ia], b.forms[mb[j]]] }));
    return this.products(node, [...shape], a.scale + b.scale, items);
  }

  /** MatMul of two computed tensors [..., M, K]·[..., K, N], batch dimensions broadcast: K products per output. */
  private matmul2(node: GraphNode): ActValue {
    const [a, b] = node.inputs.map((n) => this.settled(n, node));
    if (a.shape.length < 2 || b.shape.length < 2) throw new ZkinferError('ONNX_UNSUPPORTED', `MatMul node "${node.name}": computed operands must be at least 2-D, got [${a.shape}] and [${b.shape}]`);
    const [M, K] = a.shape.slice(-2);
    const [Kb, N] = b.shape.slice(-2);
    if (K !== Kb) throw new ZkinferError('ONNX_INVALID', `MatMul node "${node.name}": inner dimensions differ (${K} vs ${Kb})`);
    const ba = a.shape.slice(0, -2);
    const bb = b.shape.slice(0, -2);
    const batch = ba.length >= bb.length && size(ba) >= size(bb) ? ba : bb;
    const ia = broadcastIndex(ba, batch, node.name);
    const ib = broadcastIndex(bb, batch, node.name);
    const items: Array<{ base: Form; pairs: Form[]; bound?: [number, number] }> = [];
    for (let z = 0; z < size(batch); z++) {
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          const pairs: Form[] = [];
          let vlo = 0;
          let vhi = 0;
          for (let k = 0; k < K; k++) {
            const f = b.forms[(ib[z] * K + k) * N + j];
            pairs.push(a.forms[(ia[z] * M + i) * K + k], f);
            if (a.rowSum !== undefined) {
              const bb = this.bounds(f, node.name);
              vlo = Math.min(vlo, bb.lo);
              vhi = Math.max(vhi, bb.hi);
            }
          }
          items.push({ base: constForm(0), pairs, ...(a.rowSum !== undefined ? { bound: [a.rowSum * vlo, a.rowSum * vhi] as [number, number] } : {}) });
        }
      }
    }
    return this.products(node, [...batch, M, N], a.scale + b.scale, items);
  }

  /**
   * floor(num·2^k / den) per element, den > 0 over its bounds. The scale of
   * the quotient is num's + k - den's: k is chosen so it reaches `target`.
   * `denLo` may tighten den's interval where the graph proves more (a
   * softmax's sum holds its maximum's exp).
   */
  private divide(node: GraphNode, shape: number[], num: { forms: Form[]; scale: number }, den: { forms: Form[]; scale: number }, target: number, denLo?: number): ActValue {
    const k = Math.max(0, target - num.scale + den.scale);
    const offset = this.lo.length;
    const layer = { forms: [] as Form[], rhs: [] as Form[], gadgets: [] as Gadget[] };
    const out = num.forms.map((nf, j) => {
      const df = den.forms[j];
      const bn = this.bounds(nf, node.name);
      const bd = this.bounds(df, node.name);
      const dlo = Math.max(bd.lo, denLo ?? -Infinity);
      if (!(dlo > 0)) {
        throw new ZkinferError('QUANTIZATION_FAILED', `node "${node.name}" (${node.opType}): the denominator may reach ${(dlo / 2 ** den.scale).toPrecision(4)}; only a denominator that stays above zero is supported`);
      }
      this.checkMagnitude(bn.lo * 2 ** k, bn.hi * 2 ** k, node.name);
      const rb = bitsFor(bd.hi);
      const corners = [bn.lo * 2 ** k / dlo, bn.lo * 2 ** k / bd.hi, bn.hi * 2 ** k / dlo, bn.hi * 2 ** k / bd.hi];
      const qlo = Math.floor(Math.min(...corners));
      const qhi = Math.floor(Math.max(...corners));
      const qoff = qlo < 0 ? -qlo : 0;
      const g = { kind: 'div', k, rb, qb: Math.max(1, bitsFor(qhi + qoff)), qoff } as const;
      if (applyDiv(g, bn.hi, dlo) === null || applyDiv(g, bn.lo, dlo) === null) throw new ZkinferError('QUANTIZATION_FAILED', `node "${node.name}": quotient bounds do not hold`);
      layer.forms.push(nf);
      layer.rhs.push(df);
      layer.gadgets.push(g);
      return signalForm(this.pushSignal(qlo, qhi));
    });
    const scale = num.scale + k - den.scale;
    this.layers.push({ node: node.name, op: 'div', shape: [layer.gadgets.length], scale, ...layer, offset });
    return { kind: 'act', shape, scale, forms: out, raw: scale > this.activationScale(node.outputs[0]).scale, relu: false };
  }

  /** Div of computed tensors. A denominator shared by several numerators is inverted once, then multiplied. */
  private div(node: GraphNode): ActValue {
    const [nName, dName] = node.inputs;
    if (this.values.get(dName)?.kind === 'const') {
      const c = this.constant(dName, node);
      if (Array.from(c.data).some((x) => x === 0)) throw new ZkinferError('ONNX_INVALID', `Div node "${node.name}": division by a constant zero`);
      const a = this.act(nName, node);
      const map = broadcastIndex(c.dims, a.shape, node.name);
      const rows: LinearRows = { idx: a.forms.map((_, i) => [i]), w: Array.from(map, (k) => [1 / c.data[k]]), bias: null };
      return this.linear(node, nName, a, rows, [...a.shape]);
    }
    const d = this.settled(dName, node);
    const nv = this.values.get(nName);
    const n: ActValue = nv?.kind === 'const'
      ? { kind: 'act', shape: [...nv.t.dims], scale: this.q.options.activationBits, raw: false, relu: false, forms: Array.from(nv.t.data, (x) => constForm(Math.round(x * 2 ** this.q.options.activationBits))) }
      : this.settled(nName, node);
    const shape = n.shape.length >= d.shape.length && size(n.shape) >= size(d.shape) ? n.shape : d.shape;
    const mn = broadcastIndex(n.shape, shape, node.name);
    const md = broadcastIndex(d.shape, shape, node.name);
    const target = this.activationScale(node.outputs[0]).scale;
    if (size(shape) > size(d.shape)) {
      // 1/den once per denominator, at enough bits for the smallest quotient step.
      const bd = d.forms.map((f) => this.bounds(f, node.name));
      const top = Math.max(...bd.map((b) => b.hi));
      const K = bitsFor(top) + this.q.options.activationBits + 2;
      const inv = this.divide(node, [...d.shape], { forms: d.forms.map(() => constForm(1)), scale: 0 }, d, K - d.scale);
      const items = Array.from(mn, (i, j) => ({ base: constForm(0), pairs: [n.forms[i], inv.forms[md[j]]] }));
      return this.products(node, [...shape], n.scale + inv.scale, items);
    }
    return this.divide(node, [...shape], { forms: Array.from(mn, (i) => n.forms[i]), scale: n.scale }, { forms: Array.from(md, (i) => d.forms[i]), scale: d.scale }, target);
  }

  /** Sqrt of a computed tensor that stays >= 0: floor(sqrt(x·2^k)), k making x's scale + k even. */
  private sqrtOf(node: GraphNode, a: ActValue): ActValue {
    const target = this.activationScale(node.outputs[0]).scale;
    let k = Math.max(0, 2 * target - a.scale);
    if ((a.scale + k) % 2 !== 0) k++;
    const offset = this.lo.length;
    const layer = { forms: [] as Form[], gadgets: [] as Gadget[] };
    const out = a.forms.map((f) => {
      const b = this.bounds(f, node.name);
      if (b.lo < 0) throw new ZkinferError('QUANTIZATION_FAILED', `node "${node.name}" (${node.opType}): its input may reach ${(b.lo / 2 ** a.scale).toPrecision(4)}; Sqrt needs an input that stays >= 0`);
      this.checkMagnitude(b.hi * 2 ** k, 0, node.name);
      const shi = Math.floor(Math.sqrt(b.hi * 2 ** k)) + 1;
      const g = { kind: 'sqrt', k, gb: bitsFor(2 * shi) } as const;
      layer.forms.push(f);
      layer.gadgets.push(g);
      return signalForm(this.pushSignal(applySqrt(g, b.lo)!, applySqrt(g, b.hi)!));
    });
    const scale = (a.scale + k) / 2;
    this.layers.push({ node: node.name, op: 'sqrt', shape: [layer.gadgets.length], scale, ...layer, offset });
    return { kind: 'act', shape: [...a.shape], scale, forms: out, raw: false, relu: false };
  }

  /** A smooth element-wise function through one fn table for the whole tensor. */
  private smooth(node: GraphNode, fnName: string, a: ActValue, tensor = node.outputs[0], lo?: number, hi?: number): ActValue {
    const fn = SMOOTH_FNS[fnName];
    let l = Infinity;
    let h = -Infinity;
    for (const f of a.forms) {
      const b = this.bounds(f, node.name);
      l = Math.min(l, b.lo);
      h = Math.max(h, b.hi);
    }
    const choice = chooseFn(fn, { lo: lo ?? l, hi: hi ?? h, scale: a.scale }, Math.min(FN_MAX_BITS, this.activationScale(tensor).scale), node.name);
    const offset = this.lo.length;
    const forms = a.forms.map(() => signalForm(this.pushSignal(choice.outLo, choice.outHi)));
    this.layers.push({ node: node.name, op: 'fn', shape: [a.forms.length], scale: choice.outScale, forms: a.forms, gadgets: a.forms.map(() => choice.gadget), table: choice.table, offset });
    this.notes.push(`${fn.name} "${node.name}": piecewise polynomial, ${2 ** choice.gadget.h} segments of degree ${choice.gadget.d} on inputs at 2^-${choice.inScale}; largest error ${choice.maxError.toPrecision(3)}`);
    return { kind: 'act', shape: [...a.shape], scale: choice.outScale, forms, raw: true, relu: false };
  }

  /** Rows along `axis`: for each, the flat indices of its elements. */
  private rows(shape: readonly number[], axis: number): number[][] {
    const st = strides(shape);
    const n = shape[axis];
    const out: number[][] = [];
    for (let f = 0; f < size(shape); f++) {
      if (Math.floor(f / st[axis]) % n !== 0) continue;
      out.push(Array.from({ length: n }, (_, i) => f + i * st[axis]));
    }
    return out;
  }

  /** The maximum of each row, by a chain of Max2 gadgets in one layer. */
  private rowMax(node: GraphNode, a: ActValue, rows: number[][]): Form[] {
    const offset = this.lo.length;
    const layer = { forms: [] as Form[], rhs: [] as Form[], gadgets: [] as Gadget[] };
    const out = rows.map((r) => r.slice(1).reduce((m, i) => this.max2(node.name, layer, m, a.forms[i]), a.forms[r[0]]));
    if (layer.gadgets.length > 0) this.layers.push({ node: node.name, op: 'max', shape: [layer.gadgets.length], scale: a.scale, ...layer, offset });
    return out;
  }

  /**
   * Softmax along an axis: x - max (<= 0, and 0 at the maximum), exp by a
   * table, the row's sum inverted once and multiplied into each element.
   */
  private softmax(node: GraphNode, log: boolean): ActValue {
    let a = this.act(node.inputs[0], node);
    if (a.raw && this.tooWide(a.forms, MAX_BITS - 2)) a = this.materialize(node.name, node.inputs[0], a, false);
    const axis = normAxis(attrInt(node, 'axis', -1), a.shape.length, node);
    const rows = this.rows(a.shape, axis);
    const max = this.rowMax(node, a, rows);
    const d: Form[] = new Array(a.forms.length);
    let lo = 0;
    rows.forEach((r, k) => r.forEach((i) => {
      d[i] = combine([a.forms[i], max[k]], [1, -1], 0);
      lo = Math.min(lo, this.bounds(d[i], node.name).lo);
    }));
    const e = this.smooth(node, 'Exp', { ...a, forms: d }, `${node.outputs[0]}`, lo, 0);
    const one = Math.round(2 ** e.scale);
    const sums = rows.map((r) => combine(r.map((i) => e.forms[i]), r.map(() => 1), 0));
    const eLo = Math.min(0, ...e.forms.map((f) => this.bounds(f, node.name).lo));
    const sumLo = one + (rows[0].length - 1) * eLo - 2 ** (e.scale - this.q.options.activationBits);
    if (log) {
      const ls = this.smooth(node, 'Log', { kind: 'act', shape: [rows.length], scale: e.scale, forms: sums, raw: true, relu: false }, node.outputs[0], Math.max(1, sumLo), undefined);
      // log_softmax = d - log(Σ exp(d)), aligned to the finer of the two scales.
      const scale = Math.max(a.scale, ls.scale);
      const forms = new Array<Form>(a.forms.length);
      rows.forEach((r, k) => r.forEach((i) => {
        forms[i] = combine([d[i], ls.forms[k]], [2 ** (scale - a.scale), -(2 ** (scale - ls.scale))], 0);
      }));
      return { kind: 'act', shape: [...a.shape], scale, forms, raw: true, relu: false };
    }
    // The inverse needs the probabilities' bits, no more than the exp table holds.
    const K = bitsFor(rows[0].length * one) + Math.min(FN_MAX_BITS, this.q.options.activationBits) + 2;
    const inv = this.divide(node, [rows.length], { forms: sums.map(() => constForm(1)), scale: 0 }, { forms: sums, scale: e.scale }, K - e.scale, sumLo);
    const items = new Array<{ base: Form; pairs: Form[] }>(a.forms.length);
    rows.forEach((r, k) => r.forEach((i) => (items[i] = { base: constForm(0), pairs: [e.forms[i], inv.forms[k]] })));
    // Σ_i e_i·floor(2^K / Σ e) <= 2^K when no e_i is negative: so is each product.
    const p = this.products(node, [...a.shape], e.scale + inv.scale, items, eLo >= 0 ? 2 ** K : Infinity);
    return eLo >= 0 && axis === a.shape.length - 1 ? { ...p, rowSum: 2 ** K } : p;
  }

  /** ReduceSum/ReduceMean (linear), ReduceMax/ReduceMin (Max2 chains) over any axes. */
  private reduce(node: GraphNode): ActValue {
    const a = this.act(node.inputs[0], node);
    const r = a.shape.length;
    const axesIn = node.inputs[1] ? Array.from(this.constant(node.inputs[1], node).data) : attrInts(node, 'axes');
    const noop = attrInt(node, 'noop_with_empty_axes', 0) === 1;
    if ((!axesIn || axesIn.length === 0) && noop) return a;
    const axes = (axesIn && axesIn.length ? axesIn : a.shape.map((_, i) => i)).map((x) => normAxis(x, r, node));
    const keep = attrInt(node, 'keepdims', 1) === 1;
    const outShape = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const st = strides(a.shape);
    const ost = strides(outShape);
    const groups: number[][] = Array.from({ length: size(outShape) }, () => []);
    for (let f = 0; f < a.forms.length; f++) {
      let o = 0;
      for (let d = 0; d < r; d++) if (!axes.includes(d)) o += (Math.floor(f / st[d]) % a.shape[d]) * ost[d];
      groups[o].push(f);
    }
    const shape = keep ? outShape : a.shape.filter((_, i) => !axes.includes(i));
    if (node.opType === 'ReduceSum' || node.opType === 'ReduceMean') {
      const k = node.opType === 'ReduceMean' ? 1 / groups[0].length : 1;
      return this.linear(node, node.inputs[0], a, { idx: groups, w: groups.map((g) => g.map(() => k)), bias: null }, shape);
    }
    const sign = node.opType === 'ReduceMax' ? 1 : -1;
    const src: ActValue = sign === 1 ? a : { ...a, forms: a.forms.map((f) => combine([f], [-1], 0)) };
    const m = this.rowMax(node, src, groups);
    return { kind: 'act', shape, scale: a.scale, forms: sign === 1 ? m : m.map((f) => combine([f], [-1], 0)), raw: a.raw, relu: false };
  }

  /**
   * (x - mean) / sqrt(var + eps) over the trailing axes from `axis`, divided
   * by sqrt(n) (a weight the caller folds in): d_i = n·x_i - Σx exactly, then
   * V = Σ d_i² + n³·eps (n products), one square root and one inverse per row,
   * and d_i·inv (one product each). Since d_i² <= V, |d_i·inv| stays below
   * 2^(K + 1 - k/2) whatever the interval analysis says of d and inv apart.
   */
  private normalized(node: GraphNode, inName: string, axis: number, eps: number): { value: ActValue; n: number } {
    const a = this.settled(inName, node);
    const n = size(a.shape.slice(axis));
    const rowsN = a.forms.length / n;
    const rowsIdx = Array.from({ length: rowsN }, (_, r) => Array.from({ length: n }, (_, i) => r * n + i));
    const d = rowsIdx.map((row) => row.map((i) => combine(row.map((t) => a.forms[t]), row.map((t) => (t === i ? n - 1 : -1)), 0)));
    const epsQ = Math.max(1, Math.round(n ** 3 * eps * 2 ** (2 * a.scale)));
    const v = this.products(node, [rowsN], 2 * a.scale, d.map((row) => ({ base: constForm(epsQ), pairs: row.flatMap((f) => [f, f]) })));
    const sq = this.sqrtOf(node, { ...v, raw: false });
    const k = 2 * sq.scale - 2 * a.scale;
    const sLo = Math.max(1, Math.floor(Math.sqrt(epsQ * 2 ** k)));
    // The inverse's precision follows the calibrated spread of x (a precision choice, not a bound).
    const st = this.q.stats.get(inName);
    const typical = n ** 1.5 * Math.max(1e-3, st ? Math.max(Math.abs(st.min), Math.abs(st.max)) : 1) * 2 ** sq.scale;
    const K = bitsFor(Math.ceil(typical)) + this.q.options.activationBits + 2;
    const inv = this.divide(node, [rowsN], { forms: sq.forms.map(() => constForm(1)), scale: 0 }, sq, K - sq.scale, sLo);
    const items = rowsIdx.flatMap((row, r) => row.map((_, i) => ({ base: constForm(0), pairs: [d[r][i], inv.forms[r]] })));
    return { value: this.products(node, [...a.shape], a.scale + inv.scale, items, 2 ** (K + 1 - k / 2)), n };
  }

  /** LayerNormalization (opset 17): the normalized rows, then scale and bias as weights. */
  private layerNorm(node: GraphNode): ActValue {
    const x = this.act(node.inputs[0], node);
    const axis = normAxis(attrInt(node, 'axis', -1), x.shape.length, node);
    const { value: p, n } = this.normalized(node, node.inputs[0], axis, attrFloat(node, 'epsilon', 1e-5));
    const gamma = this.constant(node.inputs[1], node);
    const beta = node.inputs[2] ? this.constant(node.inputs[2], node) : null;
    const norm = x.shape.slice(axis);
    const gi = broadcastIndex(gamma.dims, norm, node.name);
    const bi = beta ? broadcastIndex(beta.dims, norm, node.name) : null;
    const rows: LinearRows = {
      idx: p.forms.map((_, j) => [j]),
      w: p.forms.map((_, j) => [Math.sqrt(n) * gamma.data[gi[j % n]]]),
      bias: beta ? Float64Array.from(p.forms, (_, j) => beta.data[bi![j % n]]) : null,
    };
    // Rescaled at once: the normalized rows carry the inverse's precision, which later layers do not need.
    return this.materialize(node.name, node.outputs[0], this.linear(node, node.inputs[0], p, rows, [...x.shape]), false);
  }

  /**
   * The LayerNorm opset 13 exports, Div(Sub(x, ReduceMean(x)),
   * Sqrt(Add(ReduceMean(Pow(Sub, 2)), eps))), found before quantizing: its
   * Div computes the normalized rows in one piece (the scale and bias after
   * it stay ordinary Mul and Add), and the nodes between are skipped.
   */
  private findLayerNorms(): void {
    const producer = new Map<string, GraphNode>();
    for (const n of this.q.graph.nodes) for (const o of n.outputs) producer.set(o, n);
    const only = (t: string, users: number) => (this.consumers.get(t) ?? []).length === users && t !== this.q.graph.output.name;
    const constVal = (t: string): number | null => {
      const c = this.q.graph.constants.get(t);
      return c && c.data.length === 1 ? c.data[0] : null;
    };
    const meanAxes = (n: GraphNode | undefined): number[] | null => {
      if (!n || n.opType !== 'ReduceMean' || attrInt(n, 'keepdims', 1) !== 1) return null;
      return n.inputs[1] ? Array.from(this.q.graph.constants.get(n.inputs[1])?.data ?? []) : attrInts(n, 'axes');
    };
    for (const div of this.q.graph.nodes) {
      if (div.opType !== 'Div') continue;
      const sub = producer.get(div.inputs[0]);
      const sqrt = producer.get(div.inputs[1]);
      if (sub?.opType !== 'Sub' || sqrt?.opType !== 'Sqrt') continue;
      const mean1 = producer.get(sub.inputs[1]);
      const x = sub.inputs[0];
      const add = producer.get(sqrt.inputs[0]);
      if (!mean1 || mean1.inputs[0] !== x || add?.opType !== 'Add') continue;
      const [vName, eName] = constVal(add.inputs[1]) !== null ? [add.inputs[0], add.inputs[1]] : [add.inputs[1], add.inputs[0]];
      const eps = constVal(eName);
      const mean2 = producer.get(vName);
      const pow = mean2 ? producer.get(mean2.inputs[0]) : undefined;
      const squares = pow && ((pow.opType === 'Pow' && pow.inputs[0] === sub.outputs[0] && constVal(pow.inputs[1]) === 2)
        || (pow.opType === 'Mul' && pow.inputs[0] === sub.outputs[0] && pow.inputs[1] === sub.outputs[0]));
      const a1 = meanAxes(mean1);
      const a2 = meanAxes(mean2);
      if (eps === null || eps <= 0 || !squares || !a1 || !a2 || a1.join() !== a2.join()) continue;
      if (!only(mean1.outputs[0], 1) || !only(sub.outputs[0], 2) || !only(pow!.outputs[0], 1) || !only(mean2!.outputs[0], 1) || !only(add.outputs[0], 1) || !only(sqrt.outputs[0], 1)) continue;
      this.layerNorms.set(div, { x, axes: a1, eps });
      for (const n of [mean1, sub, pow!, mean2!, add, sqrt]) this.skipped.add(n);
    }
  }

  /** A found LayerNorm's Div: the normalized rows, times sqrt(n). */
  private fusedLayerNorm(node: GraphNode, ln: { x: string; axes: number[]; eps: number }): ActValue {
    const x = this.act(ln.x, node);
    const r = x.shape.length;
    const axes = ln.axes.map((a) => normAxis(a, r, node)).sort((p, q) => p - q);
    if (axes.some((a, i) => a !== r - axes.length + i)) throw new ZkinferError('ONNX_UNSUPPORTED', `node "${node.name}": a normalization over axes [${ln.axes}] that are not the trailing ones is not supported`);
    const { value: p, n } = this.normalized(node, ln.x, axes[0], ln.eps);
    const rows: LinearRows = { idx: p.forms.map((_, j) => [j]), w: p.forms.map(() => [Math.sqrt(n)]), bias: null };
    this.notes.push(`LayerNorm pattern ending in "${node.name}" computed as one normalization`);
    return this.materialize(node.name, node.outputs[0], this.linear(node, ln.x, p, rows, [...x.shape]), false);
  }

  /** Pow with a constant exponent: 1 (identity), 2 (a square, one product each), 0.5 (Sqrt). */
  private pow(node: GraphNode): ActValue {
    const e = Array.from(this.constant(node.inputs[1], node).data);
    if (e.length !== 1) throw new ZkinferError('ONNX_UNSUPPORTED', `Pow node "${node.name}": only a scalar exponent is supported`);
    if (e[0] === 1) return this.act(node.inputs[0], node);
    if (e[0] === 0.5) return this.sqrtOf(node, this.act(node.inputs[0], node));
    if (e[0] !== 2) throw new ZkinferError('ONNX_UNSUPPORTED', `Pow node "${node.name}": exponent ${e[0]} is not supported (1, 2 and 0.5 are)`);
    const a = this.settled(node.inputs[0], node);
    return this.products(node, [...a.shape], 2 * a.scale, a.forms.map((f) => ({ base: constForm(0), pairs: [f, f] })));
  }

  /** A node evaluated at compile time: constant inputs, or the shape of a computed one. */
  private fold(node: GraphNode): ConstTensor | null {
    const inputs: FoldInput[] = node.inputs.map((n) => {
      const v = n === '' ? undefined : this.values.get(n);
      return v === undefined ? undefined : v.kind === 'const' ? v.t : { shape: v.shape };
    });
    return foldNode(node, inputs, IMPORT_LIMITS.maxTensorElements);
  }

  private mapped(a: ActValue, m: IndexMap): ActValue {
    return { ...a, shape: m.shape, forms: Array.from(m.src, (i) => a.forms[i]) };
  }

  private intsOf(node: GraphNode, k: number): number[] | null {
    return node.inputs[k] ? Array.from(this.constant(node.inputs[k], node).data) : null;
  }

  /** Slice, Gather, Expand, Tile and Split of a computed tensor move forms: no constraint. */
  private shapeOp(node: GraphNode): ActValue {
    const a = this.act(node.inputs[0], node);
    const max = IMPORT_LIMITS.maxTensorElements;
    switch (node.opType) {
      case 'Slice': return this.mapped(a, sliceMap(node, a.shape, this.intsOf(node, 1) ?? attrInts(node, 'starts') ?? [], this.intsOf(node, 2) ?? attrInts(node, 'ends') ?? [], this.intsOf(node, 3) ?? attrInts(node, 'axes'), this.intsOf(node, 4), max));
      case 'Gather': return this.mapped(a, gatherMap(node, a.shape, this.constant(node.inputs[1], node), attrInt(node, 'axis', 0), max));
      case 'Expand': return this.mapped(a, expandMap(node, a.shape, this.intsOf(node, 1) ?? [], max));
      case 'Tile': return this.mapped(a, tileMap(node, a.shape, this.intsOf(node, 1) ?? [], max));
      case 'Split': {
        const sizes = this.intsOf(node, 1) ?? attrInts(node, 'split');
        const maps = splitMaps(node, a.shape, attrInt(node, 'axis', 0), sizes, node.outputs.length, max);
        maps.forEach((m, i) => i > 0 && this.values.set(node.outputs[i], this.mapped(a, m)));
        return this.mapped(a, maps[0]);
      }
      default: throw new ZkinferError('ONNX_UNSUPPORTED', `unsupported ONNX operator: ${node.opType} (node "${node.name}")`);
    }
  }

  /** Element-wise max (sign 1) or min (sign -1) of form pairs, by Max2 gadgets in one layer (min(a, b) = -max(-a, -b)). */
  private maxOf(node: GraphNode, pairs: Array<[Form, Form]>, scale: number, sign: 1 | -1): Form[] {
    const offset = this.lo.length;
    const layer = { forms: [] as Form[], rhs: [] as Form[], gadgets: [] as Gadget[] };
    const neg = (f: Form) => combine([f], [-1], 0);
    const out = pairs.map(([a, b]) => (sign === 1 ? this.max2(node.name, layer, a, b) : neg(this.max2(node.name, layer, neg(a), neg(b)))));
    if (layer.gadgets.length > 0) this.layers.push({ node: node.name, op: 'max', shape: [layer.gadgets.length], scale, ...layer, offset });
    return out;
  }

  /** Max and Min of tensors (computed or constant, broadcast), folded pairwise. */
  private maxMin(node: GraphNode): ActValue {
    const { vals, scale } = this.aligned(node, node.inputs, true);
    return vals.slice(1).reduce((acc, v) => {
      const shape = acc.shape.length >= v.shape.length && size(acc.shape) >= size(v.shape) ? acc.shape : v.shape;
      const ma = broadcastIndex(acc.shape, shape, node.name);
      const mb = broadcastIndex(v.shape, shape, node.name);
      const forms = this.maxOf(node, Array.from(ma, (i, j) => [acc.forms[i], v.forms[mb[j]]] as [Form, Form]), scale, node.opType === 'Max' ? 1 : -1);
      return { kind: 'act', shape: [...shape], scale, forms, raw: false, relu: false };
    }, vals[0]);
  }

  /** Clip to [lo, hi] (either may be absent): a Max2 with each constant bound. */
  private clip(node: GraphNode, a: ActValue, lo: number | null, hi: number | null): ActValue {
    let forms = a.forms;
    const k = 2 ** a.scale;
    if (lo !== null) forms = this.maxOf(node, forms.map((f) => [f, constForm(Math.round(lo * k))]), a.scale, 1);
    if (hi !== null) forms = this.maxOf(node, forms.map((f) => [f, constForm(Math.round(hi * k))]), a.scale, -1);
    return { ...a, forms };
  }

  /** A constant attribute or input of Clip (opset 11 takes them as inputs). */
  private clipBounds(node: GraphNode): [number | null, number | null] {
    if (node.inputs.length > 1) {
      const at = (k: number) => (node.inputs[k] ? this.constant(node.inputs[k], node).data[0] : null);
      return [at(1), at(2)];
    }
    const f = (name: string) => (node.attrs.has(name) ? attrFloat(node, name, 0) : null);
    return [f('min'), f('max')];
  }

  /**
   * max(x, αx) for 0 <= α <= 1, min(x, αx) above 1: LeakyRelu and PRelu as
   * one comparison of two forms at the slope's weight scale.
   */
  private leaky(node: GraphNode, a: ActValue, slopes: ArrayLike<number>): ActValue {
    const ws = this.weightScale(node.name, [1, ...Array.from(slopes)]);
    const one = 2 ** ws;
    const scale = a.scale + ws;
    const out = a.forms.map((f, j) => {
      const s = slopes[j % slopes.length];
      return [combine([f], [one], 0), combine([f], [Math.round(s * one)], 0), s <= 1 ? 1 : -1] as const;
    });
    const up = this.maxOf(node, out.filter((o) => o[2] === 1).map((o) => [o[0], o[1]]), scale, 1);
    const down = this.maxOf(node, out.filter((o) => o[2] === -1).map((o) => [o[0], o[1]]), scale, -1);
    let iu = 0;
    let id = 0;
    return { kind: 'act', shape: [...a.shape], scale, forms: out.map((o) => (o[2] === 1 ? up[iu++] : down[id++])), raw: true, relu: false };
  }

  private settledAct(node: GraphNode): ActValue {
    const a = this.act(node.inputs[0], node);
    return a.raw && this.tooWide(a.forms, MAX_BITS - 12) ? this.materialize(node.name, node.inputs[0], a, false) : a;
  }

  /** HardSigmoid: clip(αx + β, 0, 1), a linear map then two comparisons. */
  private hardSigmoid(node: GraphNode, a: ActValue, alpha: number, beta: number): ActValue {
    const rows: LinearRows = { idx: a.forms.map((_, i) => [i]), w: a.forms.map(() => [alpha]), bias: Float64Array.from(a.forms, () => beta) };
    const lin = this.linear(node, node.inputs[0], a, rows, [...a.shape]);
    return this.clip(node, lin, 0, 1);
  }

  /** Gelu (opset 20, exact form): x·(1 + erf(x/√2))/2, an Erf table and one product per element. */
  private gelu(node: GraphNode): ActValue {
    const a = node.attrs.get('approximate');
    if (a && a.kind === 'string' && a.value !== 'none') throw new ZkinferError('ONNX_UNSUPPORTED', `Gelu node "${node.name}": approximate="${a.value}" is not supported (the exact form is)`);
    const x = this.settled(node.inputs[0], node);
    const z = this.linear(node, node.inputs[0], x, { idx: x.forms.map((_, i) => [i]), w: x.forms.map(() => [Math.SQRT1_2]), bias: null }, [...x.shape]);
    const e = this.smooth({ ...node, opType: 'Erf' }, 'Erf', z);
    const one = 2 ** e.scale;
    // The product is 2·y at x's scale plus erf's: one more bit of scale halves it exactly.
    return this.products(node, [...x.shape], x.scale + e.scale + 1, x.forms.map((f, j) => ({ base: constForm(0), pairs: [f, addConst(e.forms[j], one)] })));
  }

  /**
   * Gather of a constant table by computed indices (an embedding): for each
   * index and each row v of the table an IsZero of index - v (2 constraints)
   * gives a one-hot selector; the gathered row is linear in it. An index
   * outside the table selects nothing (a zero row).
   */
  private embedding(node: GraphNode): ActValue {
    const table = this.constant(node.inputs[0], node);
    const idx = this.settled(node.inputs[1], node);
    const axis = normAxis(attrInt(node, 'axis', 0), table.dims.length, node);
    if (axis !== 0) throw new ZkinferError('ONNX_UNSUPPORTED', `Gather node "${node.name}": computed indices only along axis 0 of a constant table (axis ${axis})`);
    const V = table.dims[0];
    const inner = size(table.dims.slice(1));
    const one = 2 ** idx.scale;
    const offset = this.lo.length;
    const layer = { forms: [] as Form[], gadgets: [] as Gadget[] };
    const selectors = idx.forms.map((f) => {
      const b = this.bounds(f, node.name);
      return Array.from({ length: V }, (_, v) => {
        // Row v answers index v and, counted from the end, v - V.
        const hits = [v, v - V].filter((k) => k * one >= b.lo && k * one <= b.hi);
        if (hits.length === 0) return constForm(0);
        return combine(hits.map((k) => {
          layer.forms.push(addConst(f, -k * one));
          layer.gadgets.push({ kind: 'iszero' });
          return signalForm(this.pushSignal(0, 1));
        }), hits.map(() => 1), 0);
      });
    });
    if (layer.gadgets.length > 0) this.layers.push({ node: node.name, op: 'iszero', shape: [layer.gadgets.length], scale: 0, ...layer, offset });
    const ws = this.weightScale(node.name, table.data);
    const forms: Form[] = [];
    for (const sel of selectors) {
      for (let k = 0; k < inner; k++) forms.push(combine(sel, sel.map((_, v) => Math.round(table.data[v * inner + k] * 2 ** ws)), 0));
    }
    return { kind: 'act', shape: [...idx.shape, ...table.dims.slice(1)], scale: ws, forms, raw: true, relu: false };
  }

  /**
   * Cast to an integer type: truncation, which for values >= 0 is a floor:
   * a Rescale of x - half (it rounds half up) by the whole scale, to scale 0.
   */
  private truncate(node: GraphNode, a: ActValue): ActValue {
    if (a.scale <= 0) return a;
    const half = 2 ** (a.scale - 1);
    const offset = this.lo.length;
    const gadgets: Gadget[] = [];
    const src = a.forms.map((f) => addConst(f, -half));
    const forms = src.map((f) => {
      const b = this.bounds(f, node.name);
      if (b.lo + half < 0) throw new ZkinferError('QUANTIZATION_FAILED', `Cast node "${node.name}": the input may reach ${((b.lo + half) / 2 ** a.scale).toPrecision(4)}; a cast to an integer type needs values >= 0`);
      const g = chooseGadget(b.lo, b.hi, a.scale, false, node.name);
      gadgets.push(g);
      const [lo, hi] = gadgetRange(g, b.lo, b.hi);
      return g.kind === 'const' ? (this.pushSignal(lo, hi), constForm(g.value)) : signalForm(this.pushSignal(lo, hi));
    });
    this.layers.push({ node: node.name, op: 'rescale', shape: [...a.shape], scale: 0, forms: src, gadgets, offset });
    return { kind: 'act', shape: [...a.shape], scale: 0, forms, raw: false, relu: false };
  }

  /** Where with a constant condition: each element from one side or the other (either may be a constant). */
  private where(node: GraphNode): ActValue {
    if (this.values.get(node.inputs[0])?.kind !== 'const') throw new ZkinferError('ONNX_UNSUPPORTED', `Where node "${node.name}": a computed condition is not supported (constant only)`);
    const cond = this.constant(node.inputs[0], node);
    const { vals, scale } = this.aligned(node, node.inputs.slice(1, 3));
    const [x, y] = vals;
    const shapes = [[...cond.dims], x.shape, y.shape];
    const r = Math.max(...shapes.map((t) => t.length));
    const shape = Array.from({ length: r }, (_, i) => Math.max(...shapes.map((t) => t[i - (r - t.length)] ?? 1)));
    const [mc, mx, my] = shapes.map((t) => broadcastIndex(t, shape, node.name));
    const forms = Array.from(mc, (ic, j) => (cond.data[ic] !== 0 ? x.forms[mx[j]] : y.forms[my[j]]));
    return { kind: 'act', shape, scale, forms, raw: x.raw || y.raw, relu: false };
  }

  /** ArgMax along any axis, anywhere: one comparison chain (one layer) per row; its outputs are indices, at scale 0. */
  private argmax(node: GraphNode): ActValue {
    const a = this.act(node.inputs[0], node);
    const axis = normAxis(attrInt(node, 'axis', 0), a.shape.length, node);
    if (attrInt(node, 'select_last_index', 0) !== 0) throw new ZkinferError('ONNX_UNSUPPORTED', `ArgMax node "${node.name}": select_last_index=1 is not supported`);
    const keep = attrInt(node, 'keepdims', 1) === 1;
    const shape = keep ? a.shape.map((d, i) => (i === axis ? 1 : d)) : a.shape.filter((_, i) => i !== axis);
    const forms = this.rows(a.shape, axis).map((row) => {
      const xs = row.map((i) => a.forms[i]);
      if (xs.length === 1) return constForm(0);
      let mlo = -Infinity;
      let mhi = -Infinity;
      let nb = 1;
      xs.forEach((f, i) => {
        const b = this.bounds(f, node.name);
        if (i > 0) nb = Math.max(nb, Math.max(bitsFor(-(mlo - b.hi) - 1), bitsFor(mhi - b.lo)) + 1);
        mlo = Math.max(mlo, b.lo);
        mhi = Math.max(mhi, b.hi);
      });
      const offset = this.pushSignal(0, xs.length - 1);
      this.layers.push({ node: node.name, op: 'argmax', shape: [1], scale: 0, forms: xs, gadgets: [{ kind: 'argmax', nb }], offset });
      return signalForm(offset);
    });
    return { kind: 'act', shape, scale: 0, forms, raw: false, relu: false };
  }

  private step(node: GraphNode): Value {
    switch (node.opType) {
      case 'Gemm': return this.gemm(node);
      case 'MatMul': return this.matmul(node);
      case 'Conv': return this.conv(node);
      case 'Add': return this.addSub(node, 1);
      case 'Sub': return this.addSub(node, -1);
      case 'Mul': return this.mul(node);
      case 'BatchNormalization': return this.batchNorm(node);
      case 'Relu': {
        const v = this.values.get(node.inputs[0]);
        const next = this.soleConsumer(node.outputs[0]);
        if (v?.kind === 'act' && next?.opType === 'MaxPool') return { ...v, relu: true };
        return this.materialize(node.name, node.outputs[0], this.act(node.inputs[0], node), true);
      }
      case 'MaxPool': return this.maxPool(node);
      case 'AveragePool': return this.averagePool(node, false);
      case 'GlobalAveragePool': return this.averagePool(node, true);
      case 'Pad': return this.pad(node);
      case 'Transpose': return this.transpose(node);
      case 'Concat': return this.concat(node);
      case 'Identity': {
        const v = this.values.get(node.inputs[0]);
        if (!v) throw new ZkinferError('ONNX_INVALID', `node "${node.name}" reads "${node.inputs[0]}", which is not available`);
        return v;
      }
      case 'Flatten': {
        const a = this.act(node.inputs[0], node);
        const axis = normAxis(attrInt(node, 'axis', 1), a.shape.length + 1, node);
        return this.reshape(node, a, [size(a.shape.slice(0, axis)), size(a.shape.slice(axis))]);
      }
      case 'Reshape': {
        const a = this.act(node.inputs[0], node);
        return this.reshape(node, a, this.reshapeTarget(node, a));
      }
      case 'Squeeze': {
        const a = this.act(node.inputs[0], node);
        const axes = (this.axesOf(node) ?? a.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((x) => normAxis(x, a.shape.length, node));
        return this.reshape(node, a, a.shape.filter((_, i) => !axes.includes(i)));
      }
      case 'Unsqueeze': {
        const a = this.act(node.inputs[0], node);
        const axes = this.axesOf(node) ?? [];
        const r = a.shape.length + axes.length;
        const norm = axes.map((x) => normAxis(x, r, node));
        const shape: number[] = [];
        let k = 0;
        for (let i = 0; i < r; i++) shape.push(norm.includes(i) ? 1 : a.shape[k++]);
        return this.reshape(node, a, shape);
      }
      case 'Softmax':
      case 'LogSoftmax': {
        if (node.outputs[0] !== this.q.graph.output.name) return this.softmax(node, node.opType === 'LogSoftmax');
        if (node.opType === 'LogSoftmax') return this.softmax(node, true);
        this.notes.push(`Softmax "${node.name}" dropped before proving: the output is its input (the logits); the top class is unchanged`);
        return this.act(node.inputs[0], node);
      }
      case 'ArgMax': return this.argmax(node);
      case 'Div': return this.div(node);
      case 'Sqrt': return this.sqrtOf(node, this.act(node.inputs[0], node));
      case 'Pow': return this.pow(node);
      case 'Sigmoid': case 'Tanh': case 'Erf': case 'Exp': case 'Log':
        return this.smooth(node, node.opType, this.act(node.inputs[0], node));
      case 'ReduceSum': case 'ReduceMean': case 'ReduceMax': case 'ReduceMin':
        return this.reduce(node);
      case 'LayerNormalization': return this.layerNorm(node);
      case 'Gather':
        return this.values.get(node.inputs[0])?.kind === 'const' ? this.embedding(node) : this.shapeOp(node);
      case 'Slice': case 'Expand': case 'Tile': case 'Split': return this.shapeOp(node);
      case 'Where': return this.where(node);
      case 'Dropout': return this.act(node.inputs[0], node);
      case 'Cast': {
        const to = attrInt(node, 'to', 1);
        if (FLOAT_TYPES.has(to)) return this.act(node.inputs[0], node);
        if (!INT_CASTS.has(to)) throw new ZkinferError('ONNX_UNSUPPORTED', `Cast node "${node.name}": a computed tensor can be cast between float types or to an integer type (to ${to} is neither)`);
        return this.truncate(node, this.act(node.inputs[0], node));
      }
      case 'Max': case 'Min': return this.maxMin(node);
      case 'Gelu': return this.gelu(node);
      case 'Abs': {
        const a = this.settledAct(node);
        return { ...a, forms: this.maxOf(node, a.forms.map((f) => [f, combine([f], [-1], 0)]), a.scale, 1) };
      }
      case 'Clip': {
        const [lo, hi] = this.clipBounds(node);
        return this.clip(node, this.settledAct(node), lo, hi);
      }
      case 'LeakyRelu': return this.leaky(node, this.settledAct(node), [attrFloat(node, 'alpha', 0.01)]);
      case 'PRelu': {
        const a = this.settledAct(node);
        const slope = this.constant(node.inputs[1], node);
        const map = broadcastIndex(slope.dims, a.shape, node.name);
        return this.leaky(node, a, Array.from(map, (k) => slope.data[k]));
      }
      case 'HardSigmoid': return this.hardSigmoid(node, this.settledAct(node), attrFloat(node, 'alpha', 0.2), attrFloat(node, 'beta', 0.5));
      case 'HardSwish': {
        const a = this.settled(node.inputs[0], node);
        const h = this.hardSigmoid(node, a, 1 / 6, 0.5);
        return this.products(node, [...a.shape], a.scale + h.scale, a.forms.map((f, j) => ({ base: constForm(0), pairs: [f, h.forms[j]] })));
      }
      case 'Reciprocal': {
        const d = this.settled(node.inputs[0], node);
        return this.divide(node, [...d.shape], { forms: d.forms.map(() => constForm(1)), scale: 0 }, d, this.activationScale(node.outputs[0]).scale);
      }
      case 'Neg': {
        const a = this.act(node.inputs[0], node);
        return { ...a, forms: a.forms.map((f) => combine([f], [-1], 0)) };
      }
      default:
        throw new ZkinferError('ONNX_UNSUPPORTED', `unsupported ONNX operator: ${node.opType} (node "${node.name}")`);
    }
  }

  run(): Program {
    const { graph, options, samples, stats } = this.q;
    const exact = this.q.exactInputScale !== undefined ? this.q.exactInputScale : exactScale(samples, options.activationBits);
    const { scale: inScale, reason, range, lo, bits } = inputQuantization(stats.get(graph.input.name), exact, options);
    this.scales.push({ tensor: graph.input.name, role: 'input', scale: inScale, reason });
    const n = size(graph.input.shape);
    const inForms = Array.from({ length: n }, () => signalForm(this.pushSignal(lo, lo + 2 ** bits - 1)));
    this.values.set(graph.input.name, { kind: 'act', shape: [...graph.input.shape], scale: inScale, raw: false, relu: false, forms: inForms });
    for (const [name, t] of graph.constants) this.values.set(name, { kind: 'const', t });

    this.findLayerNorms();
    for (const node of graph.nodes) {
      if (this.skipped.has(node)) continue;
      const ln = this.layerNorms.get(node);
      if (ln) {
        this.values.set(node.outputs[0], this.fusedLayerNorm(node, ln));
        continue;
      }
      const folded = this.fold(node);
      this.values.set(node.outputs[0], folded ? { kind: 'const', t: folded } : this.step(node));
    }
    let out = this.values.get(graph.output.name);
    if (!out || out.kind !== 'act') throw new ZkinferError('ONNX_UNSUPPORTED', 'the model output does not depend on its input');
    if (out.relu) out = this.materialize(graph.output.name, graph.output.name, out, true);
    // An output past the exact range (two wide branches summed) is rescaled rather than refused.
    let rescaled = false;
    if (out.raw && out.forms.some((f) => formBounds(f, this.lo, this.hi).abs >= 2 ** MAX_BITS)) {
      out = this.materialize(graph.output.name, graph.output.name, out, false);
      rescaled = true;
    }
    for (const f of out.forms) this.bounds(f, graph.output.name);
    if (out.forms.length !== size(graph.output.shape)) {
      throw new ZkinferError('ONNX_INVALID', `the graph declares output shape [${graph.output.shape}] but computes [${out.shape}]`);
    }
    const outNode = graph.nodes.find((nd) => nd.outputs.includes(graph.output.name))?.name ?? graph.output.name;
    this.scales.push({ tensor: graph.output.name, role: 'output', scale: out.scale, reason: out.scale === 0 ? 'integer output' : rescaled ? 'rescaled: the accumulators pass the exact range' : 'accumulator scale of the last layer (no rescale)' });

    const io: ModelIO = {
      onnxSha256: this.q.onnxSha256,
      visibility: options.visibility,
      // Public inputs are packed into as few signals as fit: verification
      // (and on-chain gas) grows with the number of public signals.
      input: { name: graph.input.name, shape: [...graph.input.shape], scale: inScale, lo, bits, ...(options.visibility === 'public' ? { perSignal: inputsPerPack(bits) } : {}) },
      output: { name: graph.output.name, shape: [...graph.output.shape], scale: out.scale },
      // In the key, so a receipt's notes are bound by its hash.
      ...(this.notes.length ? { notes: [...this.notes] } : {}),
    };
    return {
      io, layers: this.layers, outputForms: out.forms, outputNode: outNode, signalCount: this.lo.length,
      requestedRange: range, scales: this.scales, notes: this.notes,
    };
  }
}

/** Quantizes the float graph into an integer program with tight static bounds. */
export function quantize(input: QuantizeInput): Program {
  return new Quantizer(input).run();
}
