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

/** signals must already be canonical field elements (checked by the caller). */
export async function groth16Verify(key: string, vk: VkJson, signals: readonly bigint[], proof: Groth16ProofJson): Promise<boolean> {
  const c = await curve();
  const p = await prepare(key, vk);
  if (signals.length !== p.nPublic) return false;
  let piA: Point;
  let piB: Point;
  let piC: Point;
  try {
    piA = c.G1.fromObject(big(proof.pi_a));
    piB = c.G2.fromObject(big(proof.pi_b));
    piC = c.G1.fromObject(big(proof.pi_c));
  } catch {
    return false;
  }
  if (!c.G1.isValid(piA) || !c.G2.isValid(piB) || !c.G1.isValid(piC)) return false;
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
  return c.Gt.eq(c.Gt.mul(lhs, p.alphaBeta), c.Gt.one);
}
