import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PACKAGE_ROOT } from '../root.js';

/**
 * Native BN254 kernels (native/bn254.cc): the Groth16 prover's steps (QAP
 * evaluation, coset FFTs, multi-exponentiations in G1 and G2, the final
 * sums), sparse sums and fixed-scalar scaling for the Groth16 key setup, in
 * ffjavascript's memory layout. Built on first use with the system C++
 * compiler against Node's own headers and cached under a key of the source,
 * Node, the compiler, its flags and the CPU (buildKey); without a compiler
 * the prover keeps to WebAssembly.
 */
export interface NativeBn254 {
  /** Σ scalar_i · P_i: affine Montgomery points, 32-byte standard-form scalars; Jacobian Montgomery result. */
  msmG1(points: Uint8Array, scalars: Uint8Array): Uint8Array;
  msmG2(points: Uint8Array, scalars: Uint8Array): Uint8Array;
  /** Evaluations at shift·w^i of the polynomial through `values` on the roots w^i (all Montgomery). */
  coset(values: Uint8Array, w: Uint8Array, wInv: Uint8Array, nInv: Uint8Array, shift: Uint8Array): Uint8Array;
  /**
   * A·w | B·w | (A·w)∘(B·w) over n constraints, from a proving key's coefficient section (or,
   * with `table`, its compactCoefficients form) and a witness.
   */
  qap(coefficients: Uint8Array, witness: Uint8Array, n: number, table?: Uint8Array): Uint8Array;
  /**
   * Whole 44-byte coefficient entries (a section without its count) as 12-byte entries of
   * (constraint, signal | matrix << 31, index) into a table of the distinct coefficients: `table`
   * so far, returned extended by the chunk's new values. With `out` (12 bytes an entry) the
   * entries are written there instead of a new buffer.
   */
  compactCoefficients(entries: Uint8Array, table: Uint8Array, out?: Uint8Array): [Uint8Array, Uint8Array];
  /**
   * The H multi-exponentiation's scalars (standard form) from qap's output: A, B and C on the
   * coset shift·w^i of their 2^k domain (as coset does each, with ffjavascript's roots), then
   * A·B - C. Returns a view of abc's first third; abc is overwritten.
   */
  quotient(abc: Uint8Array): Uint8Array;
  /**
   * A Groth16 proof from its multi-exponentiations (Jacobian Montgomery, as msmG1 and msmG2
   * return them), the key's α1, β1, β2, δ1, δ2 (affine Montgomery) and the blinding scalars r,
   * s (32 bytes, standard form, below the group order), randomized as snarkjs does: A | B | C,
   * affine, standard form, little-endian (64 + 128 + 64 bytes; zero bytes for infinity).
   */
  assemble(
    a: Uint8Array, b1: Uint8Array, b2: Uint8Array, c: Uint8Array, h: Uint8Array,
    alpha1: Uint8Array, beta1: Uint8Array, beta2: Uint8Array, delta1: Uint8Array, delta2: Uint8Array, r: Uint8Array, s: Uint8Array,
  ): Uint8Array;

  // Groth16 key setup. Points are affine Montgomery (zero bytes: infinity) unless Jacobian is said.
  /**
   * For `count` whole r1cs constraints (base point i for the i-th), adds coefficient·base into
   * the Jacobian accumulator of each term of `matrix` (0 A, 1 B, 2 C) with signal in [lo, hi).
   * Runs on a worker thread; the buffers must not change until it resolves.
   */
  setupSums(g2: boolean, acc: Uint8Array, bases: Uint8Array, constraints: Uint8Array, count: number, matrix: number, lo: number, hi: number): Promise<void>;
  /** acc[i] += bases[first + i] for i < n (Jacobian accumulators, affine bases). */
  addBases(g2: boolean, acc: Uint8Array, bases: Uint8Array, first: number, n: number): void;
  /** Jacobian to affine, one inversion per run of points. */
  toAffine(g2: boolean, jacobian: Uint8Array): Uint8Array;
  /** Affine Montgomery to snarkjs' uncompressed form (big-endian standard; Fq2 as c1, c0). */
  toUncompressed(g2: boolean, points: Uint8Array): Uint8Array;
  /** a_i - b_i in G1. */
  subG1(a: Uint8Array, b: Uint8Array): Uint8Array;
  /** k·P_i in G1 for one 32-byte standard-form scalar k. */
  scaleG1(points: Uint8Array, k: Uint8Array): Uint8Array;
  /** A and B terms of `count` r1cs constraints numbered from `first`, as zkey coefficient entries. */
  setupCoefficients(constraints: Uint8Array, count: number, first: number): Uint8Array;
  /** scalar_i·G for one affine base G and many 32-byte standard-form scalars (a windowed table of G). */
  fixedBase(g2: boolean, generator: Uint8Array, scalars: Uint8Array): Uint8Array;

