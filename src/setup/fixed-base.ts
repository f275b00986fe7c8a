/**
 * Fixed-base scalar multiplication of a curve generator by many scalars,
 * driving ffjavascript's WebAssembly curve directly. A table of the 2^w
 * multiples of 2^(w·j)·G for each w-bit window j turns one multiplication
 * into at most 256/w mixed additions, against about 380 group operations for
 * a plain double-and-add.
 */

import { wasmAlloc as alloc, type ThreadManager } from '../wasm-memory.js';

export type GroupName = 'G1' | 'G2';

interface WasmCurve {
  tm: ThreadManager;
  G1: { F: { n8: number } };
  G2: { F: { n8: number } };
}

export class FixedBase {
  private readonly ex: Record<string, (...a: number[]) => number>;
  private readonly fn: string;
  /** Bytes of an affine / Jacobian point. */
  readonly sA: number;
  private readonly sJ: number;
  private readonly pTable: number;
  private readonly pAcc: number;

  private readonly windows: number;
  private readonly entries: number;

  /** @param wbits window width: 8 (tiny table) or 16 (2^20 table points, twice as fast). */
  constructor(private readonly curve: WasmCurve, group: GroupName, private readonly wbits: 8 | 16 = 8) {
    this.windows = Math.ceil(256 / wbits);
    this.entries = 2 ** wbits;
    const WINDOWS = this.windows;
    const ENTRIES = this.entries;
    const tm = curve.tm;
    this.ex = tm.instance.exports;
    this.fn = group === 'G1' ? 'g1m' : 'g2m';
    const n8 = curve[group].F.n8;
    this.sA = n8 * 2;
    this.sJ = n8 * 3;
    const pGen = group === 'G1' ? (tm as unknown as { pG1gen: number }).pG1gen : (tm as unknown as { pG2gen: number }).pG2gen;
    const count = WINDOWS * ENTRIES;
    this.pTable = alloc(tm, count * this.sA);
    this.pAcc = alloc(tm, this.sJ);
    const pBase = alloc(tm, this.sJ);
    const pJac = alloc(tm, ENTRIES * this.sJ);
    const f = (name: string) => this.ex[`${this.fn}_${name}`];
    f('copy')(pGen, pBase);
    for (let j = 0; j < WINDOWS; j++) {
      f('zero')(pJac);
      for (let b = 1; b < ENTRIES; b++) f('add')(pJac + (b - 1) * this.sJ, pBase, pJac + b * this.sJ);
      // next base = 2^w * base = ((2^w - 1) * base) + base
      f('add')(pJac + (ENTRIES - 1) * this.sJ, pBase, pBase);
      const row = this.pTable + j * ENTRIES * this.sA;
      for (let i = 0; i < ENTRIES; i += 1024) f('batchToAffine')(pJac + i * this.sJ, Math.min(1024, ENTRIES - i), row + i * this.sA);
    }
  }

  /**
   * scalars: n little-endian 32-byte integers in standard form (below r).
   * Returns n affine points in the curve's internal (Montgomery) form.
   */
  mulMany(scalars: Uint8Array, n: number, batch = 1024): Uint8Array {
    const tm = this.curve.tm;
    const add = this.ex[`${this.fn}_addMixed`];
    const zero = this.ex[`${this.fn}_zero`];
    const copy = this.ex[`${this.fn}_copy`];
    const toAffine = this.ex[`${this.fn}_batchToAffine`];
    const out = new Uint8Array(n * this.sA);
    const mark = tm.u32[0];
    const pJ = alloc(tm, batch * this.sJ);
    const pA = alloc(tm, batch * this.sA);
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start);
      for (let i = 0; i < m; i++) {
        const s = (start + i) * 32;
        zero(this.pAcc);
        for (let j = 0; j < this.windows; j++) {
          const b = this.wbits === 8 ? scalars[s + j] : scalars[s + 2 * j] | (scalars[s + 2 * j + 1] << 8);
          if (b !== 0) add(this.pAcc, this.pTable + (j * this.entries + b) * this.sA, this.pAcc);
        }
        copy(this.pAcc, pJ + i * this.sJ);
      }
      toAffine(pJ, m, pA);
      out.set(tm.u8.subarray(pA, pA + m * this.sA), start * this.sA);
    }
    tm.u32[0] = mark;
    return out;
  }
}
