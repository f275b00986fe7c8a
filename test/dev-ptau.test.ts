import fs from 'node:fs';
import path from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDevPtau } from '../src/setup/dev-ptau.js';
import { compileTestCircuit, ARTIFACTS } from './helpers/circuit.js';
import { releaseCurve } from '../src/curve.js';
import { toField } from '../src/receipt/index.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {}, log() {} } as unknown as snarkjs.Logger;

afterAll(releaseCurve);

describe('development powers of tau', () => {
  it('is used by snarkjs groth16 setup, proves, and passes snarkjs zkey verify', async () => {
    const dir = path.join(ARTIFACTS, 'ptau');
    fs.mkdirSync(dir, { recursive: true });
    const ptau = path.join(dir, 'dev08.ptau');
    await writeDevPtau(ptau, 8);
    const c = await compileTestCircuit('ptau-relu', `
template T() {
    signal input x[4];
    signal output y[4];
    component g[4];
    for (var i = 0; i < 4; i++) {
        g[i] = RescaleRelu(10, 2, 514);
        g[i].in <== 3 * x[i] - 7;
        y[i] <== g[i].out;
    }
}
component main {public [x]} = T();`);
    expect(c.r1cs.constraints.length).toBe(44);
    const r1cs = path.join(ARTIFACTS, 'gadgets', 'ptau-relu', 't.r1cs');
    const wasm = path.join(ARTIFACTS, 'gadgets', 'ptau-relu', 't_js', 't.wasm');
    const zkey0 = path.join(dir, 't0.zkey');
    const zkey = path.join(dir, 't1.zkey');
    await snarkjs.zKey.newZKey(r1cs, ptau, zkey0, quiet);
    await snarkjs.zKey.contribute(zkey0, zkey, 'test', 'entropy', quiet);
    expect(await snarkjs.zKey.verifyFromR1cs(r1cs, ptau, zkey, quiet)).toBe(true);
    const vk = await snarkjs.zKey.exportVerificationKey(zkey);
    const { proof, publicSignals } = await snarkjs.groth16.fullProve({ x: ['5', '0', toField(-4n).toString(), '40'] }, wasm, zkey);
    expect(publicSignals.slice(0, 4)).toEqual(['2', '0', '0', '28']);
    expect(await snarkjs.groth16.verify(vk, publicSignals, proof)).toBe(true);
    // A key from another development ceremony does not verify against this one.
    const other = path.join(dir, 'other08.ptau');
    await writeDevPtau(other, 8);
    expect(await snarkjs.zKey.verifyFromR1cs(r1cs, other, zkey, quiet)).toBe(false);
  });
});
