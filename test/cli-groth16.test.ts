import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { ARTIFACTS, compileTestCircuit } from './helpers/circuit.js';
import { runCli } from './helpers/cli.js';
// @ts-expect-error: a plain JavaScript module of the launcher
import { compiledEntry } from '../bin/compiled.js';
import { buildPath, DEFAULT_KEYS_DIR } from '../src/paths.js';
import { devPtau } from '../src/setup/ptau.js';
import { releaseCurve } from '../src/curve.js';

const require = createRequire(import.meta.url);
const data = loadJson(fixture('digits_mlp.data.json'));
const work = path.join(ARTIFACTS, 'cli-groth16');
let dir: string;

beforeAll(async () => {
  dir = await ensureBuild('digits_mlp', fs.readFileSync(fixture('digits_mlp.onnx')), data);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  fs.writeFileSync(path.join(work, 'input.json'), JSON.stringify({ input: data.test[3].input }));
});
afterAll(releaseCurve);

describe('snarkjs-compatible commands', () => {
  it('zkinfer witness writes a .wtns that snarkjs checks against the r1cs, and that zkinfer groth16 prove proves for snarkjs\' verifier', async () => {
    const wtns = path.join(work, 'w.wtns');
    let r = await runCli(['witness', dir, '--input', path.join(work, 'input.json'), '--out', wtns, '--check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/every constraint of .* holds/);
    // snarkjs' own check of A·w ∘ B·w = C·w on our files.
    expect(await snarkjs.wtns.check(buildPath(dir, 'r1cs'), wtns, { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} })).toBe(true);
    const [proof, pub] = [path.join(work, 'proof.json'), path.join(work, 'public.json')];
    r = await runCli(['groth16', 'prove', buildPath(dir, 'zkey'), wtns, proof, pub]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/prover kernels: (native|WebAssembly \(.+\))/);
    const vk = await snarkjs.zKey.exportVerificationKey(buildPath(dir, 'zkey'));
    expect(await snarkjs.groth16.verify(vk, loadJson(pub), loadJson(proof))).toBe(true);
    const signals = loadJson(pub) as string[];
    signals[0] = (BigInt(signals[0]) + 1n).toString();
    expect(await snarkjs.groth16.verify(vk, signals, loadJson(proof))).toBe(false);
  });

  it('groth16 runs the compiled CLI (bundled once per state of src/), and through tsx with ZKINFER_COMPILED=0: both proofs verify', async () => {
    const wtns = path.join(work, 'c.wtns');
    let r = await runCli(['witness', dir, '--input', path.join(work, 'input.json'), '--out', wtns]);
    expect(r.code, r.stderr).toBe(0);
    const entry = await compiledEntry();
    expect(entry).toMatch(/\/build\/cli\/[0-9a-f]{16}\/main\.js$/);
    expect(fs.existsSync(new URL(entry!))).toBe(true);
    const vk = await snarkjs.zKey.exportVerificationKey(buildPath(dir, 'zkey'));
    for (const env of [{}, { ZKINFER_COMPILED: '0' }] as Array<Record<string, string>>) {
      const [proof, pub] = [path.join(work, 'cproof.json'), path.join(work, 'cpublic.json')];
      r = await runCli(['groth16', 'prove', buildPath(dir, 'zkey'), wtns, proof, pub], undefined, env);
      expect(r.code, r.stderr).toBe(0);
      expect(await snarkjs.groth16.verify(vk, loadJson(pub), loadJson(proof))).toBe(true);
    }
  });

  it('without native kernels (ZKINFER_NATIVE=0) zkinfer groth16 prove runs on WebAssembly, and its proof verifies', async () => {
    const wtns = path.join(work, 'wasm.wtns');
    let r = await runCli(['witness', dir, '--input', path.join(work, 'input.json'), '--out', wtns]);
    expect(r.code, r.stderr).toBe(0);
    const [proof, pub] = [path.join(work, 'wproof.json'), path.join(work, 'wpublic.json')];
    r = await runCli(['groth16', 'prove', buildPath(dir, 'zkey'), wtns, proof, pub], undefined, { ZKINFER_NATIVE: '0' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/prover kernels: WebAssembly \(disabled by ZKINFER_NATIVE=0\)/);
    const vk = await snarkjs.zKey.exportVerificationKey(buildPath(dir, 'zkey'));
    expect(await snarkjs.groth16.verify(vk, loadJson(pub), loadJson(proof))).toBe(true);
  });

  it('zkinfer groth16 prove works on a zkey snarkjs made for a circom circuit', async () => {
    const c = await compileTestCircuit('g16-foreign', `
template T() {
    signal input a;
    signal input b;
    signal output out;
    component m = Max2(8);
    m.a <== a;
    m.b <== b;
    out <== m.out;
}
component main = T();`, ['compare.circom']);
    void c;
    const cdir = path.join(ARTIFACTS, 'gadgets', 'g16-foreign');
    const ptau = await devPtau(DEFAULT_KEYS_DIR, 8);
    const zkey = path.join(work, 'foreign.zkey');
    await snarkjs.zKey.newZKey(path.join(cdir, 't.r1cs'), ptau.file, zkey);
    const calc = await require(path.join(cdir, 't_js', 'witness_calculator.cjs'))(fs.readFileSync(path.join(cdir, 't_js', 't.wasm')));
    const wtns = path.join(work, 'foreign.wtns');
    fs.writeFileSync(wtns, await calc.calculateWTNSBin({ a: '17', b: '42' }, true));
    const [proof, pub] = [path.join(work, 'fproof.json'), path.join(work, 'fpublic.json')];
    const r = await runCli(['groth16', 'prove', zkey, wtns, proof, pub]);
    expect(r.code, r.stderr).toBe(0);
    expect(loadJson(pub)).toEqual(['42']);
    expect(await snarkjs.groth16.verify(await snarkjs.zKey.exportVerificationKey(zkey), loadJson(pub), loadJson(proof))).toBe(true);
  });

  it('a witness of another circuit, or not a witness at all, is exit 2 naming the file', async () => {
    const other = path.join(work, 'foreign.wtns');
    let r = await runCli(['groth16', 'prove', buildPath(dir, 'zkey'), other, path.join(work, 'x.json'), path.join(work, 'y.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/INPUT_INVALID: witness .*foreign\.wtns: witness has \d+ values, the key expects \d+/);
    fs.writeFileSync(path.join(work, 'junk.wtns'), 'junk');
    r = await runCli(['groth16', 'prove', buildPath(dir, 'zkey'), path.join(work, 'junk.wtns'), path.join(work, 'x.json'), path.join(work, 'y.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});
