import { makeOnnx, rand, type ModelSpec, type NodeSpec } from './onnx-builder.js';

/** A tiny ONNX model per operator beyond ReLU, with the bound its integer program must meet against onnxruntime. */
export interface SmoothFixture {
  name: string;
  op: string;
  onnx: Uint8Array;
  inputShape: number[];
  /** Largest |integer reference - onnxruntime| accepted, in output units. */
  tolerance: number;
  /** Inputs drawn from [-range, range). @defaultValue 2 */
  range?: number;
  /** Integer inputs in [0, ids) instead (token ids). */
  ids?: number;
}

const r = rand(11);
const vals = (n: number, scale = 1) => Array.from({ length: n }, () => r() * scale);
const w = (name: string, dims: number[], scale = 1) => ({ name, dims, data: vals(dims.reduce((a, b) => a * b, 1), scale) });

function model(inputShape: number[], outputShape: number[], nodes: NodeSpec[], initializers: ModelSpec['initializers'] = [], opset = 13): Uint8Array {
  return makeOnnx({ input: { name: 'x', shape: ['N', ...inputShape.slice(1)] }, output: { name: 'y', shape: ['N', ...outputShape.slice(1)] }, nodes, initializers, opset });
}

const unary = (op: string, shape: number[], tolerance: number, range = 2, opset = 13): SmoothFixture => ({
  name: op.toLowerCase(), op, inputShape: shape, tolerance, range,
  onnx: model(shape, shape, [{ op, inputs: ['x'], outputs: ['y'] }], [], opset),
});

