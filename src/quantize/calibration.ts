import type { Graph } from '../onnx/graph.js';
import { FloatModel } from './float-model.js';
import { flattenTensor } from '../receipt/io.js';
import { ZkinferError } from '../errors.js';

/**
 * Calibration data is a JSON array of inputs, or an object whose
 * `calibration` array holds them (the NAME.data.json format).
 */
export function parseCalibration(data: unknown, inputShape: readonly number[]): Float64Array[] {
  return calibrationInputs(data).map((x, i) => {
    try {
      return flattenTensor(x, inputShape, `calibration[${i}]`);
    } catch (e) {
      throw new ZkinferError('CALIBRATION_INVALID', (e as Error).message);
    }
  });
}

/** The list of sample inputs in calibration data, as given (not yet shaped). */
export function calibrationInputs(data: unknown): unknown[] {
  const list = Array.isArray(data)
    ? data
    : data && typeof data === 'object' && Array.isArray((data as { calibration?: unknown }).calibration)
      ? (data as { calibration: unknown[] }).calibration
      : null;
  if (!list) {
    throw new ZkinferError('CALIBRATION_INVALID', 'calibration data must be a JSON array of inputs or an object with a "calibration" array');
  }
  if (list.length === 0) throw new ZkinferError('CALIBRATION_INVALID', 'calibration data holds no inputs');
  return list;
}

export interface TensorStats {
  min: number;
  max: number;
}

export interface Calibration {
  /** Range of every tensor over the samples. */
  readonly stats: Map<string, TensorStats>;
  /** The float model's output for each sample. */
  readonly outputs: Float64Array[];
}

/** Runs the float model on every sample and records each tensor's range. */
export async function collectStats(bytes: Uint8Array, graph: Graph, samples: Float64Array[]): Promise<Map<string, TensorStats>> {
  return (await calibrate(bytes, graph, samples)).stats;
}

export async function calibrate(bytes: Uint8Array, graph: Graph, samples: Float64Array[]): Promise<Calibration> {
  const outputs: Float64Array[] = [];
  const model = await FloatModel.load(bytes, graph, true);
  const stats = new Map<string, TensorStats>();
  const note = (name: string, data: ArrayLike<number>) => {
    const s = stats.get(name) ?? { min: Infinity, max: -Infinity };
    for (let i = 0; i < data.length; i++) {
      if (data[i] < s.min) s.min = data[i];
      if (data[i] > s.max) s.max = data[i];
    }
    stats.set(name, s);
  };
  // A final Softmax is not proven (the circuit's output is its input, the
  // logits), so the integer program is judged against the float logits.
  const last = graph.nodes.find((n) => n.outputs.includes(graph.output.name));
  const proven = last?.opType === 'Softmax' ? last.inputs[0] : graph.output.name;
  try {
    for (const x of samples) {
      note(graph.input.name, x);
      const r = await model.run(x);
      for (const [name, v] of r) note(name, v);
      outputs.push(r.get(proven)!);
    }
  } finally {
    await model.close();
  }
  return { stats, outputs };
}
