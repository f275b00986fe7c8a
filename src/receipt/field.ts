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
