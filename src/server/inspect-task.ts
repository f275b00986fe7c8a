import { importOnnx } from '../onnx/index.js';
import { LimitExceededError } from '../onnx/limits.js';
import { parseCalibration } from '../quantize/calibration.js';
import { quantizeOptions, type QuantizeOptions } from '../quantize/config.js';
import { estimateCircuit, inputBitsFor, type CircuitEstimate } from '../pipeline/estimate.js';
import { checkLimits, modelLimits, type ModelLimits } from '../pipeline/limits.js';
import type { ProofSystem } from '../receipt/receipt.js';
import type { ThreadPool } from './thread-pool.js';

/**
 * Everything the service checks about an uploaded model before it queues a
 * compile, run on a pool thread: the ONNX import (ops, sizes), the
 * calibration samples against the input shape, and the circuit estimate
 * against the limits. Cheap for any model within the limits; a hostile one
 * is refused with the figure that is too large.
 */
export const INSPECT_TASK = import.meta.url;

/** The upload options that shape the circuit. */
export type InspectOptions = Partial<Pick<QuantizeOptions, 'activationBits' | 'weightBits' | 'inputRange' | 'visibility'>> & { readonly system?: ProofSystem };

export interface InspectRequest {
  readonly onnx: Uint8Array;
  readonly calibration: unknown;
  readonly options: InspectOptions;
  readonly limits: Partial<ModelLimits>;
}

export interface ModelSummary {
  readonly input: { readonly name: string; readonly shape: readonly number[] };
  readonly output: { readonly name: string; readonly shape: readonly number[] };
  readonly opset: number;
  readonly nodes: number;
  /** Each op type and how many nodes have it, in graph order of first use. */
  readonly ops: ReadonlyArray<{ readonly op: string; readonly count: number }>;
  readonly weightElements: number;
  readonly calibrationSamples: number;
  /** Bits of each input's range check, from the calibration samples. */
  readonly inputBits: number;
  readonly estimate: CircuitEstimate;
}

/** Runs in a pool thread. */
export function runTask(req: InspectRequest): ModelSummary {
  const limits = modelLimits(req.limits);
  const graph = importOnnx(req.onnx, limits);
  const samples = parseCalibration(req.calibration, graph.input.shape);
  const { system, ...q } = req.options;
  // An option given as undefined means "not given", not "undefined bits".
  const options = quantizeOptions(Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)));
  const inputBits = inputBitsFor(samples, options);
  const estimate = estimateCircuit(graph, { inputBits, visibility: options.visibility, system: system ?? 'groth16', maxTensorElements: limits.maxTensorElements });
  checkLimits(estimate, limits);
  const ops = new Map<string, number>();
  for (const n of graph.nodes) ops.set(n.opType, (ops.get(n.opType) ?? 0) + 1);
  let weightElements = 0;
  for (const t of graph.constants.values()) weightElements += t.data.length;
  return {
    input: { name: graph.input.name, shape: graph.input.shape },
    output: { name: graph.output.name, shape: graph.output.shape },
    opset: graph.opset,
    nodes: graph.nodes.length,
    ops: [...ops].map(([op, count]) => ({ op, count })),
    weightElements,
    calibrationSamples: samples.length,
    inputBits,
    estimate,
  };
}

/**
 * Inspects an uploaded model on the pool. Throws the importer's, the
 * calibration's or the limits' ZkinferError (ONNX_*, CALIBRATION_INVALID,
 * ONNX_TOO_LARGE, CIRCUIT_TOO_LARGE, USAGE for bad options), or the pool's
 * (POOL_BUSY, TASK_TIMEOUT, TASK_FAILED). The file size is checked here
 * first, so an oversized upload is not even copied to a thread.
 */
export async function inspectModel(pool: ThreadPool, bytes: Uint8Array, calibration: unknown, options: InspectOptions = {}, limits: Partial<ModelLimits> = {}): Promise<ModelSummary> {
  const max = modelLimits(limits).maxOnnxBytes;
  if (bytes.length > max) throw new LimitExceededError('ONNX_TOO_LARGE', 'maxOnnxBytes', bytes.length, max, 'the ONNX file size in bytes');
  return pool.run<ModelSummary>(INSPECT_TASK, { onnx: bytes, calibration, options, limits } satisfies InspectRequest);
}
