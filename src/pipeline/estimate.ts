import type { ConstTensor, Graph, GraphNode } from '../onnx/graph.js';
import { IMPORT_LIMITS, LimitExceededError } from '../onnx/limits.js';
import { MAX_BITS } from '../quantize/gadgets.js';
import { argmaxCost, fnCost, gadgetCost } from '../quantize/program.js';
import { exactScale, inputQuantization } from '../quantize/quantize.js';
import { quantizeOptions, type QuantizeOptions } from '../quantize/config.js';
import { PRECISION_LADDER } from '../quantize/precision.js';
import { commitLayout, inputsPerPack, POSEIDON_WIDTH } from '../receipt/commitment.js';
import type { InputVisibility } from '../receipt/io.js';
import type { ProofSystem } from '../receipt/receipt.js';
import { requiredPower } from '../setup/ptau.js';
import { foldNode, FLOAT_TYPES, INT_CASTS } from '../quantize/fold.js';
import { expandMap, gatherMap, sliceMap, splitMaps, tileMap } from '../quantize/shape-ops.js';
import { ZkinferError } from '../errors.js';

/**
 * A static upper bound on the circuit a graph compiles to, from its shapes
 * alone: no calibration run, no quantization, nothing allocated per element.
 * It runs before a compile is queued, so a model whose circuit could not be
 * built in reasonable time and memory is refused in milliseconds.
 *
 * Which gadgets a layer needs is known from the graph (every ReLU output is one
 * rescale+ReLU, every MaxPool window k - 1 comparisons, ...). Their widths
 * are not: they follow from the interval analysis over the calibration ranges.
 * So every gadget is charged at the widest accumulator the quantizer allows
 * (MAX_BITS), which makes `constraints` an upper bound, about 2 to 3 times the
 * real count for the 10-bit precisions the quantizer picks (digits_mlp: 895
 * real; digits_cnn: 2,786). A layer whose gadgets the bounds decide (constant
 * outputs) is still charged. Only the input range check is exact, when the
 * input's bit width is given (see `inputBits`).
 */
export interface EstimateOptions {
  /**
   * Bits of each input's range check (InRange), as the quantizer derives them
   * from the calibration data (`inputQuantization`). null charges MAX_BITS.
   * @defaultValue null
   */
  readonly inputBits: number | null;
  /** @defaultValue 'public' */
  readonly visibility: InputVisibility;
  /** @defaultValue 'groth16' */
  readonly system: ProofSystem;
  /**
   * Largest tensor the graph may compute, checked node by node so a blow-up
   * (Pad, Concat, Reshape, a convolution's output) stops the estimate where it
   * happens, naming the node.
   * @defaultValue IMPORT_LIMITS.maxTensorElements (2^20)
   */
  readonly maxTensorElements: number;
}

export const ESTIMATE_DEFAULTS: Readonly<EstimateOptions> = Object.freeze({
  inputBits: null,
  visibility: 'public',
  system: 'groth16',
  maxTensorElements: IMPORT_LIMITS.maxTensorElements,
});

export interface LayerEstimate {
  readonly op: string;
  readonly node: string;
  /** Elements of the node's output. */
  readonly elements: number;
  /** Upper bound on the node's constraints. */
  readonly constraints: number;
  /**
   * Weight-times-input products of a linear node, window taps of a pool: what
   * the quantizer visits and the circuit source holds (compile time grows with it).
   */
  readonly terms: number;
}

export interface CircuitEstimate {
  /** Upper bound on the r1cs constraints. */
  readonly constraints: number;
  /** Largest computed tensor (the input included). */
  readonly maxTensorElements: number;
  /** Elements of every computed tensor together: what the quantizer holds in memory. */
  readonly totalElements: number;
  /** Terms of every node together (see LayerEstimate.terms). LeNet-5: 286,120. */
  readonly linearTerms: number;
  readonly publicSignals: number;
  /**
   * Powers of tau the setup needs for `constraints` rows: exact for Groth16
   * given the bound; for PLONK and FFLONK gates also grow with the linear
   * terms, so the figure assumes one addition gate per term.
   */
  readonly ptauPower: number;
  readonly layers: readonly LayerEstimate[];
}

/** Widest gadgets: every rescale and comparison decomposes at most MAX_BITS bits. */
const RELU_COST = gadgetCost({ kind: 'rescale-relu', nb: MAX_BITS, shift: 0, offset: 0 });
const RESCALE_COST = gadgetCost({ kind: 'rescale', nb: MAX_BITS, shift: 0, offset: 0, sub: 0 });
const MAX2_COST = gadgetCost({ kind: 'max', nb: MAX_BITS });
/** The widest table: 2^6 segments of degree 4, saturating. */
const FN_COST = fnCost({ nb: MAX_BITS, shift: 0, m: MAX_BITS - 1, h: 6, d: 4 });
const DIV_COST = gadgetCost({ kind: 'div', k: 0, rb: MAX_BITS, qb: MAX_BITS, qoff: 0 });
const SQRT_COST = gadgetCost({ kind: 'sqrt', k: 0, gb: MAX_BITS });
/** ArgMax compares accumulators below 2^MAX_BITS in magnitude: differences need MAX_BITS + 2 bits. */
const ARGMAX_BITS = MAX_BITS + 2;

/**
 * circomlib Poseidon(t - 1): 8 full rounds of t x^5 S-boxes and N_ROUNDS_P[t - 2]
 * partial rounds of one, 3 constraints each. circom --O2 makes it 3 fewer
 * (240 for 2 inputs, 609 for 16).
 */
