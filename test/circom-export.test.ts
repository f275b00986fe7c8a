import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { ARTIFACTS } from './helpers/circuit.js';
import { runCli } from './helpers/cli.js';
import { kitchenSink } from './helpers/kitchen-sink.js';
import { samplesFor } from './helpers/op-fixtures.js';
import { parseR1cs, readSym } from './helpers/r1cs.js';
import { witnessOf } from './helpers/bitexact.js';
import { runCircom } from '../src/compile/circom.js';
import { buildPath, BUILD_FILES } from '../src/paths.js';
import { flattenTensor, nest, quantizeInput, toField } from '../src/receipt/index.js';
import type { Program } from '../src/quantize/index.js';
import type { Manifest } from '../src/pipeline/index.js';
import { readProgram } from '../src/build/program-file.js';

const require = createRequire(import.meta.url);

/**
 * circom stays an independent check of the constraint builder: the exported
 * circom source, compiled by circom2 with --O2, must give the same
 * constraint and wire counts, and circom's own witness must agree with ours
 * on every signal both name.
 */
interface Case {
  name: string;
  build: () => Promise<string>;
  inputs: (p: Program) => bigint[][];
}

const mlpData = loadJson(fixture('digits_mlp.data.json'));
const cnnData = loadJson(fixture('digits_cnn.data.json'));
const testInputs = (data: any) => (p: Program) => data.test.slice(0, 4).map((t: any) => quantizeInput(p.io, flattenTensor(t.input, p.io.input.shape, 'input')));
const sinkShape = [1, 1, 6, 6];

const CASES: Case[] = [
  { name: 'digits_mlp', build: () => ensureBuild('digits_mlp', fs.readFileSync(fixture('digits_mlp.onnx')), mlpData), inputs: testInputs(mlpData) },
  { name: 'digits_cnn', build: () => ensureBuild('digits_cnn', fs.readFileSync(fixture('digits_cnn.onnx')), cnnData), inputs: testInputs(cnnData) },
  {
    // Every gadget: input ranges, ReLU, max-pool chains, rescale, ArgMax, and the Poseidon commitment.
    name: 'kitchen_sink_hashed',
    build: () => ensureBuild('kitchen_sink_hashed', kitchenSink(), samplesFor(sinkShape, 24, 1).map((x) => nest(x, sinkShape)), { inputRange: [-1, 1], visibility: 'hashed' }),
    inputs: (p) => samplesFor(sinkShape, 4, 3).map((x) => quantizeInput(p.io, Float64Array.from(x))),
  },
];

describe.each(CASES)('circom export of $name', ({ name, build, inputs }) => {
  let dir: string;
  let out: string;
  let program: Program;
  let manifest: Manifest;
  beforeAll(async () => {
    dir = await build();
    program = readProgram(buildPath(dir, 'program'));
    manifest = JSON.parse(fs.readFileSync(buildPath(dir, 'manifest'), 'utf8'));
    out = path.join(ARTIFACTS, 'circom-export', name);
    fs.rmSync(out, { recursive: true, force: true });
    const res = await runCli(['export-circom', dir, '--out', out]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe(path.resolve(buildPath(out, 'circom')));
    await runCircom(buildPath(out, 'circomDir'), path.basename(BUILD_FILES.circom));
  });

  it('compiles with circom2 to the same constraint and wire counts as the builder', () => {
    const circom = parseR1cs(path.join(buildPath(out, 'circomDir'), 'model.r1cs'));
    const ours = parseR1cs(buildPath(dir, 'r1cs'));
    expect(circom.constraints.length).toBe(manifest.constraints.total);
    expect(ours.constraints.length).toBe(manifest.constraints.total);
    expect(ours.nWires).toBe(circom.nWires);
    expect([ours.nPubOut, ours.nPubIn, ours.nPrvIn]).toEqual([circom.nPubOut, circom.nPubIn, circom.nPrvIn]);
  });

  it('circom\'s witness and ours agree on every signal both name', async () => {
    const js = path.join(buildPath(out, 'circomDir'), 'model_js');
    fs.copyFileSync(path.join(js, 'witness_calculator.js'), path.join(js, 'witness_calculator.cjs'));
    const calc = await require(path.join(js, 'witness_calculator.cjs'))(fs.readFileSync(path.join(js, 'model.wasm')));
    const theirs = readSym(path.join(buildPath(out, 'circomDir'), 'model.sym'));
    const ours = readSym(buildPath(dir, 'sym'));
    const hashed = program.io.visibility === 'hashed';
    for (const q of inputs(program)) {
      const w = witnessOf(program, q, 99n);
      const cw: bigint[] = await calc.calculateWitness({ in: q.map((v) => toField(v).toString()), ...(hashed ? { salt: '99' } : {}) }, true);
      let compared = 0;
      for (const [signal, wire] of ours) {
        const at = theirs.get(signal);
        if (at === undefined) continue;
        expect(w[wire], signal).toBe(cw[at]);
        compared++;
      }
      // The outputs, the inputs and most bits are named in both.
      expect(compared).toBeGreaterThan(0.8 * ours.size);
      expect(ours.has('main.out[0]') && theirs.has('main.out[0]')).toBe(true);
      if (hashed) expect(theirs.has('main.commitment')).toBe(true);
    }
  });
});
