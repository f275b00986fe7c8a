import type { ErrorRequestHandler } from 'express';
import { isZkinferError, type ErrorCode } from '../errors.js';

/** An error with an HTTP status and a stable code, shown to the client as is. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  ONNX_MALFORMED: 400, ONNX_UNSUPPORTED: 422, ONNX_INVALID: 422, CALIBRATION_INVALID: 400,
  INPUT_INVALID: 400, INPUT_OUT_OF_RANGE: 422, RECEIPT_INVALID: 400, USAGE: 400, BUILD_INVALID: 404,
};

/** Maps every error to {error: {code, message}}; internal errors never leak a stack. */
export function errorHandler(log: (msg: string, f: Record<string, unknown>) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let status = 500;
    let code = 'INTERNAL';
    let message = 'internal error';
    const e = err as { type?: string; status?: number; message?: string; expose?: boolean };
    if (err instanceof HttpError) [status, code, message] = [err.status, err.code, err.message];
    else if (isZkinferError(err)) [status, code, message] = [err.userFault ? STATUS[err.code] ?? 400 : 500, err.code, err.message];
    // The router's decodeURIComponent of a path parameter (/v1/proofs/%ff).
    else if (err instanceof URIError) [status, code, message] = [400, 'INVALID_REQUEST', `a path parameter is not valid percent-encoding: ${req.path}`];
    else if (e.type === 'entity.too.large') [status, code, message] = [413, 'BODY_TOO_LARGE', `request body is larger than the limit for ${req.path}`];
    else if (e.type === 'entity.parse.failed') [status, code, message] = [400, 'MALFORMED_JSON', `request body is not valid JSON: ${e.message}`];
    else if (e.expose && e.status && e.status < 500) [status, code, message] = [e.status, 'BAD_REQUEST', e.message ?? 'bad request'];
    if (status >= 500) log('request failed', { path: req.path, error: (err as Error)?.stack ?? String(err) });
    res.status(status).json({ error: { code, message } });
  };
}
