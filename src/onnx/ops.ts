/** ONNX operators the compiler lowers; anything else is refused up front. */
export const SUPPORTED_OPS = [
  'Gemm',
  'MatMul',
  'Add',
  'Relu',
  'Flatten',
  'Reshape',
  'Identity',
  'Constant',
] as const;

export type SupportedOp = (typeof SUPPORTED_OPS)[number];

export const isSupportedOp = (op: string): op is SupportedOp =>
  (SUPPORTED_OPS as readonly string[]).includes(op);
