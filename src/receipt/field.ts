/** BN254 scalar field, where every circuit signal lives. */
export const FIELD_PRIME = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** A signed integer as the canonical field element the circuit uses. */
export function toField(v: bigint): bigint {
  const r = v % FIELD_PRIME;
  return r < 0n ? r + FIELD_PRIME : r;
}

/** Parses a public signal; null unless it is a canonical decimal below p. */
export function parseCanonical(s: unknown): bigint | null {
  if (typeof s !== 'string' || !DECIMAL.test(s)) return null;
  const v = BigInt(s);
  return v < FIELD_PRIME ? v : null;
}

/** Field element back to a signed integer: the upper half of the field is negative. */
export function fromField(v: bigint): bigint {
  return v > FIELD_PRIME / 2n ? v - FIELD_PRIME : v;
}

/** A field element as 32 little-endian bytes (the layout of wtns and zkey scalars). */
export function fieldToLe(v: bigint): Uint8Array {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++, v >>= 8n) b[i] = Number(v & 0xffn);
  return b;
}

/** The 32 little-endian bytes at `at` as an integer. */
export function fieldFromLe(b: Uint8Array, at = 0): bigint {
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]);
  return v;
}
