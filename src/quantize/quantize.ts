import type { ConstTensor, Graph, GraphNode } from '../onnx/graph.js';
import { size } from '../onnx/graph.js';
import type { ModelIO } from '../receipt/io.js';
import type { Form, Layer, Program, ScaleRecord } from './program.js';
import type { QuantizeOptions } from './config.js';
import type { TensorStats } from './calibration.js';
import { addConst, combine, constForm, formBounds, signalForm } from './forms.js';
import { bitsFor, chooseGadget, gadgetRange, MAX_BITS } from './gadgets.js';
import { broadcastIndex } from './broadcast.js';
import { ZkinferError } from '../errors.js';

interface ConstValue { kind: 'const'; t: ConstTensor }
interface ActValue {
  kind: 'act';
  shape: number[];
  scale: number;
  forms: Form[];
  /** Forms still carry weight products: rescale before another linear op. */
  raw: boolean;
}
type Value = ConstValue | ActValue;

const log2ceil = (m: number): number => Math.ceil(Math.log2(m));

const attrInt = (n: GraphNode, name: string, dflt: number): number => {
  const a = n.attrs.get(name);
  return a && a.kind === 'int' ? a.value : dflt;
};
const attrFloat = (n: GraphNode, name: string, dflt: number): number => {
  const a = n.attrs.get(name);
  return a && (a.kind === 'float' || a.kind === 'int') ? a.value : dflt;
};

export interface QuantizeInput {
  graph: Graph;
  onnxSha256: string;
  stats: ReadonlyMap<string, TensorStats>;
  samples: readonly Float64Array[];
  options: QuantizeOptions;
}

/** Smallest k <= maxBits with every sample an exact multiple of 2^-k, if any. */
function exactInputScale(samples: readonly Float64Array[], maxBits: number): number | null {
  for (let k = 0; k <= maxBits; k++) {
    const s = 2 ** k;
    if (samples.every((x) => x.every((v) => Number.isInteger(v * s)))) return k;
  }
  return null;
}

class Quantizer {
  private readonly values = new Map<string, Value>();
  private readonly lo: number[] = [];
  private readonly hi: number[] = [];
  readonly layers: Layer[] = [];
  readonly scales: ScaleRecord[] = [];

  constructor(private readonly q: QuantizeInput) {}

  /** Scale that maps the tensor's calibration range onto about activationBits bits. */
  private activationScale(tensor: string): { scale: number; reason: string } {
    const st = this.q.stats.get(tensor);
    const m = st ? Math.max(Math.abs(st.min), Math.abs(st.max)) : 0;
    const bits = this.q.options.activationBits;
    if (!(m > 0)) return { scale: bits, reason: 'no non-zero calibration value' };
    const scale = bits - log2ceil(m);
    return { scale, reason: `calibration max |x| = ${m.toPrecision(4)} mapped to 2^${bits}` };
  }

  private newSignals(n: number, lo: number[], hi: number[]): number {
    const off = this.lo.length;
    for (let i = 0; i < n; i++) {
      this.lo.push(lo[i]);
      this.hi.push(hi[i]);
    }
    return off;
  }

  private bounds(f: Form, node: string): { lo: number; hi: number } {
    const b = formBounds(f, this.lo, this.hi);
    if (b.abs >= 2 ** MAX_BITS) {
      throw new ZkinferError('QUANTIZATION_FAILED', `node "${node}" reaches magnitude 2^${Math.ceil(Math.log2(b.abs))} (limit 2^${MAX_BITS}); lower --activation-bits or --weight-bits`, false);
    }
    return b;
  }

  private act(name: string, node: GraphNode): ActValue {
    const v = this.values.get(name);
    if (!v) throw new ZkinferError('ONNX_INVALID', `node "${node.name}" reads "${name}", which is not available`);
    if (v.kind !== 'act') throw new ZkinferError('ONNX_UNSUPPORTED', `node "${node.name}" (${node.opType}) has constant input "${name}" where a computed tensor is expected`);
    return v;
  }

