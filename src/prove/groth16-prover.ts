import crypto from 'node:crypto';
import type { Groth16Proof } from 'snarkjs';
import { sections } from '../binfile.js';
import { keyFromBytes, keyFromFile, type Groth16Key } from './groth16-key.js';
import { WasmGroth16, type PhaseDone, type ProofPoints } from './groth16-wasm.js';
import { nativeBn254, type NativeBn254 } from './native.js';
import { FIELD_PRIME, fieldFromLe, fieldToLe } from '../receipt/field.js';

/** The prover's phases, in order, as Groth16Prover.prove reports their times. */
export const PROVE_PHASES = ['qap', 'fft', 'msmA', 'msmB1', 'msmB2', 'msmC', 'msmH', 'assemble'] as const;
export type ProvePhase = typeof PROVE_PHASES[number];

/** Uniform below the group order: 48 random bytes reduced. */
const randomScalar = (): bigint => BigInt(`0x${crypto.randomBytes(48).toString('hex')}`) % FIELD_PRIME;

/**
 * Groth16 prover with the proving key parsed once and kept in memory; its
 * proofs are snarkjs' (same randomization, same JSON). Where the native
 * kernels build (native.ts) every step runs there, on the key's sections in
 * place: QAP evaluation, the three coset transforms and the quotient, the
 * five multi-exponentiations and the final randomized sums. Otherwise it
 * runs on snarkjs' WebAssembly curve (groth16-wasm.ts).
 */
export class Groth16Prover {
  private constructor(private readonly key: Groth16Key, private readonly native: NativeBn254 | null, private readonly wasm: WasmGroth16 | null) {}

  /** From a zkey's bytes, used in place (they must not change while the prover lives). */
  static async load(zkey: Uint8Array): Promise<Groth16Prover> {
    return Groth16Prover.from(keyFromBytes(zkey));
  }

  /** From a zkey file, each section read into its own buffer: a key larger than one read (2 GB) loads. */
  static async loadFile(file: string): Promise<Groth16Prover> {
    return Groth16Prover.from(keyFromFile(file, nativeBn254()));
  }

  private static async from(key: Groth16Key): Promise<Groth16Prover> {
    const native = nativeBn254();
    return new Groth16Prover(key, native, native ? null : await WasmGroth16.create(key));
  }

  /**
   * wtns: the witness file bytes (as circom's calculateWTNSBin returns them).
   * onPhase, when given, hears each phase's wall time as it ends.
   */
  async prove(wtns: Uint8Array, onPhase?: (phase: ProvePhase, ms: number) => void): Promise<{ proof: Groth16Proof; publicSignals: string[] }> {
    const { key } = this;
    const witness = sections(wtns, 'wtns').get(2);
    if (!witness) throw new Error('witness file has no values section');
    if (witness.byteLength !== key.nVars * 32) throw new Error(`witness has ${witness.byteLength / 32} values, the key expects ${key.nVars}`);
    let t = onPhase ? performance.now() : 0;
    const done: PhaseDone = onPhase
      ? (phase) => {
        const now = performance.now();
        onPhase(phase, now - t);
        t = now;
      }
      : () => {};
    const [r, s] = [randomScalar(), randomScalar()];
    const points = this.native ? this.proveNative(this.native, witness, r, s, done) : await this.wasm!.prove(witness, r, s, done);
    done('assemble');
    const publicSignals: string[] = [];
    for (let i = 1; i <= key.nPublic; i++) publicSignals.push(fieldFromLe(witness, i * 32).toString());
    return { proof: { ...points, protocol: 'groth16', curve: 'bn128' } as Groth16Proof, publicSignals };
  }

  private proveNative(nat: NativeBn254, witness: Uint8Array, r: bigint, s: bigint, done: PhaseDone): ProofPoints {
    const { key } = this;
    const abc = nat.qap(key.coeffs, witness, key.domainSize, key.table);
    done('qap');
    const hScalars = nat.quotient(abc);
    done('fft');
    const a = nat.msmG1(key.A, witness);
    done('msmA');
    const b1 = nat.msmG1(key.B1, witness);
    done('msmB1');
    const b2 = nat.msmG2(key.B2, witness);
    done('msmB2');
    const c = nat.msmG1(key.C, witness.subarray((key.nPublic + 1) * 32));
    done('msmC');
    const h = nat.msmG1(key.H, hScalars);
    done('msmH');
    const out = nat.assemble(a, b1, b2, c, h, key.alpha1, key.beta1, key.beta2, key.delta1, key.delta2, fieldToLe(r), fieldToLe(s));
    const coords = Array.from({ length: 8 }, (_, i) => fieldFromLe(out, i * 32));
    const g1 = (x: bigint, y: bigint) => (x === 0n && y === 0n ? ['0', '1', '0'] : [x.toString(), y.toString(), '1']);
    const [bx0, bx1, by0, by1] = coords.slice(2, 6);
    const infB = bx0 === 0n && bx1 === 0n && by0 === 0n && by1 === 0n;
    return {
      pi_a: g1(coords[0], coords[1]),
      pi_b: infB ? [['0', '0'], ['1', '0'], ['0', '0']] : [[bx0.toString(), bx1.toString()], [by0.toString(), by1.toString()], ['1', '0']],
      pi_c: g1(coords[6], coords[7]),
    };
  }
}
