/** The parts of ffjavascript's WebAssembly thread manager we use directly. */
export interface ThreadManager {
  alloc(n: number): number;
  u8: Uint8Array;
  u32: Uint32Array;
  memory: WebAssembly.Memory;
  instance: { exports: Record<string, (...a: number[]) => number> };
}

/**
 * Allocates in a curve's WebAssembly memory, growing it first: ffjavascript
 * starts small and its own alloc never grows. Headroom is left above the
 * allocation because batch conversions use free memory as scratch.
 * Pointers are 8-byte aligned.
 */
export function wasmAlloc(tm: ThreadManager, bytes: number): number {
  const need = ((tm.u32[0] + 7) & ~7) + bytes + (1 << 22);
  if (need > tm.memory.buffer.byteLength) {
    tm.memory.grow(Math.ceil((need - tm.memory.buffer.byteLength) / 65536));
    tm.u8 = new Uint8Array(tm.memory.buffer);
    tm.u32 = new Uint32Array(tm.memory.buffer);
  }
  while (tm.u32[0] & 7) tm.u32[0]++;
  return tm.alloc(bytes);
}
