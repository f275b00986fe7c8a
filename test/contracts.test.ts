import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAddressFromString, type Address } from '@ethereumjs/util';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { ARTIFACTS } from './helpers/circuit.js';
import { runCli } from './helpers/cli.js';
import { tinyMlp, tinySamples } from './helpers/onnx-builder.js';
import { Chain, compileSource, decodeBool, decodeInt256Array, MAX_CODE_SIZE, words, bytesToHex, type CallResult } from './helpers/evm.js';
import { measureVerifierGas, type VerifierGas } from '../bench/gas.js';
import { calldata, modelContract, protocolAbi, selector, solidityVerifier, type ModelContract } from '../src/contracts/index.js';
import { ModelProver } from '../src/prove/index.js';
import { verifyReceipt } from '../src/verify/index.js';
import { setupKeys } from '../src/setup/systems.js';
import { argmax } from '../src/quantize/index.js';
import { FIELD_PRIME, fromField, toField, type ModelIO, type Receipt } from '../src/receipt/index.js';
import { buildPath } from '../src/paths.js';
import { releaseCurve } from '../src/curve.js';
import { isZkinferError } from '../src/errors.js';
import type { Manifest } from '../src/pipeline/index.js';

const require = createRequire(import.meta.url);
const data = loadJson(fixture('digits_mlp.data.json'));
const onnx = fs.readFileSync(fixture('digits_mlp.onnx'));
const OUT = path.join(ARTIFACTS, 'contracts');
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const INVALID_PROOF = `0x${selector('InvalidProof()')}`;
const INPUT_MISMATCH = `0x${selector('InputMismatch()')}`;

interface Deployed {
  readonly vk: string;
  readonly model: ModelContract;
  readonly modelAt: Address;
  /** The verifier the model contract deployed (its `verifier()`). */
  readonly verifierAt: Address;
}

let chain: Chain;
let vk: string;
/** Two receipts of digits_mlp (Groth16, public input), for tampering and swapping proof points. */
let r0: Receipt;
let r1: Receipt;
/** The snarkjs verifier of digits_mlp on its own, as export-verifier writes it. */
let rawVerifier: Address;
let digits: Deployed;
/** digits_mlp with hashed input: another model, with another signal count. */
let hashed: Deployed;
let rh: Receipt;
/** digits_mlp's circuit with fresh Groth16 keys: same ABI, another key. */
let rekeyed: Deployed;
const universal = {} as Record<'plonk' | 'fflonk', { d: Deployed; r: Receipt }>;
const gas: Record<string, VerifierGas> = {};

async function deployModel(vkText: string, name: string): Promise<Deployed> {
  const model = await modelContract(vkText, { name });
  const bin = compileSource(model.source)[model.contract];
  const { address, codeSize } = await chain.deploy(bin.bytecode);
  expect(codeSize).toBeLessThanOrEqual(MAX_CODE_SIZE);
  const v = await chain.call(address, `0x${selector('verifier()')}`);
  const verifierAt = createAddressFromString(`0x${words(v.returnValue)[0].toString(16).padStart(40, '0')}`);
  return { vk: vkText, model, modelAt: address, verifierAt };
}

