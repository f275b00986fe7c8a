import { ZkinferError, isZkinferError } from '../errors.js';

/**
 * Redis client failures that mean "Redis is not there right now" rather than
 * a bug: the API answers them 503 QUEUE_UNAVAILABLE at once instead of
 * queueing the command until Redis returns.
 */
const UNAVAILABLE = [
  /enableOfflineQueue/i,
  /Connection is closed/i,
  /Command timed out/i,
  /max retries per request/i,
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH/,
  /LOADING/, // Redis is reading its AOF after a restart
  /Socket closed unexpectedly|Stream isn't writeable/i,
];

export function isRedisUnavailable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH)$/.test(code)) return true;
  return UNAVAILABLE.some((re) => re.test(e.message));
}

/** The error to raise for a failed queue command: unavailable Redis gets its own code. */
export function queueError(e: unknown): unknown {
  if (isZkinferError(e) || !isRedisUnavailable(e)) return e;
  return new ZkinferError('QUEUE_UNAVAILABLE', `the job queue (Redis) is unavailable: ${(e as Error).message}; retry shortly`, { cause: e });
}

/**
 * ioredis options for the API's connections: fail a command at once while
 * Redis is down (no offline queue) and give up on one that hangs, so a request
 * never waits on a dead Redis.
 */
export const API_REDIS_OPTIONS = Object.freeze({
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 3000,
  connectTimeout: 3000,
});
