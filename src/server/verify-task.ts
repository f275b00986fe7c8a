import { loadKey, verifyProof, verifyReceipt, type VerifyResult } from '../verify/index.js';
import { decodeSignals, dequantize, parseCanonical, signalLayout, VKEY_IO_FIELD, type ProofSystem } from '../receipt/index.js';
import { isMainThread } from 'node:worker_threads';
import { buildBn128 } from 'ffjavascript';
import { ThreadPool } from './thread-pool.js';

/**
 * Proof verification on a pool thread: a pairing check takes milliseconds of
 * CPU, enough to stall an event loop that answers many of them at once.
 */
export const VERIFY_TASK = import.meta.url;

/**
 * The process's verification threads: made once and never terminated. Node 20
 * corrupts its own heap (free(): invalid next size, SIGSEGV) when it
 * terminates a worker thread that has run WebAssembly, as the curve code
 * does, with or without V8 heap caps; so these threads live as long as the
 * process (idle threads do not keep it alive), and every API in the process
 * shares them. Verification's memory is bounded by its inputs instead: the
 * body limit and the key cache.
 */
let shared: ThreadPool | null = null;
export function sharedVerifyPool(size: number): ThreadPool {
  shared ??= new ThreadPool({ size, resourceLimits: {} });
  return shared;
}

/** A bare proof and its public signals, checked against a model's key. */
export interface SignalsVerifyResult {
  readonly valid: boolean;
  readonly reason?: string;
  /** The proven outputs, as floats and as quantized integers (decimal). */
  readonly output?: number[];
  readonly outputQuantized?: string[];
  /** The proven quantized inputs (public visibility), or null. */
  readonly inputQuantized?: string[] | null;
  /** The proven input commitment (hashed visibility), or null. */
  readonly commitment?: string | null;
}

export type VerifyRequest =
  | { readonly kind: 'receipt'; readonly receipt: unknown; readonly vkeyText: string }
  | { readonly kind: 'signals'; readonly proof: unknown; readonly publicSignals: readonly string[]; readonly vkeyText: string };

async function verifySignals(proof: unknown, publicSignals: readonly string[], vkeyText: string): Promise<SignalsVerifyResult> {
  const { vk, sha } = await loadKey(vkeyText);
  const io = vk[VKEY_IO_FIELD];
  const layout = signalLayout(io);
  if (publicSignals.length !== layout.total) return { valid: false, reason: `expected ${layout.total} public signals, got ${publicSignals.length}` };
  const signals = publicSignals.map(parseCanonical);
  if (signals.some((s) => s === null)) return { valid: false, reason: 'a public signal is not a canonical field element' };
  const system = vk.protocol as ProofSystem;
  if (!(await verifyProof(system, sha, vk, signals as bigint[], proof))) {
    return { valid: false, reason: `the ${system} proof does not verify against this model` };
  }
  // What the proof is for: the outputs and the input (or its commitment) it binds.
  const { outputQuantized, inputQuantized, commitment } = decodeSignals(io, signals as bigint[]);
  return { valid: true, output: outputQuantized.map((q) => dequantize(BigInt(q), io.output.scale)), outputQuantized, inputQuantized, commitment };
}

/**
 * snarkjs' PLONK and FFLONK verifiers take the curve on globalThis, building
 * one with worker threads of its own if there is none: from a pool thread
 * those cannot start. A single-threaded curve there serves them instead.
 */
async function singleThreadCurve(): Promise<void> {
  const g = globalThis as { curve_bn128?: unknown };
  if (!isMainThread && !g.curve_bn128) g.curve_bn128 = await buildBn128(true);
}

/** Runs in a pool thread. */
export async function runTask(req: VerifyRequest): Promise<VerifyResult | SignalsVerifyResult> {
  await singleThreadCurve();
  switch (req.kind) {
    case 'receipt': return verifyReceipt(req.receipt, req.vkeyText);
    case 'signals': return verifySignals(req.proof, req.publicSignals, req.vkeyText);
    default: return req satisfies never;
  }
}

/**
 * verifyReceipt on the pool. Throws RECEIPT_INVALID for a malformed receipt,
 * BUILD_INVALID for a key that does not parse, or the pool's errors.
 */
export function verifyInPool(pool: ThreadPool, receipt: unknown, vkeyText: string): Promise<VerifyResult> {
  return pool.run<VerifyResult>(VERIFY_TASK, { kind: 'receipt', receipt, vkeyText } satisfies VerifyRequest);
}

/** A bare proof with its public signals (decimal strings) against a model's key, on the pool. */
export function verifySignalsInPool(pool: ThreadPool, proof: unknown, publicSignals: readonly string[], vkeyText: string): Promise<SignalsVerifyResult> {
  return pool.run<SignalsVerifyResult>(VERIFY_TASK, { kind: 'signals', proof, publicSignals, vkeyText } satisfies VerifyRequest);
}