const POSEIDON_PARTIAL_ROUNDS = Object.freeze([56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68]);
export const poseidonCost = (inputs: number): number => 3 * (8 * (inputs + 1) + POSEIDON_PARTIAL_ROUNDS[inputs - 1]);

interface ConstVal { kind: 'const'; t: ConstTensor }
interface ActVal {
  kind: 'act';
  shape: number[];
  /** Holds weight products: the next linear node may rescale it first (as the quantizer does when composing grows). */
  raw: boolean;
  /** A ReLU deferred to the MaxPool that follows it. */
  relu: boolean;
}
type Val = ConstVal | ActVal;

const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const attrInt = (n: GraphNode, name: string, dflt: number): number => {
  const a = n.attrs.get(name);
  return a && a.kind === 'int' ? a.value : dflt;
};
const attrInts = (n: GraphNode, name: string): number[] | null => {
  const a = n.attrs.get(name);
  return a && a.kind === 'ints' ? a.value : null;
};

const fail = (code: 'ONNX_INVALID' | 'ONNX_UNSUPPORTED', node: GraphNode, msg: string): never => {
  throw new ZkinferError(code, `${node.opType} node "${node.name}": ${msg}`);
};

/** Positions k in [0, kernel) of one window axis that land inside [0, size): start + k * dilation. */
function insideCount(start: number, kernel: number, dilation: number, size: number): number {
  const first = Math.max(0, Math.ceil(-start / dilation));
  const last = Math.min(kernel - 1, Math.floor((size - 1 - start) / dilation));
  return Math.max(0, last - first + 1);
}

interface Window {
  outH: number;
  outW: number;
  /** Inside taps summed over all windows of one channel. */
  taps: number;
  /** Taps, padding included, over all windows of one channel. */
  span: number;
  /** Fewest inside taps of any window. */
  minTaps: number;
}

/**
 * 2-D window geometry (the same arithmetic as quantize/windows.ts, auto_pad
 * included), with every attribute checked before use so a hostile kernel,
 * stride or padding cannot make the count loop or divide by zero.
 */
function window(node: GraphNode, shape: readonly number[], kernel: readonly number[] | null, maxElements: number): Window {
  if (shape.length !== 4) fail('ONNX_UNSUPPORTED', node, `only 2-D inputs (N, C, H, W) are supported, got [${shape}]`);
  const k = kernel ?? attrInts(node, 'kernel_shape');
  if (!k || k.length !== 2) return fail('ONNX_UNSUPPORTED', node, 'needs a 2-D kernel_shape');
  const strides = attrInts(node, 'strides') ?? [1, 1];
  const dilations = attrInts(node, 'dilations') ?? [1, 1];
  let pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
  const positive = (name: string, v: readonly number[], len: number) => {
    if (v.length !== len || v.some((x) => !Number.isSafeInteger(x) || x < 1)) fail('ONNX_INVALID', node, `${name} [${v}] must be ${len} positive integers`);
  };
  positive('kernel_shape', k, 2);
  positive('strides', strides, 2);
  positive('dilations', dilations, 2);
  const [inH, inW] = [shape[2], shape[3]];
  const autoPad = node.attrs.get('auto_pad');
  if (autoPad && autoPad.kind === 'string' && autoPad.value !== 'NOTSET' && autoPad.value !== '') {
    if (autoPad.value === 'VALID') pads = [0, 0, 0, 0];
    else {
      const total = [0, 1].map((d) => {
        const inD = d === 0 ? inH : inW;
        return Math.max(0, (Math.ceil(inD / strides[d]) - 1) * strides[d] + (k[d] - 1) * dilations[d] + 1 - inD);
      });
      const half = total.map((t) => (autoPad.value === 'SAME_LOWER' ? Math.ceil(t / 2) : Math.floor(t / 2)));
      pads = [half[0], half[1], total[0] - half[0], total[1] - half[1]];
    }
  }
  if (pads.length !== 4 || pads.some((x) => !Number.isSafeInteger(x) || x < 0)) fail('ONNX_INVALID', node, `pads [${pads}] must be 4 non-negative integers`);
  const ceil = node.attrs.get('ceil_mode');
  if (ceil && ceil.kind === 'int' && ceil.value !== 0) fail('ONNX_UNSUPPORTED', node, 'ceil_mode=1 is not supported');
  const outs = [0, 1].map((d) => Math.floor(((d === 0 ? inH : inW) + pads[d] + pads[d + 2] - ((k[d] - 1) * dilations[d] + 1)) / strides[d]) + 1);
  if (!outs.every((x) => x > 0)) fail('ONNX_INVALID', node, `kernel [${k}] does not fit input [${shape}]`);
  // Checked before the per-axis loops below, which run once per output row and column.
  if (outs[0] * outs[1] > maxElements) {
    throw new LimitExceededError('CIRCUIT_TOO_LARGE', 'maxTensorElements', outs[0] * outs[1], maxElements, `${node.opType} node "${node.name}" computes ${outs[0]} x ${outs[1]} windows per channel`);
  }
  const axis = (d: 0 | 1) => {
    const inD = d === 0 ? inH : inW;
    const out = outs[d];
    let taps = 0;
    let min = Infinity;
    for (let o = 0; o < out; o++) {
      const c = insideCount(o * strides[d] - pads[d], k[d], dilations[d], inD);
      taps += c;
      min = Math.min(min, c);
    }
    return { out, taps, min };
  };
  const h = axis(0);
  const w = axis(1);
  return { outH: h.out, outW: w.out, taps: h.taps * w.taps, span: h.out * w.out * k[0] * k[1], minTaps: h.min * w.min };
}