  // Scalar field batches (Montgomery in) for a development powers of tau.
  /** x^0 .. x^(n-1). */
  frPowers(x: Uint8Array, n: number): Uint8Array;
  /** values_i·k in standard form. */
  frScaleStandard(values: Uint8Array, k: Uint8Array): Uint8Array;
  /** Inverse FFT over the roots of unity of the values' count (a power of two). */
  frIfft(values: Uint8Array, wInv: Uint8Array, nInv: Uint8Array): Uint8Array;
}

const ROOT = PACKAGE_ROOT;
const SOURCE = path.join(ROOT, 'src', 'prove', 'native', 'bn254.cc');
const CACHE = path.join(ROOT, 'build', 'native');
const require = createRequire(import.meta.url);

let loaded: NativeBn254 | null | undefined;
let why = '';

/** Why the native kernels are not in use, if they are not. */
export const nativeUnavailableReason = (): string => why;

/**
 * What the built module depends on: the source, Node's ABI, the compiler and
 * its flags, and the CPU (-march=native builds for this one: a build
 * directory copied to another machine must not load code its CPU lacks).
 */
function buildKey(cxx: string, flags: readonly string[]): string {
  const version = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) throw new Error(`no C++ compiler (${cxx}): ${String(version.error ?? version.stderr).slice(0, 200)}`);
  return crypto.createHash('sha256')
    .update(fs.readFileSync(SOURCE))
    .update(`\0${process.version}\0${process.arch}\0${cxx}\0${version.stdout}\0${flags.join(' ')}\0${cpuIdentity()}`)
    .digest('hex').slice(0, 16);
}

/** The CPU's model and feature flags (the first processor's; all are alike). */
function cpuIdentity(): string {
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name: string) => info.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1] ?? '';
    return `${field('vendor_id')}|${field('model name')}|${field('flags') || field('Features')}`;
  } catch {
    return `${os.cpus()[0]?.model ?? ''}|${os.arch()}`;
  }
}

export function nativeBn254(): NativeBn254 | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.ZKINFER_NATIVE === '0') {
    why = 'disabled by ZKINFER_NATIVE=0';
    return null;
  }
  try {
    const cxx = process.env.CXX ?? 'g++';
    const headers = path.resolve(path.dirname(process.execPath), '..', 'include', 'node');
    const flags = ['-O3', '-march=native', '-std=c++17', '-shared', '-fPIC', '-pthread', `-I${headers}`, '-DNODE_GYP_MODULE_NAME=zkinfer_bn254'];
    const out = path.join(CACHE, `bn254-${buildKey(cxx, flags)}.node`);
    if (!fs.existsSync(out)) {
      if (!fs.existsSync(path.join(headers, 'node_api.h'))) throw new Error(`Node headers not found in ${headers}`);
      fs.mkdirSync(CACHE, { recursive: true });
      // Several processes may build at once: each writes its own file, the rename is atomic.
      const tmp = `${out}.${process.pid}.tmp`;
      const r = spawnSync(cxx, [...flags, SOURCE, '-o', tmp], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`compiler failed: ${(r.stderr || String(r.error ?? '')).slice(0, 400)}`);
      fs.renameSync(tmp, out);
    }
    loaded = require(out) as NativeBn254;
  } catch (e) {
    why = (e as Error).message;
    loaded = null;
  }
  return loaded;
}
