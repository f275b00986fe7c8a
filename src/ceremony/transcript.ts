import crypto from 'node:crypto';
import * as snarkjs from 'snarkjs';
import { readSections, sections } from '../binfile.js';
import { ZkinferError } from '../errors.js';
import type { Phase2Contribution } from '../setup/groth16.js';

/** A phase-2 contribution as the proving key records it. */
export interface TranscriptEntry extends Phase2Contribution {
  /** Beacons only: the public random value and the exponent of its hash iterations. */
  readonly beacon?: { readonly hash: string; readonly iterationsExp: number };
}

export interface Phase2Transcript {
  /** zkey protocol id: 1 Groth16, 2 PLONK, 10 FFLONK. */
  readonly protocol: number;
  /** blake2b-512 of the circuit the key was made for (Groth16); null otherwise. */
  readonly circuitHash: string | null;
  readonly contributions: readonly TranscriptEntry[];
}

const ZKEY_HEADER = 1;
const ZKEY_MPC_PARAMS = 10;
export const ZKEY_PROTOCOL = Object.freeze({ groth16: 1, plonk: 2, fflonk: 10 });

interface CurveGroup { toRprUncompressed(out: Uint8Array, offset: number, p: Uint8Array): void }
interface Curve { G1: CurveGroup & { F: { n8: number } }; G2: CurveGroup & { F: { n8: number } } }

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Which protocol a zkey file holds, from its header section. */
export function zkeyProtocol(zkey: Uint8Array): number {
  return protocolOf(sections(zkey, 'zkey'));
}

function protocolOf(secs: ReadonlyMap<number, Uint8Array>): number {
  const header = secs.get(ZKEY_HEADER);
  if (!header || header.length < 4) throw new ZkinferError('BUILD_INVALID', 'proving key has no header section');
  return new DataView(header.buffer, header.byteOffset, 4).getUint32(0, true);
}

/**
 * Reads the phase-2 transcript (section 10 of a Groth16 zkey, as snarkjs'
 * writeMPCParams lays it out) and recomputes each contribution's hash the
 * way snarkjs prints it: blake2b-512 over the contribution's public key
 * (points uncompressed, big-endian) and its transcript hash. Reading says
 * nothing about validity: zKey.verifyFromR1cs checks the chain.
 */
export async function readPhase2Transcript(zkeyFile: string): Promise<Phase2Transcript> {
  let secs: Map<number, Uint8Array>;
  try {
    // The header and the transcript only: a key's point sections can pass a single read's 2 GB.
    secs = readSections(zkeyFile, 'zkey', [ZKEY_HEADER, ZKEY_MPC_PARAMS]);
  } catch (e) {
    throw new ZkinferError('BUILD_INVALID', `proving key ${zkeyFile}: ${(e as Error).message}`);
  }
  const protocol = protocolOf(secs);
  if (protocol !== ZKEY_PROTOCOL.groth16) return { protocol, circuitHash: null, contributions: [] };
  const mpc = secs.get(ZKEY_MPC_PARAMS);
  if (!mpc) throw new ZkinferError('BUILD_INVALID', `proving key ${zkeyFile} has no phase-2 section`);

  const curve = (await snarkjs.curves.getCurveFromName('bn128')) as Curve;
  const g1 = curve.G1.F.n8 * 2;
  const g2 = curve.G2.F.n8 * 2;
  const dv = new DataView(mpc.buffer, mpc.byteOffset, mpc.byteLength);
  let pos = 0;
  const take = (n: number): Uint8Array => {
    if (pos + n > mpc.length) throw new ZkinferError('BUILD_INVALID', `proving key ${zkeyFile}: phase-2 section is truncated`);
    const b = mpc.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const u32 = (): number => {
    take(4);
    return dv.getUint32(pos - 4, true);
  };
  const uncompressed = (g: CurveGroup, size: number): Uint8Array => {
    const out = new Uint8Array(size);
    g.toRprUncompressed(out, 0, take(size).slice());
    return out;
  };

  const circuitHash = hex(take(64));
  const n = u32();
  const contributions: TranscriptEntry[] = [];
  for (let i = 0; i < n; i++) {
    const h = crypto.createHash('blake2b512');
    h.update(uncompressed(curve.G1, g1)); // delta after
    h.update(uncompressed(curve.G1, g1)); // g1_s
    h.update(uncompressed(curve.G1, g1)); // g1_sx
    h.update(uncompressed(curve.G2, g2)); // g2_spx
    h.update(take(64)); // transcript
    const type = u32();
    const params = take(u32());
    let name = '';
    let iterationsExp: number | null = null;
    let beaconHash: string | null = null;
    for (let p = 0; p < params.length;) {
      const tag = params[p++];
      if (tag === 1) {
        const len = params[p++];
        name = new TextDecoder().decode(params.subarray(p, p + len));
        p += len;
      } else if (tag === 2) {
        iterationsExp = params[p++];
      } else if (tag === 3) {
        const len = params[p++];
        beaconHash = hex(params.subarray(p, p + len));
        p += len;
      } else {
        throw new ZkinferError('BUILD_INVALID', `proving key ${zkeyFile}: contribution ${i + 1} has unknown parameter ${tag}`);
      }
    }
    const entry: Phase2Contribution = { name, hash: h.digest('hex'), kind: type === 1 ? 'beacon' : 'contribution' };
    contributions.push(type === 1 && beaconHash !== null && iterationsExp !== null ? { ...entry, beacon: { hash: beaconHash, iterationsExp } } : entry);
  }
  return { protocol, circuitHash, contributions };
}