/** numpy broadcasting of `src` to `target`, as the quantizer's broadcastIndex checks it. */
function checkBroadcast(node: GraphNode, src: readonly number[], target: readonly number[]): void {
  const ok = src.length <= target.length && src.every((d, i) => d === 1 || d === target[target.length - src.length + i]);
  if (!ok) fail('ONNX_INVALID', node, `cannot broadcast [${src}] to [${target}]`);
}

class Estimator {
  private readonly values = new Map<string, Val>();
  private readonly consumers = new Map<string, GraphNode[]>();
  private readonly folded = new Set<GraphNode>();
  readonly layers: LayerEstimate[] = [];
  maxElements = 0;
  totalElements = 0;

  constructor(private readonly graph: Graph, private readonly o: EstimateOptions) {
    for (const n of graph.nodes) for (const i of n.inputs) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
  }

  private soleConsumer(tensor: string): GraphNode | null {
    const c = this.consumers.get(tensor) ?? [];
    return c.length === 1 && tensor !== this.graph.output.name ? c[0] : null;
  }

  private value(name: string, node: GraphNode): Val {
    const v = this.values.get(name);
    if (!v) return fail('ONNX_INVALID', node, `reads "${name}", which is not available`);
    return v;
  }

  private act(name: string, node: GraphNode): ActVal {
    const v = this.value(name, node);
    if (v.kind !== 'act') return fail('ONNX_UNSUPPORTED', node, `has constant input "${name}" where a computed tensor is expected`);
    return v;
  }

  private constant(name: string | undefined, node: GraphNode): ConstTensor {
    if (!name) return fail('ONNX_INVALID', node, 'misses a constant input');
    const v = this.value(name, node);
    if (v.kind !== 'const') return fail('ONNX_UNSUPPORTED', node, `input "${name}" is computed; only a constant is supported there`);
    return v.t;
  }

  /** Integers held by a constant input (pads, shapes, axes). */
  private ints(name: string, node: GraphNode): number[] {
    const d = Array.from(this.constant(name, node).data);
    if (d.some((x) => !Number.isSafeInteger(x))) fail('ONNX_INVALID', node, `input "${name}" holds non-integers [${d.slice(0, 8)}]`);
    return d;
  }

  /** Checks a computed shape and the element cap, then records its size. */
  private shaped(node: GraphNode, shape: number[]): number[] {
    if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail('ONNX_INVALID', node, `computes shape [${shape}]; dimensions must be non-negative integers`);
    const n = count(shape);
    if (!(n <= this.o.maxTensorElements)) {
      throw new LimitExceededError('CIRCUIT_TOO_LARGE', 'maxTensorElements', n, this.o.maxTensorElements, `${node.opType} node "${node.name}" computes a tensor of shape [${shape}], elements`);
    }
    this.maxElements = Math.max(this.maxElements, n);
    this.totalElements += n;
    return shape;
  }

  private layer(node: GraphNode, elements: number, constraints: number, terms = 0): void {
    this.layers.push({ op: node.opType, node: node.name, elements, constraints, terms });
  }

  /** A linear node: free, but a raw input may be rescaled first (at most one rescale per input element). */
  private linear(node: GraphNode, a: ActVal, terms: number, shape: number[]): ActVal {
    const out = this.shaped(node, shape);
    this.layer(node, count(out), a.raw ? count(a.shape) * RESCALE_COST : 0, terms);
    return { kind: 'act', shape: out, raw: true, relu: false };
  }

  /** Marks a BatchNormalization the quantizer folds into this node's weights. */
  private foldBn(node: GraphNode, channels: number): void {
    const bn = this.soleConsumer(node.outputs[0]);
    if (bn?.opType !== 'BatchNormalization') return;
    const s = this.values.get(bn.inputs[1] ?? '');
    if (s?.kind === 'const' && s.t.data.length === channels) this.folded.add(bn);
  }

  private gemm(node: GraphNode): ActVal {
    const a = this.act(node.inputs[0], node);
    const b = this.constant(node.inputs[1], node);
    if (a.shape.length !== 2 || b.dims.length !== 2) fail('ONNX_INVALID', node, `needs 2-D operands, got [${a.shape}] and [${b.dims}]`);
    const transA = attrInt(node, 'transA', 0);
    const [m, k] = transA ? [a.shape[1], a.shape[0]] : a.shape;
    if (transA && m !== 1) fail('ONNX_UNSUPPORTED', node, `transA with ${m} rows is not supported`);
    const [kb, n] = attrInt(node, 'transB', 0) ? [b.dims[1], b.dims[0]] : b.dims;
    if (kb !== k) fail('ONNX_INVALID', node, `inner dimensions differ (${k} vs ${kb})`);
    if (node.inputs[2]) checkBroadcast(node, this.constant(node.inputs[2], node).dims, [m, n]);
    this.foldBn(node, n);
    return this.linear(node, a, m * n * k, [m, n]);
  }