export const SMOOTH_FIXTURES: SmoothFixture[] = [
  unary('Sigmoid', [1, 16], 0.004, 6),
  unary('Tanh', [1, 16], 0.004, 3),
  unary('Erf', [1, 16], 0.004, 3),
  unary('Exp', [1, 16], 0.02),
  {
    name: 'log of a positive tensor', op: 'Log', inputShape: [1, 8], tolerance: 0.01,
    onnx: model([1, 8], [1, 8], [
      { op: 'Sigmoid', inputs: ['x'], outputs: ['s'] },
      { op: 'Add', inputs: ['s', 'h'], outputs: ['e'] },
      { op: 'Log', inputs: ['e'], outputs: ['y'] },
    ], [{ name: 'h', dims: [], data: [0.25] }]),
  },
  {
    name: 'mul of two computed tensors, broadcast', op: 'Mul', inputShape: [1, 2, 3], tolerance: 0.02,
    onnx: model([1, 2, 3], [1, 2, 3], [
      { op: 'Relu', inputs: ['x'], outputs: ['a'] },
      { op: 'ReduceSum', inputs: ['x', 'ax'], outputs: ['s'], attrs: { keepdims: 1 } },
      { op: 'Mul', inputs: ['a', 's'], outputs: ['y'] },
    ], [{ name: 'ax', dims: [1], data: [2], int64: true }]),
  },
  {
    name: 'matmul of two computed tensors (q·kᵀ)', op: 'MatMul', inputShape: [1, 2, 4, 3], tolerance: 0.03,
    onnx: model([1, 2, 4, 3], [1, 2, 4, 4], [
      { op: 'Transpose', inputs: ['x'], outputs: ['xt'], attrs: { perm: [0, 1, 3, 2] } },
      { op: 'MatMul', inputs: ['x', 'xt'], outputs: ['y'] },
    ]),
  },
  {
    name: 'softmax inside the graph, then a linear layer', op: 'Softmax', inputShape: [1, 3, 5], tolerance: 0.01,
    onnx: model([1, 3, 5], [1, 3, 2], [
      { op: 'Softmax', inputs: ['x'], outputs: ['p'], attrs: { axis: -1 } },
      { op: 'MatMul', inputs: ['p', 'W'], outputs: ['y'] },
    ], [w('W', [5, 2])]),
  },
  {
    name: 'softmax on axis 1', op: 'Softmax', inputShape: [1, 4, 3], tolerance: 0.01,
    onnx: model([1, 4, 3], [1, 4, 3], [
      { op: 'Softmax', inputs: ['x'], outputs: ['p'], attrs: { axis: 1 } },
      { op: 'Add', inputs: ['p', 'c'], outputs: ['y'] },
    ], [{ name: 'c', dims: [1], data: [0.5] }]),
  },
  {
    name: 'logsoftmax as the last op', op: 'LogSoftmax', inputShape: [1, 6], tolerance: 0.02,
    onnx: model([1, 6], [1, 6], [{ op: 'LogSoftmax', inputs: ['x'], outputs: ['y'], attrs: { axis: 1 } }]),
  },
  {
    name: 'div of computed tensors and a shared denominator', op: 'Div', inputShape: [1, 2, 4], tolerance: 0.02,
    onnx: model([1, 2, 4], [1, 2, 4], [
      { op: 'Mul', inputs: ['x', 'x'], outputs: ['sq'] },
      { op: 'ReduceMean', inputs: ['sq'], outputs: ['m'], attrs: { axes: [2], keepdims: 1 } },
      { op: 'Add', inputs: ['m', 'one'], outputs: ['d'] },
      { op: 'Div', inputs: ['x', 'd'], outputs: ['y'] },
    ], [{ name: 'one', dims: [], data: [1] }]),
  },
  {
    name: 'element-wise div and sqrt', op: 'Sqrt', inputShape: [1, 6], tolerance: 0.02,
    onnx: model([1, 6], [1, 6], [
      { op: 'Mul', inputs: ['x', 'x'], outputs: ['sq'] },
      { op: 'Add', inputs: ['sq', 'h'], outputs: ['d'] },
      { op: 'Sqrt', inputs: ['d'], outputs: ['s'] },
      { op: 'Div', inputs: ['x', 's'], outputs: ['y'] },
    ], [{ name: 'h', dims: [], data: [0.5] }]),
  },
  {
    name: 'reducemax and reducemin over two axes', op: 'ReduceMax', inputShape: [1, 3, 4], tolerance: 0.01,
    onnx: model([1, 3, 4], [1, 1, 2], [
      { op: 'ReduceMax', inputs: ['x'], outputs: ['a'], attrs: { axes: [1, 2], keepdims: 1 } },
      { op: 'ReduceMin', inputs: ['x'], outputs: ['b'], attrs: { axes: [1, 2], keepdims: 1 } },
      { op: 'Concat', inputs: ['a', 'b'], outputs: ['y'], attrs: { axis: 2 } },
    ]),
  },
  {
    name: 'layernormalization (opset 17)', op: 'LayerNormalization', inputShape: [1, 4, 8], tolerance: 0.03,
    onnx: model([1, 4, 8], [1, 4, 8], [
      { op: 'LayerNormalization', inputs: ['x', 'g', 'b'], outputs: ['y'], attrs: { axis: -1, epsilon: 1e-5 } },
    ], [w('g', [8]), w('b', [8])], 17),
  },
  {
    name: 'pow 2 and pow 0.5', op: 'Pow', inputShape: [1, 5], tolerance: 0.02,
    onnx: model([1, 5], [1, 5], [
      { op: 'Pow', inputs: ['x', 'two'], outputs: ['p'] },
      { op: 'Pow', inputs: ['p', 'half'], outputs: ['y'] },
    ], [{ name: 'two', dims: [], data: [2] }, { name: 'half', dims: [], data: [0.5] }]),
  },
  unary('Abs', [1, 6], 0.01),
  unary('Neg', [1, 6], 0.01),
  unary('HardSwish', [1, 8], 0.02, 4, 14),
  unary('Gelu', [1, 8], 0.02, 3, 20),
  {
    name: 'leakyrelu, prelu (per channel), hardsigmoid', op: 'LeakyRelu', inputShape: [1, 3, 4], tolerance: 0.01, range: 4,
    onnx: model([1, 3, 4], [1, 3, 4], [
      { op: 'LeakyRelu', inputs: ['x'], outputs: ['a'], attrs: { alpha: 0.1 } },
      { op: 'PRelu', inputs: ['a', 's'], outputs: ['b'] },
      { op: 'HardSigmoid', inputs: ['b'], outputs: ['y'], attrs: { alpha: 0.2, beta: 0.5 } },
    ], [{ name: 's', dims: [3, 1], data: [0.25, 0.5, 1.5] }]),
  },
  {
    name: 'clip as relu6 (bounds as inputs), max and min of two tensors', op: 'Clip', inputShape: [1, 8], tolerance: 0.01, range: 8,
    onnx: model([1, 8], [1, 8], [
      { op: 'Clip', inputs: ['x', 'lo', 'hi'], outputs: ['c'] },
      { op: 'Neg', inputs: ['x'], outputs: ['n'] },
      { op: 'Max', inputs: ['c', 'n'], outputs: ['m'] },
      { op: 'Min', inputs: ['m', 'k'], outputs: ['y'] },
    ], [{ name: 'lo', dims: [], data: [0] }, { name: 'hi', dims: [], data: [6] }, { name: 'k', dims: [8], data: [1, 2, 3, 4, 5, 6, 7, 0] }]),
  },
  {
    name: 'slice with steps, split, gather, expand, tile, where, cast', op: 'Slice', inputShape: [1, 4, 6], tolerance: 0.01,
    onnx: model([1, 4, 6], [1, 2, 12], [
      { op: 'Slice', inputs: ['x', 'st', 'en', 'ax', 'sp'], outputs: ['s'] },
      { op: 'Split', inputs: ['s', 'parts'], outputs: ['p0', 'p1'], attrs: { axis: 2 } },
      { op: 'Add', inputs: ['p0', 'p1'], outputs: ['q'] },
      { op: 'Gather', inputs: ['q', 'gi'], outputs: ['g'], attrs: { axis: 1 } },
      { op: 'Tile', inputs: ['g', 'rep'], outputs: ['t'] },
      { op: 'Cast', inputs: ['t'], outputs: ['c'], attrs: { to: 1 } },
      { op: 'Cast', inputs: ['condf'], outputs: ['cond'], attrs: { to: 9 } },
      { op: 'Where', inputs: ['cond', 'c', 'z'], outputs: ['w'] },
      { op: 'Shape', inputs: ['w'], outputs: ['shp'] },
      { op: 'Expand', inputs: ['w', 'shp'], outputs: ['y'] },
    ], [
      { name: 'st', dims: [2], data: [0, 5], int64: true }, { name: 'en', dims: [2], data: [4, 1], int64: true },
      { name: 'ax', dims: [2], data: [1, 2], int64: true }, { name: 'sp', dims: [2], data: [2, -1], int64: true },
      { name: 'parts', dims: [2], data: [2, 2], int64: true }, { name: 'gi', dims: [2], data: [1, 0], int64: true },
      { name: 'rep', dims: [3], data: [1, 1, 6], int64: true },
      { name: 'condf', dims: [12], data: [1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1] }, { name: 'z', dims: [], data: [0.5] },
    ]),
  },
  {
    name: 'argmax inside the graph, per row, cast and added', op: 'ArgMax', inputShape: [1, 3, 5], tolerance: 1e-9,
    onnx: model([1, 3, 5], [1, 3, 1], [
      { op: 'ArgMax', inputs: ['x'], outputs: ['i'], attrs: { axis: 2, keepdims: 1 } },
      { op: 'Cast', inputs: ['i'], outputs: ['f'], attrs: { to: 1 } },
      { op: 'Add', inputs: ['f', 'h'], outputs: ['y'] },
    ], [{ name: 'h', dims: [], data: [2] }]),
  },
  {
    name: 'embedding: gather of a constant table by computed token ids', op: 'Gather', inputShape: [1, 6], tolerance: 0.01, range: 1,
    ids: 5,
    onnx: model([1, 6], [1, 3], [
      { op: 'Cast', inputs: ['x'], outputs: ['ids'], attrs: { to: 7 } },
      { op: 'Gather', inputs: ['E', 'ids'], outputs: ['e'], attrs: { axis: 0 } },
      { op: 'ReduceMean', inputs: ['e'], outputs: ['m'], attrs: { axes: [1], keepdims: 0 } },
      { op: 'MatMul', inputs: ['m', 'W'], outputs: ['y'] },
    ], [w('E', [5, 4]), w('W', [4, 3])]),
  },
  {
    name: 'reciprocal of a positive tensor', op: 'Reciprocal', inputShape: [1, 6], tolerance: 0.01,
    onnx: model([1, 6], [1, 6], [
      { op: 'Mul', inputs: ['x', 'x'], outputs: ['sq'] },
      { op: 'Add', inputs: ['sq', 'one'], outputs: ['d'] },
      { op: 'Reciprocal', inputs: ['d'], outputs: ['y'] },
    ], [{ name: 'one', dims: [], data: [1] }]),
  },
  {
    name: 'constantofshape, equal and where folded; dropout', op: 'ConstantOfShape', inputShape: [1, 4], tolerance: 0.01,
    onnx: model([1, 4], [1, 4], [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'ConstantOfShape', inputs: ['s'], outputs: ['c'], attrs: { value: { dims: [1], data: [0.25] } } },
      { op: 'Equal', inputs: ['s', 's'], outputs: ['eq'] },
      { op: 'Cast', inputs: ['eq'], outputs: ['eqf'], attrs: { to: 1 } },
      { op: 'ReduceSum', inputs: ['eqf'], outputs: ['n'], attrs: { keepdims: 0 } },
      { op: 'Dropout', inputs: ['x'], outputs: ['dx'] },
      { op: 'Add', inputs: ['dx', 'c'], outputs: ['a'] },
      { op: 'Mul', inputs: ['a', 'n'], outputs: ['y'] },
    ]),
  },
];
