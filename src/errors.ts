/**
 * Typed errors. Each carries a stable `code` so the CLI can map it to an exit
 * status and an API to a 4xx, and a message that names the offending thing.
 */
export type ErrorCode =
  | 'ONNX_MALFORMED'
  | 'ONNX_UNSUPPORTED'
  | 'ONNX_INVALID'
  | 'ONNX_TOO_LARGE'
  | 'CIRCUIT_TOO_LARGE'
  | 'CALIBRATION_INVALID'
  | 'INPUT_INVALID'
  | 'INPUT_OUT_OF_RANGE'
  | 'BUILD_INVALID'
  | 'QUANTIZATION_FAILED'
  | 'COMPILE_FAILED'
  | 'SETUP_FAILED'
  | 'PTAU_REJECTED'
  | 'WITNESS_FAILED'
  | 'RECEIPT_INVALID'
  | 'POOL_BUSY'
  | 'TASK_TIMEOUT'
  | 'TASK_FAILED'
  | 'USAGE';

export class ZkinferError extends Error {
  readonly code: ErrorCode;
  /** True when the caller's input is at fault (exit code 2, HTTP 4xx). */
  readonly userFault: boolean;
  constructor(code: ErrorCode, message: string, userFault = true) {
    super(message);
    this.name = 'ZkinferError';
    this.code = code;
    this.userFault = userFault;
  }
}

export interface UnsupportedNode {
  opType: string;
  name: string;
  /** Set when the op is supported elsewhere in a graph (e.g. only as the last op). */
  reason?: string;
}

/** Raised once with every unsupported node, before any work is done. */
export class UnsupportedOpsError extends ZkinferError {
  readonly nodes: readonly UnsupportedNode[];
  constructor(nodes: readonly UnsupportedNode[]) {
    const list = nodes.map((n) => `${n.opType} (node "${n.name}"${n.reason ? `: ${n.reason}` : ''})`).join(', ');
    super('ONNX_UNSUPPORTED', `unsupported ONNX operator${nodes.length > 1 ? 's' : ''}: ${list}`);
    this.nodes = nodes;
  }
}

export const isZkinferError = (e: unknown): e is ZkinferError => e instanceof ZkinferError;