  private constant(name: string, node: GraphNode): ConstTensor {
    const v = this.values.get(name);
    if (!v) throw new ZkinferError('ONNX_INVALID', `node "${node.name}" reads "${name}", which is not available`);
    if (v.kind !== 'const') {
      throw new ZkinferError('ONNX_UNSUPPORTED', `node "${node.name}" (${node.opType}): input "${name}" is computed; only constant weights are supported here`);
    }
    return v.t;
  }

  /** Materializes forms through rescale(+ReLU) gadgets into a new layer of signals. */
  private materialize(node: string, tensor: string, v: ActValue, relu: boolean): ActValue {
    let { scale: target } = this.activationScale(tensor);
    if (target > v.scale) target = v.scale;
    const shift = v.scale - target;
    const gadgets = v.forms.map((f) => {
      const b = this.bounds(f, node);
      return chooseGadget(b.lo, b.hi, shift, relu, node);
    });
    const ranges = v.forms.map((f, j) => {
      const b = this.bounds(f, node);
      return gadgetRange(gadgets[j], b.lo, b.hi);
    });
    const offset = this.newSignals(v.forms.length, ranges.map((r) => r[0]), ranges.map((r) => r[1]));
    this.layers.push({ node, op: relu ? 'relu' : 'rescale', shape: v.shape, scale: target, forms: v.forms, gadgets, offset });
    this.scales.push({ tensor, role: 'activation', scale: target, reason: this.activationScale(tensor).reason });
    const forms = gadgets.map((g, j) => (g.kind === 'const' ? constForm(g.value) : signalForm(offset + j)));
    return { kind: 'act', shape: v.shape, scale: target, forms, raw: false };
  }

  /** rows x K activations times a K x N constant matrix, plus an optional bias per output. */
  private linear(node: GraphNode, inName: string, a: ActValue, w: Float64Array, k: number, n: number, bias: Float64Array | null, outShape: number[]): ActValue {
    if (a.raw) a = this.materialize(node.name, inName, a, false);
    let m = 0;
    for (const x of w) m = Math.max(m, Math.abs(x));
    const wb = this.q.options.weightBits;
    const ws = m > 0 ? wb - 1 - log2ceil(m) : wb - 1;
    this.scales.push({ tensor: `${node.name}:weights`, role: 'weight', scale: ws, reason: `max |w| = ${m.toPrecision(4)} mapped to 2^${wb - 1}` });
    const scale = a.scale + ws;
    const rows = a.forms.length / k;
    const wq = Array.from(w, (x) => Math.round(x * 2 ** ws));
    const forms: Form[] = [];
    const col = new Array<number>(k);
    for (let r = 0; r < rows; r++) {
      const inForms = a.forms.slice(r * k, (r + 1) * k);
      for (let j = 0; j < n; j++) {
        for (let t = 0; t < k; t++) col[t] = wq[t * n + j];
        const b = bias ? Math.round(bias[r * n + j] * 2 ** scale) : 0;
        forms.push(combine(inForms, col, b));
      }
    }
    return { kind: 'act', shape: outShape, scale, forms, raw: true };
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
    const w = new Float64Array(k * n);
    for (let t = 0; t < k; t++) for (let j = 0; j < n; j++) w[t * n + j] = alpha * (transB ? b.data[j * k + t] : b.data[t * n + j]);
    let bias: Float64Array | null = null;
    if (cName) {
      const c = this.constant(cName, node);
      const map = broadcastIndex(c.dims, [m, n], node.name);
      bias = Float64Array.from(map, (i) => beta * c.data[i]);
    }
    return this.linear(node, aName, a, w, k, n, bias, [m, n]);
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
    return this.linear(node, aName, a, b.data, k, n, null, [...a.shape.slice(0, -1), n]);
  }

