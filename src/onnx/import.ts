import onnxProto from 'onnx-proto';
import type { AttrValue, ConstTensor, Graph, GraphNode, ValueInfo } from './graph.js';
import { decodeTensor, toNumber } from './tensor.js';
import { isSupportedOp, LAST_ONLY_OPS } from './ops.js';
import { elementsOf, importLimits, LimitExceededError, type ImportLimits } from './limits.js';
import { UnsupportedOpsError, ZkinferError } from '../errors.js';

const { onnx } = onnxProto;

const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_TENSOR = 4;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

type ModelProto = InstanceType<typeof onnx.ModelProto>;
type AttributeProto = onnxProto.onnx.IAttributeProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

function decodeModel(bytes: Uint8Array): ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new ZkinferError('ONNX_MALFORMED', `not a valid ONNX file: ${(e as Error).message}`);
  }
}

/** Decodes the file's constant tensors within the per-tensor and total weight limits. */
class WeightBudget {
  private total = 0;
  constructor(private readonly limits: ImportLimits) {}

  tensor(t: onnxProto.onnx.ITensorProto): ConstTensor {
    const v = decodeTensor(t, this.limits.maxTensorElements);
    this.count(v.data.length, `tensor "${t.name ?? ''}"`);
    return v;
  }

  numbers(values: number[], attr: string): number[] {
    this.count(values.length, `attribute "${attr}"`);
    return values;
  }

  private count(n: number, what: string): void {
    this.total += n;
    if (this.total > this.limits.maxWeightElements) {
      throw new LimitExceededError('ONNX_TOO_LARGE', 'maxWeightElements', this.total, this.limits.maxWeightElements, `weight elements, counted up to ${what}`);
    }
  }
}

function readAttr(a: AttributeProto, weights: WeightBudget): AttrValue {
  switch (a.type) {
    case ATTR_FLOAT: return { kind: 'float', value: a.f ?? 0 };
    case ATTR_INT: return { kind: 'int', value: toNumber(a.i) };
    case ATTR_STRING: return { kind: 'string', value: Buffer.from(a.s ?? []).toString('utf8') };
    case ATTR_TENSOR: {
      if (!a.t) throw new ZkinferError('ONNX_MALFORMED', `attribute "${a.name}" is of type tensor but holds none`);
      return { kind: 'tensor', value: weights.tensor(a.t) };
    }
    case ATTR_FLOATS: return { kind: 'floats', value: weights.numbers(Array.from(a.floats ?? []), a.name ?? '') };
    case ATTR_INTS: return { kind: 'ints', value: weights.numbers(Array.from(a.ints ?? [], toNumber), a.name ?? '') };
    default: return { kind: 'string', value: `<attribute type ${a.type}>` };
  }
}

function valueInfo(v: ValueInfoProto, role: string, limits: ImportLimits): ValueInfo {
  const dims = v.type?.tensorType?.shape?.dim;
  if (!dims) throw new ZkinferError('ONNX_INVALID', `graph ${role} "${v.name}" has no tensor shape`);
  const shape = dims.map((d, i) => {
    if (d.dimParam || d.dimValue == null) {
      if (i === 0) return 1; // symbolic batch dimension
      throw new ZkinferError('ONNX_INVALID', `graph ${role} "${v.name}" has symbolic dimension ${i} ("${d.dimParam}"); only the batch dimension may be symbolic`);
    }
    const n = toNumber(d.dimValue);
    if (i === 0 && n <= 0) return 1;
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new ZkinferError('ONNX_INVALID', `graph ${role} "${v.name}" has dimension ${i} of ${n}; expected a positive integer`);
    }
    return n;
  });
  const what = `graph ${role} "${v.name}" (shape [${shape}])`;
  const n = elementsOf(shape, what);
  if (n > limits.maxTensorElements) throw new LimitExceededError('ONNX_TOO_LARGE', 'maxTensorElements', n, limits.maxTensorElements, `${what} has too many elements`);
  return { name: v.name ?? '', shape };
}

function constantNodeValue(node: GraphNode): ConstTensor {
  const v = node.attrs.get('value') ?? node.attrs.get('value_float') ?? node.attrs.get('value_floats')
    ?? node.attrs.get('value_int') ?? node.attrs.get('value_ints');
  if (!v) throw new ZkinferError('ONNX_UNSUPPORTED', `Constant node "${node.name}" has no value, value_float(s) or value_int(s) attribute`);
  switch (v.kind) {
    case 'tensor': return v.value;
    case 'float': case 'int': return { dims: [], data: Float64Array.of(v.value) };
    case 'floats': case 'ints': return { dims: [v.value.length], data: Float64Array.from(v.value) };
    default: throw new ZkinferError('ONNX_UNSUPPORTED', `Constant node "${node.name}" holds a string`);
  }
}

