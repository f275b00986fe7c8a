import type { ErrorRequestHandler } from 'express';
import { ERROR_CLASSES, isZkinferError } from '../errors.js';
import { queueError } from '../queue/redis-errors.js';

/** An error with an HTTP status and a stable code, shown to the client as is. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Maps every error to {error: {code, message}}; internal errors never leak a stack. */
export function errorHandler(log: (msg: string, f: Record<string, unknown>) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let status = 500;
    let code = 'INTERNAL';
    let message = 'internal error';
    const e = err as { type?: string; status?: number; message?: string; expose?: boolean };
    // A Redis that went away (rate limiter, queue) is unavailability, not a bug.
    const z = queueError(err);
    if (err instanceof HttpError) [status, code, message] = [err.status, err.code, err.message];
    else if (isZkinferError(z)) [status, code, message] = [ERROR_CLASSES[z.code].http, z.code, z.message];
    // The router's decodeURIComponent of a path parameter (/v1/proofs/%ff).
    else if (err instanceof URIError) [status, code, message] = [400, 'INVALID_REQUEST', `a path parameter is not valid percent-encoding: ${req.path}`];
    else if (e.type === 'entity.too.large') [status, code, message] = [413, 'BODY_TOO_LARGE', `request body is larger than the limit for ${req.path}`];
    else if (e.type === 'entity.parse.failed') [status, code, message] = [400, 'MALFORMED_JSON', `request body is not valid JSON: ${e.message}`];
    else if (e.expose && e.status && e.status < 500) [status, code, message] = [e.status, 'BAD_REQUEST', e.message ?? 'bad request'];
    if (status === 503) res.setHeader('retry-after', '5');
    if (status >= 500) log('request failed', { path: req.path, error: (err as Error)?.stack ?? String(err) });
    res.status(status).json({ error: { code, message } });
  };
}
