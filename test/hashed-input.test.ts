import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { ARTIFACTS } from './helpers/circuit.js';
import { runCli } from './helpers/cli.js';
import { makeOnnx, rand } from './helpers/onnx-builder.js';
import { ModelProver } from '../src/prove/index.js';
import { verifyReceipt } from '../src/verify/index.js';
import { commitLayout, toField, type Receipt } from '../src/receipt/index.js';
import { buildPath } from '../src/paths.js';
import { releaseCurve } from '../src/curve.js';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const data = loadJson(fixture('digits_mlp.data.json'));
let dir: string;
let vkey: string;
let disclosed: Receipt;
let secret: Receipt;

beforeAll(async () => {
  dir = await ensureBuild('digits_mlp_hashed', fs.readFileSync(fixture('digits_mlp.onnx')), data, { visibility: 'hashed' });
  vkey = fs.readFileSync(buildPath(dir, 'vkey'), 'utf8');
  const prover = await ModelProver.load(dir);
  disclosed = (await prover.prove(data.test[4].input)).receipt;
  secret = (await prover.prove(data.test[4].input, { disclose: false })).receipt;
});
afterAll(releaseCurve);

describe('hashed input visibility', () => {
  it('proves with one Poseidon commitment as the only input-side public signal', async () => {
    expect(disclosed.publicSignals).toHaveLength(11);
    expect(disclosed.commitment!.value).toBe(disclosed.publicSignals[10]);
    const v = await verifyReceipt(disclosed, vkey);
    expect(v.valid, v.reason).toBe(true);
    expect(v.inputDisclosed).toBe(true);
    expect(v.inputQuantized).toEqual(disclosed.inputQuantized);
    expect(v.commitment).toBe(disclosed.commitment!.value);
  });

  it('verifies without the input when it is not disclosed, and says so', async () => {
    expect(secret.input).toBeNull();
    expect(secret.commitment!.salt).toBeNull();
    const v = await verifyReceipt(secret, vkey);
    expect(v.valid, v.reason).toBe(true);
    expect(v.inputDisclosed).toBe(false);
    expect(v.checked).toContain('input committed, not disclosed');
    expect(v.inputQuantized).toBeNull();
    expect(v.commitment).toBe(secret.commitment!.value);
    // Fresh salt per proof: the same input does not give the same commitment.
    expect(secret.commitment!.value).not.toBe(disclosed.commitment!.value);
  });

  it('the CLI names the commitment of an undisclosed input', async () => {
    const f = path.join(ARTIFACTS, 'hashed-secret-receipt.json');
    fs.writeFileSync(f, JSON.stringify(secret));
    const res = await runCli(['verify', f, '--model', dir]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`input not disclosed\ninput commitment ${secret.commitment!.value}\n`);
  });

  it('rejects a changed disclosed input, salt or commitment', async () => {
    const r1 = clone(disclosed);
    (r1.input as number[][])[0][20] = 0.0625;
    expect((await verifyReceipt(r1, vkey)).reason).toMatch(/does not match the proven commitment/);
    const r2 = clone(disclosed);
    r2.commitment!.salt = '12345';
    expect((await verifyReceipt(r2, vkey)).reason).toMatch(/does not match the proven commitment/);
    const r3 = clone(secret);
    r3.commitment!.value = (BigInt(r3.commitment!.value) + 1n).toString();
    expect((await verifyReceipt(r3, vkey)).reason).toMatch(/commitment differs/);
    const r4 = clone(secret);
    r4.commitment!.value = toField(BigInt(r4.commitment!.value) + 1n).toString();
    r4.publicSignals[10] = r4.commitment!.value;
    expect((await verifyReceipt(r4, vkey)).reason).toMatch(/Groth16 proof does not verify/);
  });

  it('chains Poseidon calls for wide inputs, identically in the circuit and outside', async () => {
    const n = 400;
    const r = rand(2);
    const bytes = makeOnnx({
      input: { name: 'x', shape: [1, n] },
      output: { name: 'y', shape: [1, 2] },
      initializers: [{ name: 'W', dims: [n, 2], data: Array.from({ length: 2 * n }, r) }],
      nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
    });
    const cal = Array.from({ length: 4 }, () => [Array.from({ length: n }, r)]);
    const wide = await ensureBuild('wide_hashed', bytes, cal, { visibility: 'hashed', inputRange: [-2, 2], activationBits: 14 });
    const prover = await ModelProver.load(wide);
    expect(commitLayout(n, prover.io.input.bits).chunks).toBeGreaterThan(1);
    const receipt = (await prover.prove([Array.from({ length: n }, r)])).receipt;
    const v = await verifyReceipt(receipt, fs.readFileSync(buildPath(wide, 'vkey'), 'utf8'));
    expect(v.valid, v.reason).toBe(true);
  });
});
