import { makeOnnx, rand } from './onnx-builder.js';

/**
 * One small network through every new gadget path in a real circuit: Conv with
 * folded BatchNorm, ReLU pooled by MaxPool, a residual Add, Pad + AveragePool,
 * Concat, Transpose, Mul, Sub, GlobalAveragePool, Gemm, ArgMax.
 */
export function kitchenSink(): Uint8Array {
  const g = rand(77);
  const v = (n: number) => Array.from({ length: n }, g);
  return makeOnnx({
    input: { name: 'x', shape: ['N', 1, 6, 6] },
    output: { name: 'y', shape: ['N', 1], elemType: 7 },
    initializers: [
      { name: 'W1', dims: [2, 1, 3, 3], data: v(18) }, { name: 'B1', dims: [2], data: v(2) },
      { name: 'g', dims: [2], data: [1.2, 0.8] }, { name: 'b', dims: [2], data: [0.1, -0.1] },
      { name: 'm', dims: [2], data: [0.05, 0] }, { name: 'var', dims: [2], data: [1.1, 0.9] },
      { name: 'W2', dims: [2, 2, 3, 3], data: v(36) },
      { name: 'pads', dims: [8], data: [0, 0, 1, 1, 0, 0, 1, 1], int64: true },
      { name: 'k', dims: [1, 4, 1, 1], data: [0.5, -0.5, 1, 2] },
      { name: 'G', dims: [3, 4], data: v(12) }, { name: 'c', dims: [3], data: v(3) },
    ],
    nodes: [
      { op: 'Conv', inputs: ['x', 'W1', 'B1'], outputs: ['c1'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: 'BatchNormalization', inputs: ['c1', 'g', 'b', 'm', 'var'], outputs: ['bn'] },
      { op: 'Relu', inputs: ['bn'], outputs: ['r1'] },
      { op: 'MaxPool', inputs: ['r1'], outputs: ['p1'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Conv', inputs: ['p1', 'W2'], outputs: ['c2'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c2'], outputs: ['r2'] },
      { op: 'Add', inputs: ['r2', 'p1'], outputs: ['res'] },
      { op: 'Pad', inputs: ['res', 'pads'], outputs: ['pd'] },
      { op: 'AveragePool', inputs: ['pd'], outputs: ['ap'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Concat', inputs: ['ap', 'ap'], outputs: ['cc'], attrs: { axis: 1 } },
      { op: 'Transpose', inputs: ['cc'], outputs: ['tr'], attrs: { perm: [0, 1, 3, 2] } },
      { op: 'Mul', inputs: ['tr', 'k'], outputs: ['mu'] },
      { op: 'Sub', inputs: ['mu', 'tr'], outputs: ['su'] },
      { op: 'GlobalAveragePool', inputs: ['su'], outputs: ['gp'] },
      { op: 'Flatten', inputs: ['gp'], outputs: ['fl'] },
      { op: 'Gemm', inputs: ['fl', 'G', 'c'], outputs: ['lg'], attrs: { transB: 1 } },
      { op: 'ArgMax', inputs: ['lg'], outputs: ['y'], attrs: { axis: 1 } },
    ],
  });
}
