import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { Graph } from '../onnx/graph.js';

const { onnx } = onnxProto;

/**
 * The float reference: onnxruntime running the original ONNX model. For
 * calibration it can also expose every intermediate tensor, by declaring each
 * node output a graph output.
 */
export class FloatModel {
  private constructor(private readonly session: ort.InferenceSession, private readonly graph: Graph) {}

  static async load(bytes: Uint8Array, graph: Graph, intermediates = false): Promise<FloatModel> {
    let model = bytes;
    if (intermediates) {
      const m = onnx.ModelProto.decode(bytes);
      const outputs = (m.graph!.output ??= []);
      const have = new Set(outputs.map((o) => o.name));
      // Untyped: onnxruntime infers each one (shape arithmetic is int64, a mask bool).
      for (const n of graph.nodes) {
        for (const name of n.outputs) {
          if (name && !have.has(name)) {
            outputs.push(onnx.ValueInfoProto.create({ name }));
            have.add(name);
          }
        }
      }
      model = onnx.ModelProto.encode(m).finish();
    }
    const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'disabled' });
    return new FloatModel(session, graph);
  }

  /** Runs one flat input; returns every exposed tensor by name. */
  async run(x: Float64Array): Promise<Map<string, Float64Array>> {
    const t = new ort.Tensor('float32', Float32Array.from(x), [...this.graph.input.shape]);
    const r = await this.session.run({ [this.graph.input.name]: t });
    const out = new Map<string, Float64Array>();
    for (const [k, v] of Object.entries(r)) out.set(k, Float64Array.from(v.data as ArrayLike<number | bigint>, Number));
    return out;
  }

  async output(x: Float64Array): Promise<Float64Array> {
    return (await this.run(x)).get(this.graph.output.name)!;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