  private matmul(node: GraphNode): ActVal {
    if (this.values.get(node.inputs[0])?.kind === 'act' && this.values.get(node.inputs[1])?.kind === 'act') return this.matmul2(node);
    if (this.values.get(node.inputs[0])?.kind === 'const') fail('ONNX_UNSUPPORTED', node, 'a constant left operand is not supported (computed tensor times constant only)');
    const a = this.act(node.inputs[0], node);
    const b = this.constant(node.inputs[1], node);
    if (b.dims.length !== 2) fail('ONNX_UNSUPPORTED', node, `the constant operand must be 2-D, got [${b.dims}]`);
    if (a.shape.length < 1) fail('ONNX_INVALID', node, 'the computed operand is a scalar');
    const k = a.shape[a.shape.length - 1];
    const [kb, n] = b.dims;
    if (kb !== k) fail('ONNX_INVALID', node, `inner dimensions differ (${k} vs ${kb})`);
    this.foldBn(node, n);
    return this.linear(node, a, (count(a.shape) / k) * n * k, [...a.shape.slice(0, -1), n]);
  }

  private conv(node: GraphNode): ActVal {
    const x = this.act(node.inputs[0], node);
    const W = this.constant(node.inputs[1], node);
    if (W.dims.length !== 4) fail('ONNX_UNSUPPORTED', node, `only 2-D convolutions are supported (weight dims [${W.dims}])`);
    const [M, Cg, kh, kw] = W.dims;
    const group = attrInt(node, 'group', 1);
    if (!Number.isSafeInteger(group) || group < 1 || x.shape.length !== 4 || x.shape[1] !== Cg * group || M % group !== 0) {
      fail('ONNX_INVALID', node, `input [${x.shape}] does not match weights [${W.dims}] with group ${group}`);
    }
    const win = window(node, x.shape, [kh, kw], this.o.maxTensorElements);
    if (node.inputs[2] && this.constant(node.inputs[2], node).data.length !== M) fail('ONNX_INVALID', node, `bias must have ${M} values`);
    this.foldBn(node, M);
    return this.linear(node, x, M * Cg * win.taps, [1, M, win.outH, win.outW]);
  }

  private pool(node: GraphNode, global: boolean): ActVal {
    const x = this.act(node.inputs[0], node);
    const win = window(node, x.shape, global && x.shape.length === 4 ? [x.shape[2], x.shape[3]] : null, this.o.maxTensorElements);
    if (win.minTaps < 1) fail('ONNX_INVALID', node, 'a window lies wholly in the padding');
    // The quantizer visits every tap, padding included.
    return this.linear(node, x, x.shape[1] * win.span, [1, x.shape[1], win.outH, win.outW]);
  }

  /** k - 1 comparisons per window, on the accumulators; a deferred ReLU is applied to the pooled values. */
  private maxPool(node: GraphNode): ActVal {
    const v = this.value(node.inputs[0], node);
    if (v.kind !== 'act') return fail('ONNX_UNSUPPORTED', node, 'needs a computed input');
    const win = window(node, v.shape, null, this.o.maxTensorElements);
    if (win.minTaps < 1) fail('ONNX_INVALID', node, 'a window lies wholly in the padding');
    const C = v.shape[1];
    const out = this.shaped(node, [1, C, win.outH, win.outW]);
    const comparisons = C * (win.taps - win.outH * win.outW);
    const relu = v.relu ? count(out) * RELU_COST : 0;
    this.layer(node, count(out), comparisons * MAX2_COST + relu, C * win.span);
    return { kind: 'act', shape: out, raw: v.relu ? false : v.raw, relu: false };
  }

  private relu(node: GraphNode): ActVal {
    const v = this.value(node.inputs[0], node);
    if (v.kind === 'act' && this.soleConsumer(node.outputs[0])?.opType === 'MaxPool') {
      this.layer(node, count(v.shape), 0);
      return { ...v, relu: true };
    }
    const a = this.act(node.inputs[0], node);
    const shape = this.shaped(node, [...a.shape]);
    this.layer(node, count(shape), count(shape) * RELU_COST);
    return { kind: 'act', shape, raw: false, relu: false };
  }

  /** Add, Sub, Concat: operands of one scale, constants included; at least one computed. */
  private operands(node: GraphNode, names: readonly string[]): Array<{ shape: number[]; raw: boolean }> {
    const vals = names.map((n) => this.value(n, node));
    if (!vals.some((v) => v.kind === 'act')) fail('ONNX_UNSUPPORTED', node, 'has only constant inputs');
    return vals.map((v) => (v.kind === 'act' ? { shape: v.shape, raw: v.raw } : { shape: [...v.t.dims], raw: false }));
  }

  private addSub(node: GraphNode): ActVal {
    if (node.inputs.length < 2) fail('ONNX_INVALID', node, 'needs two inputs');
    const [x, y] = this.operands(node, node.inputs.slice(0, 2));
    const target = x.shape.length >= y.shape.length && count(x.shape) >= count(y.shape) ? x.shape : y.shape;
    checkBroadcast(node, x.shape, target);
    checkBroadcast(node, y.shape, target);
    const shape = this.shaped(node, [...target]);
    this.layer(node, count(shape), 0);
    return { kind: 'act', shape, raw: x.raw || y.raw, relu: false };
  }

  private mul(node: GraphNode): Val {
    const [p, q] = node.inputs;
    const vp = this.value(p, node);
    const vq = this.value(q, node);
    if (vp.kind === 'act' && vq.kind === 'act') return this.binary(node, 1);
    const [aName, cName] = vp.kind === 'act' ? [p, q] : [q, p];
    const a = this.act(aName, node);
    checkBroadcast(node, this.constant(cName, node).dims, a.shape);
    return this.linear(node, a, count(a.shape), [...a.shape]);
  }

