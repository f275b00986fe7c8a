import fs from 'node:fs';
import { ZkinferError } from '../errors.js';
import { FIELD_PRIME, toField } from '../receipt/field.js';
import { addScaled, lin, ONE, type Coef, type Lin } from './lin.js';
import { constraintBytes, encodeConstraint, LinPacker, N8, writeCoef, writeElement } from './encode.js';

/**
 * Wires from here up are eliminated: signals a public output's linear
 * definition replaces (see lower/pivots.ts). They are never numbered; every
 * constraint that mentions one is held and rewritten when the circuit ends.
 */
export const PIVOT_BASE = 2 ** 30;

/** Where a builder's constraints go: an open file (streamed) or nowhere (witness only). */
export interface BuilderOptions {
  /** Record constraints (compile) or only values (prove). */
  readonly constraints: boolean;
  /** Signal names for the .sym map (compile only). */
  readonly names: boolean;
}

type Triple = readonly [Lin, Lin, Lin];
export type Name = string | (() => string);

const CHUNK = 1 << 24;

/**
 * A rank-1 constraint system and its witness, built in one pass. Gadgets
 * allocate wires with their values and enforce A·B = C over linear
 * combinations; with `constraints: false` enforce is skipped (its lins are
 * built lazily), so proving pays only for the values.
 *
 * Wires are numbered as circom numbers them: 0 is the constant 1, then the
 * public outputs, the public inputs, the private inputs, then the rest in
 * order of creation.
 */
export class Builder {
  readonly constraining: boolean;
  private readonly naming: boolean;
  private values = new Float64Array(1 << 16);
  /** Values that are not safe integers (field elements of Poseidon, packs). */
  private readonly big = new Map<number, bigint>();
  private nWires = 1;
  private readonly pivotValues: Array<number | bigint> = [];
  private readonly names: string[] = [];
  private readonly packer = new LinPacker();
  private chunks: Uint8Array[] = [];
  private chunk = new Uint8Array(0);
  private chunkView = new DataView(this.chunk.buffer);
  private used = 0;
  private count = 0;
  private readonly held: Triple[] = [];

  constructor(opts: BuilderOptions) {
    this.constraining = opts.constraints;
    this.naming = opts.constraints && opts.names;
    this.values[0] = 1;
    if (this.naming) this.names.push('one');
  }

  /** Constraints so far (held ones included). */
  get constraints(): number {
    return this.count;
  }

  get wires(): number {
    return this.nWires;
  }

  /** A new wire holding `value`. */
  wire(value: number | bigint, name?: Name): number {
    const w = this.nWires++;
    if (w >= this.values.length) {
      const v = new Float64Array(this.values.length * 2);
      v.set(this.values);
      this.values = v;
    }
    if (typeof value === 'number') this.values[w] = value;
    else this.setBig(w, value);
    if (this.naming) this.names.push(name === undefined ? '' : typeof name === 'string' ? name : name());
    return w;
  }

  /** An eliminated wire: it has a value, but its constraints are held for rewriting. */
  pivot(value: number | bigint): number {
    this.pivotValues.push(value);
    return PIVOT_BASE + this.pivotValues.length - 1;
  }

  /** Sets a wire allocated before its value was known (a public output). */
  set(w: number, value: number | bigint): void {
    if (typeof value === 'number') {
      this.values[w] = value;
      this.big.delete(w);
    } else this.setBig(w, value);
  }

  private setBig(w: number, v: bigint): void {
    const r = toField(v);
    if (r < 2n ** 52n) {
      this.values[w] = Number(r);
      this.big.delete(w);
      return;
    }
    this.values[w] = Number.NaN;
    this.big.set(w, r);
  }

  /** A wire's value as a field element. */
  value(w: number): bigint {
    if (w >= PIVOT_BASE) return toField(BigInt(this.pivotValues[w - PIVOT_BASE]));
    return fieldValue(this.values, this.big, w);
  }

  /** The value of a linear combination, in the field. */
  eval(x: Lin): bigint {
    let s = 0n;
    for (let i = 0; i < x.w.length; i++) s += BigInt(x.c[i]) * this.value(x.w[i]);
    return toField(s);
  }

  /**
   * Enforces A·B = C. The lins come from a thunk, so a witness-only build
   * never constructs them.
   */
  enforce(lins: () => Triple): void {
    this.count++;
    if (!this.constraining) return;
    const [a, b, c] = lins();
    const t: Triple = [this.packer.pack(a), this.packer.pack(b), this.packer.pack(c)];
    if (mentionsPivot(t)) {
      this.held.push(t);
      return;
    }
    this.append(t);
  }

  private append(t: Triple): void {
    const size = constraintBytes(t[0], t[1], t[2]);
    if (this.used + size > this.chunk.length) {
      if (this.used > 0) this.chunks.push(this.chunk.subarray(0, this.used));
      this.chunk = new Uint8Array(Math.max(CHUNK, size));
      this.chunkView = new DataView(this.chunk.buffer);
      this.used = 0;
    }
    this.used = encodeConstraint(this.chunkView, this.used, t);
  }

  /**
   * Ends the circuit: each pivot is replaced by its expression over numbered
   * wires in the held constraints, which are then encoded last.
   */
  finish(pivotLin: (pivot: number) => Lin): BuiltCircuit {
    if (this.constraining) {
      for (const t of this.held) {
        const r = t.map((x) => this.packer.pack(substitute(x, pivotLin))) as unknown as Triple;
        if (mentionsPivot(r)) throw new ZkinferError('COMPILE_FAILED', 'a pivot expression refers to another pivot');
        this.append(r);
      }
      this.held.length = 0;
      if (this.used > 0) this.chunks.push(this.chunk.subarray(0, this.used));
      this.chunk = new Uint8Array(0);
      this.used = 0;
    }
    return new BuiltCircuit(this.count, this.nWires, this.chunks, this.names, this.values.subarray(0, this.nWires), this.big);
  }
}

