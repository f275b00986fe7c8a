import fs from 'node:fs';
import { buildPath } from '../paths.js';
import { ZkinferError, type ErrorCode } from '../errors.js';

/** A build directory's verification key, or the key file itself when given one. */
export const keyFileOf = (build: string): string => (fs.existsSync(build) && fs.statSync(build).isDirectory() ? buildPath(build, 'vkey') : build);

/** Reads a file the user named, with errors that name the file. */
export function readUserFile(file: string, what: string, code: ErrorCode = 'INPUT_INVALID'): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ZkinferError(code, `${what} ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
}

export function readUserJson(file: string, what: string, code: ErrorCode = 'INPUT_INVALID'): unknown {
  const text = readUserFile(file, what, code).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    const bad = /(?<![\w"])-?(NaN|Infinity)(?![\w"])/.exec(text);
    if (bad) {
      throw new ZkinferError(code, `${what} ${file} contains ${bad[0]}: every value must be a finite number`);
    }
    throw new ZkinferError(code, `${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** An input file: {"input": nested array}; its input value. */
export function readInputFile(file: string): unknown {
  const data = readUserJson(file, 'input');
  if (!data || typeof data !== 'object' || Array.isArray(data) || !('input' in data)) {
    throw new ZkinferError('INPUT_INVALID', `input ${file}: expected an object with an "input" field`);
  }
  return (data as { input: unknown }).input;
}
