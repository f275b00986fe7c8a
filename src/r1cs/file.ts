import fs from 'node:fs';
import { sections } from '../binfile.js';
import { firstViolation, type Violation } from './check.js';

/**
 * Checks a witness against an r1cs file's constraints: A·w ∘ B·w = C·w for
 * every row. Null when all hold.
 */
export function checkR1csFile(file: string, value: (wire: number) => bigint): Violation | null {
  const buf = fs.readFileSync(file);
  const constraints = sections(buf, 'r1cs').get(2);
  if (!constraints) throw new Error(`${file}: no constraints section`);
  return firstViolation([constraints], value);
}
