import { buildBn128 } from 'ffjavascript';

/**
 * Groth16 verification with the key prepared once: the verification key's
 * points are decoded and kept per key, and the curve runs single-threaded
 * (a verification is one small multi-exponentiation and four pairings, too
 * little to pay for worker round trips). Same checks as snarkjs' verifier.
 */
type Curve = any;
type Point = Uint8Array;

interface Prepared {
  ic0: Point;
  ic: Uint8Array;
  /** e(alpha, beta): the same for every proof under this key. */
  alphaBeta: Uint8Array;
  /** gamma and delta in G2, prepared for Miller loops once. */
  gamma2: Uint8Array;
  delta2: Uint8Array;
  nPublic: number;
}

let curveP: Promise<Curve> | null = null;
const curve = (): Promise<Curve> => (curveP ??= buildBn128(true));

/** BN254's parameter u: q = 36u^4 + 36u^3 + 24u^2 + 6u + 1 and r = 36u^4 + 36u^3 + 18u^2 + 6u + 1, so q - r = 6u^2. */
const U = 4965661367192848881n;
const SIX_U2 = 6n * U * U;

/** psi = untwist, Frobenius, twist on y^2 = x^3 + 3/xi (xi = 9 + u): (x, y) -> (conj(x) xi^((q-1)/3), conj(y) xi^((q-1)/2)). */
interface Psi {
  readonly cx: Uint8Array;
  readonly cy: Uint8Array;
}
const psiConstants = new WeakMap<object, Psi>();

/**
 * B is in G2 (the order-r subgroup of the twist) iff psi(B) = [6u^2]B. If so:
 * psi satisfies psi^2 - t psi + q = 0 on the whole twist (t = 6u^2 + 1, the
 * trace), hence 0 = (36u^4 - (6u^2 + 1) 6u^2 + q) B = (q - 6u^2) B = [r]B.
 * Conversely psi is [q] = [6u^2] on G2 (q = 6u^2 mod r). A 127-bit scalar
 * multiplication instead of [r]'s 254 bits: half the cost.
 */
function inG2(c: Curve, b: Point): boolean {
  const F2 = c.G2.F;
  const F1 = F2.F;
  let k = psiConstants.get(c);
  if (!k) {
    const xi = F2.fromObject([9n, 1n]);
    k = { cx: F2.exp(xi, (c.q - 1n) / 3n), cy: F2.exp(xi, (c.q - 1n) / 2n) };
    psiConstants.set(c, k);
  }
  const a = c.G2.toAffine(b);
  const conj = (v: Uint8Array): Uint8Array => {
    const o = new Uint8Array(v);
    o.set(F1.neg(v.slice(F1.n8)), F1.n8);
    return o;
  };
  const psi = new Uint8Array(F2.n8 * 2);
  psi.set(F2.mul(conj(a.slice(0, F2.n8)), k.cx));
  psi.set(F2.mul(conj(a.slice(F2.n8)), k.cy), F2.n8);
  return c.G2.eq(psi, c.G2.timesScalar(a, SIX_U2));
}

/** G2 membership as the EVM checks it, for tests: psi's test and the [r]B = 0 it stands for. */
export async function g2Membership(point: readonly (readonly bigint[])[]): Promise<{ psi: boolean; order: boolean }> {
  const c = await curve();
  const b = c.G2.fromObject(point);
  return { psi: inG2(c, b), order: c.G2.isZero(c.G2.timesScalar(b, c.r)) };
}
const cache = new Map<string, Prepared>();

interface VkJson {
  nPublic: number;
  IC: string[][];
  vk_alpha_1: string[];
  vk_beta_2: string[][];
  vk_gamma_2: string[][];
  vk_delta_2: string[][];
}

const big = (x: unknown): unknown => (Array.isArray(x) ? x.map(big) : BigInt(x as string));

async function prepare(key: string, vk: VkJson): Promise<Prepared> {
  const hit = cache.get(key);
  if (hit) return hit;
  const c = await curve();
  const n8 = c.G1.F.n8 * 2;
  const ic = new Uint8Array(n8 * vk.nPublic);
  for (let i = 0; i < vk.nPublic; i++) ic.set(c.G1.toAffine(c.G1.fromObject(big(vk.IC[i + 1]))), i * n8);
  const p: Prepared = {
    ic0: c.G1.fromObject(big(vk.IC[0])),
    ic,
    alphaBeta: c.pairing(c.G1.fromObject(big(vk.vk_alpha_1)), c.G2.fromObject(big(vk.vk_beta_2))),
    gamma2: c.prepareG2(c.G2.toJacobian(c.G2.fromObject(big(vk.vk_gamma_2)))),
    delta2: c.prepareG2(c.G2.toJacobian(c.G2.fromObject(big(vk.vk_delta_2)))),
    nPublic: vk.nPublic,
  };
  if (cache.size > 64) cache.clear();
  cache.set(key, p);
  return p;
}

