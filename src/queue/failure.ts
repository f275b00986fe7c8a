import { UnrecoverableError } from 'bullmq';
import { ERROR_CLASSES, isErrorCode, isZkinferError, type ErrorCode } from '../errors.js';

/** How a failed job reports its reason: a stable code and a message for people. */
export interface JobFailure {
  code: ErrorCode;
  message: string;
}

/**
 * A job's failure as its text reason (BullMQ keeps failedReason, a string):
 * "CODE: message", so the code survives the queue.
 */
export const encodeFailure = (f: JobFailure): string => `${f.code}: ${f.message}`;

/** Reasons BullMQ writes itself, without our code. */
const BULL_REASONS: ReadonlyArray<[RegExp, ErrorCode, string]> = [
  [/stalled more than allowable limit/i, 'WORKER_LOST', 'the job was taken up again too often after its worker stopped renewing its lock'],
  [/Missing lock|lock mismatch/i, 'WORKER_LOST', 'the job lost its lock to another worker'],
];

export function decodeFailure(reason: string | null | undefined): JobFailure {
  const text = reason ?? '';
  const m = /^([A-Z][A-Z0-9_]*): ([\s\S]*)$/.exec(text);
  if (m && isErrorCode(m[1])) return { code: m[1], message: m[2] };
  for (const [re, code, message] of BULL_REASONS) if (re.test(text)) return { code, message: `${message} (${text})` };
  return { code: 'INTERNAL', message: text || 'the job failed' };
}

/** The failure an error thrown by a job stands for. */
export function failureOf(e: unknown): JobFailure {
  if (isZkinferError(e)) return { code: e.code, message: e.message };
  const message = e instanceof Error ? e.message : String(e);
  return decodeFailure(message);
}

/** The queue's retry decision: only codes the error table marks retryable run again. */
export const mayRetry = (code: ErrorCode): boolean => ERROR_CLASSES[code].retry;

/**
 * The error a job processor throws to the queue for a failure: BullMQ's
 * UnrecoverableError (no further attempts) unless the code may be retried;
 * its message carries the code.
 */
export function toQueueError(e: unknown): Error {
  const f = failureOf(e);
  const reason = encodeFailure(f);
  return mayRetry(f.code) ? new Error(reason) : new UnrecoverableError(reason);
}
