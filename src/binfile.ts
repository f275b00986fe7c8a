/**
 * The iden3 binary container shared by r1cs, wtns, zkey and ptau files: a
 * 4-byte magic, a version, then sections of (type u32, size u64, bytes).
 * Returns each section's bytes by type (views into buf, no copies).
 */
export function sections(buf: Uint8Array, magic: string): Map<number, Uint8Array> {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (Buffer.from(buf.subarray(0, 4)).toString() !== magic) throw new Error(`not a ${magic} file`);
  const n = dv.getUint32(8, true);
  let pos = 12;
  const out = new Map<number, Uint8Array>();
  for (let i = 0; i < n; i++) {
    const type = dv.getUint32(pos, true);
    const size = Number(dv.getBigUint64(pos + 4, true));
    out.set(type, buf.subarray(pos + 12, pos + 12 + size));
    pos += 12 + size;
  }
  return out;
}
