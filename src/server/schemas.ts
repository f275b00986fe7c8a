import { z } from 'zod';
import { INPUT_VISIBILITIES } from '../receipt/io.js';
import { PROOF_SYSTEMS } from '../receipt/receipt.js';

export const modelUpload = z.object({
  name: z.string().max(200).optional(),
  /** The ONNX file, base64. */
  onnx: z.string().min(1, 'onnx is empty').regex(/^[A-Za-z0-9+/=\s]+$/, 'onnx must be base64'),
  calibration: z.union([z.array(z.unknown()).min(1), z.object({ calibration: z.array(z.unknown()).min(1) }).passthrough()]),
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
  webhook: z.string().url().refine((u) => /^https?:/.test(u), 'webhook must be an http(s) URL').nullable().default(null),
}).strict();

export const verifyRequest = z.union([
  z.object({ receipt: z.unknown().refine((v) => v !== undefined, 'receipt is required') }).strict(),
  z.object({ proof: z.unknown(), publicSignals: z.array(z.string()), model: z.string().regex(/^[0-9a-f]{32}$/) }).strict(),
]);

/** The first problem of a failed parse, naming the field. */
export function describe(e: z.ZodError): string {
  const i = e.issues[0];
  return `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`;
}
