/** ONNX operators the compiler lowers; anything else is refused up front. */
export const SUPPORTED_OPS = [
  'Gemm', 'MatMul', 'Conv',
  'Add', 'Sub', 'Mul',
  'Relu', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'BatchNormalization',
  'Pad', 'Concat', 'Transpose', 'Squeeze', 'Unsqueeze',
  'Flatten', 'Reshape', 'Identity', 'Constant',
  'Softmax', 'LogSoftmax', 'ArgMax',
  'Div', 'Sqrt', 'Pow', 'Sigmoid', 'Tanh', 'Erf', 'Exp', 'Log',
  'ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'LayerNormalization',
  'Slice', 'Gather', 'Expand', 'Tile', 'Split', 'Where', 'Cast', 'Neg', 'Dropout',
  'Max', 'Min', 'Abs', 'Clip', 'LeakyRelu', 'PRelu', 'HardSigmoid', 'HardSwish', 'Reciprocal', 'Gelu',
  // Folded when their inputs are constant (the shape arithmetic exporters emit).
  'Shape', 'Size', 'ConstantOfShape', 'Range', 'Equal', 'Less', 'Greater', 'Floor', 'Ceil',
] as const;

/** Supported only when they produce the graph output (none today; kept for import's check). */
export const LAST_ONLY_OPS: readonly string[] = [];

export type SupportedOp = (typeof SUPPORTED_OPS)[number];

export const isSupportedOp = (op: string): op is SupportedOp =>
  (SUPPORTED_OPS as readonly string[]).includes(op);
