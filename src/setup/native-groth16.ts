import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { buildBn128 } from 'ffjavascript';
import { ZkinferError } from '../errors.js';
import { wasmAlloc, type ThreadManager } from '../wasm-memory.js';
import type { NativeBn254 } from '../prove/native.js';
import { readBytes, requireSection, sectionTable, writeBytes, type SectionRef } from './binfile-fd.js';
import { constraintChunks, readR1csHeader, type R1csHeader } from './r1cs-stream.js';
import { makeDeltaContribution } from './delta-contribution.js';
import { glvParts } from './glv.js';

/**
 * Groth16 circuit-specific setup with the native kernels: writes the zkey
 * snarkjs' newZKey writes (same sections, same bytes, same circuit hash)
 * and, optionally, one phase-2 contribution on top as snarkjs' contribute
 * makes it. The r1cs is streamed in chunks of whole constraints once per
 * ptau base set, one base set is in memory at a time, and each section is
 * written at its own offset, so memory follows the circuit's size.
 */
export type SetupProgress = (fraction: number, step: string) => void;

/**
 * The sums run off the event loop, on large chunks (a signal's full-width
 * terms in one chunk share a multi-exponentiation); the other native calls
 * are synchronous and kept to about a second (2^15 points to scale), so a
 * queue worker keeps renewing its job's lock.
 */
export const NATIVE_SETUP_DEFAULTS = Object.freeze({
  /** Bytes of r1cs constraints per native call. */
  chunkBytes: 64 << 20,
  /** Jacobian accumulator bytes per pass; more signals than that are done in several signal ranges. */
  accumulatorBytes: 1 << 30,
  /** Points per read-scale-write step of the L and H sections. */
  scaleChunk: 1 << 15,
});

export interface NativeSetupOptions {
  /** Name of the phase-2 contribution; without it the key is snarkjs newZKey's (no contribution). */
  readonly contribution?: string;
  readonly progress?: SetupProgress;
  /** Smaller chunks and accumulator budgets than the defaults, to exercise the chunking on small circuits. */
  readonly tuning?: Partial<typeof NATIVE_SETUP_DEFAULTS>;
}

export interface NativeSetupResult {
  readonly csHash: Uint8Array;
  /** blake2b-512 of the contribution, when one was made. */
  readonly contributionHash?: Uint8Array;
}

const BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const BN254_Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const G1 = 64;
const G2 = 128;
const COEF = 44;

/** snarkjs' misc.log2: index of the highest set bit. */
const log2 = (v: number): number => 31 - Math.clz32(v);

const u32le = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const u32be = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
const leBytes = (v: bigint, n: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++, v >>= 8n) b[i] = Number(v & 0xffn);
  return b;
};

interface Layout {
  readonly pos: Map<number, number>;
  readonly size: Map<number, number>;
}

/** Section order and sizes as snarkjs' newZKey writes them. */
function layout(coefficients: number, nVars: number, nPublic: number, domainSize: number, mpcBytes: number): Layout {
  const order: Array<[number, number]> = [
    [1, 4],
    [2, 4 + 32 + 4 + 32 + 12 + 3 * G1 + 3 * G2],
    [4, 4 + COEF * coefficients],
    [3, G1 * (nPublic + 1)],
    [9, G1 * domainSize],
    [8, G1 * (nVars - nPublic - 1)],
    [5, G1 * nVars],
    [6, G1 * nVars],
    [7, G2 * nVars],
    [10, mpcBytes],
  ];
  const pos = new Map<number, number>();
  const size = new Map<number, number>();
  let p = 12;
  for (const [id, len] of order) {
    pos.set(id, p + 12);
    size.set(id, len);
    p += 12 + len;
  }
  return { pos, size };
}

async function sectionHeaders(fh: FileHandle, l: Layout): Promise<void> {
  const head = Buffer.concat([Buffer.from('zkey', 'latin1'), u32le(1), u32le(l.pos.size)]);
  await writeBytes(fh, 0, head);
  for (const [id, p] of l.pos) {
    const h = Buffer.alloc(12);
    h.writeUInt32LE(id, 0);
    h.writeBigUInt64LE(BigInt(l.size.get(id)!), 4);
    await writeBytes(fh, p - 12, h);
  }
}

