import crypto from 'node:crypto';
import fs from 'node:fs';

/** sha256 as hex, for artifacts and model identities on the Node side (the verifier uses WebCrypto: receipt.ts sha256Hex). */
export const sha256 = (b: Uint8Array | string): string => crypto.createHash('sha256').update(b).digest('hex');

const FILE_CHUNK = 16 << 20;

/** sha256 of a file read in chunks: keys and circuits past a single read's 2 GB. */
export function sha256File(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(FILE_CHUNK);
    for (let pos = 0; ;) {
      const n = fs.readSync(fd, buf, 0, FILE_CHUNK, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}