beforeAll(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  chain = await Chain.create();

  const dir = await ensureBuild('digits_mlp', onnx, data);
  vk = fs.readFileSync(buildPath(dir, 'vkey'), 'utf8');
  const m: Manifest = loadJson(buildPath(dir, 'manifest'));
  const rk = path.join(OUT, 'rekeyed');
  fs.mkdirSync(rk, { recursive: true });
  fs.copyFileSync(buildPath(dir, 'r1cs'), path.join(rk, 'model.r1cs'));
  const prover = await ModelProver.load(dir);
  r0 = (await prover.prove(data.test[0].input)).receipt;
  r1 = (await prover.prove(data.test[1].input)).receipt;

  const hashedDir = await ensureBuild('digits_mlp_hashed', onnx, data, { visibility: 'hashed' });
  const hashedVk = fs.readFileSync(buildPath(hashedDir, 'vkey'), 'utf8');
  rh = (await (await ModelProver.load(hashedDir)).prove(data.test[0].input)).receipt;

  // Fresh keys for the same circuit and ceremony: a phase 2 of its own.
  await setupKeys('groth16', path.join(rk, 'model.r1cs'), m.ceremony.file, path.join(rk, 'model.zkey'), path.join(rk, 'verification_key.json'), m.io as ModelIO);

  const universalReceipts: Partial<Record<'plonk' | 'fflonk', [string, Receipt]>> = {};
  for (const system of ['plonk', 'fflonk'] as const) {
    const d = await ensureBuild(`tiny_mlp_${system}`, tinyMlp(), tinySamples(16), { system });
    fs.copyFileSync(buildPath(d, 'zkey'), path.join(OUT, `${system}.zkey`));
    const p = await ModelProver.load(d);
    universalReceipts[system] = [fs.readFileSync(buildPath(d, 'vkey'), 'utf8'), (await p.prove([[0.1, -0.2, 0.3, 0.4]])).receipt];
  }
  await releaseCurve();

  const verifierSrc = solidityVerifier(vk);
  fs.writeFileSync(path.join(OUT, 'Groth16Verifier.sol'), verifierSrc);
  rawVerifier = (await chain.deploy(compileSource(verifierSrc).Groth16Verifier.bytecode)).address;
  digits = await deployModel(vk, 'DigitsMlp');
  fs.writeFileSync(path.join(OUT, 'DigitsMlp.sol'), digits.model.source);
  hashed = await deployModel(hashedVk, 'DigitsMlpHashed');
  rekeyed = await deployModel(fs.readFileSync(path.join(rk, 'verification_key.json'), 'utf8'), 'Rekeyed');
  for (const system of ['plonk', 'fflonk'] as const) {
    const [key, r] = universalReceipts[system]!;
    universal[system] = { d: await deployModel(key, `Tiny${system[0].toUpperCase()}${system.slice(1)}`), r };
  }
});

afterAll(async () => {
  await releaseCurve();
  if (Object.keys(gas).length) {
    fs.writeFileSync(path.join(OUT, 'gas.json'), `${JSON.stringify(gas, null, 1)}\n`);
    for (const [k, g] of Object.entries(gas)) {
      console.log(`${k}: verifier ${g.verifier.verifyGas.transaction} gas (code ${g.verifier.codeSize} B), model contract ${g.model.verifyGas.transaction} gas; ${g.publicSignals} public signals`);
    }
  }
});

const ok = (r: CallResult): Uint8Array => {
  expect(r.ok, r.error).toBe(true);
  return r.returnValue;
};

/** Every way a receipt can be refused on chain: the verifier returns false, verify reverts InvalidProof(), isValid returns false. */
async function expectRejected(d: Deployed, r: Receipt, verifierAt = d.verifierAt): Promise<void> {
  const c = await calldata(r);
  expect(decodeBool(ok(await chain.call(verifierAt, c.verifier)))).toBe(false);
  const v = await chain.call(d.modelAt, c.model.verify!);
  expect(v.ok).toBe(false);
  expect(bytesToHex(v.returnValue)).toBe(INVALID_PROOF);
  expect(decodeBool(ok(await chain.call(d.modelAt, c.model.isValid!)))).toBe(false);
  for (const data of [c.verifyFor!, c.model.provenInput!]) {
    const f = await chain.call(d.modelAt, data);
    expect(f.ok).toBe(false);
    expect(bytesToHex(f.returnValue)).toBe(INVALID_PROOF);
  }
  if (c.model.topClass) {
    const t = await chain.call(d.modelAt, c.model.topClass);
    expect(t.ok).toBe(false);
    expect(bytesToHex(t.returnValue)).toBe(INVALID_PROOF);
  }
}

/** A receipt's output and its proven signals moved together by `delta`, as a forger would. */
function shiftOutput(r: Receipt, i: number, delta: bigint): Receipt {
  const t = clone(r);
  const q = fromField(BigInt(t.publicSignals[i])) + delta;
  t.publicSignals[i] = toField(q).toString();
  t.outputQuantized[i] = q.toString();
  return t;
}