/** A wire's value in the field: a safe integer from `values`, or NaN there and the element in `big`. */
const fieldValue = (values: Float64Array, big: ReadonlyMap<number, bigint>, w: number): bigint =>
  (Number.isNaN(values[w]) ? big.get(w)! : toField(BigInt(values[w])));

const mentionsPivot = (t: Triple): boolean => t.some((x) => x.w.some((w) => w >= PIVOT_BASE));

function substitute(x: Lin, pivotLin: (pivot: number) => Lin): Lin {
  if (!x.w.some((w) => w >= PIVOT_BASE)) return x;
  const out = lin();
  for (let i = 0; i < x.w.length; i++) {
    if (x.w[i] >= PIVOT_BASE) addScaled(out, pivotLin(x.w[i]), x.c[i]);
    else {
      out.w.push(x.w[i]);
      out.c.push(x.c[i]);
    }
  }
  return out;
}

/** The public interface of the wires: counts as the r1cs header gives them. */
export interface WireLayout {
  readonly nOutputs: number;
  readonly nPubInputs: number;
  readonly nPrvInputs: number;
}

/** A finished circuit: encoded constraints, witness values and names. */
export class BuiltCircuit {
  constructor(
    readonly nConstraints: number,
    readonly nWires: number,
    /** The r1cs constraints section, in chunks (no chunk is larger than needed for one constraint or 16 MB). */
    readonly constraintChunks: readonly Uint8Array[],
    readonly names: readonly string[],
    private readonly values: Float64Array,
    private readonly big: ReadonlyMap<number, bigint>,
  ) {}

  value(w: number): bigint {
    return fieldValue(this.values, this.big, w);
  }

  /** The witness as a .wtns file's bytes. */
  wtns(): Uint8Array {
    const n = this.nWires;
    const head = 12 + 12 + 4 + N8 + 4 + 12;
    const out = new Uint8Array(head + n * N8);
    const dv = new DataView(out.buffer);
    out.set(Buffer.from('wtns'));
    dv.setUint32(4, 2, true);
    dv.setUint32(8, 2, true);
    dv.setUint32(12, 1, true);
    dv.setBigUint64(16, BigInt(4 + N8 + 4), true);
    dv.setUint32(24, N8, true);
    writeElement(dv, 28, FIELD_PRIME);
    dv.setUint32(28 + N8, n, true);
    dv.setUint32(32 + N8, 2, true);
    dv.setBigUint64(36 + N8, BigInt(n * N8), true);
    let pos = head;
    for (let w = 0; w < n; w++, pos += N8) {
      const v = this.values[w];
      if (v === 0) continue;
      if (v === 1) out[pos] = 1;
      else writeCoef(dv, pos, Number.isNaN(v) ? this.big.get(w)! : v);
    }
    return out;
  }

  /** Writes the .r1cs file: header, constraints (streamed from the chunks), and the wire-to-label map. */
  writeR1cs(file: string, layout: WireLayout): void {
    const fd = fs.openSync(file, 'w');
    try {
      const sectionHead = (type: number, size: number) => {
        const h = Buffer.alloc(12);
        h.writeUInt32LE(type, 0);
        h.writeBigUInt64LE(BigInt(size), 4);
        fs.writeSync(fd, h);
      };
      const magic = Buffer.alloc(12);
      magic.write('r1cs', 0);
      magic.writeUInt32LE(1, 4);
      magic.writeUInt32LE(3, 8);
      fs.writeSync(fd, magic);
      const header = Buffer.alloc(4 + N8 + 4 * 4 + 8 + 4);
      const hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
      hv.setUint32(0, N8, true);
      writeElement(hv, 4, FIELD_PRIME);
      let p = 4 + N8;
      for (const v of [this.nWires, layout.nOutputs, layout.nPubInputs, layout.nPrvInputs]) {
        hv.setUint32(p, v, true);
        p += 4;
      }
      hv.setBigUint64(p, BigInt(this.nWires), true);
      hv.setUint32(p + 8, this.nConstraints, true);
      sectionHead(1, header.length);
      fs.writeSync(fd, header);
      sectionHead(2, this.constraintChunks.reduce((s, c) => s + c.length, 0));
      for (const c of this.constraintChunks) fs.writeSync(fd, c);
      // Labels are the wires themselves: the .sym file names them.
      sectionHead(3, this.nWires * 8);
      const map = Buffer.alloc(Math.min(this.nWires, 1 << 20) * 8);
      for (let start = 0; start < this.nWires; start += map.length / 8) {
        const n = Math.min(map.length / 8, this.nWires - start);
        for (let i = 0; i < n; i++) map.writeBigUInt64LE(BigInt(start + i), i * 8);
        fs.writeSync(fd, map, 0, n * 8);
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /** circom's .sym format: label, wire, component, name. */
  writeSym(file: string): void {
    const fd = fs.openSync(file, 'w');
    try {
      let buf = '';
      for (let w = 1; w < this.names.length; w++) {
        if (!this.names[w]) continue;
        buf += `${w},${w},0,${this.names[w]}\n`;
        if (buf.length > 1 << 20) {
          fs.writeSync(fd, buf);
          buf = '';
        }
      }
      fs.writeSync(fd, buf);
    } finally {
      fs.closeSync(fd);
    }
  }
}

export { ONE, type Coef };
