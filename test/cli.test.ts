import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { ARTIFACTS } from './helpers/circuit.js';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { makeOnnx } from './helpers/onnx-builder.js';

const tmp = path.join(ARTIFACTS, 'cli');
const write = (name: string, content: string | Uint8Array): string => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, content);
  return f;
};
const data = loadJson(fixture('digits_mlp.data.json'));
let dir: string;

beforeAll(async () => {
  fs.mkdirSync(tmp, { recursive: true });
  dir = await ensureBuild('digits_mlp', fs.readFileSync(fixture('digits_mlp.onnx')), data);
});

describe('CLI: bad input exits 2 with a message naming the problem', () => {
  it('an unsupported op: every unsupported op type and node, before any work', async () => {
    const onnx = makeOnnx({
      input: { name: 'x', shape: ['batch', 4] },
      output: { name: 'y', shape: ['batch', 4] },
      nodes: [
        { op: 'Cos', name: 'act1', inputs: ['x'], outputs: ['a'] },
        { op: 'Relu', inputs: ['a'], outputs: ['b'] },
        { op: 'Sin', name: 'act2', inputs: ['b'], outputs: ['y'] },
      ],
    });
    const out = path.join(tmp, 'never');
    const res = await runCli(['compile', write('unsupported.onnx', onnx), '--calibration', write('cal4.json', '[[[0,0,0,0]]]'), '--out', out]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/ONNX_UNSUPPORTED/);
    expect(res.stderr).toMatch(/Cos \(node "act1"\)/);
    expect(res.stderr).toMatch(/Sin \(node "act2"\)/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('malformed ONNX bytes', async () => {
    const res = await runCli(['compile', write('garbage.onnx', new Uint8Array([0xff, 0xff, 0xff, 0x07, 0x01, 0x02])), '--calibration', fixture('digits_mlp.data.json'), '--out', path.join(tmp, 'never2')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/ONNX_MALFORMED: not a valid ONNX file/);
  });

  it('a missing model file', async () => {
    const res = await runCli(['compile', path.join(tmp, 'nope.onnx'), '--calibration', fixture('digits_mlp.data.json'), '--out', path.join(tmp, 'never3')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/nope\.onnx: no such file/);
  });

  it('calibration data of the wrong shape', async () => {
    const res = await runCli(['compile', fixture('digits_mlp.onnx'), '--calibration', write('badcal.json', '[[[1,2,3]]]'), '--out', path.join(tmp, 'never4')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/calibration\[0\] has shape \[1,3\]; expected \[1,64\]/);
  });

  it('an input of the wrong shape', async () => {
    const res = await runCli(['prove', dir, '--input', write('short.json', JSON.stringify({ input: [new Array(63).fill(0)] })), '--out', path.join(tmp, 'r.json')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/INPUT_INVALID: input has shape \[1,63\]; expected \[1,64\]/);
  });

  it('NaN in the input, as a JSON literal and as a string', async () => {
    const row = new Array(64).fill(0);
    const text = JSON.stringify({ input: [row] }).replace('[[0,', '[[NaN,');
    let res = await runCli(['prove', dir, '--input', write('nan.json', text), '--out', path.join(tmp, 'r.json')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/contains NaN: every value must be a finite number/);
    row[5] = 'NaN';
    res = await runCli(['prove', dir, '--input', write('nan2.json', JSON.stringify({ input: [row] })), '--out', path.join(tmp, 'r.json')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/input\[0\]\[5\] is string; expected a finite number/);
  });

  it('an input outside the declared range', async () => {
    const row = new Array(64).fill(0);
    row[7] = 5;
    const res = await runCli(['prove', dir, '--input', write('big.json', JSON.stringify({ input: [row] })), '--out', path.join(tmp, 'r.json')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/INPUT_OUT_OF_RANGE: input\[0\]\[7\] = 5 is outside the model's input range \[0, 1\.9375\]/);
    expect(fs.existsSync(path.join(tmp, 'r.json'))).toBe(false);
  });

  it('an input file without an "input" field', async () => {
    const res = await runCli(['prove', dir, '--input', write('noinput.json', '{"x": 1}'), '--out', path.join(tmp, 'r.json')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/expected an object with an "input" field/);
  });

  it('a malformed receipt, a missing option, an unknown command', async () => {
    let res = await runCli(['verify', write('notreceipt.json', '{"format": "zkinfer-receipt/1"}'), '--model', dir]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/RECEIPT_INVALID: receipt field "model"/);
    res = await runCli(['verify', write('x.json', '{}')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/required option '--model <build>'/);
    res = await runCli(['frobnicate']);
    expect(res.code).toBe(2);
  });

  it('a --ptau file that is not a known public ceremony', async () => {
    const res = await runCli(['compile', fixture('digits_mlp.onnx'), '--calibration', fixture('digits_mlp.data.json'), '--out', path.join(tmp, 'never5'), '--ptau', write('fake.ptau', 'not a ptau')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/PTAU_REJECTED: .*matches no known Hermez ceremony file/);
  });
});

describe('CLI: the whole path', () => {
  it('compile, prove and verify a small model, with progress per phase', async () => {
    const out = path.join(tmp, 'tiny');
    const onnx = write('tiny.onnx', makeOnnx({
      input: { name: 'x', shape: ['N', 3] },
      output: { name: 'y', shape: ['N', 2] },
      initializers: [{ name: 'W', dims: [2, 3], data: [0.5, -0.25, 1, 0.75, 0.1, -0.6] }, { name: 'b', dims: [2], data: [0.1, -0.2] }],
      nodes: [{ op: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['y'], attrs: { transB: 1 } }],
    }));
    let res = await runCli(['compile', onnx, '--calibration', write('tcal.json', JSON.stringify({ calibration: [[[0, 0.5, 1]], [[1, -1, 0.25]]] })), '--out', out, '--input-range=-2,2']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/compile: done in/);
    expect(res.stderr).toMatch(/setup 0%/);
    const manifest = loadJson(path.join(out, 'manifest.json'));
    expect(manifest.inputRange.source).toBe('option');
    expect(manifest.inputRange.requested).toEqual([-2, 2]);
    res = await runCli(['prove', out, '--input', write('tin.json', JSON.stringify({ input: [[1, 0.5, -1.5]] })), '--out', path.join(tmp, 'tr.json')]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/witness: done in/);
    expect(res.stderr).toMatch(/proof: done in/);
    const receipt = loadJson(path.join(tmp, 'tr.json'));
    expect(receipt.output[0][0]).toBeCloseTo(0.5 - 0.125 - 1.5 + 0.1, 2);
    expect(receipt.output[0][1]).toBeCloseTo(0.75 + 0.05 + 0.9 - 0.2, 2);
    res = await runCli(['verify', path.join(tmp, 'tr.json'), '--model', out, '--json']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).valid).toBe(true);
  });
});
