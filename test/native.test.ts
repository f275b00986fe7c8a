import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBn128 } from 'ffjavascript';
import fs from 'node:fs';
import { nativeBn254, nativeUnavailableReason, type NativeBn254 } from '../src/prove/native.js';
import { sections } from '../src/binfile.js';
import { buildPath } from '../src/paths.js';
import { readProgram } from '../src/build/program-file.js';
import { lowerProgram } from '../src/lower/index.js';
import { FIELD_PRIME, fieldFromLe, fieldToLe } from '../src/receipt/field.js';
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

const R = FIELD_PRIME;

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

  it.each(['G1', 'G2'] as const)('%s: ones, negated small scalars, window-edge and unreduced scalars, opposite points', async (g) => {
    const G = curve[g];
    const msm = g === 'G1' ? nat.msmG1 : nat.msmG2;
    const size = G.F.n8 * 2;
    for (const n of [4, 77, 1031]) {
      const p = points(G, n);
      // Point 3 is the opposite of point 2: with equal scalars their bucket cancels.
      const f = G.F.n8;
      p.copyWithin(3 * size, 2 * size, 2 * size + f);
      p.set(G.F.neg(p.slice(2 * size + f, 3 * size)), 3 * size + f);
      const s = new Uint8Array(n * 32);
      for (let i = 0; i < n; i++) {
        const v = (() => {
          switch (i % 9) {
            case 0: return 1n;
            case 1: return R - 1n; // -1
            case 2: return 5n;
            case 3: return 5n;
            case 4: return R - BigInt(i) - 2n; // small negative
            case 5: return 1n << BigInt(8 + (i % 200)); // powers of two: a signed window's carry at every position
            case 6: return (1n << 256n) - 1n - BigInt(i); // at or above r: reduced
            case 7: return 0n;
            default: return BigInt(`0x${crypto.createHash('sha256').update(`${g}${i}`).digest('hex')}`) % R;
          }
        })();
        for (let b = 0, x = v; b < 32; b++, x >>= 8n) s[i * 32 + b] = Number(x & 0xffn);
      }
      expect(G.eq(msm(p, s), await G.multiExpAffine(p, s)), `${g} n=${n}`).toBe(true);
      // Only ones, and only a point and its opposite.
      const ones = new Uint8Array(n * 32);
      for (let i = 0; i < n; i++) ones[i * 32] = 1;
      expect(G.eq(msm(p, ones), await G.multiExpAffine(p, ones)), `${g} ones n=${n}`).toBe(true);
      expect(G.isZero(msm(p.slice(2 * size, 4 * size), s.slice(2 * 32, 4 * 32))), `${g} opposite`).toBe(true);
      // Points 0 and 1 are equal: with equal scalars their bucket doubles.
      const twice = s.slice(2 * 32, 4 * 32);
      expect(G.eq(msm(p.slice(0, 2 * size), twice), await G.multiExpAffine(p.slice(0, 2 * size), twice)), `${g} equal`).toBe(true);
    }
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

  it('quotient (three coset transforms, then A·B - C in standard form) equals ffjavascript\'s', async () => {
    const Fr = curve.Fr;
    for (const k of [1, 4, 11, 13]) {
      const n = 1 << k;
      const abc = new Uint8Array(3 * n * 32);
      for (let i = 0; i < 3 * n; i++) abc.set(Fr.e(BigInt(i) * 7919n + 13n + BigInt(i % 5) * (1n << 200n)), i * 32);
      const inc = k === Fr.s ? Fr.shift : Fr.w[k + 1];
      const odd = async (x: Uint8Array) => new Uint8Array(await Fr.fft(await Fr.batchApplyKey(await Fr.ifft(x), Fr.e(1), inc)));
      const [a, b, c] = await Promise.all([0, 1, 2].map((j) => odd(abc.slice(j * n * 32, (j + 1) * n * 32))));
      const want = new Uint8Array(n * 32);
      for (let i = 0; i < n; i++) {
        const o = i * 32;
        Fr.toRprLE(want, o, Fr.sub(Fr.mul(a.subarray(o, o + 32), b.subarray(o, o + 32)), c.subarray(o, o + 32)));
      }
      expect(Buffer.from(nat.quotient(abc)).equals(Buffer.from(want)), `2^${k}`).toBe(true);
    }
  });

  it('assemble randomizes the proof as snarkjs does', async () => {
    const { G1, G2, Fr } = curve;
    const jac = (G: any, k: bigint) => G.timesScalar(G.g, fieldToLe(k));
    const aff = (G: any, k: bigint) => G.toAffine(jac(G, k));
    const [a, b1, c, h] = [11n, 12n, 13n, 14n].map((k) => jac(G1, k));
    const b2 = jac(G2, 15n);
    const [alpha1, beta1, delta1] = [21n, 22n, 23n].map((k) => aff(G1, k));
    const [beta2, delta2] = [24n, 25n].map((k) => aff(G2, k));
    for (const [r, s] of [[3n, 4n], [R - 1n, 0n], [BigInt(`0x${crypto.randomBytes(31).toString('hex')}`), BigInt(`0x${crypto.randomBytes(31).toString('hex')}`)]]) {
      const out = nat.assemble(a, b1, b2, c, h, alpha1, beta1, beta2, delta1, delta2, fieldToLe(r), fieldToLe(s));
      const fr = (x: bigint) => Fr.e(x);
      const A = G1.add(G1.add(a, alpha1), G1.timesFr(delta1, fr(r)));
      const B = G2.add(G2.add(b2, beta2), G2.timesFr(delta2, fr(s)));
      const B1 = G1.add(G1.add(b1, beta1), G1.timesFr(delta1, fr(s)));
      let C = G1.add(c, h);
      C = G1.add(C, G1.timesFr(A, fr(s)));
      C = G1.add(C, G1.timesFr(B1, fr(r)));
      C = G1.add(C, G1.timesFr(delta1, Fr.neg(Fr.mul(fr(r), fr(s)))));
      const std = (G: any, p: any) => {
        const o = G.toObject(G.toAffine(p));
        return [o[0], o[1]].flat();
      };
      const got = Array.from({ length: 8 }, (_, i) => fieldFromLe(out, i * 32));
      expect(got).toEqual([...std(G1, A), ...std(G2, B), ...std(G1, C)]);
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
    // The compact form, made in uneven chunks (a table carried between them), gives the same bytes.
    const body = coeffs.subarray(4);
    const entries = body.byteLength / 44;
    const compact = new Uint8Array(entries * 12);
    let table: Uint8Array = new Uint8Array(0);
    for (let at = 0, step = 1; at < entries; at += step, step = step * 3 + 1) {
      const end = Math.min(entries, at + step);
      table = nat.compactCoefficients(body.subarray(at * 44, end * 44), table, compact.subarray(at * 12, end * 12))[1];
    }
    const [whole, wholeTable] = nat.compactCoefficients(body, new Uint8Array(0));
    expect(Buffer.from(whole).equals(Buffer.from(compact)) && Buffer.from(wholeTable).equals(Buffer.from(table))).toBe(true);
    expect(table.byteLength / 32).toBeLessThan(entries / 2);
    expect(Buffer.from(nat.qap(compact, w, domain, table)).equals(Buffer.from(got))).toBe(true);
    const sums = [new Array<bigint>(domain).fill(0n), new Array<bigint>(domain).fill(0n)];
    const dv = new DataView(coeffs.buffer, coeffs.byteOffset, coeffs.byteLength);
    const n = dv.getUint32(0, true);
    expect(n).toBeGreaterThan(1000);
    for (let i = 0, e = 4; i < n; i++, e += 44) {
      const [m, c, sig] = [dv.getUint32(e, true), dv.getUint32(e + 4, true), dv.getUint32(e + 8, true)];
      sums[m][c] = (sums[m][c] + fieldFromLe(coeffs, e + 12) * fieldFromLe(w, sig * 32)) % FIELD_PRIME;
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
      expect(fieldFromLe(got, c * 32)).toBe(a);
      expect(fieldFromLe(got, (domain + c) * 32)).toBe(b);
      expect(fieldFromLe(got, (2 * domain + c) * 32)).toBe(a * b % FIELD_PRIME * rInv % FIELD_PRIME);
    }
  });

  it('refuses mismatched inputs instead of reading past them', () => {
    const p = points(curve.G1, 4);
    expect(() => nat.msmG1(p, new Uint8Array(3 * 32))).toThrow(/differ in count/);
    expect(() => nat.coset(new Uint8Array(3 * 32), new Uint8Array(32), new Uint8Array(32), new Uint8Array(32), new Uint8Array(32))).toThrow(/2\^k/);
    expect(() => nat.quotient(new Uint8Array(5 * 96))).toThrow(/2\^k/);
    expect(() => nat.assemble(p, p, p, p, p, p, p, p, p, p, p, p)).toThrow(/wrong size/);
    expect(() => nat.compactCoefficients(new Uint8Array(45), new Uint8Array(0))).toThrow(/whole 44-byte entries/);
    // A compact entry naming table value 1 of a one-value table.
    const entry = new Uint8Array(12);
    entry[8] = 1;
    expect(() => nat.qap(entry, new Uint8Array(32), 4, new Uint8Array(32))).toThrow(/out of range/);
    expect(() => nat.msmG1([] as unknown as Uint8Array, p)).toThrow(/Uint8Array/);
  });
});
