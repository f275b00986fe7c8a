import { wasmAlloc as alloc, type ThreadManager } from '../wasm-memory.js';
import type { Groth16Key } from './groth16-key.js';

/** Proof points as snarkjs writes them: decimal strings, projective with z = 1. */
export interface ProofPoints {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
}

export type PhaseDone = (phase: 'qap' | 'fft' | 'msmA' | 'msmB1' | 'msmB2' | 'msmC' | 'msmH' | 'assemble') => void;

type Curve = any;
let qapCurveP: Promise<Curve> | null = null;

/**
 * The prover without native kernels, step for step as snarkjs' groth16
 * prove (same FFTs, multi-exponentiations and randomization) on its
 * WebAssembly curve, with one change: the QAP evaluations A·w and B·w, a
 * JavaScript loop over every key coefficient in snarkjs, run as two
 * WebAssembly calls per coefficient on buffers that stay in a single-
 * threaded curve's memory.
 */
export class WasmGroth16 {
  private constructor(private readonly curve: Curve, private readonly qap: Curve, private readonly pCoeffs: number, private readonly key: Groth16Key) {}

  static async create(key: Groth16Key): Promise<WasmGroth16> {
    const [snarkjs, ffjs] = await Promise.all([import('snarkjs'), import('ffjavascript')]);
    const curve = await snarkjs.curves.getCurveFromName('bn128') as Curve;
    const qap = await (qapCurveP ??= ffjs.buildBn128(true));
    // The coefficients go once into the single-threaded curve's memory.
    const pCoeffs = alloc(qap.tm, key.coeffs.byteLength);
    qap.tm.u8.set(key.coeffs, pCoeffs);
    return new WasmGroth16(curve, qap, pCoeffs, key);
  }

  async prove(witness: Uint8Array, r: bigint, s: bigint, done: PhaseDone): Promise<ProofPoints> {
    const { curve, key } = this;
    const { Fr, G1, G2 } = curve;
    const [aT, bT, cT] = this.abc(witness);
    done('qap');
    // The QAP quotient is evaluated on the coset shifted by a 2n-th root of unity.
    const inc = key.power === Fr.s ? Fr.shift : Fr.w[key.power + 1];
    const odd = async (x: Uint8Array) => new Uint8Array(await Fr.fft(await Fr.batchApplyKey(await Fr.ifft(x), Fr.e(1), inc)));
    const hScalars = this.join(await odd(aT), await odd(bT), await odd(cT));
    done('fft');
    let piA = await G1.multiExpAffine(key.A, witness);
    done('msmA');
    let pib1 = await G1.multiExpAffine(key.B1, witness);
    done('msmB1');
    let piB = await G2.multiExpAffine(key.B2, witness);
    done('msmB2');
    let piC = await G1.multiExpAffine(key.C, witness.subarray((key.nPublic + 1) * 32));
    done('msmC');
    const resH = await G1.multiExpAffine(key.H, hScalars);
    done('msmH');
    const fr = (x: bigint) => Fr.e(x);
    const [alpha1, beta1, delta1] = [key.alpha1, key.beta1, key.delta1].map((p) => G1.fromRprLEM(p, 0));
    const [beta2, delta2] = [key.beta2, key.delta2].map((p) => G2.fromRprLEM(p, 0));
    piA = G1.add(G1.add(piA, alpha1), G1.timesFr(delta1, fr(r)));
    piB = G2.add(G2.add(piB, beta2), G2.timesFr(delta2, fr(s)));
    pib1 = G1.add(G1.add(pib1, beta1), G1.timesFr(delta1, fr(s)));
    piC = G1.add(piC, resH);
    piC = G1.add(piC, G1.timesFr(piA, fr(s)));
    piC = G1.add(piC, G1.timesFr(pib1, fr(r)));
    piC = G1.add(piC, G1.timesFr(delta1, Fr.neg(Fr.mul(fr(r), fr(s)))));
    const str = (x: unknown): unknown => (Array.isArray(x) ? x.map(str) : typeof x === 'bigint' ? x.toString() : x);
    return {
      pi_a: str(G1.toObject(G1.toAffine(piA))) as string[],
      pi_b: str(G2.toObject(G2.toAffine(piB))) as string[][],
      pi_c: str(G1.toObject(G1.toAffine(piC))) as string[],
    };
  }

  /** A·w, B·w and their product over the constraint domain, in Montgomery form. */
  private abc(witness: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
    const tm = this.qap.tm as ThreadManager;
    const ex = tm.instance.exports;
    const n = this.key.domainSize;
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
    for (let i = 0; i < this.key.nCoeffs; i++, e += entry) {
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
}
