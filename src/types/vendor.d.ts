// Minimal typings for the untyped snark libraries we call.
declare module 'snarkjs' {
  export type Logger = { debug(...a: unknown[]): void; info(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void };
  export interface Groth16Proof {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  }
  export type FileRef = string | { type: 'mem'; data?: Uint8Array };
  export const groth16: {
    prove(zkey: FileRef | Uint8Array, wtns: FileRef | Uint8Array, logger?: Logger): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(vk: unknown, publicSignals: string[], proof: unknown, logger?: Logger): Promise<boolean>;
    fullProve(input: unknown, wasm: FileRef, zkey: FileRef, logger?: Logger): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    exportSolidityCallData(proof: unknown, publicSignals: string[]): Promise<string>;
  };
  /** PLONK and FFLONK share this surface; their proofs are protocol-specific JSON objects. */
  export interface UniversalSystem {
    setup(r1cs: string, ptau: string, zkey: FileRef, logger?: Logger): Promise<unknown>;
    prove(zkey: FileRef, wtns: FileRef, logger?: Logger): Promise<{ proof: Record<string, unknown>; publicSignals: string[] }>;
    fullProve(input: unknown, wasm: FileRef, zkey: FileRef, logger?: Logger): Promise<{ proof: Record<string, unknown>; publicSignals: string[] }>;
    verify(vk: unknown, publicSignals: string[], proof: unknown, logger?: Logger): Promise<boolean>;
    exportSolidityCallData(proof: unknown, publicSignals: string[]): Promise<string>;
  }
  export const plonk: UniversalSystem;
  export const fflonk: UniversalSystem;
  export const wtns: {
    calculate(input: unknown, wasm: FileRef | Uint8Array, wtns: FileRef, options?: unknown): Promise<void>;
    /** A·w ∘ B·w = C·w for every constraint of an r1cs file. */
    check(r1cs: string, wtns: string, logger?: Logger): Promise<boolean>;
  };
  export const powersOfTau: {
    newAccumulator(curve: unknown, power: number, file: string, logger?: Logger): Promise<unknown>;
    contribute(oldFile: string, newFile: string, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    beacon(oldFile: string, newFile: string, name: string, beaconHash: string, numIterationsExp: number, logger?: Logger): Promise<unknown>;
    preparePhase2(oldFile: string, newFile: string, logger?: Logger): Promise<unknown>;
    verify(file: string, logger?: Logger): Promise<boolean>;
  };
  export const zKey: {
    newZKey(r1cs: string, ptau: string, zkey: FileRef, logger?: Logger): Promise<unknown>;
    contribute(oldZkey: FileRef, newZkey: FileRef, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    beacon(oldZkey: FileRef, newZkey: FileRef, name: string, beaconHash: string, numIterationsExp: number, logger?: Logger): Promise<unknown>;
    verifyFromInit(initZkey: string, ptau: string, zkey: string, logger?: Logger): Promise<boolean>;
    exportVerificationKey(zkey: FileRef, logger?: Logger): Promise<Record<string, unknown>>;
    verifyFromR1cs(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<boolean>;
  };
  export const curves: { getCurveFromName(name: string): Promise<unknown> };
  export const r1cs: {
    info(file: string, logger?: Logger): Promise<{ nConstraints: number; nPubInputs: number; nOutputs: number; nVars: number }>;
  };
}

declare module 'circomlibjs' {
  export interface PoseidonFn {
    (inputs: Array<bigint | number | string>): Uint8Array;
    F: { toObject(x: Uint8Array): bigint; e(x: bigint | number | string): Uint8Array };
  }
  export function buildPoseidon(): Promise<PoseidonFn>;
}

declare module 'r1csfile' {
  export interface R1cs {
    n8: number;
    prime: bigint;
    nVars: number;
    nOutputs: number;
    nPubInputs: number;
    nPrvInputs: number;
    nLabels: number;
    nConstraints: number;
    constraints: Array<[Record<number, bigint>, Record<number, bigint>, Record<number, bigint>]>;
  }
  export function readR1cs(file: string, opts?: { loadConstraints?: boolean; loadMap?: boolean; singleThread?: boolean; getFieldFromPrime?: unknown }): Promise<R1cs>;
}

declare module 'ffjavascript' {
  // The curve engine is untyped; dev-ptau.ts wraps the few calls it makes.
  export function buildBn128(singleThread?: boolean, plugins?: unknown): Promise<any>;
  /** The stream cipher snarkjs seeds its beacon randomness with (eight 32-bit words). */
  export class ChaCha {
    constructor(seed: number[]);
    nextU32(): number;
  }
}
