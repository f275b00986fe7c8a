import crypto from 'node:crypto';

/** sha256 as hex, for artifacts and model identities on the Node side (the verifier uses WebCrypto: receipt.ts sha256Hex). */
export const sha256 = (b: Uint8Array | string): string => crypto.createHash('sha256').update(b).digest('hex');
