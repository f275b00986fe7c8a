import type { FileHandle } from 'node:fs/promises';
import { ZkinferError } from '../errors.js';

/**
 * The iden3 binary container (magic, version, then sections of type u32,
 * size u64, bytes) read through a file handle: only the section table is
 * read up front, so files of any size are walked without loading them.
 */
export interface SectionRef {
  readonly pos: number;
  readonly size: number;
}

export async function readBytes(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const b = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(b, got, len - got, pos + got);
    if (bytesRead === 0) throw new ZkinferError('SETUP_FAILED', `file ends at ${pos + got}, expected ${len - got} more bytes`);
    got += bytesRead;
  }
  return b;
}

export async function writeBytes(fh: FileHandle, pos: number, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, pos + done);
    done += bytesWritten;
  }
}

/** First section of each type, by type. */
export async function sectionTable(fh: FileHandle, magic: string, what: string): Promise<Map<number, SectionRef>> {
  const head = await readBytes(fh, 0, 12);
  if (head.subarray(0, 4).toString('latin1') !== magic) throw new ZkinferError('SETUP_FAILED', `${what} is not a ${magic} file`);
  const n = head.readUInt32LE(8);
  const size = (await fh.stat()).size;
  const out = new Map<number, SectionRef>();
  let pos = 12;
  for (let i = 0; i < n; i++) {
    const h = await readBytes(fh, pos, 12);
    const type = h.readUInt32LE(0);
    const len = Number(h.readBigUInt64LE(4));
    if (pos + 12 + len > size) throw new ZkinferError('SETUP_FAILED', `${what}: section ${type} runs past the end of the file`);
    if (!out.has(type)) out.set(type, { pos: pos + 12, size: len });
    pos += 12 + len;
  }
  return out;
}

export function requireSection(t: Map<number, SectionRef>, type: number, what: string): SectionRef {
  const s = t.get(type);
  if (!s) throw new ZkinferError('SETUP_FAILED', `${what} has no section ${type}`);
  return s;
}