/** snarkjs' text as values: PLONK's lacks the comma between its arrays, FFLONK's leaves hex unquoted. */
const parseText = (text: string): unknown => JSON.parse(`[${text.replace('][', '],[').replace(/(?<!")0x[0-9a-f]+/g, '"$&"')}]`);
const flat = (x: unknown): bigint[] => (Array.isArray(x) ? x.flatMap(flat) : [BigInt(x as string)]);

describe('Solidity sources', () => {
  it('renders the snarkjs verifier from the key alone, with the key values in it', () => {
    const src = solidityVerifier(vk);
    const key = JSON.parse(vk);
    expect(src).toMatch(/contract Groth16Verifier \{/);
    expect(src).toContain(`uint[${key.nPublic}] calldata _pubSignals`);
    expect(src).toContain(key.vk_delta_2[0][1]);
    expect(src).not.toMatch(/<%/);
    for (const system of ['plonk', 'fflonk'] as const) {
      const s = solidityVerifier(universal[system].d.vk);
      expect(s).toContain(`contract ${protocolAbi(system, 0).contract} {`);
      if (system === 'fflonk') expect(s).toMatch(/uint256 constant w8_7 = \d+;/);
    }
  });

  it('renders exactly what snarkjs renders from the proving key, for each protocol', async () => {
    const dir = path.join(path.dirname(require.resolve('snarkjs')), '..', 'templates');
    const templates = Object.fromEntries(['groth16', 'plonk', 'fflonk'].map((p) => [p, fs.readFileSync(path.join(dir, `verifier_${p}.sol.ejs`), 'utf8')]));
    const fromZkey = (zkey: string): Promise<string> => (snarkjs.zKey as unknown as { exportSolidityVerifier(z: string, t: object): Promise<string> }).exportSolidityVerifier(zkey, templates);
    expect(solidityVerifier(rekeyed.vk)).toBe(await fromZkey(path.join(OUT, 'rekeyed', 'model.zkey')));
    for (const system of ['plonk', 'fflonk'] as const) expect(solidityVerifier(universal[system].d.vk)).toBe(await fromZkey(path.join(OUT, `${system}.zkey`)));
    await releaseCurve();
  });

  it('refuses a key of an unknown protocol, another curve, or with code where numbers belong', () => {
    const key = JSON.parse(vk);
    const fails = (k: unknown, msg: RegExp) => {
      let err: unknown;
      try {
        solidityVerifier(JSON.stringify(k));
      } catch (e) {
        err = e;
      }
      expect(isZkinferError(err) && err.code === 'BUILD_INVALID', String(err)).toBe(true);
      expect((err as Error).message).toMatch(msg);
    };
    fails({ ...key, protocol: 'marlin' }, /proof system "marlin".*groth16, plonk, fflonk/);
    fails({ ...key, curve: 'bls12381' }, /curve "bls12381"/);
    fails({ ...key, vk_alpha_1: ['1; } contract X { ', '2', '1'] }, /vk_alpha_1\[0\] is not a decimal number/);
    fails({ ...key, IC: key.IC.slice(1) }, /IC points/);
    expect(() => solidityVerifier('{')).toThrow(/not valid JSON/);
  });

  it('calldata: the structured arguments are snarkjs\' text, and every selector is the one solc computes', async () => {
    for (const [d, r] of [[digits, r0], [universal.plonk.d, universal.plonk.r], [universal.fflonk.d, universal.fflonk.r]] as const) {
      const c = await calldata(r);
      expect(flat(c.args)).toEqual(flat(parseText(c.text)));
      const ids = compileSource(d.model.source);
      const fn = (name: string) => c.signature.replace('verifyProof', name);
      expect(c.verifier.slice(2, 10)).toBe(ids[d.model.verifierContract].methodIdentifiers[c.signature]);
      for (const [f, hex] of Object.entries(c.model)) expect(hex.slice(2, 10)).toBe(ids[d.model.contract].methodIdentifiers[fn(f)]);
      expect(Object.keys(c.model).sort()).toEqual(['isValid', 'provenInput', 'topClass', 'verify']);
      const forSig = fn('verifyFor').replace(/\)$/, `,uint256[${r.publicSignals.length - r.outputQuantized.length}])`);
      expect(c.verifyFor!.slice(2, 10)).toBe(ids[d.model.contract].methodIdentifiers[forSig]);
    }
    await releaseCurve();
    await expect(calldata({ ...r0, system: 'kzg' })).rejects.toThrow(/proof system "kzg"/);
    await expect(calldata({ ...r0, system: 'plonk' })).rejects.toThrow(/system plonk, its proof is "groth16"/);
    await expect(calldata({ ...r0, publicSignals: ['0x10'] })).rejects.toThrow(/public signal 0 is not a decimal/);
  });
});

