import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as snarkjs from 'snarkjs';
import { sections } from '../src/binfile.js';
import type { ModelIO } from '../src/receipt/io.js';
import { readPhase2Transcript } from '../src/ceremony/transcript.js';
import { nativeBn254, nativeUnavailableReason, type NativeBn254 } from '../src/prove/native.js';
import { Groth16Prover } from '../src/prove/groth16-prover.js';
import { writeDevPtau } from '../src/setup/dev-ptau.js';
import { FixedBase } from '../src/setup/fixed-base.js';
import { buildBn128 } from 'ffjavascript';
import crypto from 'node:crypto';
import { groth16Setup } from '../src/setup/groth16.js';
import { nativeGroth16Setup } from '../src/setup/native-groth16.js';
import { GLV_LAMBDA, glvParts, glvSplit } from '../src/setup/glv.js';
import { ARTIFACTS, compileTestCircuit } from './helpers/circuit.js';
import { writeSyntheticCircuit } from './helpers/synthetic-r1cs.js';

/**
 * The native Groth16 setup against snarkjs: the key before any contribution
 * is newZKey's file byte for byte; with its contribution snarkjs verifies it
 * from the r1cs, proves and verifies with it, and takes further
 * contributions on top; a changed L or H point is caught.
 */
let nat: NativeBn254;
let dir: string;
let ptau: string;
const circuits: Record<string, { r1cs: string; wtns: string }> = {};

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function writeWtns(file: string, w: readonly bigint[]): void {
  const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
  const le = (v: bigint) => {
    const b = Buffer.alloc(32);
    for (let i = 0; i < 32; i++, v >>= 8n) b[i] = Number(v & 0xffn);
    return b;
  };
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b;
  };
  const sec = (t: number, body: Buffer) => {
    const h = Buffer.alloc(12);
    h.writeUInt32LE(t, 0);
    h.writeBigUInt64LE(BigInt(body.length), 4);
    return Buffer.concat([h, body]);
  };
  fs.writeFileSync(file, Buffer.concat([Buffer.from('wtns'), u32(2), u32(2), sec(1, Buffer.concat([u32(32), le(P), u32(w.length)])), sec(2, Buffer.concat(w.map(le)))]));
}

