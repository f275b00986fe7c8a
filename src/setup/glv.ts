/**
 * GLV decomposition on BN254's G1: k ≡ k1 + k2·λ (mod r) with |k1|, |k2|
 * below 2^128, from the short lattice basis of {(a, b): a + b·λ ≡ 0}. The
 * native scaling takes the parts and does half the doublings of a plain
 * multiplication (φ(x, y) = (β·x, y) is λ·P).
 */
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
export const GLV_LAMBDA = 4407920970296243842393367215006156084916469457145843978461n;
const A1 = 9931322734385697763n;
const B1 = -147946756881789319000765030803803410728n;
const A2 = 147946756881789319010696353538189108491n;
const B2 = 9931322734385697763n;

const floorDiv = (a: bigint, b: bigint): bigint => a / b - (a % b !== 0n && a < 0n ? 1n : 0n);
/** round(n / R), R being the basis' determinant. */
const roundDiv = (n: bigint): bigint => floorDiv(2n * n + R, 2n * R);

export function glvSplit(k: bigint): [bigint, bigint] {
  k %= R;
  const c1 = roundDiv(B2 * k);
  const c2 = roundDiv(-B1 * k);
  return [k - c1 * A1 - c2 * A2, -c1 * B1 - c2 * B2];
}

/** The 66-byte form NativeBn254.scaleG1 takes: per part a sign byte, then 32 bytes little-endian magnitude. */
export function glvParts(k: bigint): Uint8Array {
  const out = new Uint8Array(66);
  glvSplit(k).forEach((v, i) => {
    out[i * 33] = v < 0n ? 1 : 0;
    let m = v < 0n ? -v : v;
    for (let j = 0; j < 32; j++, m >>= 8n) out[i * 33 + 1 + j] = Number(m & 0xffn);
  });
  return out;
}
