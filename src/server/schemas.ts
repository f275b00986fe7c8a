import { z } from 'zod';
import { INPUT_VISIBILITIES } from '../receipt/io.js';
import { PROOF_SYSTEMS } from '../receipt/receipt.js';

/** Who may see and prove on a model: its owner only, or every key. */
export const MODEL_VISIBILITIES = ['private', 'public'] as const;
export type ModelVisibility = (typeof MODEL_VISIBILITIES)[number];

// Samples are checked against the model's input shape once the ONNX is read;
// nothing but samples is accepted, so nothing else reaches the store.
const samples = z.array(z.unknown()).min(1, 'calibration holds no inputs');

export const modelUpload = z.object({
  name: z.string().max(200).optional(),
  /** The ONNX file, base64. */
  onnx: z.string().min(1, 'onnx is empty').regex(/^[A-Za-z0-9+/=\s]+$/, 'onnx must be base64'),
  calibration: z.union([samples, z.object({ calibration: samples }).strict()], {
    errorMap: () => ({ message: 'calibration must be an array of inputs or {calibration: [...]} with no other field' }),
  }),
  /** Model visibility (who may use it), not the input visibility of options.visibility. */
  visibility: z.enum(MODEL_VISIBILITIES).default('private'),
  options: z.object({
    visibility: z.enum(INPUT_VISIBILITIES).optional(),
    inputRange: z.tuple([z.number(), z.number()]).refine(([a, b]) => a < b, 'inputRange must be [lo, hi] with lo < hi').optional(),
    activationBits: z.number().int().min(2).max(24).optional(),
    weightBits: z.number().int().min(2).max(24).optional(),
    system: z.enum(PROOF_SYSTEMS).optional(),
  }).strict().default({}),
}).strict();

export const proofRequest = z.object({
  model: z.string().regex(/^[0-9a-f]{32}$/, 'model must be a model id'),
  input: z.unknown().refine((v) => v !== undefined, 'input is required'),
  disclose: z.boolean().default(true),
  webhook: z.string().max(2048).url().refine((u) => /^https?:/.test(u), 'webhook must be an http(s) URL').nullable().default(null),
}).strict();

export const verifyRequest = z.union([
  z.object({
    receipt: z.unknown().refine((v) => v !== undefined, 'receipt is required'),
    /** The caller's own verification key (its exact text, or the parsed JSON); the answer then says keySource "caller". */
    verificationKey: z.union([z.string().min(1), z.record(z.unknown())]).optional(),
  }).strict(),
  z.object({ proof: z.unknown(), publicSignals: z.array(z.string()), model: z.string().regex(/^[0-9a-f]{32}$/) }).strict(),
]);

/** The first problem of a failed parse, naming the field. */
export function describe(e: z.ZodError): string {
  const i = e.issues[0];
  if (i.code === 'invalid_union') {
    // A union's own message says little: an unknown field, if a branch found one, says more.
    const unknown = i.unionErrors.flatMap((u) => u.issues).find((x) => x.code === 'unrecognized_keys');
    if (unknown) return `${unknown.path.length ? unknown.path.join('.') : 'body'}: ${unknown.message}`;
  }
  return `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`;
}
