import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild } from './helpers/builds.js';
import { checkBitExact } from './helpers/bitexact.js';
import { makeOnnx, rand } from './helpers/onnx-builder.js';
import { samplesFor } from './helpers/op-fixtures.js';
import { kitchenSink } from './helpers/kitchen-sink.js';
import { ModelProver } from '../src/prove/index.js';
import { verifyReceipt } from '../src/verify/index.js';
import { nest, quantizeInput } from '../src/receipt/index.js';
import { releaseCurve } from '../src/curve.js';
import type { Program } from '../src/quantize/index.js';
import { buildPath } from '../src/paths.js';
import fs from 'node:fs';
import { readProgram } from '../src/build/program-file.js';

/**
 * A ReLU layer dead over the whole accepted input range (every weight and
 * bias negative on non-negative inputs) beside a live branch: every gadget of
 * the dead layer is a constant, and its template reads no signal.
 */
function deadBranch(): Uint8Array {
  const g = rand(31);
  const v = (n: number) => Array.from({ length: n }, g);
  return makeOnnx({
    input: { name: 'x', shape: ['N', 4] },
    output: { name: 'y', shape: ['N', 2] },
    initializers: [
      { name: 'Wa', dims: [3, 4], data: v(12).map((x) => -0.1 - Math.abs(x)) }, { name: 'ba', dims: [3], data: [-0.5, -0.25, -1] },
      { name: 'Wb', dims: [3, 4], data: v(12) }, { name: 'bb', dims: [3], data: v(3) },
      { name: 'Wc', dims: [2, 6], data: v(12) }, { name: 'bc', dims: [2], data: v(2) },
    ],
    nodes: [
      { op: 'Gemm', inputs: ['x', 'Wa', 'ba'], outputs: ['a'], attrs: { transB: 1 } },
      { op: 'Relu', inputs: ['a'], outputs: ['ra'] },
      { op: 'Gemm', inputs: ['x', 'Wb', 'bb'], outputs: ['b'], attrs: { transB: 1 } },
      { op: 'Relu', inputs: ['b'], outputs: ['rb'] },
      { op: 'Concat', inputs: ['ra', 'rb'], outputs: ['h'], attrs: { axis: 1 } },
      { op: 'Gemm', inputs: ['h', 'Wc', 'bc'], outputs: ['y'], attrs: { transB: 1 } },
    ],
  });
}

let dir: string;
let program: Program;
const shape = [1, 1, 6, 6];
beforeAll(async () => {
  const cal = samplesFor(shape, 24, 1).map((x) => nest(x, shape));
  dir = await ensureBuild('kitchen_sink', kitchenSink(), cal, { inputRange: [-1, 1] });
  program = readProgram(buildPath(dir, 'program'));
});
afterAll(releaseCurve);

describe('new gadgets in a compiled circuit', () => {
  it('uses max, relu and argmax layers', () => {
    expect(new Set(program.layers.map((l) => l.op))).toEqual(new Set(['max', 'relu', 'argmax']));
  });

  it('the integer reference is bit-exact with the circuit witness', async () => {
    const inputs = samplesFor(shape, 30, 3).map((x) => quantizeInput(program.io, Float64Array.from(x)));
    expect(await checkBitExact(dir, inputs)).toBeGreaterThan(30 * 20);
  });

  it('proves the index of the top class and verifies it; another index is rejected', async () => {
    const prover = await ModelProver.load(dir);
    const { receipt } = await prover.prove(nest(samplesFor(shape, 1, 9)[0], shape));
    expect(receipt.outputScale).toBe(0);
    const v = await verifyReceipt(receipt, prover.vkeyText);
    expect(v.valid, v.reason).toBe(true);
    const idx = Number(receipt.outputQuantized[0]);
    receipt.outputQuantized[0] = String((idx + 1) % 3);
    (receipt.output as number[][])[0][0] = (idx + 1) % 3;
    receipt.publicSignals[0] = receipt.outputQuantized[0];
    expect((await verifyReceipt(receipt, prover.vkeyText)).reason).toMatch(/Groth16/);
  });
});

describe('a layer of dead units (every gadget constant)', () => {
  const shape = [1, 4];
  const inputs = samplesFor(shape, 12, 5).map((x) => x.map((t) => (t + 1) / 2));
  let deadDir: string;
  let dead: Program;
  beforeAll(async () => {
    deadDir = await ensureBuild('dead_relu', deadBranch(), inputs.slice(0, 8).map((x) => nest(x, shape)), { inputRange: [0, 1] });
    dead = readProgram(buildPath(deadDir, 'program'));
  });

  it('compiles: the dead layer is constants, its live neighbour gadgets', () => {
    const relus = dead.layers.filter((l) => l.op === 'relu');
    expect(relus.map((l) => l.gadgets.every((g) => g.kind === 'const'))).toEqual([true, false]);
    expect(relus[0].gadgets).toEqual([0, 1, 2].map(() => ({ kind: 'const', value: 0 })));
  });

  it('its witness matches the integer reference, and a proof verifies', async () => {
    expect(await checkBitExact(deadDir, inputs.map((x) => quantizeInput(dead.io, Float64Array.from(x))))).toBeGreaterThan(12 * 2);
    const prover = await ModelProver.load(deadDir);
    const { receipt } = await prover.prove(nest(inputs[9], shape));
    const v = await verifyReceipt(receipt, prover.vkeyText);
    expect(v.valid, v.reason).toBe(true);
  });
});
