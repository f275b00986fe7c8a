import fs from 'node:fs';
import path from 'node:path';
import { checkBitExact } from './helpers/bitexact.js';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { ARTIFACTS } from './helpers/circuit.js';
import { runCli } from './helpers/cli.js';
import { tinyMlp, tinySamples } from './helpers/onnx-builder.js';
import { ModelProver } from '../src/prove/index.js';
import { verifyReceipt } from '../src/verify/index.js';
import { argmax, runReference, type Program } from '../src/quantize/index.js';
import { flattenTensor, publicInputSignals, quantizeInput, FIELD_PRIME, toField, type Receipt } from '../src/receipt/index.js';
import { buildPath } from '../src/paths.js';
import { releaseCurve } from '../src/curve.js';
import type { Manifest } from '../src/pipeline/index.js';
import { readProgram } from '../src/build/program-file.js';

const require = createRequire(import.meta.url);
const data = loadJson(fixture('digits_mlp.data.json'));
const onnx = fs.readFileSync(fixture('digits_mlp.onnx'));
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

let dir: string;
let prover: ModelProver;
let vkey: string;
let program: Program;
const receipts: Receipt[] = [];

beforeAll(async () => {
  dir = await ensureBuild('digits_mlp', onnx, data);
  prover = await ModelProver.load(dir);
  vkey = fs.readFileSync(buildPath(dir, 'vkey'), 'utf8');
  program = readProgram(buildPath(dir, 'program'));
  for (const t of data.test.slice(0, 3)) receipts.push((await prover.prove(t.input)).receipt);
});

afterAll(releaseCurve);

describe('digits_mlp: quantization', () => {
  it('the integer reference agrees with PyTorch top-1 on at least 99 of 100 test inputs', () => {
    let agree = 0;
    for (const t of data.test) {
      const q = quantizeInput(program.io, flattenTensor(t.input, program.io.input.shape, 'input'));
      if (argmax(runReference(program, q).output) === argmax(t.output[0])) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(99);
  });

  it('the integer reference is bit-exact with the circuit witness on all 100 test inputs, and the witness satisfies the r1cs', async () => {
    const inputs = data.test.map((t: any) => quantizeInput(program.io, flattenTensor(t.input, program.io.input.shape, 'input')));
    // Outputs and hidden-layer signals (but the 10 the outputs' definitions eliminate), each input's witness checked against every constraint.
    expect(await checkBitExact(dir, inputs)).toBe(100 * (10 + program.layers[0].gadgets.length - 10));
  });

  it('records scales, the accepted input range and per-layer constraints in the manifest', () => {
    const m: Manifest = loadJson(buildPath(dir, 'manifest'));
    expect(m.inputRange.accepted[0]).toBeLessThanOrEqual(0);
    expect(m.inputRange.accepted[1]).toBeGreaterThanOrEqual(1);
    expect(m.scales.map((s) => s.role)).toEqual(expect.arrayContaining(['input', 'weight', 'activation', 'output']));
    expect(m.constraints.layers.reduce((s, l) => s + l.constraints, 0)).toBe(m.constraints.total);
    // 64 inputs x 5 range bits, then one RescaleRelu (NB + 1) per hidden neuron.
    const relu = m.constraints.layers.find((l) => l.op === 'relu')!;
    expect(m.constraints.layers[0].constraints).toBe(64 * m.io.input.bits);
    expect(relu.constraints).toBe(program.layers[0].gadgets.reduce((s, g) => s + (g.kind === 'rescale-relu' ? g.nb + 1 : g.kind === 'rescale' ? g.nb : 0), 0));
    expect(m.ceremony.kind).toBe('development');
  });
});

describe('digits_mlp: proofs', () => {
  it('proves three test inputs whose receipts verify, with PyTorch top-1', async () => {
    expect(receipts).toHaveLength(3);
    for (const [i, r] of receipts.entries()) {
      const v = await verifyReceipt(r, vkey);
      expect(v.valid, v.reason).toBe(true);
      const out = (r.output as number[][])[0];
      expect(argmax(out)).toBe(argmax(data.test[i].output[0]));
      out.forEach((x, j) => expect(Math.abs(x - data.test[i].output[0][j])).toBeLessThan(0.5));
    }
  });

  it('each receipt verifies with the CLI (exit 0)', async () => {
    for (const [i, r] of receipts.entries()) {
      const f = path.join(ARTIFACTS, `mlp-receipt-${i}.json`);
      fs.writeFileSync(f, JSON.stringify(r));
      const res = await runCli(['verify', f, '--model', dir]);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/^valid/);
      // It names the input the proof was checked for.
      expect(res.stdout).toContain(`input (quantized) [${r.inputQuantized!.join(', ')}]`);
      if (i === 0) {
        const j = await runCli(['verify', f, '--model', dir, '--json']);
        expect(JSON.parse(j.stdout)).toMatchObject({ valid: true, inputQuantized: r.inputQuantized, commitment: null });
      }
    }
  });
});

