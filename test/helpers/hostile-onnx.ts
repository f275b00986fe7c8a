import onnxProto from 'onnx-proto';
import { makeOnnx } from './onnx-builder.js';

/** Small ONNX files that would cost a naive importer or compiler dearly. */
const { onnx } = onnxProto;

/** A Relu model over input [N, n] whose one initializer is given raw, as a hostile file would carry it. */
export function withTensor(t: onnxProto.onnx.ITensorProto, n = 4): Uint8Array {
  const vi = (name: string, dims: Array<number | string>) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: { name: 'g', node: [{ opType: 'Relu', name: 'r', input: ['x'], output: ['y'] }], input: [vi('x', ['N', n])], output: [vi('y', ['N', n])], initializer: [t] },
  })).finish();
}

/** Input [N, 4] padded to [N, 4_194_304], then ReLU: a file of about 150 bytes. */
export function padBomb(declaredOut = 4): Uint8Array {
  return makeOnnx({
    input: { name: 'x', shape: ['N', 4] },
    output: { name: 'y', shape: ['N', declaredOut] },
    nodes: [
      { op: 'Constant', name: '/Pads', inputs: [], outputs: ['p'], attrs: { value: { dims: [4], data: [0, 0, 0, 4_194_300], int64: true } } },
      { op: 'Pad', name: '/Pad', inputs: ['x', 'p'], outputs: ['h'] },
      { op: 'Relu', name: '/Relu', inputs: ['h'], outputs: ['y'] },
    ],
  });
}

/** Gemm [1, n] x [n, n] with real weights: 16.8 MB at n = 2048. */
export function bigGemm(n: number): Uint8Array {
  return makeOnnx({
    input: { name: 'x', shape: ['N', n] },
    output: { name: 'y', shape: ['N', n] },
    initializers: [{ name: 'W', dims: [n, n], data: new Array(n * n).fill(0.01) }],
    nodes: [{ op: 'Gemm', name: '/Gemm', inputs: ['x', 'W'], outputs: ['y'] }],
  });
}
