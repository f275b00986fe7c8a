import * as snarkjs from 'snarkjs';
import { ZkinferError } from '../errors.js';
import { selector } from './keccak.js';
import { asSolidityProtocol, protocolAbi, signature, type SolidityProtocol } from './protocols.js';
import type { ModelFunction } from './model-contract.js';

/** What calldata needs of a receipt: a Receipt serves, of any system. */
export interface ProofBundle {
  readonly system: string;
  readonly proof: unknown;
  readonly publicSignals: readonly string[];
  /** Decides whether the model contract has topClass (more than one output). */
  readonly outputQuantized?: readonly string[];
}

/** A uint256 as a decimal string, or a bytes32 as 0x and 64 hex digits. */
type Word = string;
type Args = readonly (Word | readonly Word[] | readonly (readonly Word[])[])[];

export interface Calldata {
  readonly system: SolidityProtocol;
  /** snarkjs' exportSolidityCallData output, verbatim (for PLONK snarkjs omits the comma between the two arrays). */
  readonly text: string;
  /** verifyProof's canonical signature, e.g. `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[74])`. */
  readonly signature: string;
  /** verifyProof's arguments in order: uint256 as decimal strings, bytes32 as 0x hex; ready for ethers. */
  readonly args: Args;
  /** ABI-encoded transaction data (0x hex) for the snarkjs verifier's verifyProof. */
  readonly verifier: string;
  /** The same arguments encoded for the model contract's functions (modelContract); topClass only for classifiers. */
  readonly model: Readonly<Partial<Record<ModelFunction, string>>>;
  /**
   * The model contract's verifyFor: these arguments and the input it must be
   * for (`CalldataOptions.input`, by default the input side of the receipt's
   * own signals). Absent without outputQuantized (the signal layout).
   */
  readonly verifyFor?: string;
}