beforeAll(async () => {
  const n = nativeBn254();
  if (!n) throw new Error(`native kernels unavailable: ${nativeUnavailableReason()}`);
  nat = n;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkinfer-native-setup-'));
  ptau = path.join(dir, 'p11.ptau');
  await writeDevPtau(ptau, 11);
  writeSyntheticCircuit(path.join(dir, 's.r1cs'), path.join(dir, 's.wtns'), 400);
  circuits.synthetic = { r1cs: path.join(dir, 's.r1cs'), wtns: path.join(dir, 's.wtns') };
  // Most coefficients full-width: the hot signals get enough for a multi-exponentiation.
  writeSyntheticCircuit(path.join(dir, 'f.r1cs'), path.join(dir, 'f.wtns'), 1500, { fullShare: 0.6, seed: 'full' });
  circuits['full-width'] = { r1cs: path.join(dir, 'f.r1cs'), wtns: path.join(dir, 'f.wtns') };
  const c = await compileTestCircuit('native-setup', `
template T(n) {
  signal input a;
  signal input b[n];
  signal output c;
  signal x[n];
  x[0] <== a * b[0] + 3 * a - 7;
  for (var i = 1; i < n; i++) x[i] <== x[i-1] * b[i] - 1024 * a + 5 * b[i-1];
  c <== x[n-1] * x[n-1] - 1;
}
component main {public [a]} = T(40);`, []);
  const r1cs = path.join(dir, 'c.r1cs');
  fs.copyFileSync(path.join(ARTIFACTS, 'gadgets', 'native-setup', 't.r1cs'), r1cs);
  writeWtns(path.join(dir, 'c.wtns'), await c.witness({ a: 3, b: Array.from({ length: 40 }, (_, i) => i + 2) }));
  circuits.circom = { r1cs, wtns: path.join(dir, 'c.wtns') };
}, 300_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const sec = (file: string) => sections(fs.readFileSync(file), 'zkey');
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe.each(['synthetic', 'full-width', 'circom'])('native Groth16 setup, %s circuit', (name) => {
  let r1cs: string;
  let wtns: string;
  let ref: string;
  let key: string;
  let contributionHash: Uint8Array;

  beforeAll(async () => {
    ({ r1cs, wtns } = circuits[name]);
    ref = path.join(dir, `${name}-ref.zkey`);
    key = path.join(dir, `${name}.zkey`);
    await snarkjs.zKey.newZKey(r1cs, ptau, ref);
    contributionHash = (await nativeGroth16Setup(nat, r1cs, ptau, key, { contribution: 'test contribution' })).contributionHash!;
  }, 300_000);

  it('writes snarkjs newZKey\'s file byte for byte before any contribution, however it is chunked', async () => {
    const out = path.join(dir, `${name}-0.zkey`);
    const fractions: number[] = [];
    await nativeGroth16Setup(nat, r1cs, ptau, out, { progress: (f) => fractions.push(f) });
    expect(same(fs.readFileSync(out), fs.readFileSync(ref))).toBe(true);
    expect(fractions.at(-1)).toBe(1);
    expect(fractions.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= fractions[i - 1]))).toBe(true);
    // Tiny r1cs chunks and several signal ranges: the same bytes.
    const small = path.join(dir, `${name}-0s.zkey`);
    await nativeGroth16Setup(nat, r1cs, ptau, small, { tuning: { chunkBytes: 700, accumulatorBytes: 96 * 3 * 37, scaleChunk: 50 } });
    expect(same(fs.readFileSync(small), fs.readFileSync(ref))).toBe(true);
  }, 300_000);

  it('keeps every section but the delta-dependent ones equal to newZKey\'s', () => {
    const a = sec(key);
    const b = sec(ref);
    for (const s of [1, 3, 4, 5, 6, 7]) expect(same(a.get(s)!, b.get(s)!), `section ${s}`).toBe(true);
    // Header: all but delta1 and delta2 (the last 64 + 128 bytes).
    const h = a.get(2)!.length - 192;
    expect(same(a.get(2)!.subarray(0, h), b.get(2)!.subarray(0, h))).toBe(true);
    expect(same(a.get(2)!.subarray(h), b.get(2)!.subarray(h))).toBe(false);
    // The circuit hash the contribution chain starts from.
    expect(same(a.get(10)!.subarray(0, 64), b.get(10)!.subarray(0, 64))).toBe(true);
    expect(same(a.get(8)!, b.get(8)!)).toBe(false);
    expect(same(a.get(9)!, b.get(9)!)).toBe(false);
  });

  it('is accepted by snarkjs zkey verify, with the contribution hash it returned', async () => {
    expect(await snarkjs.zKey.verifyFromR1cs(r1cs, ptau, key, quiet)).toBe(true);
    const t = await readPhase2Transcript(key);
    expect(t.contributions).toHaveLength(1);
    expect(t.contributions[0].name).toBe('test contribution');
    expect(t.contributions[0].hash).toBe(Buffer.from(contributionHash).toString('hex'));
  }, 300_000);

  it('proves with snarkjs and with the project prover', async () => {
    const vk = await snarkjs.zKey.exportVerificationKey(key);
    const { proof, publicSignals } = await snarkjs.groth16.prove(key, wtns);
    expect(await snarkjs.groth16.verify(vk, publicSignals, proof)).toBe(true);
    const prover = await Groth16Prover.load(fs.readFileSync(key));
    const own = await prover.prove(fs.readFileSync(wtns));
    expect(own.publicSignals).toEqual(publicSignals);
    expect(await snarkjs.groth16.verify(vk, own.publicSignals, own.proof)).toBe(true);
  }, 300_000);

  it('is rejected by snarkjs zkey verify with one L or H point changed', async () => {
    const buf = fs.readFileSync(key);
    const s = sections(buf, 'zkey');
    for (const id of [8, 9]) {
      const t = Buffer.from(buf);
      const at = s.get(id)!.byteOffset - buf.byteOffset;
      // Point 1 replaced by point 0: still on the curve, no longer the right multiple.
      t.copy(t, at + 64, at, at + 64);
      const bad = path.join(dir, `${name}-bad${id}.zkey`);
      fs.writeFileSync(bad, t);
      expect(await snarkjs.zKey.verifyFromR1cs(r1cs, ptau, bad, quiet), `section ${id}`).toBe(false);
    }
  }, 300_000);

  it('takes a further snarkjs contribution and a beacon, which still verify and prove', async () => {
    const k2 = path.join(dir, `${name}-2.zkey`);
    const k3 = path.join(dir, `${name}-3.zkey`);
    await snarkjs.zKey.contribute(key, k2, 'second', 'some entropy');
    await snarkjs.zKey.beacon(k2, k3, 'closing beacon', '0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 10);
    expect(await snarkjs.zKey.verifyFromR1cs(r1cs, ptau, k3, quiet)).toBe(true);
    expect((await readPhase2Transcript(k3)).contributions.map((c) => c.name)).toEqual(['test contribution', 'second', 'closing beacon']);
    const vk = await snarkjs.zKey.exportVerificationKey(k3);
    const { proof, publicSignals } = await snarkjs.groth16.prove(k3, wtns);
    expect(await snarkjs.groth16.verify(vk, publicSignals, proof)).toBe(true);
  }, 300_000);
});