export interface Groth16ProofJson {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
}

/** BN254 base field: a coordinate at or above it is refused, as the EVM precompiles do. */
const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

class BadPoint extends Error {}

/** A canonical coordinate (decimal below q); the projective one must be exactly 1, as calldata drops it. */
function coordinate(v: unknown, what: string, want?: bigint): bigint {
  if (typeof v !== 'string' || !DECIMAL.test(v) || BigInt(v) >= Q) throw new BadPoint(`${what} is not a canonical coordinate (a decimal below q)`);
  const x = BigInt(v);
  if (want !== undefined && x !== want) throw new BadPoint(`${what} is ${v}; a proof point is affine (projective coordinate 1)`);
  return x;
}

function g1Json(p: unknown, name: string): bigint[] {
  if (!Array.isArray(p) || p.length !== 3) throw new BadPoint(`proof point ${name} is not a G1 point [x, y, 1]`);
  return [coordinate(p[0], `${name}.x`), coordinate(p[1], `${name}.y`), coordinate(p[2], `${name}.z`, 1n)];
}

function g2Json(p: unknown, name: string): bigint[][] {
  const pair = (v: unknown, what: string, want?: [bigint, bigint]): bigint[] => {
    if (!Array.isArray(v) || v.length !== 2) throw new BadPoint(`${name}.${what} is not an Fq2 element [c0, c1]`);
    return [coordinate(v[0], `${name}.${what}[0]`, want?.[0]), coordinate(v[1], `${name}.${what}[1]`, want?.[1])];
  };
  if (!Array.isArray(p) || p.length !== 3) throw new BadPoint(`proof point ${name} is not a G2 point [x, y, [1, 0]]`);
  return [pair(p[0], 'x'), pair(p[1], 'y'), pair(p[2], 'z', [1n, 0n])];
}

export interface Groth16Check {
  readonly valid: boolean;
  readonly reason?: string;
}

/**
 * Groth16 verification; signals must already be canonical field elements
 * (checked by the caller). Before the pairings, the proof's points are held to
 * what the EVM precompiles accept: canonical affine coordinates, A and C on
 * BN254, B on its twist and in the prime-order subgroup of G2 ([r]B = 0; the
 * twist's other points would let a pairing check run in a subgroup the key
 * knows nothing of). The subgroup check is psi's (inG2): one 127-bit scalar
 * multiplication on G2.
 */
export async function groth16Check(key: string, vk: VkJson, signals: readonly bigint[], proof: Groth16ProofJson): Promise<Groth16Check> {
  const c = await curve();
  const p = await prepare(key, vk);
  if (signals.length !== p.nPublic) return { valid: false, reason: `the key takes ${p.nPublic} public signals, not ${signals.length}` };
  let piA: Point;
  let piB: Point;
  let piC: Point;
  try {
    piA = c.G1.fromObject(g1Json(proof.pi_a, 'A'));
    piB = c.G2.fromObject(g2Json(proof.pi_b, 'B'));
    piC = c.G1.fromObject(g1Json(proof.pi_c, 'C'));
  } catch (e) {
    return { valid: false, reason: e instanceof BadPoint ? e.message : 'malformed proof points' };
  }
  if (!c.G1.isValid(piA)) return { valid: false, reason: 'proof point A is not on the curve' };
  if (!c.G1.isValid(piC)) return { valid: false, reason: 'proof point C is not on the curve' };
  if (!c.G2.isValid(piB)) return { valid: false, reason: 'proof point B is not on the twist curve' };
  if (!inG2(c, piB)) return { valid: false, reason: "proof point B is not in G2's prime-order subgroup" };
  const w = new Uint8Array(c.Fr.n8 * signals.length);
  signals.forEach((s, i) => {
    let v = s;
    for (let b = 0; b < c.Fr.n8; b++, v >>= 8n) w[i * c.Fr.n8 + b] = Number(v & 0xffn);
  });
  const cpub = c.G1.add(await c.G1.multiExpAffine(p.ic, w), p.ic0);
  // Groth16: e(A, B) = e(alpha, beta) · e(cpub, gamma) · e(C, delta). Checked as
  // FE(ML(-A, B) · ML(cpub, gamma) · ML(C, delta)) · e(alpha, beta) = 1, with
  // e(alpha, beta) and the G2 preparations of gamma and delta cached per key.
  const g1 = (x: Point) => c.prepareG1(c.G1.toJacobian(x));
  let ml = c.millerLoop(g1(c.G1.neg(piA)), c.prepareG2(c.G2.toJacobian(piB)));
  ml = c.Gt.mul(ml, c.millerLoop(g1(cpub), p.gamma2));
  ml = c.Gt.mul(ml, c.millerLoop(g1(piC), p.delta2));
  const lhs = c.finalExponentiation(ml);
  return { valid: c.Gt.eq(c.Gt.mul(lhs, p.alphaBeta), c.Gt.one) };
}

