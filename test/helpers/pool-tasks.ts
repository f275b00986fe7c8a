import { ZkinferError } from '../../src/errors.js';

/** Task module for thread-pool tests: what it does is chosen by the payload. */
export type PoolTestPayload =
  | { kind: 'echo'; value: unknown }
  | { kind: 'spin' }
  | { kind: 'fail'; code: 'ONNX_INVALID'; message: string }
  | { kind: 'crash'; message: string }
  | { kind: 'allocate' }
  | { kind: 'busy'; ms: number };

export const POOL_TEST_TASK = import.meta.url;

export async function runTask(p: PoolTestPayload): Promise<unknown> {
  switch (p.kind) {
    case 'echo': return p.value;
    case 'spin': for (;;) { /* never yields: only terminating the thread ends it */ }
    case 'fail': throw Object.assign(new ZkinferError(p.code, p.message), { limit: 'maxNodes', value: 5 });
    case 'crash': throw new RangeError(p.message);
    case 'allocate': {
      const keep: number[][] = [];
      for (;;) keep.push(new Array(1 << 20).fill(Math.random()));
    }
    case 'busy': {
      // CPU-bound work of a known length: the main thread must stay free meanwhile.
      const end = performance.now() + p.ms;
      let x = 0;
      while (performance.now() < end) x += Math.sqrt(x + 1);
      return x > 0;
    }
    default: return p satisfies never;
  }
}
