import { importOnnx } from '../../src/onnx/index.js';
import { collectStats, FloatModel, parseCalibration, quantize, quantizeOptions, runReference, type Program, type QuantizeOptions } from '../../src/quantize/index.js';
import { flattenTensor, quantizeInput } from '../../src/receipt/index.js';

export interface Comparison {
  program: Program;
  /** Largest |integer reference - onnxruntime| over the test inputs. */
  maxErr: number;
  /** Largest |onnxruntime output|, to judge maxErr against. */
  maxAbs: number;
  pairs: Array<[number[], number[]]>;
}

/** Quantizes a model and runs test inputs through the integer reference and onnxruntime. */
export async function compareWithOrt(bytes: Uint8Array, samples: unknown[], tests: unknown[], opts: Partial<QuantizeOptions> = { inputRange: [-2, 2] }): Promise<Comparison> {
  const g = importOnnx(bytes);
  const cal = parseCalibration(samples, g.input.shape);
  const stats = await collectStats(bytes, g, cal);
  const program = quantize({ graph: g, onnxSha256: '0'.repeat(64), stats, samples: cal, options: quantizeOptions(opts) });
  const ort = await FloatModel.load(bytes, g);
  let maxErr = 0;
  let maxAbs = 0;
  const pairs: Array<[number[], number[]]> = [];
  try {
    for (const t of tests) {
      const x = flattenTensor(t, g.input.shape, 'input');
      const want = Array.from(await ort.output(x));
      const got = runReference(program, quantizeInput(program.io, x)).output.map((v) => v / 2 ** program.io.output.scale);
      if (got.length !== want.length) throw new Error(`output sizes differ: ${got.length} vs ${want.length}`);
      got.forEach((v, i) => {
        maxErr = Math.max(maxErr, Math.abs(v - want[i]));
        maxAbs = Math.max(maxAbs, Math.abs(want[i]));
      });
      pairs.push([got, want]);
    }
  } finally {
    await ort.close();
  }
  return { program, maxErr, maxAbs, pairs };
}
