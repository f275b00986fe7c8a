import { ERROR_CLASSES, isZkinferError } from '../errors.js';

/** Exit codes: 0 success or valid, 1 invalid proof or internal failure, 2 bad usage or input. */
export const EXIT = Object.freeze({ ok: 0, invalid: 1, usage: 2 });

/** An error's exit code, from the one error table; anything untyped is an internal failure. */
export const exitCodeOf = (e: unknown): number => (isZkinferError(e) ? ERROR_CLASSES[e.code].exit : EXIT.invalid);