describe('digits_mlp (Groth16) on the EVM', () => {
  it('a real receipt verifies through the verifier and the model contract, which returns its outputs, scale, top class and identity', async () => {
    expect((await verifyReceipt(r0, vk)).valid).toBe(true);
    const c = await calldata(r0);
    expect(decodeBool(ok(await chain.call(rawVerifier, c.verifier)))).toBe(true);
    expect(decodeBool(ok(await chain.call(digits.verifierAt, c.verifier)))).toBe(true);
    expect(decodeBool(ok(await chain.call(digits.modelAt, c.model.isValid!)))).toBe(true);

    const out = decodeInt256Array(ok(await chain.call(digits.modelAt, c.model.verify!)));
    expect(out.map(String)).toEqual(r0.outputQuantized);
    expect(out.some((v) => v < 0n)).toBe(true);
    const [index, value] = words(ok(await chain.call(digits.modelAt, c.model.topClass!)));
    const outF = (r0.output as number[][])[0];
    expect(Number(index)).toBe(argmax(outF));
    expect(value.toString()).toBe(r0.outputQuantized[argmax(outF)]);

    const constant = async (name: string) => words(ok(await chain.call(digits.modelAt, `0x${selector(`${name}()`)}`)))[0];
    expect((await constant('ONNX_SHA256')).toString(16).padStart(64, '0')).toBe(r0.model.onnxSha256);
    expect((await constant('VKEY_SHA256')).toString(16).padStart(64, '0')).toBe(r0.model.vkeySha256);
    expect(Number(await constant('OUTPUT_SCALE'))).toBe(r0.outputScale);
    expect(Number(await constant('OUTPUT_COUNT'))).toBe(r0.outputQuantized.length);
    expect(Number(await constant('PUBLIC_SIGNALS'))).toBe(r0.publicSignals.length);
    expect(await constant('INPUT_HASHED')).toBe(0n);
    // The outputs a caller gets back are the receipt's floats at the model's scale.
    out.forEach((q, i) => expect(Number(q) / 2 ** r0.outputScale).toBe(outF[i]));
  });

  it('gas: a transaction is 21000 + calldata + execution; the model contract adds little to its verifier', async () => {
    const g = (gas.groth16_digits_mlp = await measureVerifierGas(vk, r0));
    for (const v of [g.verifier.verifyGas, g.model.verifyGas]) {
      expect(v.transaction).toBe(21_000 + v.calldata + v.execution);
      expect(v.calldata).toBeGreaterThan(0);
    }
    // 12 public signals (10 outputs, 64 inputs packed into 2): one ecMul + ecAdd each (6150 gas), and a 4-pair pairing check (181000).
    expect(g.publicSignals).toBe(12);
    expect(g.verifier.verifyGas.execution).toBeGreaterThan(12 * 6150 + 181_000);
    expect(g.verifier.verifyGas.transaction).toBeLessThan(400_000);
    expect(g.model.verifyGas.transaction).toBeGreaterThan(g.verifier.verifyGas.transaction);
    expect(g.model.verifyGas.transaction - g.verifier.verifyGas.transaction).toBeLessThan(40_000);
    expect(g.verifier.deployable && g.model.deployable).toBe(true);
  });

  it('a changed output signal is rejected', async () => {
    await expectRejected(digits, shiftOutput(r0, 0, 1n), rawVerifier);
    await expectRejected(digits, shiftOutput(r0, 3, -64n));
  });

  it('a changed input signal is rejected', async () => {
    const nOut = r0.outputQuantized.length;
    const r = clone(r0);
    // The inputs are packed: bumping a pack by one changes the first input it holds.
    r.publicSignals[nOut + 1] = String(BigInt(r.publicSignals[nOut + 1]) + 1n);
    await expectRejected(digits, r, rawVerifier);
  });

  it('a non-canonical signal (the same value plus p) is rejected', async () => {
    for (const i of [0, r0.outputQuantized.length + 1]) {
      const r = clone(r0);
      r.publicSignals[i] = (BigInt(r.publicSignals[i]) + FIELD_PRIME).toString();
      await expectRejected(digits, r, rawVerifier);
    }
  });

  it('a changed proof point (A, B or C; valid points of another proof, or off the curve) is rejected', async () => {
    for (const k of ['pi_a', 'pi_b', 'pi_c'] as const) {
      const r = clone(r0);
      (r.proof as Record<string, unknown>)[k] = clone((r1.proof as Record<string, unknown>)[k]);
      await expectRejected(digits, r, rawVerifier);
    }
    const r = clone(r0);
    const a = (r.proof as { pi_a: string[] }).pi_a;
    a[1] = (BigInt(a[1]) + 1n).toString();
    await expectRejected(digits, r, rawVerifier);
  });

  it("a proof checked against another model's key is rejected", async () => {
    // Same circuit, fresh keys: the same ABI, so only the key can refuse it.
    await expectRejected(rekeyed, r0);
    // The hashed-input model: its verifier has no function for 12 signals...
    const c = await calldata(r0);
    expect((await chain.call(hashed.verifierAt, c.verifier)).ok).toBe(false);
    expect((await chain.call(hashed.modelAt, c.model.verify!)).ok).toBe(false);
    // ...and refuses the proof with the first 11, the count it takes.
    const r = clone(r0);
    r.publicSignals = r.publicSignals.slice(0, rh.publicSignals.length);
    await expectRejected(hashed, r);
    // Nor does the first model take the hashed model's proof.
    const x = clone(r0);
    x.proof = clone(rh.proof);
    await expectRejected(digits, x, rawVerifier);
  });

  it('verifyFor refuses a proof for another input than the one the caller names; provenInput returns it', async () => {
    const nOut = r0.outputQuantized.length;
    const own = r0.publicSignals.slice(nOut);
    const other = r1.publicSignals.slice(nOut);
    expect(other).not.toEqual(own);
    // verify alone accepts a proof for whatever input it was made for.
    expect(decodeInt256Array(ok(await chain.call(digits.modelAt, (await calldata(r0)).model.verify!))).map(String)).toEqual(r0.outputQuantized);
    const mine = await calldata(r0, { input: own });
    expect(decodeInt256Array(ok(await chain.call(digits.modelAt, mine.verifyFor!))).map(String)).toEqual(r0.outputQuantized);
    expect(decodeInt256Array(ok(await chain.call(digits.modelAt, mine.model.provenInput!))).map(String)).toEqual(own);
    const theirs = await chain.call(digits.modelAt, (await calldata(r0, { input: other })).verifyFor!);
    expect(theirs.ok).toBe(false);
    expect(bytesToHex(theirs.returnValue)).toBe(INPUT_MISMATCH);
    // The hashed model: the input is its commitment.
    const rh2 = (await (await ModelProver.load(await ensureBuild('digits_mlp_hashed', onnx, data, { visibility: 'hashed' }))).prove(data.test[0].input)).receipt;
    const hOut = rh.outputQuantized.length;
    expect(decodeInt256Array(ok(await chain.call(hashed.modelAt, (await calldata(rh, { input: [rh.commitment!.value] })).verifyFor!))).map(String)).toEqual(rh.outputQuantized);
    const h = await chain.call(hashed.modelAt, (await calldata(rh, { input: rh2.publicSignals.slice(hOut) })).verifyFor!);
    expect(h.ok).toBe(false);
    expect(bytesToHex(h.returnValue)).toBe(INPUT_MISMATCH);
    await expect(calldata(r0, { input: own.slice(1) })).rejects.toThrow(/takes 2 input signals after its 10 outputs, 1 given/);
  });

  it('the hashed-input model contract verifies its own receipt and returns its outputs', async () => {
    const c = await calldata(rh);
    expect(decodeInt256Array(ok(await chain.call(hashed.modelAt, c.model.verify!))).map(String)).toEqual(rh.outputQuantized);
    expect(words(ok(await chain.call(hashed.modelAt, `0x${selector('INPUT_HASHED()')}`)))[0]).toBe(1n);
    expect(rh.publicSignals).toHaveLength(rh.outputQuantized.length + 1);
  });
});

