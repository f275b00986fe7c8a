import fs from 'node:fs';
import { buildBn128 } from 'ffjavascript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { makeOnnx, rand, tinySamples } from './helpers/onnx-builder.js';
import { ModelProver } from '../src/prove/index.js';
import { decodeSignals, verifyReceipt } from '../src/verify/index.js';
import { g2Membership } from '../src/verify/groth16.js';
import { parseVerificationKey, toField, VKEY_IO_FIELD, type ModelIO, type Receipt } from '../src/receipt/index.js';
import { buildPath } from '../src/paths.js';
import { releaseCurve } from '../src/curve.js';

/** Every field a receipt claims is proven by its signals or bound by its key, or the receipt is refused. */

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const data = loadJson(fixture('digits_mlp.data.json'));

/** A 4-input classifier ending in Softmax: the circuit proves the logits, and the key's interface says so. */
function tinySoftmax(): Uint8Array {
  const r = rand(3);
  return makeOnnx({
    input: { name: 'x', shape: [1, 4] },
    output: { name: 'p', shape: [1, 3] },
    initializers: [{ name: 'W', dims: [4, 3], data: Array.from({ length: 12 }, r) }],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['z'] },
      { op: 'Softmax', name: 'sm', inputs: ['z'], outputs: ['p'], attrs: { axis: 1 } },
    ],
  });
}

let pubKey: string;
let pubIo: ModelIO;
let pub: Receipt;
let hashedKey: string;
let hashedIo: ModelIO;
let disclosed: Receipt;
let secret: Receipt;

beforeAll(async () => {
  const pubDir = await ensureBuild('tiny_softmax', tinySoftmax(), tinySamples(16));
  pubKey = fs.readFileSync(buildPath(pubDir, 'vkey'), 'utf8');
  pubIo = parseVerificationKey(pubKey)[VKEY_IO_FIELD];
  pub = (await (await ModelProver.load(pubDir)).prove([[0.1, -0.2, 0.3, 0.4]])).receipt;
  const hashedDir = await ensureBuild('digits_mlp_hashed', fs.readFileSync(fixture('digits_mlp.onnx')), data, { visibility: 'hashed' });
  hashedKey = fs.readFileSync(buildPath(hashedDir, 'vkey'), 'utf8');
  hashedIo = parseVerificationKey(hashedKey)[VKEY_IO_FIELD];
  const prover = await ModelProver.load(hashedDir);
  disclosed = (await prover.prove(data.test[2].input)).receipt;
  secret = (await prover.prove(data.test[2].input, { disclose: false })).receipt;
});
afterAll(releaseCurve);

const refused = async (r: unknown, key: string, reason: RegExp) => {
  const v = await verifyReceipt(r, key);
  expect(v.valid).toBe(false);
  expect(v.reason).toMatch(reason);
  expect(v.inputQuantized).toBeNull();
  expect(v.commitment).toBeNull();
};

describe('quantized input', () => {
  it('a disclosed hashed receipt whose quantized input is not its input is refused', async () => {
    const r = clone(disclosed);
    r.inputQuantized = r.inputQuantized!.map(() => '0');
    await refused(r, hashedKey, /quantized input differs/);
    const r2 = clone(disclosed);
    r2.inputQuantized = null;
    await refused(r2, hashedKey, /quantized input is missing/);
  });

  it('an undisclosed hashed receipt carrying a quantized input is refused', async () => {
    const r = clone(secret);
    r.inputQuantized = Array.from({ length: 64 }, (_, i) => String(i % 16));
    await refused(r, hashedKey, /no input: an undisclosed input has none/);
  });

  it('a public receipt must carry the quantized input its input and signals give', async () => {
    const r = clone(pub);
    r.inputQuantized = null;
    await refused(r, pubKey, /quantized input is missing/);
    const r2 = clone(pub);
    r2.inputQuantized![1] = String(BigInt(r2.inputQuantized![1]) + 1n);
    await refused(r2, pubKey, /quantized input differs/);
  });
});

