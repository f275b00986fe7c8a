import fs from 'node:fs';

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

/** Largest single read: fs reads stop at 2 GB. */
const READ = 1 << 30;

/**
 * The wanted sections of an iden3 file, each read into its own buffer: for
 * files too large to read whole. A section whose type is in `streamed` is
 * not kept: its reader gets its bytes from offset `from` in chunks of at
 * most `chunk` bytes (a multiple of `unit` each, but for the last; each
 * chunk is overwritten by the next) and returns what to keep.
 */
export type SectionReader = (read: (from: number, chunk: number, unit: number) => Iterable<Uint8Array>, size: number) => Uint8Array;

export function readSections(file: string, magic: string, wanted: readonly number[], streamed: ReadonlyMap<number, SectionReader> = new Map()): Map<number, Uint8Array> {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(12);
    fs.readSync(fd, head, 0, 12, 0);
    if (head.subarray(0, 4).toString() !== magic) throw new Error(`not a ${magic} file`);
    const n = head.readUInt32LE(8);
    const out = new Map<number, Uint8Array>();
    let pos = 12;
    const sh = Buffer.alloc(12);
    const readAt = (b: Buffer, at: number, bytes: number, from: number, type: number) => {
      for (let done = 0; done < bytes;) {
        const got = fs.readSync(fd, b, at + done, Math.min(READ, bytes - done), from + done);
        if (got === 0) throw new Error(`section ${type} is truncated`);
        done += got;
      }
    };
    for (let i = 0; i < n; i++) {
      if (fs.readSync(fd, sh, 0, 12, pos) !== 12) throw new Error('truncated section table');
      const type = sh.readUInt32LE(0);
      const size = Number(sh.readBigUInt64LE(4));
      pos += 12;
      const reader = streamed.get(type);
      if (reader) {
        const start = pos;
        out.set(type, reader(function* (from, chunk, unit) {
          const step = Math.max(unit, chunk - (chunk % unit));
          const b = Buffer.allocUnsafe(Math.max(0, Math.min(step, size - from)));
          for (let at = from; at < size; at += step) {
            const bytes = Math.min(step, size - at);
            readAt(b, 0, bytes, start + at, type);
            yield b.subarray(0, bytes);
          }
        }, size));
      } else if (wanted.includes(type)) {
        const b = Buffer.allocUnsafe(size);
        readAt(b, 0, size, pos, type);
        out.set(type, b);
      }
      pos += size;
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}