export async function nativeGroth16Setup(nat: NativeBn254, r1csFile: string, ptauFile: string, zkeyFile: string, opts: NativeSetupOptions = {}): Promise<NativeSetupResult> {
  const progress = opts.progress ?? (() => {});
  const d = { ...NATIVE_SETUP_DEFAULTS, ...opts.tuning };
  const fr = await fs.open(r1csFile, 'r');
  const fp = await fs.open(ptauFile, 'r');
  const fz = await fs.open(zkeyFile, 'w+');
  const curve = await buildBn128(true);
  try {
    const r = await readR1csHeader(fr, r1csFile);
    if (r.prime !== BN254_R) throw new ZkinferError('SETUP_FAILED', `${r1csFile}: not a BN254 circuit`);
    const pt = await sectionTable(fp, 'ptau', ptauFile);
    const ph = await readBytes(fp, requireSection(pt, 1, ptauFile).pos, 4 + 32 + 8);
    const power = ph.readUInt32LE(36);
    if (ph.readUInt32LE(0) !== 32) throw new ZkinferError('SETUP_FAILED', `${ptauFile}: not a BN254 powers of tau`);

    const nVars = r.nWires;
    const nPublic = r.nOutputs + r.nPubInputs;
    const m = r.nConstraints;
    const cirPower = log2(m + nPublic) + 1;
    if (cirPower > power) throw new ZkinferError('SETUP_FAILED', `circuit too big for this powers of tau: ${m} constraints need 2^${cirPower}, the file has 2^${power}`);
    if (cirPower >= 28) throw new ZkinferError('SETUP_FAILED', `circuit needs 2^${cirPower}, beyond BN254's 2^28 domain`);
    for (const s of [2, 4, 5, 6, 12, 13, 14, 15]) requireSection(pt, s, `${ptauFile} (prepared for phase 2?)`);
    const n = 2 ** cirPower;
    // Points each section must hold: Lagrange levels up to n (2n for τ in G1), τ^0 .. τ^(2n-2).
    const need: Array<[number, number]> = [[2, (2 * n - 1) * G1], [12, (4 * n - 1) * G1], [13, (2 * n - 1) * G2], [14, (2 * n - 1) * G1], [15, (2 * n - 1) * G1]];
    for (const [sec, bytes] of need) {
      if (pt.get(sec)!.size < bytes) throw new ZkinferError('SETUP_FAILED', `${ptauFile}: section ${sec} is too short for a 2^${cirPower} domain`);
    }

    // Work plan: each base set is one pass over the constraints per signal range.
    const range = Math.max(1, Math.floor(d.accumulatorBytes / (3 * 96)));
    const ranges: Array<[number, number]> = [];
    for (let lo = 0; lo < nVars; lo += range) ranges.push([lo, Math.min(nVars, lo + range)]);
    const totalPasses = ranges.length * 4 + 2 + (opts.contribution ? 1 : 0);
    let passesDone = 0;
    const step = (name: string, f: number) => progress(Math.min(1, (passesDone + f) / totalPasses), name);

    const lagrange = (sec: number, size: number) => {
      const s = pt.get(sec)!;
      return { pos: s.pos + (n - 1) * size, size: n * size };
    };
    const loadBases = async (sec: number, size: number): Promise<Buffer> => {
      const { pos, size: len } = lagrange(sec, size);
      return readBytes(fp, pos, len);
    };

    // Coefficients first: the section's size fixes every later offset.
    const coefPos = 12 + 12 + 4 + 12 + (4 + 32 + 4 + 32 + 12 + 3 * G1 + 3 * G2) + 12;
    let coefCount = 0;
    let l: Layout | null = null;
    const mpcBytes = 64 + 4;
    const mpcBytesFinal = (rec: number) => 64 + 4 + rec;

    const sumPass = async (g2: boolean, bases: Buffer, targets: Array<{ acc: Buffer; matrix: number }>, lo: number, hi: number, name: string, coefficients: boolean) => {
      const pb = g2 ? G2 : G1;
      step(name, 0);
      for await (const ch of constraintChunks(fr, r, d.chunkBytes)) {
        const b = bases.subarray(ch.first * pb);
        for (const t of targets) await nat.setupSums(g2, t.acc, b, ch.bytes, ch.count, t.matrix, lo, hi);
        if (coefficients) {
          const e = nat.setupCoefficients(ch.bytes, ch.count, ch.first);
          await writeBytes(fz, coefPos + 4 + coefCount * COEF, e);
          coefCount += e.length / COEF;
        }
        step(name, (ch.first + ch.count) / Math.max(1, m));
        await new Promise(setImmediate);
      }
      passesDone++;
    };
    /** Public signals' extra terms snarkjs adds: base m + s for signal s <= nPublic. */
    const publicTerms = (g2: boolean, acc: Buffer, bases: Buffer, lo: number, hi: number) => {
      const top = Math.min(hi, nPublic + 1);
      if (lo < top) nat.addBases(g2, acc, bases, m + lo, top - lo);
    };
    const writePoints = async (g2: boolean, acc: Buffer, section: number, index: number) => {
      const aff = nat.toAffine(g2, acc);
      await writeBytes(fz, l!.pos.get(section)! + index * (g2 ? G2 : G1), aff);
    };

    for (const [ri, [lo, hi]] of ranges.entries()) {
      const count = hi - lo;
      let accA = Buffer.alloc(count * 96);
      let accB1 = Buffer.alloc(count * 96);
      const accL = Buffer.alloc(count * 96);
      let bases = await loadBases(12, G1);
      await sumPass(false, bases, [{ acc: accA, matrix: 0 }, { acc: accB1, matrix: 1 }, { acc: accL, matrix: 2 }], lo, hi, 'A, B1 and C sums over τ', ri === 0);
      if (ri === 0) {
        // snarkjs' own public terms of A, with coefficient one.
        const extra = Buffer.alloc((nPublic + 1) * COEF);
        const one = leBytes(mont2(1n), 32);
        for (let s = 0; s <= nPublic; s++) {
          extra.writeUInt32LE(0, s * COEF);
          extra.writeUInt32LE(m + s, s * COEF + 4);
          extra.writeUInt32LE(s, s * COEF + 8);
          one.copy(extra, s * COEF + 12);
        }
        await writeBytes(fz, coefPos + 4 + coefCount * COEF, extra);
        coefCount += nPublic + 1;
        await writeBytes(fz, coefPos, u32le(coefCount));
        l = layout(coefCount, nVars, nPublic, n, mpcBytes);
      }
      publicTerms(false, accA, bases, lo, hi);
      await writePoints(false, accA, 5, lo);
      await writePoints(false, accB1, 6, lo);
      accA = accB1 = Buffer.alloc(0);
      bases = await loadBases(15, G1);
      await sumPass(false, bases, [{ acc: accL, matrix: 0 }], lo, hi, 'C sums over βτ', false);
      publicTerms(false, accL, bases, lo, hi);
      bases = await loadBases(14, G1);
      await sumPass(false, bases, [{ acc: accL, matrix: 1 }], lo, hi, 'C sums over ατ', false);
      // Signals 0..nPublic go to IC, the rest to L.
      const nIc = Math.max(0, Math.min(hi, nPublic + 1) - lo);
      if (nIc > 0) await writePoints(false, accL.subarray(0, nIc * 96), 3, lo);
      if (nIc < count) await writePoints(false, accL.subarray(nIc * 96), 8, lo + nIc - (nPublic + 1));
      bases = Buffer.alloc(0);
      const accB2 = Buffer.alloc(count * 192);
      const basesG2 = await loadBases(13, G2);
      await sumPass(true, basesG2, [{ acc: accB2, matrix: 1 }], lo, hi, 'B2 sums over τ in G2', false);
      await writePoints(true, accB2, 7, lo);
    }
    if (!l) throw new ZkinferError('SETUP_FAILED', `${r1csFile}: no signals`);

    // H: the 2n-domain Lagrange points at odd indices.
    {
      step('H points', 0);
      const s12 = pt.get(12)!;
      const base = s12.pos + (2 * n - 1) * G1;
      for (let i = 0; i < n; i += d.scaleChunk) {
        const k = Math.min(d.scaleChunk, n - i);
        const src = await readBytes(fp, base + 2 * i * G1, 2 * k * G1);
        const out = Buffer.allocUnsafe(k * G1);
        for (let j = 0; j < k; j++) src.copy(out, j * G1, (2 * j + 1) * G1, (2 * j + 2) * G1);
        await writeBytes(fz, l.pos.get(9)! + i * G1, out);
        step('H points', i / n);
      }
      passesDone++;
    }

    // Header points: alpha, beta from the ptau; gamma and delta the generators.
    const alpha1 = await readBytes(fp, pt.get(4)!.pos, G1);
    const beta1 = await readBytes(fp, pt.get(5)!.pos, G1);
    const beta2 = await readBytes(fp, pt.get(6)!.pos, G2);
    const g1 = Buffer.from(curve.G1.toAffine(curve.G1.g));
    const g2 = Buffer.from(curve.G2.toAffine(curve.G2.g));

    step('circuit hash', 0);
    const csHash = await circuitHash(nat, curve, fz, fp, l, pt.get(2)!, { alpha1, beta1, beta2, g1, g2 }, nVars, nPublic, n, (f) => step('circuit hash', f));
    passesDone++;

    let delta1 = g1;
    let delta2 = g2;
    let mpc = Buffer.concat([csHash, u32le(0)]);
    let contributionHash: Uint8Array | undefined;
    if (opts.contribution !== undefined) {
      const c = makeDeltaContribution(curve, csHash, opts.contribution);
      delta1 = Buffer.from(c.delta1);
      delta2 = Buffer.from(c.delta2);
      mpc = Buffer.concat([csHash, u32le(1), c.record]);
      contributionHash = c.hash;
      step('L and H divided by δ', 0);
      const total = l.size.get(8)! / G1 + n;
      const k = glvParts(Buffer.from(c.invDelta).reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n));
      let done = 0;
      for (const sec of [8, 9]) {
        const count = l.size.get(sec)! / G1;
        for (let i = 0; i < count; i += d.scaleChunk) {
          const n1 = Math.min(d.scaleChunk, count - i);
          const at = l.pos.get(sec)! + i * G1;
          await writeBytes(fz, at, nat.scaleG1(await readBytes(fz, at, n1 * G1), k));
          done += n1;
          step('L and H divided by δ', done / total);
          await new Promise(setImmediate);
        }
      }
      passesDone++;
      l = layout(coefCount, nVars, nPublic, n, mpcBytesFinal(c.record.length));
    }

    await sectionHeaders(fz, l);
    await writeBytes(fz, l.pos.get(1)!, u32le(1));
    await writeBytes(fz, l.pos.get(2)!, Buffer.concat([
      u32le(32), leBytes(BN254_Q, 32), u32le(32), leBytes(BN254_R, 32),
      u32le(nVars), u32le(nPublic), u32le(n),
      alpha1, beta1, beta2, g2, delta1, delta2,
    ]));
    await writeBytes(fz, l.pos.get(10)!, mpc);
    await fz.truncate(l.pos.get(10)! + mpc.length);
    progress(1, 'done');
    return { csHash, contributionHash };
  } finally {
    await curve.terminate();
    await fr.close();
    await fp.close();
    await fz.close();
  }
}

