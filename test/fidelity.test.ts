import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { runCli } from './helpers/cli.js';
import { ARTIFACTS } from './helpers/circuit.js';
import { makeOnnx, rand } from './helpers/onnx-builder.js';
import { fidelity, type Manifest } from '../src/pipeline/index.js';
import { buildPath } from '../src/paths.js';
import { importOnnx } from '../src/onnx/index.js';
import { calibrate, choosePrecision, parseCalibration, quantizeOptions, PrecisionError, PRECISION_LADDER } from '../src/quantize/index.js';

const data = loadJson(fixture('digits_mlp.data.json'));
let dir: string;
beforeAll(async () => {
  dir = await ensureBuild('digits_mlp', fs.readFileSync(fixture('digits_mlp.onnx')), data);
});

describe('fidelity', () => {
  it('reports top-1 agreement, accuracy of both models and the largest output error', async () => {
    const r = await fidelity(dir, data);
    expect(r.task).toBe('classification');
    expect(r.cases).toBe(100);
    expect(r.top1Agreement).toBeGreaterThanOrEqual(0.99);
    expect(Math.abs(r.floatAccuracy! - r.integerAccuracy!)).toBeLessThanOrEqual(0.01);
    expect(r.maxAbsError).toBeLessThan(0.5);
  });

  it('prints a table, or JSON with --json; exits 2 on bad data', async () => {
    let res = await runCli(['fidelity', dir, '--data', fixture('digits_mlp.data.json')]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/top-1 agreement\s+\d+\.\d%/);
    res = await runCli(['fidelity', dir, '--data', fixture('digits_mlp.data.json'), '--json']);
    expect(JSON.parse(res.stdout).cases).toBe(100);
    const bad = path.join(ARTIFACTS, 'fid-bad.json');
    fs.writeFileSync(bad, '{"calibration": []}');
    res = await runCli(['fidelity', dir, '--data', bad]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/"test" array/);
  });

  it('reports mean squared error for a regression model', async () => {
    const g = rand(9);
    const bytes = makeOnnx({
      input: { name: 'x', shape: ['N', 3] }, output: { name: 'y', shape: ['N', 1] },
      initializers: [{ name: 'W', dims: [3, 1], data: [0.5, -1, 2] }, { name: 'b', dims: [1], data: [0.25] }],
      nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['h'] }, { op: 'Add', inputs: ['h', 'b'], outputs: ['y'] }],
    });
    const xs = Array.from({ length: 20 }, () => [[g(), g(), g()]]);
    const reg = await ensureBuild('regression', bytes, xs);
    const test = xs.map((x) => ({ input: x, label: 0.5 * x[0][0] - x[0][1] + 2 * x[0][2] + 0.25 + 0.1 }));
    const r = await fidelity(reg, { task: 'regression', test });
    expect(r.task).toBe('regression');
    expect(r.floatMse).toBeCloseTo(0.01, 4);
    expect(Math.abs(r.integerMse! - r.floatMse!)).toBeLessThan(0.002);
  });
});

describe('precision search', () => {
  it('picks the cheapest ladder step that keeps every calibration top-1 and 0.5% output error, and records why', async () => {
    const m: Manifest = loadJson(buildPath(dir, 'manifest'));
    expect(m.precision.mode).toBe('auto');
    const last = m.precision.trials.at(-1)!;
    expect(last.accepted).toBe(true);
    expect(m.precision.trials.slice(0, -1).every((t) => !t.accepted)).toBe(true);
    expect(m.options.activationBits).toBe(last.activationBits);
  });

  it('walks up the ladder when the cheap steps lose fidelity', async () => {
    const bytes = fs.readFileSync(fixture('digits_cnn.onnx'));
    const cnn = loadJson(fixture('digits_cnn.data.json'));
    const graph = importOnnx(bytes);
    const samples = parseCalibration(cnn, graph.input.shape);
    const { stats, outputs } = await calibrate(bytes, graph, samples);
    const base = { graph, onnxSha256: '0'.repeat(64), stats, samples, options: quantizeOptions({}) };
    const r = await choosePrecision(base, outputs);
    const t = r.trials.at(-1)!;
    expect(t.accepted).toBe(true);
    expect(t.top1).toBe(samples.length);
    // A target no step meets exhausts the ladder and fails, naming the best step.
    const strict = await choosePrecision(base, outputs.map((o) => o.map((v) => v + 1e3))).catch((e: PrecisionError) => e);
    expect(strict).toBeInstanceOf(PrecisionError);
    expect((strict as PrecisionError).trials).toHaveLength(PRECISION_LADDER.length);
    expect((strict as PrecisionError).trials.every((x) => !x.accepted)).toBe(true);
  });
});
