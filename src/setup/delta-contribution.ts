import crypto from 'node:crypto';
import { ChaCha } from 'ffjavascript';

/**
 * One phase-2 contribution as snarkjs' zkey contribute makes it: a fresh
 * secret δ, its proof of knowledge (g1_s, g1_sx = δ·g1_s, and g2_spx = δ·g2_sp
 * with g2_sp derived from the transcript), the transcript hash and the
 * contribution hash. The points are computed here with ffjavascript's curve
 * (a handful of scalar multiplications); only δ^-1, the scaling of the L and
 * H sections, goes to the caller.
 */
type Curve = any;

export interface DeltaContribution {
  /** δ^-1 as a 32-byte little-endian standard-form scalar. */
  readonly invDelta: Uint8Array;
  /** δ·G1 and δ·G2, affine Montgomery (the zkey header's delta1, delta2). */
  readonly delta1: Uint8Array;
  readonly delta2: Uint8Array;
  /** This contribution's entry in the zkey's section 10, after the count. */
  readonly record: Uint8Array;
  /** blake2b-512 of the public key and transcript, as snarkjs prints it. */
  readonly hash: Uint8Array;
}

const blake = () => crypto.createHash('blake2b512');

/** snarkjs' hashToG2: a ChaCha stream seeded by the hash's first eight big-endian words. */
function hashToG2(curve: Curve, hash: Uint8Array): Uint8Array {
  const dv = new DataView(hash.buffer, hash.byteOffset, hash.byteLength);
  const seed: number[] = [];
  for (let i = 0; i < 8; i++) seed.push(dv.getUint32(i * 4));
  return curve.G2.fromRng(new ChaCha(seed));
}

function u32le(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

/** A contribution on top of a key with no earlier ones (transcript starts at the circuit hash). */
export function makeDeltaContribution(curve: Curve, csHash: Uint8Array, name: string): DeltaContribution {
  const seed: number[] = [];
  const rb = crypto.randomBytes(32);
  for (let i = 0; i < 8; i++) seed.push(rb.readUInt32BE(i * 4));
  const rng = new ChaCha(seed);
  const { G1, G2, Fr } = curve;
  const U1 = (p: Uint8Array) => G1.toUncompressed(G1.toAffine(p));
  const U2 = (p: Uint8Array) => G2.toUncompressed(G2.toAffine(p));

  const prvKey = Fr.fromRng(rng);
  const g1s = G1.toAffine(G1.fromRng(rng));
  const g1sx = G1.toAffine(G1.timesFr(g1s, prvKey));
  const transcript = new Uint8Array(blake().update(csHash).update(U1(g1s)).update(U1(g1sx)).digest());
  const g2sp = hashToG2(curve, transcript);
  const g2spx = G2.toAffine(G2.timesFr(g2sp, prvKey));
  const delta1 = G1.toAffine(G1.timesFr(G1.g, prvKey));
  const delta2 = G2.toAffine(G2.timesFr(G2.g, prvKey));

  const hash = new Uint8Array(blake().update(U1(delta1)).update(U1(g1s)).update(U1(g1sx)).update(U2(g2spx)).update(transcript).digest());

  const nameBytes = Buffer.from(name.substring(0, 64), 'utf8');
  const params = name ? Buffer.concat([Buffer.from([1, nameBytes.length]), nameBytes]) : Buffer.alloc(0);
  const record = Buffer.concat([delta1, g1s, g1sx, g2spx, transcript, u32le(0), u32le(params.length), params]);

  const invDelta = new Uint8Array(32);
  Fr.toRprLE(invDelta, 0, Fr.inv(prvKey));
  return { invDelta, delta1, delta2, record, hash };
}