export interface CalldataOptions {
  /** The input side of the public signals the caller expects (decimal strings): packed inputs, or the commitment. */
  readonly input?: readonly string[];
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const UINT256_MAX = (1n << 256n) - 1n;

function word(v: unknown, where: string): bigint {
  if (typeof v !== 'string' || !DECIMAL.test(v) || BigInt(v) > UINT256_MAX) {
    throw new ZkinferError('RECEIPT_INVALID', `receipt ${where} is not a decimal integer below 2^256`);
  }
  return BigInt(v);
}

function field(obj: unknown, key: string, where: string): unknown {
  if (!obj || typeof obj !== 'object' || !(key in obj)) throw new ZkinferError('RECEIPT_INVALID', `receipt proof lacks ${where}`);
  return (obj as Record<string, unknown>)[key];
}

const point = (proof: unknown, key: string, where = key): [bigint, bigint] => {
  const p = field(proof, key, where);
  if (!Array.isArray(p) || p.length < 2) throw new ZkinferError('RECEIPT_INVALID', `receipt proof ${where} is not a point`);
  return [word(p[0], `proof ${where}[0]`), word(p[1], `proof ${where}[1]`)];
};

const scalar = (obj: unknown, key: string, where = key): bigint => word(field(obj, key, where), `proof ${where}`);

/** The proof as verifyProof's words, in the order the templates read them. */
function proofWords(protocol: SolidityProtocol, proof: unknown): bigint[] {
  switch (protocol) {
    case 'groth16': {
      const b = field(proof, 'pi_b', 'pi_b');
      if (!Array.isArray(b) || b.length < 2) throw new ZkinferError('RECEIPT_INVALID', 'receipt proof pi_b is not a G2 point');
      const [x, y] = [point(b, '0', 'pi_b[0]'), point(b, '1', 'pi_b[1]')];
      // The EVM pairing precompile takes G2 coordinates imaginary part first.
      return [...point(proof, 'pi_a'), x[1], x[0], y[1], y[0], ...point(proof, 'pi_c')];
    }
    case 'plonk':
      return [
        ...['A', 'B', 'C', 'Z', 'T1', 'T2', 'T3', 'Wxi', 'Wxiw'].flatMap((k) => point(proof, k)),
        ...['eval_a', 'eval_b', 'eval_c', 'eval_s1', 'eval_s2', 'eval_zw'].map((k) => scalar(proof, k)),
      ];
    case 'fflonk': {
      const polys = field(proof, 'polynomials', 'polynomials');
      const evals = field(proof, 'evaluations', 'evaluations');
      return [
        ...['C1', 'C2', 'W1', 'W2'].flatMap((k) => point(polys, k, `polynomials.${k}`)),
        ...['ql', 'qr', 'qm', 'qo', 'qc', 's1', 's2', 's3', 'a', 'b', 'c', 'z', 'zw', 't1w', 't2w', 'inv'].map((k) => scalar(evals, k, `evaluations.${k}`)),
      ];
    }
    default:
      return protocol satisfies never;
  }
}

const hex32 = (v: bigint): string => v.toString(16).padStart(64, '0');

type Export = (a: unknown, b: unknown) => Promise<string>;
const exporters = snarkjs as unknown as Record<SolidityProtocol, { exportSolidityCallData: Export }>;

/** snarkjs' own text form; FFLONK's exporter takes (publicSignals, proof), the others (proof, publicSignals). */
function snarkjsText(protocol: SolidityProtocol, proof: unknown, pub: string[]): Promise<string> {
  const f = exporters[protocol].exportSolidityCallData;
  return protocol === 'fflonk' ? f(pub, proof) : f(proof, pub);
}

/**
 * A receipt's proof and public signals as arguments of its system's
 * verifyProof: snarkjs' text, structured arguments, and ABI-encoded
 * transaction data for the verifier and the model contract. Values are
 * encoded as given (each must fit in 256 bits): whether they are canonical
 * and verify is for the contract to decide. PLONK and FFLONK text export
 * starts snarkjs' curve: CLI callers release it (releaseCurve) when done.
 */
export async function calldata(receipt: ProofBundle, opts: CalldataOptions = {}): Promise<Calldata> {
  const system = asSolidityProtocol(receipt.system, 'receipt', 'RECEIPT_INVALID');
  const proofProtocol = field(receipt.proof, 'protocol', 'protocol');
  if (proofProtocol !== system) throw new ZkinferError('RECEIPT_INVALID', `receipt says system ${system}, its proof is ${JSON.stringify(proofProtocol)}`);
  if (!Array.isArray(receipt.publicSignals)) throw new ZkinferError('RECEIPT_INVALID', 'receipt publicSignals is not an array');
  const pub = receipt.publicSignals.map((s, i) => word(s, `public signal ${i}`));
  const abi = protocolAbi(system, pub.length);
  // FFLONK's template takes at least one public signal.
  const pubWords = system === 'fflonk' && pub.length === 0 ? [0n] : pub;
  const proof = proofWords(system, receipt.proof);

  const dec = (v: bigint) => v.toString();
  const pubArg = pubWords.map(dec);
  const args: Args =
    system === 'groth16'
      ? [proof.slice(0, 2).map(dec), [proof.slice(2, 4).map(dec), proof.slice(4, 6).map(dec)], proof.slice(6, 8).map(dec), pubArg]
      : [proof.map(system === 'fflonk' ? (v) => `0x${hex32(v)}` : dec), pubArg];

  // Every parameter is a static array, so the ABI encoding is the words in order.
  const body = [...proof, ...pubWords].map(hex32).join('');
  const encode = (fn: string) => `0x${selector(signature(fn, abi))}${body}`;
  const fns: ModelFunction[] = ['isValid', 'verify', 'provenInput'];
  if ((receipt.outputQuantized?.length ?? 0) > 1) fns.push('topClass');
  const outputs = receipt.outputQuantized?.length;
  let verifyFor: string | undefined;
  if (outputs !== undefined) {
    const input = (opts.input ?? receipt.publicSignals.slice(outputs)).map((s, i) => word(s, `expected input signal ${i}`));
    if (input.length !== pub.length - outputs) throw new ZkinferError('USAGE', `the model takes ${pub.length - outputs} input signals after its ${outputs} outputs, ${input.length} given`);
    const forAbi = { ...abi, params: [...abi.params, { type: `uint256[${input.length}]`, name: 'input' }] };
    verifyFor = `0x${selector(signature('verifyFor', forAbi))}${body}${input.map(hex32).join('')}`;
  }
  return {
    system,
    text: await snarkjsText(system, receipt.proof, receipt.publicSignals.slice()),
    signature: signature('verifyProof', abi),
    args,
    verifier: encode('verifyProof'),
    model: Object.fromEntries(fns.map((f) => [f, encode(f)])),
    ...(verifyFor ? { verifyFor } : {}),
  };
}
