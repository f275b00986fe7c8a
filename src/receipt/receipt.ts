import { z } from 'zod';
import type { ModelIO } from './io.js';
import { INPUT_VISIBILITIES } from './io.js';
import { ZkinferError } from '../errors.js';

export const RECEIPT_FORMAT = 'zkinfer-receipt/1';
/** Proof systems a model can be built for; every one uses the same receipts and signal layout. */
export const PROOF_SYSTEMS = ['groth16', 'plonk', 'fflonk'] as const;
export type ProofSystem = (typeof PROOF_SYSTEMS)[number];
/** Field of the verification key JSON that carries the model's ModelIO. */
export const VKEY_IO_FIELD = 'zkinfer';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');
/** A number or nested arrays of numbers; checked by hand, a recursive zod union is slow on image-sized inputs. */
const isNested = (v: unknown): boolean => typeof v === 'number' || (Array.isArray(v) && v.every(isNested));
const nested = z.custom<unknown>(isNested, 'expected a number or nested arrays of numbers');
const intString = z.string().regex(/^-?(0|[1-9][0-9]*)$/, 'expected a decimal integer string');

const groth16Proof = z.object({
  pi_a: z.array(z.string()).length(3),
  pi_b: z.array(z.array(z.string()).length(2)).length(3),
  pi_c: z.array(z.string()).length(3),
  protocol: z.literal('groth16'),
  curve: z.literal('bn128'),
});
// PLONK and FFLONK proofs are snarkjs' JSON objects; their points and
// evaluations are checked by the verifier itself.
const universalProof = (protocol: 'plonk' | 'fflonk') => z.object({ protocol: z.literal(protocol), curve: z.literal('bn128') }).passthrough();
const proofSchema = z.union([groth16Proof, universalProof('plonk'), universalProof('fflonk')]);

export const receiptSchema = z.object({
  format: z.literal(RECEIPT_FORMAT),
  model: z.object({ onnxSha256: hex64, vkeySha256: hex64 }),
  system: z.enum(PROOF_SYSTEMS),
  visibility: z.enum(INPUT_VISIBILITIES),
  /** The float input as given; null when not disclosed (hashed visibility). */
  input: nested.nullable(),
  inputQuantized: z.array(intString).nullable(),
  commitment: z.object({ value: z.string(), salt: z.string().nullable() }).nullable(),
  output: nested,
  outputQuantized: z.array(intString),
  outputShape: z.array(z.number().int().nonnegative()),
  outputScale: z.number().int(),
  /** Output layer's transformations dropped before proving, if any. */
  notes: z.array(z.string()).default([]),
  proof: proofSchema,
  publicSignals: z.array(z.string()),
  createdAt: z.string(),
});

export type Receipt = z.infer<typeof receiptSchema>;

/** Structural check of a receipt; semantic checks are the verifier's job. */
export function parseReceipt(data: unknown): Receipt {
  const r = receiptSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : '(root)';
    throw new ZkinferError('RECEIPT_INVALID', `receipt field "${where}": ${issue.message}`);
  }
  return r.data;
}

export interface VerificationKey {
  readonly protocol: string;
  readonly curve: string;
  readonly nPublic: number;
  readonly [VKEY_IO_FIELD]: ModelIO;
  readonly [k: string]: unknown;
}

export function parseVerificationKey(text: string): VerificationKey {
  let vk: unknown;
  try {
    vk = JSON.parse(text);
  } catch {
    throw new ZkinferError('BUILD_INVALID', 'verification key is not valid JSON');
  }
  const v = vk as Partial<VerificationKey>;
  if (!v || typeof v !== 'object' || typeof v.protocol !== 'string' || typeof v.nPublic !== 'number' || !v[VKEY_IO_FIELD]) {
    throw new ZkinferError('BUILD_INVALID', 'verification key lacks protocol, nPublic or the zkinfer model interface');
  }
  return v as VerificationKey;
}

/** sha256 hex with WebCrypto, so the same code runs in browsers. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const d = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Public signals: outputs, then the commitment (hashed) or the inputs, packed perSignal to a signal (public). */
export function signalLayout(io: ModelIO): { outputs: number; commitment: number; inputs: number; total: number } {
  const outputs = io.output.shape.reduce((a, b) => a * b, 1);
  const inputs = Math.ceil(io.input.shape.reduce((a, b) => a * b, 1) / (io.input.perSignal ?? 1));
  return io.visibility === 'hashed'
    ? { outputs, commitment: 1, inputs: 0, total: outputs + 1 }
    : { outputs, commitment: 0, inputs, total: outputs + inputs };
}
