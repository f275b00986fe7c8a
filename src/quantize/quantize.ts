import type { GraphNode } from '../onnx/graph.js';
import { size } from '../onnx/graph.js';
import type { ModelIO } from '../receipt/io.js';
import { inputsPerPack } from '../receipt/commitment.js';
import type { Program } from './program.js';
import { combine, constForm, formBounds, signalForm } from './forms.js';
import { MAX_BITS } from './gadgets.js';
import { broadcastIndex } from './broadcast.js';
import { FLOAT_TYPES, INT_CASTS } from './fold.js';
import { ZkinferError } from '../errors.js';

import { type Value, attrInt, attrFloat, normAxis, type QuantizeInput, exactScale, activationScaleOf, type InputQuantization, inputQuantization } from './quantizer-core.js';
import { NonlinearOps } from './nonlinear-ops.js';

export { exactScale, activationScaleOf, inputQuantization, type InputQuantization, type QuantizeInput } from './quantizer-core.js';

class Quantizer extends NonlinearOps {
  /** The node's first n inputs are all computed tensors. */
  private computed(node: GraphNode, n: number): boolean {
    return node.inputs.slice(0, n).every((i) => this.values.get(i)?.kind === 'act');
  }

  protected step(node: GraphNode): Value {
    switch (node.opType) {
      case 'Gemm': return this.gemm(node);
      case 'MatMul': return this.computed(node, 2) ? this.matmul2(node) : this.matmul(node);
      case 'Conv': return this.conv(node);
      case 'Add': return this.addSub(node, 1);
      case 'Sub': return this.addSub(node, -1);
      case 'Mul': return this.computed(node, 2) ? this.mul2(node) : this.mul(node);
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