const SNARKJS_H_HASH_CHUNK = 1 << 14;

/** a - b as snarkjs' hash thread computes it: g1m_subAffine, g1m_batchToAffine, g1m_batchLEMtoU. */
function snarkjsSubAffineU(curve: { tm: ThreadManager }, a: Uint8Array, b: Uint8Array): Uint8Array {
  const tm = curve.tm;
  const ex = tm.instance.exports;
  const mark = tm.u32[0];
  const pa = wasmAlloc(tm, G1);
  const pb = wasmAlloc(tm, G1);
  const pr = wasmAlloc(tm, 96);
  tm.u8.set(a, pa);
  tm.u8.set(b, pb);
  ex.g1m_subAffine(pa, pb, pr);
  ex.g1m_batchToAffine(pr, 1, pr);
  ex.g1m_batchLEMtoU(pr, 1, pr);
  const out = tm.u8.slice(pr, pr + G1);
  tm.u32[0] = mark;
  return out;
}

/** v·R^2 mod r: how snarkjs stores a coefficient. */
function mont2(v: bigint): bigint {
  const R = (1n << 256n) % BN254_R;
  return (v * R % BN254_R) * R % BN254_R;
}

/**
 * snarkjs' circuit hash: blake2b-512 over the header points, then each point
 * section (a big-endian u32 count, then its points uncompressed) in the
 * order IC, H, C, A, B1, B2, with H taken as τ^(i+n)·G - τ^i·G from the
 * ptau's powers, i < n - 1.
 */