describe('groth16Setup', () => {
  it('falls back to snarkjs with ZKINFER_NATIVE=0, to a key that verifies', async () => {
    const { r1cs } = circuits.synthetic;
    const zkey = path.join(dir, 'fallback.zkey');
    const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'run.js'), path.join(root, 'test', 'helpers', 'setup-child.ts'), r1cs, ptau, zkey, `${zkey}.vkey.json`], {
      encoding: 'utf8', env: { ...process.env, ZKINFER_NATIVE: '0' },
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out.native).toBe(false);
    expect(out.contributions[0].hash).toBe((await readPhase2Transcript(zkey)).contributions[0].hash);
    expect(await snarkjs.zKey.verifyFromR1cs(r1cs, ptau, zkey, quiet)).toBe(true);
  }, 300_000);

  it('makes the key natively, writes the verification key and reports the contribution', async () => {
    const { r1cs, wtns } = circuits.synthetic;
    const zkey = path.join(dir, 'setup.zkey');
    const vkey = path.join(dir, 'setup.vkey.json');
    const steps = new Set<string>();
    // Only embedded in the verification key file; its fields do not matter here.
    const io = { onnxSha256: '0'.repeat(64) } as unknown as ModelIO;
    const r = await groth16Setup(r1cs, ptau, zkey, vkey, io, (_f, s) => steps.add(s));
    expect(steps.has('L and H divided by δ')).toBe(true);
    expect(r.contributions).toHaveLength(1);
    expect(r.contributions[0].hash).toBe((await readPhase2Transcript(zkey)).contributions[0].hash);
    const vk = JSON.parse(fs.readFileSync(vkey, 'utf8'));
    const { proof, publicSignals } = await snarkjs.groth16.prove(zkey, wtns);
    expect(await snarkjs.groth16.verify(vk, publicSignals, proof)).toBe(true);
  }, 300_000);
});

describe('native fixed-base multiplication', () => {
  it('matches the WebAssembly table on zero, one, r - 1 and random scalars, in G1 and G2', async () => {
    const curve = await buildBn128(true);
    try {
      const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
      const le = (v: bigint) => {
        const b = Buffer.alloc(32);
        for (let i = 0; i < 32; i++, v >>= 8n) b[i] = Number(v & 0xffn);
        return b;
      };
      const list = [0n, 1n, 2n, R - 1n, 1n << 200n];
      for (let i = 0; i < 300; i++) list.push(BigInt(`0x${crypto.randomBytes(32).toString('hex')}`) % R);
      const scalars = Buffer.concat(list.map(le));
      for (const g of ['G1', 'G2'] as const) {
        const gen = curve[g].toAffine(curve[g].g);
        const ours = nat.fixedBase(g === 'G2', gen, scalars);
        const theirs = new FixedBase(curve, g, 8).mulMany(scalars, list.length);
        expect(same(ours, theirs), g).toBe(true);
      }
    } finally {
      await curve.terminate();
    }
  });
});

