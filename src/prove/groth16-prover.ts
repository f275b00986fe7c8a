import crypto from 'node:crypto';
import { buildBn128 } from 'ffjavascript';
import * as snarkjs from 'snarkjs';
import type { Groth16Proof } from 'snarkjs';
import { wasmAlloc as alloc, type ThreadManager } from '../wasm-memory.js';
import { readSections, sections } from '../binfile.js';
import { nativeBn254, type NativeBn254 } from './native.js';

/**
 * Groth16 prover with the proving key parsed once and kept in memory.
 *
 * It follows snarkjs' groth16 prove step for step (same FFTs, multi-
 * exponentiations and randomization), with one change: the QAP evaluations
 * A·w and B·w, a JavaScript loop over every key coefficient in snarkjs, run as
 * two WebAssembly calls per coefficient on buffers that stay in the curve's
 * memory. Keys from --O2 circuits carry millions of coefficients, and that
 * loop was the largest share of proving time. Where the native kernels build
 * (native.ts), the multi-exponentiations and FFTs run there instead.
 */
type Curve = any;

/** The prover's phases, in order, as Groth16Prover.prove reports their times. */
export const PROVE_PHASES = ['qap', 'fft', 'msmA', 'msmB1', 'msmB2', 'msmC', 'msmH', 'assemble'] as const;
export type ProvePhase = typeof PROVE_PHASES[number];

const SECTION = { header: 1, groth16: 2, coeffs: 4, A: 5, B1: 6, B2: 7, C: 8, H: 9 } as const;


let qapCurveP: Promise<Curve> | null = null;

export class Groth16Prover {
  private constructor(
    private readonly curve: Curve,
    private readonly qap: Curve,
    private readonly h: {
      nVars: number; nPublic: number; domainSize: number; power: number;
      alpha1: Uint8Array; beta1: Uint8Array; beta2: Uint8Array; delta1: Uint8Array; delta2: Uint8Array;
    },
    private readonly pts: { A: Uint8Array; B1: Uint8Array; B2: Uint8Array; C: Uint8Array; H: Uint8Array },
    private readonly pCoeffs: number,
    private readonly nCoeffs: number,
    private readonly native: NativeBn254 | null,
    /** The key's coefficient section, for the native QAP evaluation. */
    private readonly coeffs: Uint8Array,
  ) {}

  /** From a zkey's bytes: the sections it needs are copied, so the whole file is not retained. */
  static async load(zkey: Uint8Array): Promise<Groth16Prover> {
    const s = sections(zkey, 'zkey');
    return Groth16Prover.fromSections(new Map([...s].map(([k, v]) => [k, new Uint8Array(v)])));
  }

  /**
   * From a zkey file, each section read into its own buffer: a key larger
   * than one file read (2 GB) or one Buffer (4 GB) loads, and nothing is
   * copied twice.
   */
  static async loadFile(file: string): Promise<Groth16Prover> {
    return Groth16Prover.fromSections(readSections(file, 'zkey', [SECTION.header, SECTION.groth16, SECTION.coeffs, SECTION.A, SECTION.B1, SECTION.B2, SECTION.C, SECTION.H]));
  }

