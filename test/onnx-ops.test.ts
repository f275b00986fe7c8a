import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importOnnx } from '../src/onnx/index.js';
import { calibrate, choosePrecision, collectStats, FloatModel, parseCalibration, quantize, quantizeOptions, runReference } from '../src/quantize/index.js';
import { flattenTensor, nest, quantizeInput } from '../src/receipt/index.js';
import { UnsupportedOpsError, ZkinferError } from '../src/errors.js';
import { fixture } from './helpers/builds.js';
import { runCli } from './helpers/cli.js';
import { ARTIFACTS } from './helpers/circuit.js';
import { makeOnnx, rand, tinyMlp, tinySamples } from './helpers/onnx-builder.js';
import { OP_FIXTURES, samplesFor } from './helpers/op-fixtures.js';
import { compareWithOrt as compareOps } from './helpers/compare.js';

describe('ONNX import', () => {
  it('reads digits_mlp: shapes with the batch dimension taken as 1, nodes, initializers', () => {
    const g = importOnnx(fs.readFileSync(fixture('digits_mlp.onnx')));
    expect(g.input).toEqual({ name: 'input', shape: [1, 64] });
    expect(g.output).toEqual({ name: 'output', shape: [1, 10] });
    expect(g.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm']);
    expect(g.constants.get('0.weight')!.dims).toEqual([32, 64]);
    expect(g.opset).toBe(13);
  });

  it('folds Constant nodes and reads int64 constants', () => {
    const g = importOnnx(tinyMlp());
    expect(g.nodes.map((n) => n.opType)).not.toContain('Constant');
    expect(Array.from(g.constants.get('shape')!.data)).toEqual([1, 3]);
  });

  it('names every unsupported op and node at once', () => {
    const bytes = makeOnnx({
      input: { name: 'x', shape: [1, 4] },
      output: { name: 'y', shape: [1, 4] },
      nodes: [
        { op: 'Cos', name: 's1', inputs: ['x'], outputs: ['a'] },
        { op: 'LSTM', name: 'rnn', inputs: ['a'], outputs: ['y'] },
      ],
    });
    try {
      importOnnx(bytes);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UnsupportedOpsError);
      expect((e as UnsupportedOpsError).nodes).toEqual([{ opType: 'Cos', name: 's1' }, { opType: 'LSTM', name: 'rnn' }]);
      expect((e as Error).message).toBe('unsupported ONNX operators: Cos (node "s1"), LSTM (node "rnn")');
    }
  });

  it('rejects malformed and empty bytes, and graphs it cannot read', () => {
    expect(() => importOnnx(new Uint8Array())).toThrow(/empty/);
    expect(() => importOnnx(new Uint8Array([0xff, 0xff, 0xff, 0x07]))).toThrow(ZkinferError);
    expect(() => importOnnx(new TextEncoder().encode('hello world, not onnx'))).toThrow(/not a valid ONNX file/);
    const dangling = makeOnnx({
      input: { name: 'x', shape: [1, 2] },
      output: { name: 'y', shape: [1, 2] },
      nodes: [{ op: 'Relu', name: 'r', inputs: ['ghost'], outputs: ['y'] }],
    });
    expect(() => importOnnx(dangling)).toThrow(/node "r" \(Relu\) reads "ghost"/);
  });
});

/** Quantizes a model and compares the integer reference with onnxruntime. */
async function compareWithOrt(bytes: Uint8Array, samples: number[][][], tests: number[][][]) {
  const g = importOnnx(bytes);
  const cal = parseCalibration(samples, g.input.shape);
  const stats = await collectStats(bytes, g, cal);
  const p = quantize({ graph: g, onnxSha256: '0'.repeat(64), stats, samples: cal, options: quantizeOptions({ inputRange: [-2, 2] }) });
  const ort = await FloatModel.load(bytes, g);
  let maxErr = 0;
  for (const t of tests) {
    const x = flattenTensor(t, g.input.shape, 'input');
    const want = await ort.output(x);
    const got = runReference(p, quantizeInput(p.io, x)).output.map((v) => v / 2 ** p.io.output.scale);
    expect(got).toHaveLength(want.length);
    got.forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs(v - want[i]))));
  }
  await ort.close();
  return { program: p, maxErr };
}

describe('operators against onnxruntime', () => {
  it('MatMul, Add, Relu, Constant, Reshape, Flatten, Identity, Gemm (alpha, beta, transB)', async () => {
    const { maxErr } = await compareWithOrt(tinyMlp(3), tinySamples(32), tinySamples(20, 99));
    expect(maxErr).toBeLessThan(0.01);
  });

  it('Gemm without transB and with a 2-D bias; MatMul over a 3-D input', async () => {
    const r = rand(5);
    const v = (n: number) => Array.from({ length: n }, r);
    const bytes = makeOnnx({
      input: { name: 'x', shape: ['batch', 2, 3] },
      output: { name: 'y', shape: ['batch', 4] },
      initializers: [
        { name: 'M', dims: [3, 5], data: v(15) },
        { name: 'G', dims: [10, 4], data: v(40) },
        { name: 'c', dims: [1, 4], data: v(4) },
        { name: 'shape', dims: [2], data: [1, -1], int64: true },
      ],
      nodes: [
        { op: 'MatMul', inputs: ['x', 'M'], outputs: ['a'] },
        { op: 'Relu', inputs: ['a'], outputs: ['b'] },
        { op: 'Reshape', inputs: ['b', 'shape'], outputs: ['c2'] },
        { op: 'Gemm', inputs: ['c2', 'G', 'c'], outputs: ['y'] },
      ],
    });
    const rr = rand(11);
    const samples = Array.from({ length: 24 }, () => [[0, 1].map(() => [rr(), rr(), rr()])]);
    const tests = Array.from({ length: 10 }, () => [[0, 1].map(() => [rr(), rr(), rr()])]);
    const { maxErr } = await compareWithOrt(bytes, samples as unknown as number[][][], tests as unknown as number[][][]);
    expect(maxErr).toBeLessThan(0.01);
  });

  it('two linear layers in a row compose into one affine map, with no gadget between them', async () => {
    const r = rand(8);
    const v = (n: number) => Array.from({ length: n }, r);
    const bytes = makeOnnx({
      input: { name: 'x', shape: [1, 4] },
      output: { name: 'y', shape: [1, 3] },
      initializers: [{ name: 'A', dims: [4, 6], data: v(24) }, { name: 'B', dims: [6, 3], data: v(18) }],
      nodes: [
        { op: 'MatMul', inputs: ['x', 'A'], outputs: ['h'] },
        { op: 'MatMul', inputs: ['h', 'B'], outputs: ['y'] },
      ],
    });
    const { program, maxErr } = await compareWithOrt(bytes, tinySamples(32), tinySamples(10, 3));
    expect(program.layers).toEqual([]);
    expect(maxErr).toBeLessThan(0.02);
  });
});