  private add(node: GraphNode): ActValue {
    const [x, y] = node.inputs;
    const vx = this.values.get(x);
    const vy = this.values.get(y);
    if (vx?.kind === 'act' && vy?.kind === 'act') {
      throw new ZkinferError('ONNX_UNSUPPORTED', `Add node "${node.name}": adding two computed tensors is not supported`);
    }
    const [actName, cName] = vx?.kind === 'act' ? [x, y] : [y, x];
    const a = this.act(actName, node);
    const c = this.constant(cName, node);
    const map = broadcastIndex(c.dims, a.shape, node.name);
    const s = 2 ** a.scale;
    const forms = a.forms.map((f, i) => addConst(f, Math.round(c.data[map[i]] * s)));
    return { ...a, forms };
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

  private step(node: GraphNode): Value {
    switch (node.opType) {
      case 'Gemm': return this.gemm(node);
      case 'MatMul': return this.matmul(node);
      case 'Add': return this.add(node);
      case 'Relu': return this.materialize(node.name, node.outputs[0], this.act(node.inputs[0], node), true);
      case 'Identity': return this.values.get(node.inputs[0])!;
      case 'Flatten': {
        const a = this.act(node.inputs[0], node);
        let axis = attrInt(node, 'axis', 1);
        if (axis < 0) axis += a.shape.length;
        return this.reshape(node, a, [size(a.shape.slice(0, axis)), size(a.shape.slice(axis))]);
      }
      case 'Reshape': {
        const a = this.act(node.inputs[0], node);
        return this.reshape(node, a, this.reshapeTarget(node, a));
      }
      default:
        throw new ZkinferError('ONNX_UNSUPPORTED', `unsupported ONNX operator: ${node.opType} (node "${node.name}")`);
    }
  }

  run(): Program {
    const { graph, options, samples, stats } = this.q;
    const exact = exactInputScale(samples, options.activationBits);
    const inScale = exact ?? this.activationScale(graph.input.name).scale;
    this.scales.push({
      tensor: graph.input.name,
      role: 'input',
      scale: inScale,
      reason: exact !== null ? `calibration inputs are exact multiples of 2^-${exact}` : this.activationScale(graph.input.name).reason,
    });
    let range = options.inputRange;
    if (!range) {
      const st = stats.get(graph.input.name)!;
      const pad = (st.max - st.min) * options.rangeMargin || options.rangeMargin;
      range = [st.min >= 0 ? Math.max(0, st.min - pad) : st.min - pad, st.max + pad];
    }
    const s = 2 ** inScale;
    const lo = Math.floor(range[0] * s);
    const bits = Math.max(1, bitsFor(Math.ceil(range[1] * s) - lo));
    const n = size(graph.input.shape);
    const inOff = this.newSignals(n, new Array(n).fill(lo), new Array(n).fill(lo + 2 ** bits - 1));
    this.values.set(graph.input.name, {
      kind: 'act', shape: [...graph.input.shape], scale: inScale, raw: false,
      forms: Array.from({ length: n }, (_, i) => signalForm(inOff + i)),
    });
    for (const [name, t] of graph.constants) this.values.set(name, { kind: 'const', t });

    for (const node of graph.nodes) {
      const v = this.step(node);
      this.values.set(node.outputs[0], v);
    }
    const out = this.values.get(graph.output.name);
    if (!out || out.kind !== 'act') throw new ZkinferError('ONNX_UNSUPPORTED', 'the model output does not depend on its input');
    for (const f of out.forms) this.bounds(f, graph.output.name);
    const outNode = graph.nodes.find((nd) => nd.outputs.includes(graph.output.name))?.name ?? graph.output.name;
    this.scales.push({ tensor: graph.output.name, role: 'output', scale: out.scale, reason: 'accumulator scale of the last layer (no rescale)' });

    const io: ModelIO = {
      onnxSha256: this.q.onnxSha256,
      visibility: options.visibility,
      input: { name: graph.input.name, shape: [...graph.input.shape], scale: inScale, lo, bits },
      output: { name: graph.output.name, shape: [...graph.output.shape], scale: out.scale },
    };
    return { io, layers: this.layers, outputForms: out.forms, outputNode: outNode, signalCount: this.lo.length, requestedRange: range, scales: this.scales };
  }
}

/** Quantizes the float graph into an integer program with tight static bounds. */
export function quantize(input: QuantizeInput): Program {
  return new Quantizer(input).run();
}
