import { ZkinferError, type ErrorCode } from '../errors.js';

/** Proof systems snarkjs ships Solidity verifier templates for. */
export const SOLIDITY_PROTOCOLS = ['groth16', 'plonk', 'fflonk'] as const;
export type SolidityProtocol = (typeof SOLIDITY_PROTOCOLS)[number];

export interface ProtocolAbi {
  /** Name of the verifier contract in snarkjs' template. */
  readonly contract: string;
  /** verifyProof's parameters as Solidity declares them, public signals last. */
  readonly params: readonly { readonly type: string; readonly name: string }[];
}

/**
 * verifyProof's signature in each template. FFLONK's template sizes the public
 * signal array max(nPublic, 1) and takes the proof as bytes32 words.
 */
export function protocolAbi(protocol: SolidityProtocol, nPublic: number): ProtocolAbi {
  switch (protocol) {
    case 'groth16':
      return {
        contract: 'Groth16Verifier',
        params: [
          { type: 'uint256[2]', name: 'pA' },
          { type: 'uint256[2][2]', name: 'pB' },
          { type: 'uint256[2]', name: 'pC' },
          { type: `uint256[${nPublic}]`, name: 'pubSignals' },
        ],
      };
    case 'plonk':
      return { contract: 'PlonkVerifier', params: [{ type: 'uint256[24]', name: 'proof' }, { type: `uint256[${nPublic}]`, name: 'pubSignals' }] };
    case 'fflonk':
      return { contract: 'FflonkVerifier', params: [{ type: 'bytes32[24]', name: 'proof' }, { type: `uint256[${Math.max(nPublic, 1)}]`, name: 'pubSignals' }] };
    default:
      return protocol satisfies never;
  }
}

/** `what` names the thing that carries the protocol (a key, a receipt) in the error. */
export function asSolidityProtocol(protocol: unknown, what: string, code: ErrorCode): SolidityProtocol {
  if (typeof protocol === 'string' && (SOLIDITY_PROTOCOLS as readonly string[]).includes(protocol)) return protocol as SolidityProtocol;
  throw new ZkinferError(code, `${what} is for proof system ${JSON.stringify(protocol)}; Solidity verifiers exist for ${SOLIDITY_PROTOCOLS.join(', ')}`);
}

/** Canonical signature, e.g. `verifyProof(uint256[24],uint256[3])`. */
export const signature = (fn: string, abi: ProtocolAbi): string => `${fn}(${abi.params.map((p) => p.type).join(',')})`;

/** Solidity parameter list with calldata locations, for functions that forward to verifyProof. */
export const calldataParams = (abi: ProtocolAbi): string => abi.params.map((p) => `${p.type} calldata ${p.name}`).join(', ');
