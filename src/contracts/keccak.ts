import { keccak_256 } from '@noble/hashes/sha3.js';

/** Keccak-256 (Ethereum's, not SHA3-256: Node's crypto has only the latter), for ABI function selectors. */
export function keccak256(data: Uint8Array | string): Uint8Array {
  return keccak_256(typeof data === 'string' ? new TextEncoder().encode(data) : data);
}

/** The 4-byte ABI selector of a canonical signature such as `verifyProof(uint256[24],uint256[3])`, as 8 hex digits. */
export function selector(signature: string): string {
  return Array.from(keccak256(signature).subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
}
