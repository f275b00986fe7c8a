import { readSections, sections, type SectionReader } from '../binfile.js';
import type { NativeBn254 } from './native.js';

/** Sections of a snarkjs Groth16 zkey that proving reads. */
export const SECTION = { header: 1, groth16: 2, coeffs: 4, A: 5, B1: 6, B2: 7, C: 8, H: 9 } as const;

/**
 * A Groth16 proving key as the prover uses it: the header's sizes, its
 * points as stored (affine, little-endian Montgomery: G1 64 bytes, G2 128),
 * and the coefficient and point sections as views into the key's bytes.
 */
export interface Groth16Key {
  readonly nVars: number;
  readonly nPublic: number;
  readonly domainSize: number;
  readonly power: number;
  readonly alpha1: Uint8Array;
  readonly beta1: Uint8Array;
  readonly beta2: Uint8Array;
  readonly delta1: Uint8Array;
  readonly delta2: Uint8Array;
  /**
   * Section 4 as stored: a u32 count, then entries of (matrix, constraint, signal u32; coefficient
   * 32 bytes); or, with `table`, in native compactCoefficients' form.
   */
  readonly coeffs: Uint8Array;
  readonly table?: Uint8Array;
  readonly nCoeffs: number;
  readonly A: Uint8Array;
  readonly B1: Uint8Array;
  readonly B2: Uint8Array;
  readonly C: Uint8Array;
  readonly H: Uint8Array;
}

/** From the zkey's bytes: views into them, no copies. */
export function keyFromBytes(zkey: Uint8Array): Groth16Key {
  return keyFromSections(sections(zkey, 'zkey'));
}

/**
 * From a zkey file, each section read into its own buffer (a key above one
 * read's 2 GB loads). With native kernels the coefficient section, the
 * largest, is converted to compact form as it is read, and never held whole.
 */
export function keyFromFile(file: string, native: NativeBn254 | null): Groth16Key {
  let table: Uint8Array | undefined;
  const compact: SectionReader = (read, size) => {
    const ENTRY = 44;
    const count = (size - 4) / ENTRY;
    if (!Number.isInteger(count)) throw new Error('zkey coefficient section is not whole entries');
    for (const head of read(0, 4, 4)) {
      if (new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) !== count) throw new Error('zkey coefficient count differs from its section size');
      break;
    }
    const out = new Uint8Array(count * 12);
    let t: Uint8Array = new Uint8Array(0);
    let at = 0;
    for (const chunk of read(4, 1 << 22, ENTRY)) {
      const n = chunk.byteLength / ENTRY;
      t = native!.compactCoefficients(chunk, t, out.subarray(at, at + n * 12))[1];
      at += n * 12;
    }
    table = t;
    return out;
  };
  const s = readSections(file, 'zkey', Object.values(SECTION), native ? new Map([[SECTION.coeffs, compact]]) : new Map());
  return keyFromSections(s, table);
}

function keyFromSections(s: Map<number, Uint8Array>, table?: Uint8Array): Groth16Key {
  const need = (k: number) => {
    const x = s.get(k);
    if (!x) throw new Error(`zkey has no section ${k}`);
    return x;
  };
  const head = need(SECTION.header);
  if (head.byteLength < 4 || new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0, true) !== 1) throw new Error('zkey is not a Groth16 key');
  const g = need(SECTION.groth16);
  const dv = new DataView(g.buffer, g.byteOffset, g.byteLength);
  const n8q = dv.getUint32(0, true);
  let p = 4 + n8q;
  const n8r = dv.getUint32(p, true);
  p += 4 + n8r;
  if (n8q !== 32 || n8r !== 32) throw new Error('zkey is not on BN254');
  const nVars = dv.getUint32(p, true);
  const nPublic = dv.getUint32(p + 4, true);
  const domainSize = dv.getUint32(p + 8, true);
  p += 12;
  const take = (bytes: number) => {
    if (p + bytes > g.byteLength) throw new Error('zkey header is truncated');
    const v = g.subarray(p, p + bytes);
    p += bytes;
    return v;
  };
  const alpha1 = take(64);
  const beta1 = take(64);
  const beta2 = take(128);
  take(128); // gamma2: verification only
  const delta1 = take(64);
  const delta2 = take(128);
  const power = Math.log2(domainSize);
  if (!Number.isInteger(power)) throw new Error(`zkey domain size ${domainSize} is not a power of two`);
  const coeffs = need(SECTION.coeffs);
  const nCoeffs = table ? coeffs.byteLength / 12 : new DataView(coeffs.buffer, coeffs.byteOffset, coeffs.byteLength).getUint32(0, true);
  return {
    nVars, nPublic, domainSize, power, alpha1, beta1, beta2, delta1, delta2, coeffs, nCoeffs, ...(table ? { table } : {}),
    A: need(SECTION.A), B1: need(SECTION.B1), B2: need(SECTION.B2), C: need(SECTION.C), H: need(SECTION.H),
  };
}