/**
 * Parses ONNX bytes into a Graph. Every unsupported operator is reported at
 * once, before any other work, so a user sees the whole list in one go.
 * Sizes are checked against `limits` (IMPORT_LIMITS by default) and every
 * tensor's declared dims against the data it holds, before decoding it.
 */
export function importOnnx(bytes: Uint8Array, limits: Partial<ImportLimits> = {}): Graph {
  const lim = importLimits(limits);
  if (bytes.length === 0) throw new ZkinferError('ONNX_MALFORMED', 'the ONNX file is empty');
  if (bytes.length > lim.maxOnnxBytes) throw new LimitExceededError('ONNX_TOO_LARGE', 'maxOnnxBytes', bytes.length, lim.maxOnnxBytes, 'the ONNX file size in bytes');
  const model = decodeModel(bytes);
  const g = model.graph;
  if (!g || !g.node || g.node.length === 0) {
    throw new ZkinferError('ONNX_MALFORMED', 'not a valid ONNX file: it holds no graph with nodes');
  }
  if (g.node.length > lim.maxNodes) throw new LimitExceededError('ONNX_TOO_LARGE', 'maxNodes', g.node.length, lim.maxNodes, 'graph nodes');
  const weights = new WeightBudget(lim);
  const gNodes = g.node;
  const gInit = g.initializer ?? [];
  const gInputs = g.input ?? [];
  const gOutputs = g.output ?? [];
  const opsetEntry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = opsetEntry ? toNumber(opsetEntry.version) : 0;

  const graphOutput = gOutputs[0]?.name;
  const unsupported = gNodes
    .map((n, i) => ({ n, i }))
    .filter(({ n }) => (n.domain && n.domain !== 'ai.onnx') || !isSupportedOp(n.opType ?? '')
      || (LAST_ONLY_OPS.includes(n.opType ?? '') && n.output?.[0] !== graphOutput))
    .map(({ n, i }) => ({
      opType: n.domain ? `${n.domain}.${n.opType}` : (n.opType ?? ''),
      name: n.name || `#${i}`,
      ...(isSupportedOp(n.opType ?? '') && !n.domain ? { reason: 'only as the last op' } : {}),
    }));
  if (unsupported.length > 0) throw new UnsupportedOpsError(unsupported);

  const constants = new Map<string, ConstTensor>();
  for (const t of gInit) constants.set(t.name ?? '', weights.tensor(t));

  const inputs = gInputs.filter((v) => !constants.has(v.name ?? ''));
  if (inputs.length !== 1) {
    throw new ZkinferError('ONNX_UNSUPPORTED', `the graph has ${inputs.length} inputs (${inputs.map((v) => v.name).join(', ')}); exactly one is supported`);
  }
  if (gOutputs.length !== 1) {
    throw new ZkinferError('ONNX_UNSUPPORTED', `the graph has ${gOutputs.length} outputs; exactly one is supported`);
  }
  const input = valueInfo(inputs[0], 'input', lim);
  const output = valueInfo(gOutputs[0], 'output', lim);

  const known = new Set<string>([input.name, ...constants.keys()]);
  const nodes: GraphNode[] = [];
  gNodes.forEach((n, i) => {
    const attrs = new Map<string, AttrValue>();
    for (const a of n.attribute ?? []) attrs.set(a.name ?? '', readAttr(a, weights));
    const node: GraphNode = {
      opType: n.opType ?? '',
      name: n.name || `${n.opType}#${i}`,
      inputs: Array.from(n.input ?? []),
      outputs: Array.from(n.output ?? []),
      attrs,
    };
    for (const name of node.inputs) {
      if (name !== '' && !known.has(name)) {
        throw new ZkinferError('ONNX_INVALID', `node "${node.name}" (${node.opType}) reads "${name}", which no earlier node produces`);
      }
    }
    node.outputs.forEach((o) => known.add(o));
    if (node.opType === 'Constant') constants.set(node.outputs[0], constantNodeValue(node));
    else nodes.push(node);
  });
  if (!known.has(output.name)) {
    throw new ZkinferError('ONNX_INVALID', `no node produces the graph output "${output.name}"`);
  }
  return { input, output, nodes, constants, opset };
}