describe.each(['plonk', 'fflonk'] as const)('%s (tiny MLP) on the EVM', (system) => {
  it('a real receipt verifies through the verifier and the model contract', async () => {
    const { d, r } = universal[system];
    expect(r.system).toBe(system);
    const c = await calldata(r);
    expect(decodeBool(ok(await chain.call(d.verifierAt, c.verifier)))).toBe(true);
    expect(decodeInt256Array(ok(await chain.call(d.modelAt, c.model.verify!))).map(String)).toEqual(r.outputQuantized);
    const [index] = words(ok(await chain.call(d.modelAt, c.model.topClass!)));
    expect(Number(index)).toBe(argmax(r.outputQuantized.map(Number)));
    const g = (gas[`${system}_tiny_mlp`] = await measureVerifierGas(d.vk, r));
    expect(g.verifier.verifyGas.transaction).toBeGreaterThan(100_000);
    expect(g.verifier.verifyGas.transaction).toBeLessThan(1_000_000);
    expect(g.model.verifyGas.transaction - g.verifier.verifyGas.transaction).toBeLessThan(40_000);
  });

  it('changed signals and proof values are rejected', async () => {
    const { d, r } = universal[system];
    await expectRejected(d, shiftOutput(r, 1, 1n));
    const input = clone(r);
    input.publicSignals[r.outputQuantized.length] = toField(fromField(BigInt(input.publicSignals[r.outputQuantized.length])) + 1n).toString();
    await expectRejected(d, input);
    // These templates reduce signals mod p unchecked; the model contract refuses them itself.
    const wide = clone(r);
    wide.publicSignals[0] = (BigInt(wide.publicSignals[0]) + FIELD_PRIME).toString();
    await expectRejected(d, wide);
    const p = r.proof as Record<string, any>;
    const tampered: Array<(q: Record<string, any>) => void> =
      system === 'plonk'
        ? [(q) => (q.Wxi = clone(p.Wxiw)), (q) => (q.A = clone(p.B)), (q) => (q.eval_a = toField(BigInt(p.eval_a) + 1n).toString())]
        : [(q) => (q.polynomials.W1 = clone(p.polynomials.W2)), (q) => (q.polynomials.C1 = clone(p.polynomials.C2)), (q) => (q.evaluations.a = toField(BigInt(p.evaluations.a) + 1n).toString())];
    for (const f of tampered) {
      const t = clone(r);
      f(t.proof as Record<string, any>);
      await expectRejected(d, t);
    }
    await releaseCurve();
  });
});