describe('commitment', () => {
  it('must be a canonical decimal: hex and padded values are refused', async () => {
    const v = BigInt(secret.commitment!.value);
    for (const value of [`0x${v.toString(16)}`, ` ${v}`, `${v} `, `0${v}`]) {
      const r = clone(secret);
      r.commitment!.value = value;
      await refused(r, hashedKey, /commitment is not a canonical field element/);
    }
    const r = clone(secret);
    r.commitment!.value = toField(v).toString();
    expect((await verifyReceipt(r, hashedKey)).valid).toBe(true);
  });

  it('a public-visibility receipt carrying a commitment is refused', async () => {
    const r = clone(pub);
    r.commitment = { value: '12345', salt: null };
    await refused(r, pubKey, /carries a commitment, but this model's input is public/);
  });

  it('an undisclosed receipt carrying a salt is refused', async () => {
    const r = clone(secret);
    r.commitment!.salt = '1';
    await refused(r, hashedKey, /has a salt but no input/);
  });
});

describe('notes', () => {
  it("are the key's model interface notes: the Softmax note is in both", async () => {
    expect(pubIo.notes).toEqual([expect.stringMatching(/Softmax "sm" dropped before proving/)]);
    expect(pub.notes).toEqual(pubIo.notes);
    expect(hashedIo.notes).toBeUndefined();
    expect(disclosed.notes).toEqual([]);
  });

  it('a receipt with other notes than the interface is refused', async () => {
    for (const notes of [[], ['the output is a probability'], [...pub.notes, 'extra']]) {
      const r = clone(pub);
      r.notes = notes;
      await refused(r, pubKey, /notes differ from the model interface/);
    }
    const r = clone(disclosed);
    r.notes = ['Softmax "x" dropped before proving'];
    await refused(r, hashedKey, /notes differ/);
  });
});

describe('what a verifier reports', () => {
  it('the quantized input it checked, or the commitment', async () => {
    const p = await verifyReceipt(pub, pubKey);
    expect(p.valid, p.reason).toBe(true);
    expect(p.inputQuantized).toEqual(pub.inputQuantized);
    expect(p.commitment).toBeNull();
    const d = await verifyReceipt(disclosed, hashedKey);
    expect(d.valid, d.reason).toBe(true);
    expect(d.inputQuantized).toEqual(disclosed.inputQuantized);
    expect(d.commitment).toBe(disclosed.commitment!.value);
    const s = await verifyReceipt(secret, hashedKey);
    expect(s.valid, s.reason).toBe(true);
    expect(s.inputQuantized).toBeNull();
    expect(s.commitment).toBe(secret.commitment!.value);
  });

  it('decodeSignals gives the output and the proven input (or commitment) from raw signals', () => {
    const d = decodeSignals(pubIo, pub.publicSignals.map(BigInt));
    expect(d).toEqual({ output: pub.output, outputQuantized: pub.outputQuantized, inputQuantized: pub.inputQuantized, commitment: null });
    const h = decodeSignals(hashedIo, secret.publicSignals.map(BigInt));
    expect(h).toEqual({ output: secret.output, outputQuantized: secret.outputQuantized, inputQuantized: null, commitment: secret.commitment!.value });
    // A pack with bits beyond its inputs is no proven input; a short signal list no layout.
    const signals = pub.publicSignals.map(BigInt);
    signals[signals.length - 1] |= 1n << 247n;
    expect(() => decodeSignals(pubIo, signals)).toThrow(/bits beyond its 4 inputs/);
    expect(() => decodeSignals(pubIo, signals.slice(1))).toThrow(/expected \d+ public signals/);
  });
});

describe('Groth16 proof points', () => {
  /** Points of the twist y² = x³ + 3/(9+u) that [r] does not send to zero (on the curve, outside G2), and points of G2. */
  async function twistPoints(n: number): Promise<{ outside: bigint[][][]; inside: bigint[][][] }> {
    const c = await buildBn128(true);
    try {
      const F2 = c.G2.F;
      const outside: bigint[][][] = [];
      for (let i = 1n; outside.length < n; i++) {
        const x = F2.fromObject([i, 5n * i + 1n]);
        const rhs = F2.add(F2.mul(F2.square(x), x), c.G2.b);
        if (!F2.isSquare(rhs)) continue;
        const p = new Uint8Array(F2.n8 * 2);
        p.set(x);
        p.set(F2.sqrt(rhs), F2.n8);
        expect(c.G2.isValid(p)).toBe(true);
        const rp = c.G2.timesScalar(p, c.r);
        if (c.G2.isZero(rp)) continue;
        outside.push(c.G2.toObject(p));
        // [r]P has no G2 part at all: its order divides the cofactor.
        outside.push(c.G2.toObject(c.G2.toAffine(rp)));
      }
      const inside = Array.from({ length: n }, (_, i) => c.G2.toObject(c.G2.toAffine(c.G2.timesScalar(c.G2.g, 7919n * BigInt(i + 1)))));
      return { outside, inside };
    } finally {
      await c.terminate();
    }
  }
  const pointOutsideG2 = async (): Promise<string[][]> => (await twistPoints(1)).outside[0].map((xy) => xy.map(String));

  it("psi's membership test agrees with [r]B = 0 in and outside G2", async () => {
    const { outside, inside } = await twistPoints(8);
    for (const p of outside) expect(await g2Membership(p)).toEqual({ psi: false, order: false });
    for (const p of inside) expect(await g2Membership(p)).toEqual({ psi: true, order: true });
  });

  it('B on the twist but outside the prime-order subgroup is refused; the receipt as issued verifies', async () => {
    const [x, y] = await pointOutsideG2();
    const r = clone(pub) as Receipt & { proof: { pi_b: string[][] } };
    r.proof.pi_b = [x, y, ['1', '0']];
    await refused(r, pubKey, /proof point B is not in G2's prime-order subgroup/);
    expect((await verifyReceipt(pub, pubKey)).valid).toBe(true);
  });

  it('points off the curve, non-canonical or projective coordinates are refused, each named', async () => {
    const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
    const edit = (f: (p: { pi_a: string[]; pi_b: string[][]; pi_c: string[] }) => void) => {
      const r = clone(pub);
      f(r.proof as never);
      return r;
    };
    await refused(edit((p) => (p.pi_b[0][0] = String(BigInt(p.pi_b[0][0]) + 1n))), pubKey, /B is not on the twist curve/);
    await refused(edit((p) => (p.pi_c[1] = String(BigInt(p.pi_c[1]) + 1n))), pubKey, /C is not on the curve/);
    await refused(edit((p) => (p.pi_a[0] = String(BigInt(p.pi_a[0]) + Q))), pubKey, /A\.x is not a canonical coordinate/);
    await refused(edit((p) => (p.pi_a[1] = `0x${BigInt(p.pi_a[1]).toString(16)}`)), pubKey, /A\.y is not a canonical coordinate/);
    await refused(edit((p) => (p.pi_c[2] = '2')), pubKey, /C\.z is 2; a proof point is affine/);
    await refused(edit((p) => (p.pi_b[2] = ['0', '0'])), pubKey, /B\.z\[0\] is 0/);
  });
});
