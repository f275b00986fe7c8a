import type { ProofSystem } from '../receipt/receipt.js';
import type { Phase2Contribution } from '../setup/groth16.js';
import type { Manifest } from './manifest.js';
import { ZkinferError } from '../errors.js';

/**
 * Who can forge proofs for a build's key, as a level. Groth16 as snarkjs
 * makes it fixes gamma to G2's generator, so whoever knows the phase-2
 * secret delta forges any output (A = alpha, B = beta, C = -(IC_0 + sum
 * s_i IC_i) / delta); whoever knows tau forges for every system. The level
 * is the weakest link of the two.
 */
export const TRUST_LEVELS = ['none', 'development', 'single-party', 'multi-party', 'public-ceremony'] as const;
export type TrustLevel = (typeof TRUST_LEVELS)[number];

/**
 * The order `--require` compares by. public-ceremony (PLONK/FFLONK on a
 * public ptau: forging needs every phase-1 contributor) ranks with
 * multi-party (forging needs every phase-2 contributor to collude).
 */
export const TRUST_RANK: Readonly<Record<TrustLevel, number>> = Object.freeze({
  none: 0,
  development: 1,
  'single-party': 2,
  'multi-party': 3,
  'public-ceremony': 3,
});

export interface TrustVerdict {
  readonly level: TrustLevel;
  /** Who could forge a proof for any output, in words. */
  readonly canForge: string;
  readonly reasons: readonly string[];
}

/** What the verdict is judged from: the ptau and the phase-2 chain. */
export interface TrustFacts {
  readonly system: ProofSystem;
  /** public: a known Hermez file; development: made locally; unknown, or null when no matching ptau was found. */
  readonly ptau: 'public' | 'development' | 'unknown' | null;
  /** Why the ptau is null or unknown (not found, not the recorded one); used as the reason. */
  readonly ptauProblem?: string;
  /** Groth16 phase-2 steps, oldest first. */
  readonly phase2: readonly Pick<Phase2Contribution, 'name' | 'hash' | 'kind'>[];
  /** Groth16: the verification key's delta_2 is G2's generator (delta = 1, known to all). */
  readonly deltaIsGenerator?: boolean;
}

export function parseTrustLevel(v: string): TrustLevel {
  if (!(TRUST_LEVELS as readonly string[]).includes(v)) throw new ZkinferError('USAGE', `trust level must be one of ${TRUST_LEVELS.join(', ')}; got "${v}"`);
  return v as TrustLevel;
}

/** Whether `level` is at least `required` in TRUST_RANK's order. */
export const meetsTrust = (level: TrustLevel, required: TrustLevel): boolean => TRUST_RANK[level] >= TRUST_RANK[required];

const short = (h: string) => `${h.slice(0, 16)}…`;

/**
 * The verdict from the facts. A beacon adds no secret (its randomness is
 * public, so anyone recomputes its share of delta); only contributions
 * count as parties.
 */
export function judgeTrust(f: TrustFacts): TrustVerdict {
  const reasons: string[] = [];
  if (f.ptau === null || f.ptau === 'unknown') {
    reasons.push(f.ptauProblem ?? 'the powers of tau is no known public ceremony and no development ceremony: nothing says who knows tau');
    return { level: 'none', canForge: 'anyone who may know tau: the powers of tau is unknown or not the one the keys were made from', reasons };
  }
  const devPtau = f.ptau === 'development';
  if (devPtau) reasons.push('development powers of tau: tau was drawn on one machine, so whoever made it can forge');
  else reasons.push('public powers of tau (Hermez, 54 contributors and a beacon): tau is safe unless all of them colluded');

  if (f.system !== 'groth16') {
    reasons.push(`${f.system}: no circuit-specific secret; the keys follow from the r1cs and the powers of tau`);
    return devPtau
      ? { level: 'development', canForge: 'whoever made the development powers of tau', reasons }
      : { level: 'public-ceremony', canForge: 'only all contributors to the public powers of tau together', reasons };
  }
  const parties = f.phase2.filter((c) => c.kind === 'contribution');
  const beacons = f.phase2.length - parties.length;
  if (f.deltaIsGenerator) {
    reasons.push("the verification key's delta is G2's generator (delta = 1): the phase-2 secret is known to everyone");
    return { level: 'none', canForge: 'anyone', reasons };
  }
  if (parties.length === 0) {
    reasons.push(f.phase2.length === 0
      ? 'no phase-2 contribution: delta is 1, known to everyone'
      : `phase 2 has only ${beacons} beacon(s) and no secret contribution: delta follows from the public beacon value`);
    return { level: 'none', canForge: 'anyone', reasons };
  }
  const named = parties.map((c) => `"${c.name}" (${short(c.hash)})`);
  if (beacons) reasons.push(`${beacons} closing beacon(s): public randomness, no secret`);
  if (parties.length === 1) {
    reasons.push(`one phase-2 contribution, ${named[0]}: whoever made it knows delta`);
    return devPtau
      ? { level: 'development', canForge: `whoever made the development powers of tau, or the phase-2 contributor ${named[0]}`, reasons }
      : { level: 'single-party', canForge: `the phase-2 contributor ${named[0]} (for a plain compile --ptau build: the operator who compiled it)`, reasons };
  }
  reasons.push(`${parties.length} phase-2 contributions: ${named.join(', ')}; delta is safe unless all of them colluded`);
  return devPtau
    ? { level: 'development', canForge: 'whoever made the development powers of tau', reasons }
    : { level: 'multi-party', canForge: `only all ${parties.length} phase-2 contributors together: ${named.join(', ')}`, reasons };
}

/**
 * The verdict a build recorded when it was made (or its ceremony last
 * changed), or one judged from the manifest's ceremony record for builds
 * that predate it. Nothing here is checked against the keys: only
 * `zkinfer audit` does that.
 */
export function recordedTrust(manifest: Pick<Manifest, 'system' | 'ceremony'> & { readonly trust?: TrustVerdict }): TrustVerdict {
  if (manifest.trust) return manifest.trust;
  return judgeTrust({ system: manifest.system, ptau: manifest.ceremony.kind, phase2: manifest.ceremony.phase2 ?? [] });
}