describe('digits_mlp: tampered receipts are rejected', () => {
  const expectInvalid = async (r: unknown, reason: RegExp, key = vkey) => {
    const v = await verifyReceipt(r, key);
    expect(v.valid).toBe(false);
    expect(v.reason).toMatch(reason);
  };

  it('a changed output value', async () => {
    const r = clone(receipts[0]);
    (r.output as number[][])[0][3] += 1 / 1024;
    await expectInvalid(r, /output element 3/);
  });

  it('a changed quantized output, even with a matching float output', async () => {
    const r = clone(receipts[0]);
    r.outputQuantized[2] = String(BigInt(r.outputQuantized[2]) + 1n);
    (r.output as number[][])[0][2] = Number(r.outputQuantized[2]) / 2 ** r.outputScale;
    await expectInvalid(r, /quantized output differs/);
  });

  it('a changed output signal, with output and receipt rewritten to match', async () => {
    const r = clone(receipts[0]);
    const q = BigInt(r.outputQuantized[0]) + 5n;
    r.publicSignals[0] = toField(q).toString();
    r.outputQuantized[0] = q.toString();
    (r.output as number[][])[0][0] = Number(q) / 2 ** r.outputScale;
    await expectInvalid(r, /Groth16 proof does not verify/);
  });

  it('a changed input', async () => {
    const r = clone(receipts[0]);
    (r.input as number[][])[0][10] = 0.5;
    await expectInvalid(r, /input differs/);
  });

  it('a changed input signal, with the receipt input rewritten to match', async () => {
    const r = clone(receipts[0]);
    const nOut = r.outputQuantized.length;
    (r.input as number[][])[0][0] = 0.25;
    const io = program.io;
    const q = quantizeInput(io, flattenTensor(r.input, io.input.shape, 'input'));
    r.inputQuantized = q.map(String);
    publicInputSignals(io, q).forEach((v, i) => {
      r.publicSignals[nOut + i] = toField(v).toString();
    });
    expect(r.publicSignals).not.toEqual(receipts[0].publicSignals);
    await expectInvalid(r, /Groth16 proof does not verify/);
  });

  it('packs the 64 public inputs into 2 public signals, at no constraint cost', () => {
    expect(program.io.input.perSignal).toBe(Math.floor(248 / program.io.input.bits));
    expect(receipts[0].publicSignals).toHaveLength(10 + 2);
    const m = JSON.parse(fs.readFileSync(buildPath(dir, 'manifest'), 'utf8')) as Manifest;
    const last = m.constraints.layers[m.constraints.layers.length - 1];
    expect(last.op).toBe('output+input packs');
    // Each pack is linear in the inputs' bits: --O2 folds it into their bit checks.
    expect(last.constraints).toBe(0);
    expect(m.constraints.total).toBe(895);
  });

  it('a public signal plus p', async () => {
    const r = clone(receipts[0]);
    r.publicSignals[0] = (BigInt(r.publicSignals[0]) + FIELD_PRIME).toString();
    await expectInvalid(r, /not a canonical field element/);
  });

  it('a changed proof point', async () => {
    const r = clone(receipts[0]) as Receipt & { proof: { pi_a: string[] } };
    r.proof.pi_a[0] = (BigInt(r.proof.pi_a[0]) + 1n).toString();
    await expectInvalid(r, /Groth16 proof does not verify/);
    const r2 = clone(receipts[0]);
    r2.proof.pi_c = clone(receipts[1].proof.pi_c);
    await expectInvalid(r2, /Groth16 proof does not verify/);
  });

  it("a proof from another model's key", async () => {
    const tinyDir = await ensureBuild('tiny_mlp', tinyMlp(), tinySamples(16));
    const tiny = await ModelProver.load(tinyDir);
    const other = (await tiny.prove([[0.1, -0.2, 0.3, 0.4]])).receipt;
    // As issued: names the other key.
    await expectInvalid(other, /different model/);
    // Relabelled as this model: the signal count gives it away, or the pairing check.
    const r = clone(other);
    r.model = clone(receipts[0].model);
    await expectInvalid(r, /public signals|Groth16|output|input/);
    // This model's signals with a proof made under another key.
    const r2 = clone(receipts[0]);
    r2.proof = clone(other.proof);
    await expectInvalid(r2, /Groth16 proof does not verify/);
  });

  it('the CLI exits 1 on a tampered receipt', async () => {
    const r = clone(receipts[1]);
    (r.output as number[][])[0][0] = 42;
    const f = path.join(ARTIFACTS, 'mlp-tampered.json');
    fs.writeFileSync(f, JSON.stringify(r));
    const res = await runCli(['verify', f, '--model', dir]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/INVALID: output element 0/);
  });
});
