import { describe, expect, it } from 'vitest';
import { OP_FIXTURES, samplesFor } from './helpers/op-fixtures.js';
import { compareWithOrt } from './helpers/compare.js';
import { nest } from '../src/receipt/index.js';
import { importOnnx } from '../src/onnx/index.js';
import { UnsupportedOpsError } from '../src/errors.js';
import { makeOnnx } from './helpers/onnx-builder.js';

describe('each operator against onnxruntime', () => {
  for (const f of OP_FIXTURES) {
    it(f.name, async () => {
      const cal = samplesFor(f.inputShape, 32, 1).map((x) => nest(x, f.inputShape));
      const tests = samplesFor(f.inputShape, 12, 2).map((x) => nest(x, f.inputShape));
      const c = await compareWithOrt(f.onnx, cal, tests);
      if (f.op === 'Softmax') {
        // The circuit proves the logits; softmax of them is onnxruntime's output.
        for (const [got, want] of c.pairs) {
          const e = got.map((v) => Math.exp(v - Math.max(...got)));
          const sum = e.reduce((a, b) => a + b, 0);
          e.forEach((v, i) => expect(Math.abs(v / sum - want[i])).toBeLessThan(0.01));
        }
        expect(c.program.notes.join()).toMatch(/Softmax .* dropped/);
      } else if (f.op === 'ArgMax') {
        const same = c.pairs.filter(([got, want]) => got[0] === want[0]).length;
        expect(same).toBeGreaterThanOrEqual(11);
        expect(c.program.io.output.scale).toBe(0);
      } else {
        expect(c.maxErr).toBeLessThan(0.01 * Math.max(1, c.maxAbs));
      }
    });
  }

  it('Reshape, Flatten and Transpose cost no constraints', async () => {
    const f = OP_FIXTURES.find((x) => x.op === 'Transpose')!;
    const c = await compareWithOrt(f.onnx, samplesFor(f.inputShape, 4, 3).map((x) => nest(x, f.inputShape)), []);
    expect(c.program.layers).toEqual([]);
  });

  it('MaxPool after ReLU runs on the accumulators: one rescale per window, not per input', async () => {
    const f = OP_FIXTURES.find((x) => x.name.startsWith('maxpool after conv'))!;
    const c = await compareWithOrt(f.onnx, samplesFor(f.inputShape, 16, 4).map((x) => nest(x, f.inputShape)), []);
    expect(c.program.layers.map((l) => l.op)).toEqual(['max', 'relu']);
    // 2 channels x 2x2 windows: 3 comparisons each, then 8 ReLUs (not 2 x 4 x 4 = 32).
    expect(c.program.layers[0].gadgets.length).toBeLessThanOrEqual(24);
    expect(c.program.layers[1].gadgets.length).toBe(8);
  });

  it('a folded BatchNormalization leaves no layer of its own, and says so', async () => {
    const f = OP_FIXTURES.find((x) => x.name.startsWith('batchnormalization folded'))!;
    const c = await compareWithOrt(f.onnx, samplesFor(f.inputShape, 8, 5).map((x) => nest(x, f.inputShape)), []);
    expect(c.program.layers).toEqual([]);
    expect(c.program.notes.join()).toMatch(/folded/);
  });

});
