import fs from 'node:fs';
import { FIELD_PRIME } from '../../src/receipt/field.js';
import { sections } from '../../src/binfile.js';

/** A linear combination: wire index -> coefficient. */
export type LC = Map<number, bigint>;

export interface R1cs {
  nWires: number;
  nPubOut: number;
  nPubIn: number;
  nPrvIn: number;
  constraints: Array<[LC, LC, LC]>;
}

/** Parses circom's r1cs binary format (header and constraints sections). */
export function parseR1cs(file: string): R1cs {
  const buf = fs.readFileSync(file);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const secs = sections(buf, 'r1cs');
  const at = (type: number) => secs.get(type)!.byteOffset - buf.byteOffset;
  const h = at(1);
  const n8 = dv.getUint32(h, true);
  let p = h + 4 + n8;
  const nWires = dv.getUint32(p, true);
  const nPubOut = dv.getUint32(p + 4, true);
  const nPubIn = dv.getUint32(p + 8, true);
  const nPrvIn = dv.getUint32(p + 12, true);
  const nConstraints = dv.getUint32(p + 24, true); // after nLabels (u64)
  const readNum = (pos: number): bigint => {
    let v = 0n;
    for (let i = n8 - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[pos + i]);
    return v;
  };
  p = at(2);
  const readLC = (): LC => {
    const n = dv.getUint32(p, true);
    p += 4;
    const lc: LC = new Map();
    for (let i = 0; i < n; i++) {
      lc.set(dv.getUint32(p, true), readNum(p + 4));
      p += 4 + n8;
    }
    return lc;
  };
  const constraints: Array<[LC, LC, LC]> = [];
  for (let c = 0; c < nConstraints; c++) constraints.push([readLC(), readLC(), readLC()]);
  return { nWires, nPubOut, nPubIn, nPrvIn, constraints };
}

const dot = (lc: LC, w: readonly bigint[]): bigint => {
  let s = 0n;
  for (const [i, c] of lc) s += c * w[i];
  return s % FIELD_PRIME;
};

/** Index of the first violated constraint, or -1 when the witness satisfies all. */
export function firstViolation(r: R1cs, w: readonly bigint[]): number {
  for (let i = 0; i < r.constraints.length; i++) {
    const [a, b, c] = r.constraints[i];
    if ((dot(a, w) * dot(b, w) - dot(c, w)) % FIELD_PRIME !== 0n) return i;
  }
  return -1;
}

/** Signal name -> witness index, from circom's .sym file (eliminated signals omitted). */
export function readSym(file: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const parts = line.split(',');
    if (parts.length < 4) continue;
    const wire = Number(parts[1]);
    if (wire >= 0) m.set(parts.slice(3).join(','), wire);
  }
  return m;
}
