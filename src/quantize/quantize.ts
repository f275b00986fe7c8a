import type { ConstTensor, Graph, GraphNode } from '../onnx/graph.js';
import { size } from '../onnx/graph.js';
import type { ModelIO } from '../receipt/io.js';
import { inputsPerPack } from '../receipt/commitment.js';
import type { Form, Gadget, Layer, Program, ScaleRecord } from './program.js';
import type { QuantizeOptions } from './config.js';
import type { TensorStats } from './calibration.js';
import { addConst, combine, constForm, formBounds, signalForm } from './forms.js';
import { bitsFor, chooseGadget, compareBits, gadgetRange, MAX_BITS } from './gadgets.js';
import { broadcastIndex } from './broadcast.js';
import { window2d, windowTaps } from './windows.js';
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
/**
 * Composing a linear map over forms that are themselves sums multiplies the
 * terms the circuit compiler has to handle. Past this factor (and size), the
 * input is rescaled into signals first: a few constraints per element buy a
 * circuit that compiles in minutes instead of hours.
 */
const MAX_COMPOSE_GROWTH = 2;
const COMPOSE_TERMS_FLOOR = 20_000;

const log2ceil = (m: number): number => Math.ceil(Math.log2(m));
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
    return { kind: 'act', shape: v.shape, scale: target, forms, raw: false, relu: false };
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
        return { kind: 'act', shape: [...v.t.dims], scale, raw: false, relu: false, forms: Array.from(v.t.data, (x) => constForm(Math.round(x * 2 ** scale))) };
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
    if (vp?.kind === 'act' && vq?.kind === 'act') {
      throw new ZkinferError('ONNX_UNSUPPORTED', `Mul node "${node.name}": multiplying two computed tensors is not supported (constants only)`);
    }
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

  /** ArgMax as the last op: one comparison chain; its output is the index. */
  private argmax(node: GraphNode): ActValue {
    const a = this.act(node.inputs[0], node);
    const axis = normAxis(attrInt(node, 'axis', 0), a.shape.length, node);
    if (a.shape.some((d, i) => i !== axis && d !== 1)) {
      throw new ZkinferError('ONNX_UNSUPPORTED', `ArgMax node "${node.name}": only a reduction over the single non-unit axis is supported (input [${a.shape}], axis ${axis})`);
    }
    if (attrInt(node, 'select_last_index', 0) !== 0) throw new ZkinferError('ONNX_UNSUPPORTED', `ArgMax node "${node.name}": select_last_index=1 is not supported`);
    const keep = attrInt(node, 'keepdims', 1) === 1;
    const shape = keep ? a.shape.map((d, i) => (i === axis ? 1 : d)) : a.shape.filter((_, i) => i !== axis);
    const n = a.forms.length;
    if (n === 1) return { kind: 'act', shape, scale: 0, forms: [constForm(0)], raw: false, relu: false };
    let mlo = -Infinity;
    let mhi = -Infinity;
    let nb = 1;
    a.forms.forEach((f, i) => {
      const b = this.bounds(f, node.name);
      if (i > 0) nb = Math.max(nb, Math.max(bitsFor(-(mlo - b.hi) - 1), bitsFor(mhi - b.lo)) + 1);
      mlo = Math.max(mlo, b.lo);
      mhi = Math.max(mhi, b.hi);
    });
    const offset = this.pushSignal(0, n - 1);
    this.layers.push({ node: node.name, op: 'argmax', shape: [1], scale: 0, forms: a.forms, gadgets: [{ kind: 'argmax', nb }], offset });
    return { kind: 'act', shape, scale: 0, forms: [signalForm(offset)], raw: false, relu: false };
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
      case 'Softmax': {
        this.notes.push(`Softmax "${node.name}" dropped before proving: the output is its input (the logits); the top class is unchanged`);
        return this.act(node.inputs[0], node);
      }
      case 'ArgMax': return this.argmax(node);
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

    for (const node of graph.nodes) {
      const v = this.step(node);
      this.values.set(node.outputs[0], v);
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
