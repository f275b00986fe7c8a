/**
 * Typed errors. Each carries a stable `code`; one table says what every code
 * means at every boundary (HTTP status, CLI exit code, whether a queued job
 * may run again), so an error keeps its meaning from the prover child through
 * the queue to the client.
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
  | 'ARTIFACT_CORRUPT'
  | 'QUANTIZATION_FAILED'
  | 'COMPILE_FAILED'
  | 'SETUP_FAILED'
  | 'PTAU_REJECTED'
  | 'WITNESS_FAILED'
  | 'RECEIPT_INVALID'
  | 'USAGE'
  | 'POOL_BUSY'
  | 'TASK_TIMEOUT'
  | 'TASK_FAILED'
  | 'LIMIT_EXCEEDED'
  | 'QUEUE_UNAVAILABLE'
  | 'JOB_TIMEOUT'
  | 'WORKER_LOST'
  | 'INTERNAL';

/** What an error code means at each boundary. */
export interface ErrorClass {
  /** HTTP status; below 500 means the caller is at fault. */
  readonly http: number;
  /** CLI exit code: 2 when the caller's usage or input is at fault, 1 otherwise. */
  readonly exit: 1 | 2;
  /** A queued job failing with this code may run again (up to its attempts). */
  readonly retry: boolean;
}

const user = (http: number): ErrorClass => ({ http, exit: 2, retry: false });

export const ERROR_CLASSES = Object.freeze({
  ONNX_MALFORMED: user(400),
  ONNX_UNSUPPORTED: user(422),
  ONNX_INVALID: user(422),
  CALIBRATION_INVALID: user(400),
  INPUT_INVALID: user(400),
  INPUT_OUT_OF_RANGE: user(422),
  // A build directory or verification key the caller named is not a valid build.
  BUILD_INVALID: user(422),
  // The model asks for more precision than the field allows: the caller must lower it.
  QUANTIZATION_FAILED: user(422),
  PTAU_REJECTED: user(422),
  RECEIPT_INVALID: user(400),
  USAGE: user(400),
  LIMIT_EXCEEDED: user(413),
  // The ONNX file itself is over a size limit (bytes, weights, nodes, declared shapes).
  ONNX_TOO_LARGE: user(413),
  // The circuit the model would make is over the operator's limits.
  CIRCUIT_TOO_LARGE: user(422),
  // A stored artifact that is missing or does not parse: the same bytes fail again.
  ARTIFACT_CORRUPT: { http: 500, exit: 1, retry: false },
  // circom on a generated circuit is deterministic: a failure repeats.
  COMPILE_FAILED: { http: 500, exit: 1, retry: false },
  // Key generation can fail for transient reasons (disk, memory).
  SETUP_FAILED: { http: 500, exit: 1, retry: true },
  // The circuit and the integer reference disagree: retrying gives the same witness.
  WITNESS_FAILED: { http: 500, exit: 1, retry: false },
  QUEUE_UNAVAILABLE: { http: 503, exit: 1, retry: true },
  // A job past its deadline would most likely pass it again; the operator raises the limit.
  JOB_TIMEOUT: { http: 504, exit: 1, retry: false },
  // The prover process or its worker died (killed, out of memory): another attempt may succeed.
  WORKER_LOST: { http: 500, exit: 1, retry: true },
  // The API's worker threads are all busy and their queue is full: try again shortly.
  POOL_BUSY: { http: 503, exit: 1, retry: true },
  // A bounded task (model inspection, verification) ran past its deadline: the API is overloaded.
  TASK_TIMEOUT: { http: 503, exit: 1, retry: true },
  // A task's thread died (heap cap, crash) on this input.
  TASK_FAILED: { http: 500, exit: 1, retry: false },
  INTERNAL: { http: 500, exit: 1, retry: true },
} as const satisfies Record<ErrorCode, ErrorClass>);

export const ERROR_CODES = Object.freeze(Object.keys(ERROR_CLASSES) as ErrorCode[]);

export const isErrorCode = (c: unknown): c is ErrorCode => typeof c === 'string' && Object.hasOwn(ERROR_CLASSES, c);

export const classOf = (code: ErrorCode): ErrorClass => ERROR_CLASSES[code];

export class ZkinferError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ZkinferError';
    this.code = code;
  }

  /** True when the caller's input is at fault (exit code 2, HTTP 4xx); from the table. */
  get userFault(): boolean {
    return ERROR_CLASSES[this.code].http < 500;
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

/**
 * Reading a file we did not write in this process (a build directory, a stored
 * artifact) can fail inside a parser with a plain Error; this names the file
 * and gives it a code, so it never surfaces as an anonymous internal error.
 */
export function fileError(code: 'BUILD_INVALID' | 'ARTIFACT_CORRUPT', file: string, e: unknown): ZkinferError {
  if (isZkinferError(e)) return e;
  const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new ZkinferError(code, `${file} is corrupt or truncated: ${why}`, { cause: e });
}
