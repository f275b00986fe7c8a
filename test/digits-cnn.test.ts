import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { checkBitExact } from './helpers/bitexact.js';
import { ModelProver } from '../src/prove/index.js';
import { verifyReceipt } from '../src/verify/index.js';
import { argmax, runReference, type Program } from '../src/quantize/index.js';
import { flattenTensor, quantizeInput } from '../src/receipt/index.js';
import { buildPath } from '../src/paths.js';
import { releaseCurve } from '../src/curve.js';
import type { Manifest } from '../src/pipeline/index.js';
import { readProgram } from '../src/build/program-file.js';

const data = loadJson(fixture('digits_cnn.data.json'));
let dir: string;
let program: Program;
const quantized = (p: Program) => data.test.map((t: { input: unknown }) => quantizeInput(p.io, flattenTensor(t.input, p.io.input.shape, 'input')));

beforeAll(async () => {
  dir = await ensureBuild('digits_cnn', fs.readFileSync(fixture('digits_cnn.onnx')), data);
  program = readProgram(buildPath(dir, 'program'));
});
afterAll(releaseCurve);

describe('digits_cnn (Conv, ReLU, MaxPool, Flatten, Gemm)', () => {
  it('agrees with PyTorch top-1 on at least 99 of 100 test inputs', () => {
    const qs = quantized(program);
    const agree = data.test.filter((t: { output: number[][] }, i: number) => argmax(runReference(program, qs[i]).output) === argmax(t.output[0])).length;
    expect(agree).toBeGreaterThanOrEqual(99);
  });

  it('the integer reference is bit-exact with the circuit on all 100 test inputs', async () => {
    expect(await checkBitExact(dir, quantized(program))).toBeGreaterThan(100 * 10);
  });

  it('pools before the ReLU: one comparison chain per window, then one rescale+ReLU per window', () => {
    const m: Manifest = loadJson(buildPath(dir, 'manifest'));
    expect(m.constraints.layers.map((l) => l.op)).toEqual(['input-range', 'max', 'relu', 'output+input packs']);
    expect(m.constraints.layers.find((l) => l.op === 'relu')!.outputs).toBe(4 * 3 * 3);
  });

  it('proves and verifies two test inputs; a changed output is rejected', async () => {
    const prover = await ModelProver.load(dir);
    for (const t of data.test.slice(0, 2)) {
      const { receipt } = await prover.prove(t.input);
      expect(argmax((receipt.output as number[][])[0])).toBe(argmax(t.output[0]));
      const v = await verifyReceipt(receipt, prover.vkeyText);
      expect(v.valid, v.reason).toBe(true);
      (receipt.output as number[][])[0][1] += 0.5;
      expect((await verifyReceipt(receipt, prover.vkeyText)).valid).toBe(false);
    }
  });
});
