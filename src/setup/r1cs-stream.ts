import type { FileHandle } from 'node:fs/promises';
import { ZkinferError } from '../errors.js';
import { readBytes, requireSection, sectionTable, type SectionRef } from './binfile-fd.js';

/**
 * An iden3 r1cs file read incrementally: the header at once, the
 * constraints as chunks of whole constraints, so a file of several GB never
 * sits in memory.
 */
export interface R1csHeader {
  readonly prime: bigint;
  readonly nWires: number;
  readonly nOutputs: number;
  readonly nPubInputs: number;
  readonly nPrvInputs: number;
  readonly nConstraints: number;
  readonly constraints: SectionRef;
}

export interface ConstraintChunk {
  /** Whole constraints: per matrix A, B, C a u32 term count, then (u32 signal, 32-byte coefficient) terms. */
  readonly bytes: Buffer;
  readonly first: number;
  readonly count: number;
}

const FR_BYTES = 32;
const TERM = 4 + FR_BYTES;

const leBigInt = (b: Buffer): bigint => {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
};

export async function readR1csHeader(fh: FileHandle, what = 'r1cs'): Promise<R1csHeader> {
  const t = await sectionTable(fh, 'r1cs', what);
  const h = requireSection(t, 1, what);
  const b = await readBytes(fh, h.pos, h.size);
  const n8 = b.readUInt32LE(0);
  if (n8 !== FR_BYTES) throw new ZkinferError('SETUP_FAILED', `${what}: field elements of ${n8} bytes, expected ${FR_BYTES} (BN254)`);
  const prime = leBigInt(b.subarray(4, 4 + n8));
  let p = 4 + n8;
  const nWires = b.readUInt32LE(p);
  const nOutputs = b.readUInt32LE(p + 4);
  const nPubInputs = b.readUInt32LE(p + 8);
  const nPrvInputs = b.readUInt32LE(p + 12);
  p += 16 + 8; // nLabels is a u64
  const nConstraints = b.readUInt32LE(p);
  return { prime, nWires, nOutputs, nPubInputs, nPrvInputs, nConstraints, constraints: requireSection(t, 2, what) };
}

/** Constraint chunks of about `chunkBytes` (one constraint larger than that comes alone). */
export async function* constraintChunks(fh: FileHandle, r: R1csHeader, chunkBytes = 32 << 20): AsyncGenerator<ConstraintChunk> {
  const end = r.constraints.pos + r.constraints.size;
  let pos = r.constraints.pos;
  let c = 0;
  let carry: Buffer = Buffer.alloc(0);
  while (c < r.nConstraints) {
    const want = Math.min(end - pos, Math.max(chunkBytes, carry.length + 1) - carry.length);
    if (want <= 0) throw new ZkinferError('SETUP_FAILED', `r1cs: constraints section ends after ${c} of ${r.nConstraints} constraints`);
    const buf = carry.length ? Buffer.concat([carry, await readBytes(fh, pos, want)]) : await readBytes(fh, pos, want);
    pos += want;
    // Cut after the last whole constraint.
    let q = 0;
    let n = 0;
    for (;;) {
      if (c + n === r.nConstraints) break;
      let e = q;
      let whole = true;
      for (let m = 0; m < 3; m++) {
        if (e + 4 > buf.length) {
          whole = false;
          break;
        }
        e += 4 + buf.readUInt32LE(e) * TERM;
      }
      if (!whole || e > buf.length) break;
      q = e;
      n++;
    }
    carry = buf.subarray(q);
    if (n === 0) {
      chunkBytes *= 2; // one constraint longer than a chunk: read more
      continue;
    }
    yield { bytes: buf.subarray(0, q), first: c, count: n };
    c += n;
  }
}
