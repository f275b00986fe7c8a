import crypto from 'node:crypto';

/**
 * What decides a build's content: the ONNX bytes, the calibration samples
 * and every option. Two builds with the same key compile the same circuit,
 * so a build directory is reused only when its recorded key matches.
 */
export function buildKey(onnx: Uint8Array, calibration: unknown, options: Record<string, unknown>): string {
  const h = crypto.createHash('sha256');
  h.update(onnx);
  h.update('\0');
  h.update(canonical(calibration));
  h.update('\0');
  h.update(canonical(options));
  return h.digest('hex');
}

/** JSON with sorted keys and no undefined members, so equal values hash equally. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