async function circuitHash(
  nat: NativeBn254, curve: { tm: ThreadManager }, fz: FileHandle, fp: FileHandle, l: Layout, tauG1: SectionRef,
  h: { alpha1: Buffer; beta1: Buffer; beta2: Buffer; g1: Buffer; g2: Buffer },
  nVars: number, nPublic: number, n: number, progress: (f: number) => void,
): Promise<Uint8Array> {
  const hasher = crypto.createHash('blake2b512');
  hasher.update(nat.toUncompressed(false, Buffer.concat([h.alpha1, h.beta1])));
  hasher.update(nat.toUncompressed(true, h.beta2));
  hasher.update(nat.toUncompressed(true, h.g2));
  hasher.update(nat.toUncompressed(false, h.g1));
  hasher.update(nat.toUncompressed(true, h.g2));
  const CH = 1 << 16;
  const total = nPublic + 1 + n + 4 * nVars;
  let done = 0;
  const section = async (id: number, g2: boolean, count: number) => {
    hasher.update(u32be(count));
    const size = g2 ? G2 : G1;
    for (let i = 0; i < count; i += CH) {
      const k = Math.min(CH, count - i);
      hasher.update(nat.toUncompressed(g2, await readBytes(fz, l.pos.get(id)! + i * size, k * size)));
      done += k;
      progress(done / total);
    }
  };
  await section(3, false, nPublic + 1);
  hasher.update(u32be(n - 1));
  for (let i = 0; i < n - 1; i += CH) {
    const k = Math.min(CH, n - 1 - i);
    const hi = await readBytes(fp, tauG1.pos + (i + n) * G1, k * G1);
    const lo = await readBytes(fp, tauG1.pos + i * G1, k * G1);
    hasher.update(nat.toUncompressed(false, nat.subG1(hi, lo)));
    done += k;
    progress(done / total);
  }
  // snarkjs hashes its H points in chunks of 2^14 but sizes every chunk as
  // the first, so from 2^15 on it hashes one point more than it counts:
  // i = n - 1, whose τ^(2n-1) lies past the powers when n is the file's
  // full power (it reads the bytes that follow). Done its way, in its
  // WebAssembly, so the hash is the one snarkjs writes and verifies.
  if (n - 1 > SNARKJS_H_HASH_CHUNK) {
    const hi = await readBytes(fp, tauG1.pos + (2 * n - 1) * G1, G1);
    const lo = await readBytes(fp, tauG1.pos + (n - 1) * G1, G1);
    hasher.update(snarkjsSubAffineU(curve, hi, lo));
  }
  await section(8, false, nVars - nPublic - 1);
  await section(5, false, nVars);
  await section(6, false, nVars);
  await section(7, true, nVars);
  return new Uint8Array(hasher.digest());
}