describe('BatchNormalization folds on the channel axis (1) at every rank', () => {
  for (const f of OP_FIXTURES.filter((x) => x.name.includes('matmul (channel axis 1)'))) {
    it(`rank ${f.inputShape.length}: folded, and within rounding of onnxruntime`, async () => {
      const cal = samplesFor(f.inputShape, 16, 1).map((x) => nest(x, f.inputShape));
      const tests = samplesFor(f.inputShape, 10, 2).map((x) => nest(x, f.inputShape));
      const c = await compareOps(f.onnx, cal, tests);
      expect(c.program.notes.join()).toMatch(/BatchNormalization .* folded into/);
      expect(c.program.layers).toEqual([]);
      // |γ| ≤ 3 over unit variances: a fold on the wrong axis errs by whole units.
      expect(c.maxErr).toBeLessThan(0.02);
    });
  }

  it('the precision search agrees with the float model on every calibration sample (rank 3)', async () => {
    const f = OP_FIXTURES.find((x) => x.name.includes('rank-3 matmul'))!;
    const g = importOnnx(f.onnx);
    const samples = parseCalibration(samplesFor(f.inputShape, 8, 3).map((x) => nest(x, f.inputShape)), g.input.shape);
    const { stats, outputs } = await calibrate(f.onnx, g, samples);
    const { trials } = await choosePrecision({ graph: g, onnxSha256: '0'.repeat(64), stats, samples, options: quantizeOptions({}) }, outputs);
    expect(trials.at(-1)!.top1).toBe(8);
  });
});

describe('precision search: a model no ladder step reproduces', () => {
  /**
   * d = x·[100, 0.01] - x·[100, 0] cancels to 0.01·x1, but the first weight
   * scale is set by the 100: at 14 bits 0.01 rounds to 2^-6 (+56%).
   */
  const cancelling = () => makeOnnx({
    input: { name: 'x', shape: [1, 2] }, output: { name: 'y', shape: [1, 2] },
    initializers: [
      { name: 'A', dims: [2, 1], data: [100, 0.01] }, { name: 'B', dims: [2, 1], data: [100, 0] }, { name: 'C', dims: [1, 2], data: [1, 0.5] },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'A'], outputs: ['a'] },
      { op: 'MatMul', inputs: ['x', 'B'], outputs: ['b'] },
      { op: 'Sub', inputs: ['a', 'b'], outputs: ['d'] },
      { op: 'Relu', name: 'relu_d', inputs: ['d'], outputs: ['r'] },
      { op: 'MatMul', inputs: ['r', 'C'], outputs: ['y'] },
    ],
  });
  const tmp = path.join(ARTIFACTS, 'precision');
  const cal = Array.from({ length: 8 }, (_, i) => [[0.1 + i / 10, 0.9 - i / 10]]);
  beforeAll(() => {
    fs.mkdirSync(tmp, { recursive: true });
    fs.writeFileSync(path.join(tmp, 'm.onnx'), cancelling());
    fs.writeFileSync(path.join(tmp, 'cal.json'), JSON.stringify(cal));
  });

  it('compile fails with exit 2, naming the best agreement and the tensor with the largest error; no build is written', async () => {
    const out = path.join(tmp, 'auto');
    fs.rmSync(out, { recursive: true, force: true });
    const res = await runCli(['compile', path.join(tmp, 'm.onnx'), '--calibration', path.join(tmp, 'cal.json'), '--out', out]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(/QUANTIZATION_FAILED/);
    expect(res.stderr).toMatch(/the best, 14\/14 bits, keeps the top class of 8\/8 samples with a largest output error of \d+\.\d\d% of the largest output/);
    expect(res.stderr).toMatch(/largest error is in tensor "r" \(node "relu_d"\)/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('explicit --activation-bits/--weight-bits build as asked', async () => {
    const out = path.join(tmp, 'fixed');
    fs.rmSync(out, { recursive: true, force: true });
    const res = await runCli(['compile', path.join(tmp, 'm.onnx'), '--calibration', path.join(tmp, 'cal.json'), '--out', out, '--activation-bits', '8', '--weight-bits', '8']);
    expect(res.code, res.stderr).toBe(0);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(m.precision.mode).toBe('fixed');
    expect([m.options.activationBits, m.options.weightBits]).toEqual([8, 8]);
  });
});
