import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBn128 } from 'ffjavascript';
import fs from 'node:fs';
import { nativeBn254, nativeUnavailableReason, type NativeBn254 } from '../src/prove/native.js';
import { sections } from '../src/binfile.js';
import { buildPath } from '../src/paths.js';
import { readProgram } from '../src/build/program-file.js';
import { lowerProgram } from '../src/lower/index.js';
import { FIELD_PRIME } from '../src/receipt/field.js';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';

/**
 * The native kernels against ffjavascript's, on the cases a proving key and a
 * witness produce: points at infinity, repeated points (the doubling branch),
 * zero, small and full-width scalars.
 */
let curve: any;
let nat: NativeBn254;

beforeAll(async () => {
  curve = await buildBn128(true);
  const n = nativeBn254();
  if (!n) throw new Error(`native kernels unavailable: ${nativeUnavailableReason()}`);
  nat = n;
});
afterAll(async () => curve?.terminate());

function points(G: any, count: number): Uint8Array {
  const size = G.F.n8 * 2;
  const out = new Uint8Array(count * size);
  let p = G.g;
  for (let i = 0; i < count; i++) {
    if (i % 37 !== 5) out.set(G.toAffine(p), i * size); // every 37th stays all-zero: infinity, as in keys
    p = G.add(p, G.timesScalar(G.g, 3 + i));
  }
  out.copyWithin(0, size, 2 * size); // points 0 and 1 equal: their bucket doubles
  return out;
}

function scalars(count: number, seed: number): Uint8Array {
  const s = new Uint8Array(count * 32);
  for (let i = 0; i < count; i++) {
    const h = crypto.createHash('sha256').update(`${seed}:${i}`).digest();
    s.set(h, i * 32);
    s[i * 32 + 31] &= 0x1f; // below 2^253 < r
    if (i % 3 === 0) s.fill(0, i * 32 + 2, i * 32 + 32); // small, like most witness values
    if (i % 7 === 0) s.fill(0, i * 32, i * 32 + 32);
  }
  return s;
}

describe('native BN254 kernels', () => {
  it('G1 multi-exponentiation equals ffjavascript\'s, for full-width, small and zero scalars', async () => {
    for (const n of [1, 5, 300, 4096]) {
      const p = points(curve.G1, n);
      const s = scalars(n, n);
      expect(curve.G1.eq(nat.msmG1(p, s), await curve.G1.multiExpAffine(p, s)), `n=${n}`).toBe(true);
    }
    const p = points(curve.G1, 64);
    expect(curve.G1.isZero(nat.msmG1(p, new Uint8Array(64 * 32)))).toBe(true);
  });

  it('witness-like scalars (mostly 0 and 1, so one bucket takes most points) equal ffjavascript\'s', async () => {
    const n = 3000;
    const p = points(curve.G1, n);
    const s = new Uint8Array(n * 32);
    for (let i = 0; i < n; i++) {
      if (i % 5 !== 0) s[i * 32] = 1;
      if (i % 11 === 0) s.fill(0xff, i * 32, i * 32 + 31); // full-width, like the field encoding of a negative value
    }
    expect(curve.G1.eq(nat.msmG1(p, s), await curve.G1.multiExpAffine(p, s))).toBe(true);
  });

  it('G2 multi-exponentiation equals ffjavascript\'s', async () => {
    const p = points(curve.G2, 700);
    const s = scalars(700, 2);
    expect(curve.G2.eq(nat.msmG2(p, s), await curve.G2.multiExpAffine(p, s))).toBe(true);
  });

  it('coset FFT equals ifft, shift, fft', async () => {
    const Fr = curve.Fr;
    for (const k of [1, 4, 11]) {
      const n = 1 << k;
      const v = new Uint8Array(n * 32);
      for (let i = 0; i < n; i++) v.set(Fr.e(BigInt(i) * 7919n + 13n), i * 32);
      const shift = Fr.w[k + 1];
      const want = await Fr.fft(await Fr.batchApplyKey(await Fr.ifft(v), Fr.e(1), shift));
      const got = nat.coset(v, Fr.w[k], Fr.inv(Fr.w[k]), Fr.inv(Fr.e(n)), shift);
      expect(Buffer.from(got).equals(Buffer.from(want)), `2^${k}`).toBe(true);
    }
  });

  it('QAP evaluation (A·w, B·w and their product per constraint) equals a bigint evaluation of the key\'s coefficients', async () => {
    const data = loadJson(fixture('digits_mlp.data.json'));
    const dir = await ensureBuild('digits_mlp', fs.readFileSync(fixture('digits_mlp.onnx')), data);
    const program = readProgram(buildPath(dir, 'program'));
    const q = Array.from({ length: 64 }, (_, i) => BigInt((i * 5) % 17));
    const wtns = lowerProgram(program, q, { constraints: false }).circuit.wtns();
    const w = sections(wtns, 'wtns').get(2)!;
    const zkey = sections(fs.readFileSync(buildPath(dir, 'zkey')), 'zkey');
    const g = zkey.get(2)!;
    const domain = new DataView(g.buffer, g.byteOffset).getUint32(4 + 32 + 4 + 32 + 8, true);
    const coeffs = zkey.get(4)!;
    const got = nat.qap(coeffs, w, domain);
    const le = (b: Uint8Array, at: number) => {
      let v = 0n;
      for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]);
      return v;
    };
    const sums = [new Array<bigint>(domain).fill(0n), new Array<bigint>(domain).fill(0n)];
    const dv = new DataView(coeffs.buffer, coeffs.byteOffset, coeffs.byteLength);
    const n = dv.getUint32(0, true);
    expect(n).toBeGreaterThan(1000);
    for (let i = 0, e = 4; i < n; i++, e += 44) {
      const [m, c, sig] = [dv.getUint32(e, true), dv.getUint32(e + 4, true), dv.getUint32(e + 8, true)];
      sums[m][c] = (sums[m][c] + le(coeffs, e + 12) * le(w, sig * 32)) % FIELD_PRIME;
    }
    const rInv = (() => {
      // R = 2^256 mod p. The key stores coefficients times R² and the witness is plain, so each
      // Montgomery product R·c·w carries one R^-1 of the stored R²; the output is Montgomery.
      let [a, b, x, y] = [(1n << 256n) % FIELD_PRIME, FIELD_PRIME, 1n, 0n];
      while (b) [a, b, x, y] = [b, a % b, y, x - (a / b) * y];
      return ((x % FIELD_PRIME) + FIELD_PRIME) % FIELD_PRIME;
    })();
    for (let c = 0; c < domain; c++) {
      const [a, b] = [sums[0][c] * rInv % FIELD_PRIME, sums[1][c] * rInv % FIELD_PRIME];
      expect(le(got, c * 32)).toBe(a);
      expect(le(got, (domain + c) * 32)).toBe(b);
      expect(le(got, (2 * domain + c) * 32)).toBe(a * b % FIELD_PRIME * rInv % FIELD_PRIME);
    }
  });

  it('refuses mismatched inputs instead of reading past them', () => {
    const p = points(curve.G1, 4);
    expect(() => nat.msmG1(p, new Uint8Array(3 * 32))).toThrow(/differ in count/);
    expect(() => nat.coset(new Uint8Array(3 * 32), new Uint8Array(32), new Uint8Array(32), new Uint8Array(32), new Uint8Array(32))).toThrow(/2\^k/);
    expect(() => nat.msmG1([] as unknown as Uint8Array, p)).toThrow(/Uint8Array/);
  });
});