  private batchNorm(node: GraphNode): Val {
    for (const i of node.inputs.slice(1, 5)) this.constant(i, node);
    if (node.inputs.length < 5) fail('ONNX_INVALID', node, 'needs scale, bias, mean and variance inputs');
    if (this.folded.has(node)) return this.value(node.inputs[0], node);
    const a = this.act(node.inputs[0], node);
    if (a.shape.length < 2) fail('ONNX_INVALID', node, `input [${a.shape}] has no channel axis`);
    return this.linear(node, a, count(a.shape), [...a.shape]);
  }

  private pad(node: GraphNode): ActVal {
    const a = this.act(node.inputs[0], node);
    const mode = node.attrs.get('mode');
    if (mode && mode.kind === 'string' && mode.value !== 'constant') fail('ONNX_UNSUPPORTED', node, `mode "${mode.value}" is not supported (constant only)`);
    if (node.inputs[3]) fail('ONNX_UNSUPPORTED', node, 'the axes input is not supported');
    const pads = node.inputs[1] ? this.ints(node.inputs[1], node) : attrInts(node, 'pads') ?? [];
    if (node.inputs[2]) this.constant(node.inputs[2], node);
    const r = a.shape.length;
    if (pads.length !== 2 * r) fail('ONNX_INVALID', node, `${pads.length} pads for a rank-${r} tensor`);
    const shape = a.shape.map((d, i) => d + pads[i] + pads[i + r]);
    if (shape.some((d) => !(d >= 1))) fail('ONNX_INVALID', node, `pads [${pads}] leave shape [${shape}] from [${a.shape}]`);
    const out = this.shaped(node, shape);
    this.layer(node, count(out), 0);
    return { ...a, shape: out };
  }

