import crypto from 'node:crypto';
import fs from 'node:fs';
import { FIELD_PRIME } from '../../src/receipt/field.js';

/**
 * A satisfiable synthetic circuit written straight to iden3 r1cs and wtns
 * files: constraint i defines one new wire from earlier ones, with the
 * coefficient mix circom output has (±1, ±2^k, small weights and a share
 * of full field elements) and a few signals used by many constraints.
 */
const P = FIELD_PRIME;
const mod = (v: bigint) => ((v % P) + P) % P;

function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}
const inv = (v: bigint) => pow(v, P - 2n);

type LC = Array<[number, bigint]>;

export interface SyntheticCircuit {
  nWires: number;
  nPublic: number;
  nConstraints: number;
  witness: bigint[];
}

const le32 = (v: bigint): Buffer => {
  const b = Buffer.alloc(32);
  for (let i = 0; i < 32; i++, v >>= 8n) b[i] = Number(v & 0xffn);
  return b;
};

function section(fd: number, type: number, parts: Buffer[]): void {
  const size = parts.reduce((s, p) => s + p.length, 0);
  const h = Buffer.alloc(12);
  h.writeUInt32LE(type, 0);
  h.writeBigUInt64LE(BigInt(size), 4);
  fs.writeSync(fd, h);
  for (const p of parts) fs.writeSync(fd, p);
}

/**
 * Writes r1cs (and the witness as wtns) for `nConstraints` constraints with
 * one public output and `nPubIn` public inputs.
 */
export function writeSyntheticCircuit(r1csFile: string, wtnsFile: string, nConstraints: number, opts: { nPubIn?: number; seed?: string; fullShare?: number } = {}): SyntheticCircuit {
  const { nPubIn = 2, seed = 'zkinfer', fullShare = 0.05 } = opts;
  let ctr = 0;
  const rnd = (): number => {
    const h = crypto.createHash('sha256').update(`${seed}:${ctr++}`).digest();
    return h.readUInt32LE(0) / 2 ** 32;
  };
  const big = (): bigint => mod(BigInt(`0x${crypto.createHash('sha256').update(`${seed}:b${ctr++}`).digest('hex')}`));
  const coef = (): bigint => {
    if (rnd() < fullShare) return big();
    const x = rnd();
    if (x < 0.4) return 1n;
    if (x < 0.55) return P - 1n;
    if (x < 0.7) return 1n << BigInt(Math.floor(rnd() * 40));
    if (x < 0.8) return P - (1n << BigInt(Math.floor(rnd() * 40)));
    return BigInt(Math.floor(rnd() * 1000) + 2);
  };
  const nPrvIn = 3;
  const nOut = 1;
  const firstDefined = 1 + nOut + nPubIn + nPrvIn;
  const nWires = firstDefined + nConstraints - 1;
  const w: bigint[] = new Array(nWires).fill(0n);
  w[0] = 1n;
  for (let i = 1 + nOut; i < firstDefined; i++) w[i] = BigInt(Math.floor(rnd() * 1e6));
  const defined: number[] = [0];
  for (let i = 1 + nOut; i < firstDefined; i++) defined.push(i);
  const pick = (): number => {
    const x = rnd();
    // A few hot signals (the constant, the inputs) and mostly recent ones.
    if (x < 0.15) return defined[Math.floor(rnd() * Math.min(defined.length, firstDefined))];
    return defined[Math.max(0, defined.length - 1 - Math.floor(rnd() * 50))];
  };
  const lc = (terms: number): LC => {
    const out: LC = [];
    for (let i = 0; i < terms; i++) out.push([pick(), coef()]);
    return out;
  };
  const dot = (l: LC) => l.reduce((s, [i, c]) => mod(s + c * w[i]), 0n);
  const body: Buffer[] = [];
  const lcBytes = (l: LC): Buffer => {
    const b = Buffer.alloc(4 + 36 * l.length);
    b.writeUInt32LE(l.length, 0);
    l.forEach(([s, c], k) => {
      b.writeUInt32LE(s, 4 + 36 * k);
      le32(c).copy(b, 8 + 36 * k);
    });
    return b;
  };
  for (let c = 0; c < nConstraints; c++) {
    const target = c === nConstraints - 1 ? 1 : firstDefined + c;
    const a = lc(1 + Math.floor(rnd() * 3));
    const b = rnd() < 0.3 ? [[0, coef()] as [number, bigint]] : lc(1 + Math.floor(rnd() * 2));
    const extra = rnd() < 0.5 ? lc(1) : [];
    const k = coef();
    // k·target + Σ extra = (A·w)(B·w)
    w[target] = mod((dot(a) * dot(b) - dot(extra)) * inv(k));
    const cc: LC = [[target, k], ...extra];
    body.push(lcBytes(a), lcBytes(b), lcBytes(cc));
    defined.push(target);
  }

  const fd = fs.openSync(r1csFile, 'w');
  try {
    fs.writeSync(fd, Buffer.from('r1cs'));
    const u32 = (v: number) => {
      const x = Buffer.alloc(4);
      x.writeUInt32LE(v);
      return x;
    };
    fs.writeSync(fd, Buffer.concat([u32(1), u32(3)]));
    const nLabels = Buffer.alloc(8);
    nLabels.writeBigUInt64LE(BigInt(nWires));
    section(fd, 1, [u32(32), le32(P), u32(nWires), u32(nOut), u32(nPubIn), u32(nPrvIn), nLabels, u32(nConstraints)]);
    section(fd, 2, body);
    const map = Buffer.alloc(8 * nWires);
    for (let i = 0; i < nWires; i++) map.writeBigUInt64LE(BigInt(i), 8 * i);
    section(fd, 3, [map]);
  } finally {
    fs.closeSync(fd);
  }
  const fw = fs.openSync(wtnsFile, 'w');
  try {
    const u32 = (v: number) => {
      const x = Buffer.alloc(4);
      x.writeUInt32LE(v);
      return x;
    };
    fs.writeSync(fw, Buffer.concat([Buffer.from('wtns'), u32(2), u32(2)]));
    section(fw, 1, [u32(32), le32(P), u32(nWires)]);
    section(fw, 2, w.map(le32));
  } finally {
    fs.closeSync(fw);
  }
  return { nWires, nPublic: nOut + nPubIn, nConstraints, witness: w };
}
