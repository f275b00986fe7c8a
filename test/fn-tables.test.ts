import { describe, expect, it } from 'vitest';
import { chooseFn, erf, SMOOTH_FNS } from '../src/quantize/fn-table.js';
import { applyFn } from '../src/quantize/gadgets.js';
import { fnCost } from '../src/quantize/program.js';

/**
 * The README's operator table: each smooth function's table at 9 output bits
 * for accumulators at 2^-12 over the stated range, its cost per element, and
 * its largest error against the float function, swept over every
 * representable input (every accumulator value, so the input's own rounding
 * counts too).
 */
const TABLE = [
  { fn: 'Sigmoid', lo: -16, hi: 16, cost: 82, maxError: 4.5e-4 },
  { fn: 'Tanh', lo: -16, hi: 16, cost: 82, maxError: 5e-4 },
  { fn: 'Erf', lo: -16, hi: 16, cost: 51, maxError: 5.5e-4 },
  { fn: 'Exp', lo: -16, hi: 0, cost: 50, maxError: 1.2e-3 },
  { fn: 'Log', lo: 1, hi: 16, cost: 76, maxError: 4.5e-4 },
] as const;
const SCALE = 12;
const BITS = 9;

describe.each(TABLE)('$fn on [$lo, $hi]', (row) => {
  const fn = SMOOTH_FNS[row.fn];
  const c = chooseFn(fn, { lo: row.lo * 2 ** SCALE, hi: row.hi * 2 ** SCALE, scale: SCALE }, BITS, 'sweep');

  it(`costs ${row.cost} constraints per element`, () => {
    expect(fnCost(c.gadget)).toBe(row.cost);
  });

  it(`errs by at most ${row.maxError} on every representable input`, () => {
    let worst = 0;
    for (let a = row.lo * 2 ** SCALE; a <= row.hi * 2 ** SCALE; a++) {
      const y = applyFn(c.gadget, c.table, a);
      expect(y).not.toBeNull();
      worst = Math.max(worst, Math.abs(y! / 2 ** c.outScale - fn.f(a / 2 ** SCALE)));
    }
    expect(worst).toBeLessThanOrEqual(row.maxError);
    // Within half an output step of 2^-9, plus the input's rounding to the table's resolution.
    expect(c.maxError).toBeLessThanOrEqual(2 ** -(BITS + 1));
  });
});

describe('erf', () => {
  it('matches known values to 1e-12', () => {
    const known: Array<[number, number]> = [[0, 0], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3, 0.9999779095030014], [-1.5, -0.9661051464753108]];
    for (const [x, v] of known) expect(Math.abs(erf(x) - v)).toBeLessThan(1e-12);
  });
});
