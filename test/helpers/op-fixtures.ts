import { makeOnnx, rand, type ModelSpec, type NodeSpec } from './onnx-builder.js';

/** A tiny ONNX model per operator, each with sample inputs in its shape. */
export interface OpFixture {
  name: string;
  op: string;
  onnx: Uint8Array;
  inputShape: number[];
}

const r = rand(42);
const vals = (n: number, scale = 1) => Array.from({ length: n }, () => r() * scale);
const w = (name: string, dims: number[], scale = 1) => ({ name, dims, data: vals(dims.reduce((a, b) => a * b, 1), scale) });

function model(inputShape: number[], outputShape: number[], nodes: NodeSpec[], initializers: ModelSpec['initializers'] = []): Uint8Array {
  return makeOnnx({ input: { name: 'x', shape: ['N', ...inputShape.slice(1)] }, output: { name: 'y', shape: ['N', ...outputShape.slice(1)] }, nodes, initializers });
}

export const OP_FIXTURES: OpFixture[] = [
  {
    name: 'conv: pads, strides, bias', op: 'Conv', inputShape: [1, 2, 7, 7],
    onnx: model([1, 2, 7, 7], [1, 3, 4, 4], [{ op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] } }], [w('W', [3, 2, 3, 3]), w('B', [3])]),
  },
  {
    name: 'conv: dilations, groups, no bias', op: 'Conv', inputShape: [1, 4, 6, 6],
    onnx: model([1, 4, 6, 6], [1, 4, 4, 4], [{ op: 'Conv', inputs: ['x', 'W'], outputs: ['y'], attrs: { kernel_shape: [2, 2], dilations: [2, 2], group: 2 } }], [w('W', [4, 2, 2, 2])]),
  },
  {
    name: 'pad: constant mode, pads from a Constant node', op: 'Pad', inputShape: [1, 1, 3, 3],
    onnx: model([1, 1, 3, 3], [1, 1, 6, 6], [
      { op: 'Constant', inputs: [], outputs: ['pads'], attrs: { value: { dims: [8], data: [0, 0, 1, 2, 0, 0, 2, 1], int64: true } } },
      { op: 'Constant', inputs: [], outputs: ['v'], attrs: { value: { dims: [], data: [0.5] } } },
      { op: 'Pad', inputs: ['x', 'pads', 'v'], outputs: ['y'], attrs: {} },
    ]),
  },
  {
    name: 'maxpool: 3x3 stride 2 with pads', op: 'MaxPool', inputShape: [1, 2, 5, 5],
    onnx: model([1, 2, 5, 5], [1, 2, 3, 3], [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } }]),
  },
  {
    name: 'maxpool after conv and relu (pooled before the ReLU)', op: 'MaxPool', inputShape: [1, 1, 6, 6],
    onnx: model([1, 1, 6, 6], [1, 2, 2, 2], [
      { op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { kernel_shape: [3, 3] } },
      { op: 'Relu', inputs: ['c'], outputs: ['h'] },
      { op: 'MaxPool', inputs: ['h'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    ], [w('W', [2, 1, 3, 3]), w('B', [2])]),
  },
  {
    name: 'averagepool: count_include_pad=1', op: 'AveragePool', inputShape: [1, 2, 5, 5],
    onnx: model([1, 2, 5, 5], [1, 2, 3, 3], [{ op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 } }]),
  },
  {
    name: 'averagepool: count_include_pad=0', op: 'AveragePool', inputShape: [1, 2, 5, 5],
    onnx: model([1, 2, 5, 5], [1, 2, 3, 3], [{ op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } }]),
  },
  {
    name: 'globalaveragepool', op: 'GlobalAveragePool', inputShape: [1, 3, 4, 4],
    onnx: model([1, 3, 4, 4], [1, 3, 1, 1], [{ op: 'GlobalAveragePool', inputs: ['x'], outputs: ['y'] }]),
  },
  {
    name: 'batchnormalization folded into conv', op: 'BatchNormalization', inputShape: [1, 1, 4, 4],
    onnx: model([1, 1, 4, 4], [1, 2, 3, 3], [
      { op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { kernel_shape: [2, 2] } },
      { op: 'BatchNormalization', inputs: ['c', 'g', 'b', 'm', 'v'], outputs: ['y'], attrs: { epsilon: 1e-5 } },
    ], [w('W', [2, 1, 2, 2]), w('B', [2]), { name: 'g', dims: [2], data: [1.5, -0.7] }, { name: 'b', dims: [2], data: [0.1, 0.3] }, { name: 'm', dims: [2], data: [0.2, -0.1] }, { name: 'v', dims: [2], data: [0.5, 2.0001] }]),
  },
  {
    name: 'batchnormalization standalone (affine)', op: 'BatchNormalization', inputShape: [1, 2, 3, 3],
    onnx: model([1, 2, 3, 3], [1, 2, 3, 3], [
      { op: 'Relu', inputs: ['x'], outputs: ['h'] },
      { op: 'BatchNormalization', inputs: ['h', 'g', 'b', 'm', 'v'], outputs: ['y'], attrs: { epsilon: 1e-5 } },
    ], [{ name: 'g', dims: [2], data: [1.5, -0.7] }, { name: 'b', dims: [2], data: [0.1, 0.3] }, { name: 'm', dims: [2], data: [0.2, -0.1] }, { name: 'v', dims: [2], data: [0.5, 2.0001] }]),
  },
  {
    name: 'add of two computed tensors (residual)', op: 'Add', inputShape: [1, 2, 4, 4],
    onnx: model([1, 2, 4, 4], [1, 2, 4, 4], [
      { op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c'], outputs: ['h'] },
      { op: 'Add', inputs: ['h', 'x'], outputs: ['y'] },
    ], [w('W', [2, 2, 3, 3]), w('B', [2])]),
  },
  {
    name: 'sub: computed minus computed, constant minus computed', op: 'Sub', inputShape: [1, 6],
    onnx: model([1, 6], [1, 6], [
      { op: 'MatMul', inputs: ['x', 'M'], outputs: ['a'] },
      { op: 'Sub', inputs: ['a', 'x'], outputs: ['d'] },
      { op: 'Sub', inputs: ['k', 'd'], outputs: ['y'] },
    ], [w('M', [6, 6]), w('k', [6])]),
  },
  {
    name: 'mul by a constant (per channel and scalar)', op: 'Mul', inputShape: [1, 3, 2, 2],
    onnx: model([1, 3, 2, 2], [1, 3, 2, 2], [
      { op: 'Mul', inputs: ['x', 'c'], outputs: ['a'] },
      { op: 'Mul', inputs: ['s', 'a'], outputs: ['y'] },
    ], [{ name: 'c', dims: [3, 1, 1], data: [0.5, -1.25, 3] }, { name: 's', dims: [], data: [0.75] }]),
  },
  {
    name: 'concat of computed tensors and a constant', op: 'Concat', inputShape: [1, 4],
    onnx: model([1, 4], [1, 9], [
      { op: 'MatMul', inputs: ['x', 'M'], outputs: ['a'] },
      { op: 'Relu', inputs: ['x'], outputs: ['b'] },
      { op: 'Concat', inputs: ['a', 'b', 'k'], outputs: ['y'], attrs: { axis: 1 } },
    ], [w('M', [4, 3]), w('k', [1, 2])]),
  },
  {
    name: 'transpose', op: 'Transpose', inputShape: [1, 2, 3, 4],
    onnx: model([1, 2, 3, 4], [1, 4, 2, 3], [{ op: 'Transpose', inputs: ['x'], outputs: ['y'], attrs: { perm: [0, 3, 1, 2] } }]),
  },
  {
    name: 'squeeze and unsqueeze (axes as inputs)', op: 'Squeeze', inputShape: [1, 1, 5],
    onnx: model([1, 1, 5], [1, 5, 1], [
      { op: 'Squeeze', inputs: ['x', 'ax1'], outputs: ['s'] },
      { op: 'Unsqueeze', inputs: ['s', 'ax2'], outputs: ['y'] },
    ], [{ name: 'ax1', dims: [1], data: [1], int64: true }, { name: 'ax2', dims: [1], data: [2], int64: true }]),
  },
  {
    name: 'softmax as the last op (dropped)', op: 'Softmax', inputShape: [1, 5],
    onnx: model([1, 5], [1, 4], [
      { op: 'Gemm', inputs: ['x', 'G', 'c'], outputs: ['l'], attrs: { transB: 1 } },
      { op: 'Softmax', inputs: ['l'], outputs: ['y'], attrs: { axis: -1 } },
    ], [w('G', [4, 5]), w('c', [4])]),
  },
  {
    name: 'argmax as the last op', op: 'ArgMax', inputShape: [1, 5],
    onnx: makeOnnx({
      input: { name: 'x', shape: ['N', 5] }, output: { name: 'y', shape: ['N', 1], elemType: 7 },
      initializers: [w('G', [6, 5]), w('c', [6])],
      nodes: [
        { op: 'Gemm', inputs: ['x', 'G', 'c'], outputs: ['l'], attrs: { transB: 1 } },
        { op: 'ArgMax', inputs: ['l'], outputs: ['y'], attrs: { axis: 1, keepdims: 1 } },
      ],
    }),
  },
  ...[[1, 4], [1, 3, 4], [1, 3, 2, 4]].map((shape): OpFixture => {
    // The channel axis is 1 at every rank; W has as many columns as there are
    // channels, so folding on the last axis instead would look just as valid.
    const outShape = [...shape.slice(0, -1), 3];
    const C = outShape[1];
    return {
      name: `batchnormalization folded into a rank-${shape.length} matmul (channel axis 1)`, op: 'BatchNormalization', inputShape: shape,
      onnx: model(shape, outShape, [
        { op: 'MatMul', inputs: ['x', 'W'], outputs: ['h'] },
        { op: 'BatchNormalization', inputs: ['h', 'g', 'b', 'm', 'v'], outputs: ['y'], attrs: { epsilon: 1e-5 } },
      ], [
        w('W', [4, 3]),
        { name: 'g', dims: [C], data: [1, 2, -3, 0.5].slice(0, C) }, { name: 'b', dims: [C], data: [0.25, -0.5, 0.1, 0.3].slice(0, C) },
        { name: 'm', dims: [C], data: [0.1, -0.2, 0.3, 0].slice(0, C) }, { name: 'v', dims: [C], data: [1, 0.5, 2, 1.5].slice(0, C) },
      ]),
    };
  }),
];

/** Deterministic sample inputs in [-1, 1). */
export function samplesFor(shape: number[], n: number, seed: number): number[][] {
  const g = rand(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, () => Array.from({ length: size }, g));
}
