/** Exact integer helpers shared by the integer reference and the circuit gadgets. */

const TWO32 = 2 ** 32;

/** Bit i of a non-negative integer below 2^53. */
export const bitOf = (v: number, i: number): number => (i < 32 ? ((v % TWO32) >>> i) & 1 : (Math.floor(v / TWO32) >>> (i - 32)) & 1);

/** floor(a / b) for integers |a|, |b| < 2^53 with b > 0, exact (a float quotient can round up to the next integer). */
export function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  while (q * b > a) q--;
  while ((q + 1) * b <= a) q++;
  return q;
}
