import { describe, expect, it } from 'vitest';
import { nest } from '../src/receipt/index.js';
import { lowerProgram } from '../src/lower/index.js';
import { firstViolation } from '../src/r1cs/check.js';
import { quantizeInput, flattenTensor } from '../src/receipt/index.js';
import { compareWithOrt } from './helpers/compare.js';
import { estimateCircuit } from '../src/pipeline/index.js';
import { importOnnx } from '../src/onnx/index.js';
import { samplesFor } from './helpers/op-fixtures.js';
import { SMOOTH_FIXTURES } from './helpers/smooth-fixtures.js';

describe.each(SMOOTH_FIXTURES)('$name', (f) => {
  it('matches onnxruntime within its tolerance, and its circuit holds on the integer reference', async () => {
    const range = f.range ?? 2;
    const ids = f.ids;
    const scaled = (xs: number[][]) => xs.map((x) => nest(x.map((v) => (ids ? Math.floor(((v + 1) / 2) * ids) : v * range)), f.inputShape));
    const cal = scaled(samplesFor(f.inputShape, 16, 1));
    const tests = scaled(samplesFor(f.inputShape, 8, 2));
    const c = await compareWithOrt(f.onnx, cal, tests, { inputRange: ids ? [0, ids - 1] : [-range, range] });
    expect(c.maxErr).toBeLessThan(f.tolerance);
    let constraints = 0;
    for (const t of tests.slice(0, 3)) {
      const q = quantizeInput(c.program.io, flattenTensor(t, f.inputShape, 'input'));
      const low = lowerProgram(c.program, q, { names: false });
      constraints = low.circuit.nConstraints;
      const w = (i: number) => low.circuit.value(i);
      expect(firstViolation(low.circuit.constraintChunks, w)).toBeNull();
      const values = lowerProgram(c.program, q, { constraints: false }).circuit;
      expect(values.nWires).toBe(low.circuit.nWires);
    }
    // The static estimate, from shapes alone, bounds the circuit from above.
    expect(estimateCircuit(importOnnx(f.onnx), { inputBits: c.program.io.input.bits }).constraints).toBeGreaterThanOrEqual(constraints);
  });
});
