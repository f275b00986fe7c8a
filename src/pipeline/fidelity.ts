import fs from 'node:fs';
import { importOnnx } from '../onnx/index.js';
import { FloatModel, argmax, runReference, type Program } from '../quantize/index.js';
import { flattenTensor, quantizeInput } from '../receipt/index.js';
import { buildPath } from '../paths.js';
import { ZkinferError } from '../errors.js';
import { readProgram } from '../build/program-file.js';

export interface FidelityReport {
  readonly task: 'classification' | 'regression';
  readonly cases: number;
  /** Test inputs outside the circuit's input range: not provable, left out. */
  readonly outOfRange: number;
  readonly top1Agreement?: number;
  readonly floatAccuracy?: number;
  readonly integerAccuracy?: number;
  readonly floatMse?: number;
  readonly integerMse?: number;
  readonly maxAbsError: number;
  /** Whether every case had a label (accuracies and MSE need them). */
  readonly labelled: boolean;
}

interface TestCase {
  input: unknown;
  label?: unknown;
}

const isCase = (x: unknown): x is TestCase => typeof x === 'object' && x !== null && !Array.isArray(x) && 'input' in x;

/**
 * Test data: the NAME.data.json object (a "test" array of {input, label}),
 * or a plain array of inputs (or of {input, label}).
 */
function parseData(data: unknown, allowPlain: boolean): { task?: string; test: TestCase[] } {
  if (allowPlain && Array.isArray(data) && data.length > 0) return { test: data.map((x) => (isCase(x) ? x : { input: x })) };
  const d = data as { task?: string; test?: unknown };
  if (!d || typeof d !== 'object' || !Array.isArray(d.test) || d.test.length === 0) {
    throw new ZkinferError('INPUT_INVALID', `fidelity data must be an object with a non-empty "test" array of {input, label}${allowPlain ? ', or a non-empty array of inputs' : ''}`);
  }
  return { task: d.task, test: d.test.map((x, i) => {
    if (!isCase(x)) throw new ZkinferError('INPUT_INVALID', `fidelity data: test[${i}] is not an object with an "input"`);
    return x;
  }) };
}

/**
 * Runs every test case through onnxruntime (float) and the integer reference
 * of a build's program.json (exactly what the circuit proves), and compares
 * both with each other and with the labels.
 */
export async function fidelity(dir: string, data: unknown): Promise<FidelityReport> {
  const onnx = fs.readFileSync(buildPath(dir, 'onnx'));
  const program = readProgram(buildPath(dir, 'program'));
  return measureFidelity(onnx, program, parseData(data, false));
}

/** The same for an ONNX file and a program (an audit's re-derived one); data may also be a plain array of inputs. */
export async function programFidelity(onnx: Uint8Array, program: Program, data: unknown): Promise<FidelityReport> {
  return measureFidelity(onnx, program, parseData(data, true));
}

async function measureFidelity(onnx: Uint8Array, program: Program, { task, test }: { task?: string; test: TestCase[] }): Promise<FidelityReport> {
  const graph = importOnnx(onnx);
  const model = await FloatModel.load(onnx, graph);
  const isIndex = program.io.output.scale === 0 && program.outputForms.length === 1 && graph.nodes.at(-1)?.opType === 'ArgMax';
  const classification = task ? task === 'classification' : program.outputForms.length > 1 || isIndex;
  const top = (xs: ArrayLike<number>) => (isIndex ? xs[0] : argmax(xs));
  let outOfRange = 0;
  let agree = 0;
  let floatRight = 0;
  let intRight = 0;
  let floatSq = 0;
  let intSq = 0;
  let maxAbs = 0;
  let n = 0;
  const labelled = test.every((t) => t.label !== undefined && t.label !== null);
  try {
    for (const [i, t] of test.entries()) {
      const x = flattenTensor(t.input, program.io.input.shape, `test[${i}].input`);
      let q: bigint[];
      try {
        q = quantizeInput(program.io, x);
      } catch {
        outOfRange++;
        continue;
      }
      n++;
      const f = await model.output(x);
      const g = runReference(program, q).output.map((v) => v / 2 ** program.io.output.scale);
      g.forEach((v, j) => (maxAbs = Math.max(maxAbs, Math.abs(v - f[j]))));
      const label = Array.isArray(t.label) ? Number(t.label[0]) : Number(t.label);
      if (classification) {
        if (top(g) === top(f)) agree++;
        if (top(f) === label) floatRight++;
        if (top(g) === label) intRight++;
      } else {
        floatSq += (f[0] - label) ** 2;
        intSq += (g[0] - label) ** 2;
      }
    }
  } finally {
    await model.close();
  }
  const share = (k: number) => (n ? k / n : 0);
  return classification
    ? { task: 'classification', cases: n, outOfRange, top1Agreement: share(agree), ...(labelled ? { floatAccuracy: share(floatRight), integerAccuracy: share(intRight) } : {}), maxAbsError: maxAbs, labelled }
    : { task: 'regression', cases: n, outOfRange, ...(labelled ? { floatMse: share(floatSq), integerMse: share(intSq) } : {}), maxAbsError: maxAbs, labelled };
}