describe('command line', () => {
  it('export-verifier writes the verifier (or the model contract) of a build; calldata prints the verifyProof arguments', async () => {
    // A build directory of our own: others may rebuild the shared one meanwhile.
    const build = path.join(OUT, 'cli-build');
    fs.mkdirSync(build, { recursive: true });
    fs.writeFileSync(buildPath(build, 'vkey'), vk);
    const out = path.join(OUT, 'cli-Verifier.sol');
    const e = await runCli(['export-verifier', build, '--out', out]);
    expect(e.code, e.stderr).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe(solidityVerifier(vk));
    const m = await runCli(['export-verifier', buildPath(build, 'vkey'), '--contract', 'model', '--name', 'DigitsMlp']);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toBe(digits.model.source);

    const f = path.join(OUT, 'receipt.json');
    fs.writeFileSync(f, JSON.stringify(r0));
    const j = await runCli(['calldata', f, '--json']);
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual(JSON.parse(JSON.stringify(await calldata(r0))));
  });

  it('exits 2 on a key of an unknown protocol', async () => {
    const k = path.join(OUT, 'marlin.json');
    fs.writeFileSync(k, JSON.stringify({ ...JSON.parse(vk), protocol: 'marlin' }));
    const e = await runCli(['export-verifier', k]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/BUILD_INVALID: .*"marlin"/);
  });
});
