import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface NodeSpec {
  op: string;
  name?: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, number | number[] | string | { dims: number[]; data: number[]; int64?: boolean }>;
}

export interface ModelSpec {
  input: { name: string; shape: Array<number | string> };
  output: { name: string; shape: Array<number | string>; elemType?: number };
  nodes: NodeSpec[];
  initializers?: Array<{ name: string; dims: number[]; data: number[]; int64?: boolean }>;
  /** @defaultValue 13 */
  opset?: number;
}

const tensor = (name: string, dims: number[], data: number[], int64 = false) =>
  onnx.TensorProto.create(int64
    ? { name, dims, dataType: 7, int64Data: data }
    : { name, dims, dataType: 1, rawData: new Uint8Array(Float32Array.from(data).buffer) });

const valueInfo = (name: string, shape: Array<number | string>, elemType = 1) =>
  onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });

/** Writes a small ONNX model (opset 13 unless given) with the protobuf schema, for fixtures. */
export function makeOnnx(spec: ModelSpec): Uint8Array {
  const nodes = spec.nodes.map((n, i) =>
    onnx.NodeProto.create({
      opType: n.op,
      name: n.name ?? `/${n.op}_${i}`,
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs ?? {}).map(([name, v]) => {
        if (typeof v === 'number') return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
        if (Array.isArray(v)) return { name, type: 7, ints: v };
        if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
        return { name, type: 4, t: tensor(name, v.dims, v.data, v.int64) };
      }),
    }),
  );
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    producerName: 'zkinfer-test',
    graph: {
      name: 'g',
      node: nodes,
      input: [valueInfo(spec.input.name, spec.input.shape)],
      output: [valueInfo(spec.output.name, spec.output.shape, spec.output.elemType)],
      initializer: (spec.initializers ?? []).map((t) => tensor(t.name, t.dims, t.data, t.int64)),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Deterministic pseudo-random numbers in [-1, 1). */
export function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/**
 * A tiny MLP that uses every operator of the compiler slice:
 * MatMul, Add, Relu, Constant, Reshape, Flatten, Identity, Gemm (transB, alpha, beta).
 */
export function tinyMlp(seed = 1): Uint8Array {
  const r = rand(seed);
  const vals = (n: number) => Array.from({ length: n }, r);
  return makeOnnx({
    input: { name: 'x', shape: ['batch', 4] },
    output: { name: 'y', shape: ['batch', 2] },
    initializers: [
      { name: 'W1', dims: [4, 3], data: vals(12) },
      { name: 'b1', dims: [3], data: vals(3) },
      { name: 'W2', dims: [2, 3], data: vals(6) },
      { name: 'b2', dims: [2], data: vals(2) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W1'], outputs: ['h0'] },
      { op: 'Add', inputs: ['h0', 'b1'], outputs: ['h1'] },
      { op: 'Relu', inputs: ['h1'], outputs: ['h2'] },
      { op: 'Constant', inputs: [], outputs: ['shape'], attrs: { value: { dims: [2], data: [1, 3], int64: true } } },
      { op: 'Reshape', inputs: ['h2', 'shape'], outputs: ['h3'] },
      { op: 'Flatten', inputs: ['h3'], outputs: ['h4'], attrs: { axis: 1 } },
      { op: 'Identity', inputs: ['h4'], outputs: ['h5'] },
      { op: 'Gemm', inputs: ['h5', 'W2', 'b2'], outputs: ['y'], attrs: { transB: 1, alpha: 0.5, beta: 1.5 } },
    ],
  });
}

export const tinySamples = (n: number, seed = 7): number[][][] => {
  const r = rand(seed);
  return Array.from({ length: n }, () => [Array.from({ length: 4 }, r)]);
};