describe('GLV scaling of G1 points', () => {
  it('splits scalars into parts below 2^128 and scales points as a plain multiplication does', async () => {
    const curve = await buildBn128(true);
    try {
      const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
      const ks = [1n, 2n, R - 1n, GLV_LAMBDA, ...Array.from({ length: 50 }, () => BigInt(`0x${crypto.randomBytes(32).toString('hex')}`) % R)];
      for (const k of ks) {
        const [k1, k2] = glvSplit(k);
        expect(((k1 + k2 * GLV_LAMBDA - k) % R + R) % R).toBe(0n);
        expect(k1 < 1n << 128n && -k1 < 1n << 128n && k2 < 1n << 128n && -k2 < 1n << 128n).toBe(true);
      }
      const G = curve.G1;
      const pts = new Uint8Array(40 * 64);
      for (let i = 0; i < 40; i++) if (i !== 7) pts.set(G.toAffine(G.timesScalar(G.g, 1000 + i * 7919)), i * 64); // point 7: infinity
      for (const k of ks.slice(0, 12)) {
        const le = new Uint8Array(32);
        for (let j = 0, v = k; j < 32; j++, v >>= 8n) le[j] = Number(v & 0xffn);
        const want = new Uint8Array(40 * 64);
        for (let i = 0; i < 40; i++) want.set(G.toAffine(G.timesScalar(pts.subarray(i * 64, i * 64 + 64), le)), i * 64);
        expect(same(nat.scaleG1(pts, glvParts(k)), want), `k = ${k}`).toBe(true);
        expect(same(nat.scaleG1(pts, le), want), `k = ${k} plain`).toBe(true);
      }
    } finally {
      await curve.terminate();
    }
  });
});

describe('native scalar field batches', () => {
  it('match ffjavascript: powers, scaling to standard form, inverse FFT', async () => {
    const curve = await buildBn128(true);
    try {
      const Fr = curve.Fr;
      const x = Fr.e(123456789n);
      const k = Fr.e(987654321987654321n);
      const n = 1 << 13;
      const pw = nat.frPowers(x, n);
      let acc = Fr.one;
      for (let i = 0; i < n; i += 1) {
        if (i % 97 === 0 || i === n - 1) expect(same(pw.subarray(i * 32, i * 32 + 32), acc), `power ${i}`).toBe(true);
        acc = Fr.mul(acc, x);
      }
      const sc = nat.frScaleStandard(pw.subarray(0, 64 * 32), k);
      for (let i = 0; i < 64; i++) {
        const want = new Uint8Array(32);
        Fr.toRprLE(want, 0, Fr.mul(pw.subarray(i * 32, i * 32 + 32), k));
        expect(same(sc.subarray(i * 32, i * 32 + 32), want)).toBe(true);
      }
      for (const p of [0, 1, 5, 13]) {
        const a = pw.subarray(0, 2 ** p * 32);
        expect(same(nat.frIfft(a, Fr.inv(Fr.w[p]), Fr.inv(Fr.e(2 ** p))), new Uint8Array(await Fr.ifft(a))), `2^${p}`).toBe(true);
      }
    } finally {
      await curve.terminate();
    }
  });
});

describe('native Groth16 setup from 2^15 on', () => {
  // snarkjs' circuit hash takes one H point more than it counts there; at the
  // ptau's full power that point is read from past the τ powers.
  it.each([15, 16])('writes newZKey\'s file byte for byte for a 2^15 domain and a 2^%i ptau', async (power) => {
    const p = path.join(dir, `p${power}.ptau`);
    if (!fs.existsSync(p)) await writeDevPtau(p, power);
    const r1cs = path.join(dir, 'big.r1cs');
    if (!fs.existsSync(r1cs)) writeSyntheticCircuit(r1cs, path.join(dir, 'big.wtns'), 17000, { seed: 'big' });
    const ours = path.join(dir, `big-${power}.zkey`);
    const ref = path.join(dir, `big-${power}-ref.zkey`);
    await nativeGroth16Setup(nat, r1cs, p, ours);
    await snarkjs.zKey.newZKey(r1cs, p, ref);
    expect(same(fs.readFileSync(ours), fs.readFileSync(ref))).toBe(true);
  }, 600_000);
});
