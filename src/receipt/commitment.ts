import { buildPoseidon } from 'circomlibjs';
import type { ModelIO } from './io.js';

/**
 * Input commitment for `hashed` visibility. Range-checked inputs (in - lo, each
 * below 2^bits) are packed into field elements of at most PACK_BITS bits, then
 * hashed with Poseidon together with a salt. The circuit (circuits/commit.circom)
 * computes exactly this.
 */
export const PACK_BITS = 248;
export const POSEIDON_WIDTH = 16;

export interface CommitLayout {
  readonly perPack: number;
  readonly packs: number;
  /** Poseidon calls of width POSEIDON_WIDTH chained; 0 when one call fits all. */
  readonly chunks: number;
}

/** Inputs per field element when packed: as many bits as fit in PACK_BITS. */
export const inputsPerPack = (bits: number): number => Math.floor(PACK_BITS / bits);

export function commitLayout(count: number, bits: number): CommitLayout {
  const perPack = inputsPerPack(bits);
  const packs = Math.ceil(count / perPack);
  const n = packs + 1;
  const chunks = n <= POSEIDON_WIDTH ? 0 : 1 + Math.ceil((n - POSEIDON_WIDTH) / (POSEIDON_WIDTH - 1));
  return { perPack, packs, chunks };
}

/** The input side of the public signals of a public-visibility model. */
export function publicInputSignals(io: ModelIO, q: readonly bigint[]): bigint[] {
  const per = io.input.perSignal ?? 1;
  return per > 1 ? packInputs(io, q, per) : [...q];
}

/** (in - lo) values, perPack to a field element, little end first; what circuits/commit.circom PackInputs computes. */
export function packInputs(io: ModelIO, q: readonly bigint[], perPack = inputsPerPack(io.input.bits)): bigint[] {
  const packs = Math.ceil(q.length / perPack);
  const lo = BigInt(io.input.lo);
  const out: bigint[] = [];
  for (let p = 0; p < packs; p++) {
    let acc = 0n;
    for (let j = Math.min(q.length, (p + 1) * perPack) - 1; j >= p * perPack; j--) {
      acc = (acc << BigInt(io.input.bits)) + (q[j] - lo);
    }
    out.push(acc);
  }
  return out;
}

type Poseidon = Awaited<ReturnType<typeof buildPoseidon>>;
let poseidonP: Promise<Poseidon> | null = null;
const poseidon = (): Promise<Poseidon> => (poseidonP ??= buildPoseidon());

/** Poseidon over [packs..., salt], chained in 16-wide calls when longer. */
export async function commitInputs(io: ModelIO, q: readonly bigint[], salt: bigint): Promise<bigint> {
  const h = await poseidon();
  const items = [...packInputs(io, q), salt];
  const hash = (xs: bigint[]): bigint => h.F.toObject(h(xs)) as bigint;
  if (items.length <= POSEIDON_WIDTH) return hash(items);
  let state = hash(items.slice(0, POSEIDON_WIDTH));
  for (let i = POSEIDON_WIDTH; i < items.length; i += POSEIDON_WIDTH - 1) {
    const chunk = items.slice(i, i + POSEIDON_WIDTH - 1);
    while (chunk.length < POSEIDON_WIDTH - 1) chunk.push(0n);
    state = hash([state, ...chunk]);
  }
  return state;
}
