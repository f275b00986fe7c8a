/** ONNX operators the compiler lowers; anything else is refused up front. */
export const SUPPORTED_OPS = [
  'Gemm', 'MatMul', 'Conv',
  'Add', 'Sub', 'Mul',
  'Relu', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'BatchNormalization',
  'Pad', 'Concat', 'Transpose', 'Squeeze', 'Unsqueeze',
  'Flatten', 'Reshape', 'Identity', 'Constant',
  'Softmax', 'ArgMax',
] as const;

/** Supported only when they produce the graph output. */
export const LAST_ONLY_OPS: readonly string[] = ['Softmax', 'ArgMax'];

export type SupportedOp = (typeof SUPPORTED_OPS)[number];

export const isSupportedOp = (op: string): op is SupportedOp =>
  (SUPPORTED_OPS as readonly string[]).includes(op);
