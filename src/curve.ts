/**
 * snarkjs keeps one BN254 curve, with its worker threads, on globalThis.
 * Terminating it lets a command-line process exit when its work is done.
 */
export async function releaseCurve(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> | void } | null };
  const c = g.curve_bn128;
  if (c) {
    g.curve_bn128 = null;
    await c.terminate();
  }
}