  private static async fromSections(s: Map<number, Uint8Array>): Promise<Groth16Prover> {
    const proto = new DataView(s.get(SECTION.header)!.buffer, s.get(SECTION.header)!.byteOffset).getUint32(0, true);
    if (proto !== 1) throw new Error('zkey is not a Groth16 key');
    const native = nativeBn254();
    // The native kernels leave the curve only a few point operations: a
    // single-threaded one does them without snarkjs' worker threads and heaps.
    const qap = await (qapCurveP ??= buildBn128(true));
    const curve = native ? qap : await snarkjs.curves.getCurveFromName('bn128') as Curve;
    const g = s.get(SECTION.groth16)!;
    const dv = new DataView(g.buffer, g.byteOffset, g.byteLength);
    const n8q = dv.getUint32(0, true);
    let p = 4 + n8q;
    const n8r = dv.getUint32(p, true);
    p += 4 + n8r;
    const nVars = dv.getUint32(p, true);
    const nPublic = dv.getUint32(p + 4, true);
    const domainSize = dv.getUint32(p + 8, true);
    p += 12;
    const g1 = () => {
      const v = curve.G1.fromRprLEM(g, p);
      p += n8q * 2;
      return v;
    };
    const g2 = () => {
      const v = curve.G2.fromRprLEM(g, p);
      p += n8q * 4;
      return v;
    };
    const alpha1 = g1();
    const beta1 = g1();
    const beta2 = g2();
    g2(); // gamma2: verification only
    const delta1 = g1();
    const delta2 = g2();
    const coeffs = s.get(SECTION.coeffs)!;
    const nCoeffs = new DataView(coeffs.buffer, coeffs.byteOffset).getUint32(0, true);
    const copy = (k: number) => {
      const x = s.get(k);
      if (!x) throw new Error(`zkey has no section ${k}`);
      return x;
    };
    // Without native kernels the coefficients go once into a single-threaded
    // curve's memory, where the WebAssembly QAP loop runs.
    let pCoeffs = -1;
    if (!native) {
      pCoeffs = alloc(qap.tm, coeffs.byteLength);
      qap.tm.u8.set(coeffs, pCoeffs);
    }
    return new Groth16Prover(curve, qap, {
      nVars, nPublic, domainSize, power: Math.log2(domainSize), alpha1, beta1, beta2, delta1, delta2,
    }, { A: copy(SECTION.A), B1: copy(SECTION.B1), B2: copy(SECTION.B2), C: copy(SECTION.C), H: copy(SECTION.H) }, pCoeffs, nCoeffs, native, native ? copy(SECTION.coeffs) : new Uint8Array(0));
  }

  /** A·w, B·w and their product over the constraint domain, in Montgomery form (WebAssembly). */
  private abc(witness: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
    const tm = this.qap.tm as ThreadManager;
    const ex = tm.instance.exports;
    const n = this.h.domainSize;
    const mark = tm.u32[0];
    const pW = alloc(tm, witness.byteLength);
    const pA = alloc(tm, n * 32);
    const pB = alloc(tm, n * 32);
    const pC = alloc(tm, n * 32);
    const pT = alloc(tm, 32);
    tm.u8.set(witness, pW);
    tm.u8.fill(0, pA, pA + 2 * n * 32);
    const u32 = tm.u32;
    const mul = ex.frm_mul;
    const add = ex.frm_add;
    const out = [pA, pB];
    const entry = 12 + 32;
    let e = this.pCoeffs + 4;
    for (let i = 0; i < this.nCoeffs; i++, e += entry) {
      const w32 = e >>> 2;
      const dst = out[u32[w32]] + u32[w32 + 1] * 32;
      mul(e + 12, pW + u32[w32 + 2] * 32, pT);
      add(dst, pT, dst);
    }
    for (let i = 0; i < n; i++) mul(pA + i * 32, pB + i * 32, pC + i * 32);
    const res: [Uint8Array, Uint8Array, Uint8Array] = [
      tm.u8.slice(pA, pA + n * 32), tm.u8.slice(pB, pB + n * 32), tm.u8.slice(pC, pC + n * 32),
    ];
    tm.u32[0] = mark;
    return res;
  }

  /** (a·b - c) in standard form, as the H multi-exponentiation takes it. */
  private join(a: Uint8Array, b: Uint8Array, c: Uint8Array): Uint8Array {
    const tm = this.qap.tm as ThreadManager;
    const ex = tm.instance.exports;
    const n = a.length / 32;
    const mark = tm.u32[0];
    const pa = alloc(tm, a.length);
    const pb = alloc(tm, b.length);
    const pc = alloc(tm, c.length);
    tm.u8.set(a, pa);
    tm.u8.set(b, pb);
    tm.u8.set(c, pc);
    for (let i = 0; i < n; i++) {
      const o = i * 32;
      ex.frm_mul(pa + o, pb + o, pa + o);
      ex.frm_sub(pa + o, pc + o, pa + o);
    }
    ex.frm_batchFromMontgomery(pa, n, pa);
    const r = tm.u8.slice(pa, pa + a.length);
    tm.u32[0] = mark;
    return r;
  }