  private transpose(node: GraphNode): ActVal {
    const a = this.act(node.inputs[0], node);
    const r = a.shape.length;
    const perm = attrInts(node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    if (perm.length !== r || [...perm].sort((x, y) => x - y).some((p, i) => p !== i)) fail('ONNX_INVALID', node, `perm [${perm}] is not a permutation of the ${r} axes`);
    const out = this.shaped(node, perm.map((p) => a.shape[p]));
    this.layer(node, count(out), 0);
    return { ...a, shape: out };
  }

  private concat(node: GraphNode): ActVal {
    const vals = this.operands(node, node.inputs);
    const r = vals[0].shape.length;
    const axis = this.axis(node, attrInt(node, 'axis', 0), r);
    for (const v of vals) {
      if (v.shape.length !== r || v.shape.some((d, i) => i !== axis && d !== vals[0].shape[i])) {
        fail('ONNX_INVALID', node, `inputs [${vals.map((x) => `[${x.shape}]`).join(', ')}] differ off axis ${axis}`);
      }
    }
    const shape = [...vals[0].shape];
    shape[axis] = vals.reduce((s, v) => s + v.shape[axis], 0);
    const out = this.shaped(node, shape);
    this.layer(node, count(out), 0);
    return { kind: 'act', shape: out, raw: vals.some((v) => v.raw), relu: false };
  }

  private axis(node: GraphNode, axis: number, rank: number): number {
    const a = axis < 0 ? axis + rank : axis;
    if (!Number.isSafeInteger(a) || a < 0 || a >= rank) fail('ONNX_INVALID', node, `axis ${axis} is out of range for rank ${rank}`);
    return a;
  }

  private reshaped(node: GraphNode, a: ActVal, shape: number[]): ActVal {
    if (shape.some((d) => !Number.isSafeInteger(d) || d < 0) || count(shape) !== count(a.shape)) {
      fail('ONNX_INVALID', node, `cannot reshape [${a.shape}] to [${shape}]`);
    }
    const out = this.shaped(node, shape);
    this.layer(node, count(out), 0);
    return { ...a, shape: out };
  }

  private reshape(node: GraphNode): ActVal {
    const a = this.act(node.inputs[0], node);
    const target = this.ints(node.inputs[1], node);
    const allowzero = attrInt(node, 'allowzero', 0);
    const dims = target.map((d, i) => (d === 0 && !allowzero ? a.shape[i] ?? -2 : d));
    if (dims.filter((d) => d === -1).length > 1 || dims.some((d) => d < -1)) fail('ONNX_INVALID', node, `cannot reshape [${a.shape}] to [${target}]`);
    const known = dims.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    return this.reshaped(node, a, dims.map((d) => (d === -1 ? (known > 0 ? count(a.shape) / known : -2) : d)));
  }

  /** Operands of a product or a division: each rescaled first when raw. */
  private settleCost(vals: readonly Val[]): number {
    return vals.reduce((s, v) => s + (v.kind === 'act' && v.raw ? count(v.shape) * RESCALE_COST : 0), 0);
  }

  /** An element-wise gadget of `per` constraints on one computed tensor. */
  private elementwise(node: GraphNode, per: number): ActVal {
    const a = this.act(node.inputs[0], node);
    const shape = this.shaped(node, [...a.shape]);
    this.layer(node, count(shape), count(shape) * per + this.settleCost([a]));
    return { kind: 'act', shape, raw: true, relu: false };
  }

  /** Mul or Div of two tensors, at least one computed: a product (or a division) per output. */
  private binary(node: GraphNode, per: number): Val {
    if (node.inputs.length < 2) fail('ONNX_INVALID', node, 'needs two inputs');
    const vals = node.inputs.slice(0, 2).map((n) => this.value(n, node));
    const [x, y] = vals.map((v) => (v.kind === 'act' ? v.shape : [...v.t.dims]));
    const target = x.length >= y.length && count(x) >= count(y) ? x : y;
    checkBroadcast(node, x, target);
    checkBroadcast(node, y, target);
    const shape = this.shaped(node, [...target]);
    this.layer(node, count(shape), count(shape) * per + this.settleCost(vals));
    return { kind: 'act', shape, raw: true, relu: false };
  }

  private matmul2(node: GraphNode): ActVal {
    const [a, b] = node.inputs.map((n) => this.act(n, node));
    if (a.shape.length < 2 || b.shape.length < 2) fail('ONNX_UNSUPPORTED', node, `computed operands must be at least 2-D, got [${a.shape}] and [${b.shape}]`);
    const [M, K] = a.shape.slice(-2);
    const [Kb, N] = b.shape.slice(-2);
    if (K !== Kb) fail('ONNX_INVALID', node, `inner dimensions differ (${K} vs ${Kb})`);
    const ba = a.shape.slice(0, -2);
    const bb = b.shape.slice(0, -2);
    const batch = ba.length >= bb.length && count(ba) >= count(bb) ? ba : bb;
    checkBroadcast(node, ba, batch);
    checkBroadcast(node, bb, batch);
    const shape = this.shaped(node, [...batch, M, N]);
    this.layer(node, count(shape), count(shape) * K + this.settleCost([a, b]), count(shape) * K);
    return { kind: 'act', shape, raw: true, relu: false };
  }

  /** Softmax or LogSoftmax inside the graph: a comparison, a table and a product per element, a division (or a table) per row. */
  private softmax(node: GraphNode): ActVal {
    if (node.outputs[0] === this.graph.output.name && node.opType === 'Softmax') return this.act(node.inputs[0], node);
    const a = this.act(node.inputs[0], node);
    const axis = this.axis(node, attrInt(node, 'axis', -1), a.shape.length);
    const rows = count(a.shape) / (a.shape[axis] || 1);
    const shape = this.shaped(node, [...a.shape]);
    this.layer(node, count(shape), count(shape) * (MAX2_COST + FN_COST + 1) + rows * Math.max(DIV_COST, FN_COST));
    return { kind: 'act', shape, raw: true, relu: false };
  }

  private reduce(node: GraphNode): ActVal {
    const a = this.act(node.inputs[0], node);
    const axes = (this.axesOf(node) ?? a.shape.map((_, i) => i)).map((x) => this.axis(node, x, a.shape.length));
    const all = axes.length ? axes : a.shape.map((_, i) => i);
    const keep = attrInt(node, 'keepdims', 1) === 1;
    const shape = this.shaped(node, keep ? a.shape.map((d, i) => (all.includes(i) ? 1 : d)) : a.shape.filter((_, i) => !all.includes(i)));
    const linear = node.opType === 'ReduceSum' || node.opType === 'ReduceMean';
    this.layer(node, count(shape), linear ? (a.raw ? count(a.shape) * RESCALE_COST : 0) : count(a.shape) * MAX2_COST, count(a.shape));
    return { kind: 'act', shape, raw: linear || a.raw, relu: false };
  }

  private layerNorm(node: GraphNode): ActVal {
    const a = this.act(node.inputs[0], node);
    for (const i of node.inputs.slice(1, 3)) if (i) this.constant(i, node);
    const axis = this.axis(node, attrInt(node, 'axis', -1), a.shape.length);
    const n = count(a.shape.slice(axis));
    const rows = count(a.shape) / (n || 1);
    const shape = this.shaped(node, [...a.shape]);
    this.layer(node, count(shape), count(shape) * 2 + rows * (SQRT_COST + DIV_COST) + this.settleCost([a]), count(shape) * n);
    return { kind: 'act', shape, raw: true, relu: false };
  }

  private optInts(node: GraphNode, k: number): number[] | null {
    return node.inputs[k] ? this.ints(node.inputs[k], node) : null;
  }

  /** Element moves: free. */
  private shapeOp(node: GraphNode): ActVal {
    const a = this.act(node.inputs[0], node);
    const max = this.o.maxTensorElements;
    const moved = (shape: number[]): ActVal => ({ ...a, shape: this.shaped(node, shape) });
    switch (node.opType) {
      case 'Slice': return moved(sliceMap(node, a.shape, this.optInts(node, 1) ?? attrInts(node, 'starts') ?? [], this.optInts(node, 2) ?? attrInts(node, 'ends') ?? [], this.optInts(node, 3) ?? attrInts(node, 'axes'), this.optInts(node, 4), max).shape);
      case 'Gather': return moved(gatherMap(node, a.shape, this.constant(node.inputs[1], node), attrInt(node, 'axis', 0), max).shape);
      case 'Expand': return moved(expandMap(node, a.shape, this.optInts(node, 1) ?? [], max).shape);
      case 'Tile': return moved(tileMap(node, a.shape, this.optInts(node, 1) ?? [], max).shape);
      default: {
        const maps = splitMaps(node, a.shape, attrInt(node, 'axis', 0), this.optInts(node, 1) ?? attrInts(node, 'split'), node.outputs.length, max);
        maps.forEach((m, i) => i > 0 && this.values.set(node.outputs[i], { ...a, shape: this.shaped(node, m.shape) }));
        return moved(maps[0].shape);
      }
    }
  }

  private pow(node: GraphNode): ActVal {
    const e = Array.from(this.constant(node.inputs[1], node).data);
    if (e.length !== 1 || ![0.5, 1, 2].includes(e[0])) fail('ONNX_UNSUPPORTED', node, `exponent [${e.slice(0, 4)}] is not supported (1, 2 and 0.5 are)`);
    return this.elementwise(node, e[0] === 0.5 ? SQRT_COST : e[0] === 2 ? 1 : 0);
  }

  private axesOf(node: GraphNode): number[] | null {
    return node.inputs[1] ? this.ints(node.inputs[1], node) : attrInts(node, 'axes');
  }

  private argmax(node: GraphNode): ActVal {
    const a = this.act(node.inputs[0], node);
    const axis = this.axis(node, attrInt(node, 'axis', 0), a.shape.length);
    const shape = attrInt(node, 'keepdims', 1) === 1 ? a.shape.map((d, i) => (i === axis ? 1 : d)) : a.shape.filter((_, i) => i !== axis);
    const n = a.shape[axis];
    const out = this.shaped(node, shape);
    // One chain per row along the axis.
    this.layer(node, count(out), n > 1 ? count(out) * argmaxCost(n, ARGMAX_BITS) : 0);
    return { kind: 'act', shape: out, raw: false, relu: false };
  }

  private step(node: GraphNode): Val {
    switch (node.opType) {
      case 'Gemm': return this.gemm(node);
      case 'MatMul': return this.matmul(node);
      case 'Conv': return this.conv(node);
      case 'Add': case 'Sub': return this.addSub(node);
      case 'Mul': return this.mul(node);
      case 'BatchNormalization': return this.batchNorm(node);
      case 'Relu': return this.relu(node);
      case 'MaxPool': return this.maxPool(node);
      case 'AveragePool': return this.pool(node, false);
      case 'GlobalAveragePool': return this.pool(node, true);
      case 'Pad': return this.pad(node);
      case 'Transpose': return this.transpose(node);
      case 'Concat': return this.concat(node);
      case 'Identity': return this.value(node.inputs[0], node);
      case 'Softmax': case 'LogSoftmax': return this.softmax(node);
      case 'Div': return this.values.get(node.inputs[1])?.kind === 'const' ? this.binary(node, 0) : this.binary(node, DIV_COST + 1);
      case 'Sqrt': return this.elementwise(node, SQRT_COST);
      case 'Pow': return this.pow(node);
      case 'Sigmoid': case 'Tanh': case 'Erf': case 'Exp': case 'Log': return this.elementwise(node, FN_COST);
      case 'ReduceSum': case 'ReduceMean': case 'ReduceMax': case 'ReduceMin': return this.reduce(node);
      case 'LayerNormalization': return this.layerNorm(node);
      case 'Gather': {
        const t = this.values.get(node.inputs[0]);
        if (t?.kind !== 'const') return this.shapeOp(node);
        // An embedding: two IsZero per index and table row, then linear.
        const idx = this.act(node.inputs[1], node);
        const shape = this.shaped(node, [...idx.shape, ...t.t.dims.slice(1)]);
        this.layer(node, count(shape), count(idx.shape) * 2 * 2 * (t.t.dims[0] ?? 0) + this.settleCost([idx]));
        return { kind: 'act', shape, raw: true, relu: false };
      }
      case 'Slice': case 'Expand': case 'Tile': case 'Split': return this.shapeOp(node);
      case 'Where': {
        this.constant(node.inputs[0], node);
        return this.binary({ ...node, inputs: node.inputs.slice(1) }, 0);
      }
      case 'Cast': {
        const to = attrInt(node, 'to', 1);
        if (FLOAT_TYPES.has(to)) return this.act(node.inputs[0], node);
        if (!INT_CASTS.has(to)) fail('ONNX_UNSUPPORTED', node, 'a computed tensor can be cast between float types or to an integer type');
        return this.elementwise(node, RESCALE_COST);
      }
      case 'Neg': case 'Dropout': return this.act(node.inputs[0], node);
      case 'Max': case 'Min': return this.binary(node, MAX2_COST);
      case 'Abs': case 'LeakyRelu': case 'PRelu': return this.elementwise(node, MAX2_COST);
      case 'Clip': case 'HardSigmoid': return this.elementwise(node, 2 * MAX2_COST);
      case 'HardSwish': return this.elementwise(node, 2 * MAX2_COST + 1);
      case 'Gelu': return this.elementwise(node, FN_COST + 1);
      case 'Reciprocal': return this.elementwise(node, DIV_COST);
      case 'ArgMax': return this.argmax(node);
      case 'Flatten': {
        const a = this.act(node.inputs[0], node);
        const axis = this.axis(node, attrInt(node, 'axis', 1), a.shape.length + 1);
        return this.reshaped(node, a, [count(a.shape.slice(0, axis)), count(a.shape.slice(axis))]);
      }
      case 'Reshape': return this.reshape(node);
      case 'Squeeze': {
        const a = this.act(node.inputs[0], node);
        const axes = (this.axesOf(node) ?? a.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((x) => this.axis(node, x, a.shape.length));
        return this.reshaped(node, a, a.shape.filter((_, i) => !axes.includes(i)));
      }
      case 'Unsqueeze': {
        const a = this.act(node.inputs[0], node);
        const axes = this.axesOf(node) ?? [];
        const r = a.shape.length + axes.length;
        const norm = axes.map((x) => this.axis(node, x, r));
        const shape: number[] = [];
        let k = 0;
        for (let i = 0; i < r; i++) shape.push(norm.includes(i) ? 1 : a.shape[k++]);
        return this.reshaped(node, a, shape);
      }
      default:
        return fail('ONNX_UNSUPPORTED', node, 'unsupported operator');
    }
  }

  run(): CircuitEstimate {
    const { graph, o } = this;
    const nIn = count(graph.input.shape);
    if (nIn > o.maxTensorElements) {
      throw new LimitExceededError('CIRCUIT_TOO_LARGE', 'maxTensorElements', nIn, o.maxTensorElements, `the input "${graph.input.name}" (shape [${graph.input.shape}]) has too many elements`);
    }
    this.maxElements = nIn;
    this.totalElements = nIn;
    const bits = o.inputBits ?? MAX_BITS;
    this.layers.push({ op: 'input-range', node: graph.input.name, elements: nIn, constraints: nIn * bits, terms: 0 });
    this.values.set(graph.input.name, { kind: 'act', shape: [...graph.input.shape], raw: false, relu: false });
    for (const [name, t] of graph.constants) this.values.set(name, { kind: 'const', t });
    for (const node of graph.nodes) {
      const inputs = node.inputs.map((n) => {
        const v = n === '' ? undefined : this.values.get(n);
        return v === undefined ? undefined : v.kind === 'const' ? v.t : { shape: v.shape };
      });
      const folded = foldNode(node, inputs, o.maxTensorElements);
      this.values.set(node.outputs[0], folded ? { kind: 'const', t: folded } : this.step(node));
    }

    const out = this.values.get(graph.output.name);
    if (!out || out.kind !== 'act') throw new ZkinferError('ONNX_UNSUPPORTED', 'the model output does not depend on its input');
    const nOut = count(graph.output.shape);
    if (count(out.shape) !== nOut) throw new ZkinferError('ONNX_INVALID', `the graph declares output shape [${graph.output.shape}] but computes [${out.shape}]`);
    if (out.relu) this.layers.push({ op: 'Relu', node: graph.output.name, elements: nOut, constraints: nOut * RELU_COST, terms: 0 });
    // A raw output past the exact range is rescaled; an output no signal can be eliminated for stays one linear constraint.
    this.layers.push({ op: 'output', node: graph.output.name, elements: nOut, constraints: nOut * (1 + (out.raw ? RESCALE_COST : 0)), terms: 0 });

    let inputSignals: number;
    if (o.visibility === 'hashed') {
      const lay = commitLayout(nIn, bits);
      const items = lay.packs + 1;
      const cost = lay.chunks === 0 ? poseidonCost(items) : lay.chunks * poseidonCost(POSEIDON_WIDTH);
      this.layers.push({ op: 'commitment', node: graph.input.name, elements: 1, constraints: cost, terms: 0 });
      inputSignals = 1;
    } else {
      const per = inputsPerPack(bits);
      inputSignals = per > 1 ? Math.ceil(nIn / per) : nIn;
    }
    const constraints = this.layers.reduce((s, l) => s + l.constraints, 0);
    const linearTerms = this.layers.reduce((s, l) => s + l.terms, 0);
    const publicSignals = nOut + inputSignals;
    return {
      constraints,
      maxTensorElements: this.maxElements,
      totalElements: this.totalElements,
      linearTerms,
      publicSignals,
      ptauPower: ptauPowerFor(o.system, constraints, linearTerms, publicSignals),
      layers: this.layers,
    };
  }
}

const ceilLog2 = (n: number): number => Math.ceil(Math.log2(Math.max(2, n)));

/** The powers of tau a setup of this size needs (setup/systems.ts keySize, with rows estimated). */
function ptauPowerFor(system: ProofSystem, constraints: number, terms: number, publicSignals: number): number {
  switch (system) {
    case 'groth16': return requiredPower(constraints, publicSignals);
    case 'plonk': return Math.max(8, Math.max(3, ceilLog2(constraints + terms + publicSignals)));
    case 'fflonk': return Math.max(8, Math.max(3, ceilLog2(constraints + terms + publicSignals + 2)) + 3);
    default: return system satisfies never;
  }
}

/** Upper bound on the circuit `graph` compiles to; throws on the first tensor over `maxTensorElements`. */
export function estimateCircuit(graph: Graph, options: Partial<EstimateOptions> = {}): CircuitEstimate {
  const o = { ...ESTIMATE_DEFAULTS, ...options };
  return new Estimator(graph, o).run();
}

/**
 * The input range check's bit width, as the quantizer will derive it from
 * these calibration samples: the widest over the precision ladder when the
 * bits are chosen automatically (the input's scale follows activationBits).
 */
export function inputBitsFor(samples: readonly Float64Array[], options: Partial<QuantizeOptions> = {}): number {
  const o = quantizeOptions(options);
  let min = Infinity;
  let max = -Infinity;
  for (const x of samples) {
    for (let i = 0; i < x.length; i++) {
      if (x[i] < min) min = x[i];
      if (x[i] > max) max = x[i];
    }
  }
  const candidates = o.autoPrecision ? PRECISION_LADDER.map(([a]) => a) : [o.activationBits];
  return Math.max(...candidates.map((a) => inputQuantization({ min, max }, exactScale(samples, a), { ...o, activationBits: a }).bits));
}
