/** The float graph as imported from ONNX: only what the quantizer needs. */

export interface ConstTensor {
  readonly dims: readonly number[];
  readonly data: Float64Array;
  /** An integer tensor (int32/int64): Div truncates, as ONNX does on integers. */
  readonly int?: boolean;
}

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: ConstTensor };

export interface GraphNode {
  readonly opType: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: ReadonlyMap<string, AttrValue>;
}

export interface ValueInfo {
  readonly name: string;
  /** Concrete shape; a symbolic batch dimension is taken as 1. */
  readonly shape: readonly number[];
}

export interface Graph {
  readonly input: ValueInfo;
  readonly output: ValueInfo;
  /** Nodes in topological order. Constant nodes are folded into `constants`. */
  readonly nodes: readonly GraphNode[];
  readonly constants: ReadonlyMap<string, ConstTensor>;
  readonly opset: number;
}

export const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