  /**
   * wtns: the witness file bytes (as circom's calculateWTNSBin returns them).
   * onPhase, when given, hears each phase's wall time as it ends.
   */
  async prove(wtns: Uint8Array, onPhase?: (phase: ProvePhase, ms: number) => void): Promise<{ proof: Groth16Proof; publicSignals: string[] }> {
    const { curve, h, pts } = this;
    const Fr = curve.Fr;
    const G1 = curve.G1;
    const G2 = curve.G2;
    const witness = sections(wtns, 'wtns').get(2)!;
    if (witness.byteLength !== h.nVars * 32) throw new Error(`witness has ${witness.byteLength / 32} values, the key expects ${h.nVars}`);
    let t = onPhase ? performance.now() : 0;
    const done = onPhase
      ? (phase: ProvePhase) => {
        const now = performance.now();
        onPhase(phase, now - t);
        t = now;
      }
      : () => {};

    // The QAP quotient is evaluated on the coset shifted by a 2n-th root of unity.
    const inc = h.power === Fr.s ? Fr.shift : Fr.w[h.power + 1];
    const nat = this.native;
    let hScalars: Uint8Array;
    if (nat) {
      const abc = nat.qap(this.coeffs, witness, h.domainSize);
      done('qap');
      const w = Fr.w[h.power];
      hScalars = nat.quotient(abc, w, Fr.inv(w), Fr.inv(Fr.e(h.domainSize)), inc);
      done('fft');
    } else {
      const [aT, bT, cT] = this.abc(witness);
      done('qap');
      const odd = async (x: Uint8Array) => Fr.fft(await Fr.batchApplyKey(await Fr.ifft(x), Fr.e(1), inc));
      const [ao, bo, co] = [await odd(aT), await odd(bT), await odd(cT)];
      hScalars = this.join(new Uint8Array(ao), new Uint8Array(bo), new Uint8Array(co));
      done('fft');
    }

    const g1 = async (p: Uint8Array, s: Uint8Array) => (nat ? nat.msmG1(p, s) : G1.multiExpAffine(p, s));
    let piA = await g1(pts.A, witness);
    done('msmA');
    let pib1 = await g1(pts.B1, witness);
    done('msmB1');
    let piB = nat ? nat.msmG2(pts.B2, witness) : await G2.multiExpAffine(pts.B2, witness);
    done('msmB2');
    let piC = await g1(pts.C, witness.subarray((h.nPublic + 1) * 32));
    done('msmC');
    const resH = await g1(pts.H, hScalars);
    done('msmH');

    const rnd = () => Fr.e(BigInt(`0x${crypto.randomBytes(48).toString('hex')}`));
    const r = rnd();
    const s = rnd();
    piA = G1.add(G1.add(piA, h.alpha1), G1.timesFr(h.delta1, r));
    piB = G2.add(G2.add(piB, h.beta2), G2.timesFr(h.delta2, s));
    pib1 = G1.add(G1.add(pib1, h.beta1), G1.timesFr(h.delta1, s));
    piC = G1.add(piC, resH);
    piC = G1.add(piC, G1.timesFr(piA, s));
    piC = G1.add(piC, G1.timesFr(pib1, r));
    piC = G1.add(piC, G1.timesFr(h.delta1, Fr.neg(Fr.mul(r, s))));

    const publicSignals: string[] = [];
    for (let i = 1; i <= h.nPublic; i++) {
      let v = 0n;
      for (let b = 31; b >= 0; b--) v = (v << 8n) | BigInt(witness[i * 32 + b]);
      publicSignals.push(v.toString());
    }
    const str = (x: unknown): unknown => (Array.isArray(x) ? x.map(str) : typeof x === 'bigint' ? x.toString() : x);
    const proof = {
      pi_a: str(G1.toObject(G1.toAffine(piA))) as string[],
      pi_b: str(G2.toObject(G2.toAffine(piB))) as string[][],
      pi_c: str(G1.toObject(G1.toAffine(piC))) as string[],
      protocol: 'groth16',
      curve: 'bn128',
    };
    done('assemble');
    return { proof, publicSignals };
  }
}
