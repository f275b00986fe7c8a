import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { checkBitExact } from './helpers/bitexact.js';
import { ModelProver } from '../src/prove/index.js';
import { verifyReceipt } from '../src/verify/index.js';
import { argmax, runReference, type Program } from '../src/quantize/index.js';
import { flattenTensor, quantizeInput, type Receipt } from '../src/receipt/index.js';
import { buildPath } from '../src/paths.js';
import { releaseCurve } from '../src/curve.js';
import { readProgram } from '../src/build/program-file.js';
import { estimateCircuit, type Manifest } from '../src/pipeline/index.js';
import { importOnnx } from '../src/onnx/index.js';

/**
 * The reference workloads beyond ReLU (test/fixtures/make_models.py): built
 * with the precision search as `zkinfer compile` builds them, the integer
 * program judged against PyTorch's outputs on the 100 test cases, the
 * witness against the constraints, and a proof of each verified.
 */
interface Workload {
  name: string;
  /** Largest |proven - PyTorch| accepted on an output, in output units. */
  tolerance: number;
  /** Most constraints accepted. */
  maxConstraints: number;
}

const WORKLOADS: Workload[] = [
  { name: 'transformer_digits_op13', tolerance: 0.1, maxConstraints: 100_000 },
  { name: 'transformer_digits_op17', tolerance: 0.1, maxConstraints: 100_000 },
  // The probability itself is the proven output.
  { name: 'logreg_cancer', tolerance: 0.01, maxConstraints: 1_000 },
  { name: 'mixed_mlp', tolerance: 0.1, maxConstraints: 20_000 },
];

afterAll(releaseCurve);

describe.each(WORKLOADS)('$name', (w) => {
  const data = loadJson(fixture(`${w.name}.data.json`));
  let dir: string;
  let program: Program;
  let manifest: Manifest;
  const outputs: number[][] = [];

  beforeAll(async () => {
    dir = await ensureBuild(w.name, fs.readFileSync(fixture(`${w.name}.onnx`)), data);
    program = readProgram(buildPath(dir, 'program'));
    manifest = JSON.parse(fs.readFileSync(buildPath(dir, 'manifest'), 'utf8'));
    for (const t of data.test) {
      const q = quantizeInput(program.io, flattenTensor(t.input, program.io.input.shape, 'input'));
      outputs.push(runReference(program, q).output.map((v) => v / 2 ** program.io.output.scale));
    }
  }, 300_000);

  it(`fits in ${w.maxConstraints.toLocaleString('en-US')} constraints, under the static estimate made before any work`, () => {
    expect(manifest.constraints.total).toBeLessThanOrEqual(w.maxConstraints);
    const graph = importOnnx(fs.readFileSync(fixture(`${w.name}.onnx`)));
    expect(estimateCircuit(graph, { inputBits: program.io.input.bits }).constraints).toBeGreaterThanOrEqual(manifest.constraints.total);
  });

  it('agrees with PyTorch on the top class of at least 99 of 100 test cases, every output within tolerance', () => {
    let agree = 0;
    let worst = 0;
    data.test.forEach((t: any, i: number) => {
      const want = (t.output as number[][]).flat();
      if (want.length === 1 ? (outputs[i][0] > 0.5) === (want[0] > 0.5) : argmax(outputs[i]) === argmax(want)) agree++;
      want.forEach((v, j) => (worst = Math.max(worst, Math.abs(outputs[i][j] - v))));
    });
    expect(agree).toBeGreaterThanOrEqual(99);
    expect(worst).toBeLessThan(w.tolerance);
  });

  it('computes witnesses that satisfy every constraint and equal the integer reference', async () => {
    const inputs = data.test.slice(0, 2).map((t: any) => quantizeInput(program.io, flattenTensor(t.input, program.io.input.shape, 'input')));
    expect(await checkBitExact(dir, inputs)).toBeGreaterThan(0);
  });

  it('proves a test case; the receipt verifies and carries the reference output', async () => {
    const prover = await ModelProver.load(dir);
    const r: Receipt = (await prover.prove(data.test[0].input)).receipt;
    const v = await verifyReceipt(r, fs.readFileSync(buildPath(dir, 'vkey'), 'utf8'));
    expect(v.valid, v.reason).toBe(true);
    expect((r.output as number[][]).flat()).toEqual(outputs[0]);
  }, 120_000);
});
