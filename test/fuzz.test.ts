import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importOnnx } from '../src/onnx/index.js';
import { collectStats, FloatModel, quantize, quantizeOptions, runReference, type Program } from '../src/quantize/index.js';
import { acceptedRange, quantizeInput } from '../src/receipt/index.js';
import { compileCircuit } from '../src/pipeline/circuit.js';
import { buildPath } from '../src/paths.js';
import { ARTIFACTS } from './helpers/circuit.js';
import { checkBitExact } from './helpers/bitexact.js';
import { FUZZ_REGRESSIONS, randomCase, type FuzzCase } from './helpers/fuzz-graphs.js';
import { judge } from './helpers/fuzz-bound.js';
import { rand } from './helpers/onnx-builder.js';
import { writeProgram } from '../src/build/program-file.js';

/**
 * Differential fuzz: random small graphs of the supported operators, each
 * quantized, compiled with circom and run on random accepted inputs
 * (corners included). The integer program must stay within the error its
 * scales allow of onnxruntime (the bound is derived in helpers/fuzz-bound.ts),
 * and the circuit's witness must equal the integer program exactly.
 * ZKINFER_FUZZ_SEED replays a run; ZKINFER_FUZZ_CASES sets its size.
 */
const SEED = process.env.ZKINFER_FUZZ_SEED ? Number(process.env.ZKINFER_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const CASES = Number(process.env.ZKINFER_FUZZ_CASES ?? 18);
const INPUTS = 8;
const CALIBRATION = 8;
console.log(`fuzz: seed ${SEED} (ZKINFER_FUZZ_SEED=${SEED} replays it), ${CASES} graphs`);

const totals = { graphs: 0, inputs: 0, signals: 0, worstRatio: 0, deadLayers: 0, constants: 0 };

/** Accepted inputs: the two corners, then elements drawn from the corners and the interior. */
function inputsFor(c: FuzzCase, p: Program, seed: number): Float64Array[] {
  const [lo, hi] = acceptedRange(p.io);
  const g = rand(seed);
  const n = c.inputShape.reduce((a, b) => a * b, 1);
  const draw = () => {
    const k = (g() + 1) / 2;
    return k < 0.15 ? lo : k < 0.3 ? hi : Math.fround(lo + ((g() + 1) / 2) * (hi - lo));
  };
  const xs = [new Float64Array(n).fill(lo), new Float64Array(n).fill(hi)];
  while (xs.length < INPUTS) xs.push(Float64Array.from({ length: n }, draw));
  return xs.filter((x) => {
    try {
      quantizeInput(p.io, x);
      return true;
    } catch {
      return false;
    }
  });
}

async function runCase(c: FuzzCase, index: number): Promise<void> {
  const where = `${index < 0 ? 'fixed fuzz case' : `fuzz seed ${SEED}, case ${index} (graph seed ${c.seed}); replay with ZKINFER_FUZZ_SEED=${SEED}`}\ninput [${c.inputShape}] in [${c.range}], ${c.activationBits}/${c.weightBits} bits\n${c.description}`;
  try {
    const graph = importOnnx(c.onnx);
    const g = rand(c.seed ^ 0x5eed);
    const n = c.inputShape.reduce((a, b) => a * b, 1);
    const cal = Array.from({ length: CALIBRATION }, () => Float64Array.from({ length: n }, () => Math.fround(c.range[0] + ((g() + 1) / 2) * (c.range[1] - c.range[0]))));
    const stats = await collectStats(c.onnx, graph, cal);
    const program = quantize({
      graph, onnxSha256: '0'.repeat(64), stats, samples: cal,
      options: quantizeOptions({ activationBits: c.activationBits, weightBits: c.weightBits, inputRange: c.range }),
    });
    const xs = inputsFor(c, program, c.seed);
    const model = await FloatModel.load(c.onnx, graph, true);
    const qs: bigint[][] = [];
    try {
      for (const x of xs) {
        const floats = await model.run(x);
        const want = floats.get(graph.output.name)!;
        const q = quantizeInput(program.io, x);
        qs.push(q);
        const got = runReference(program, q).output.map((v) => v / 2 ** program.io.output.scale);
        try {
          totals.worstRatio = Math.max(totals.worstRatio, judge(graph, program, floats, x, got));
        } catch (e) {
          throw new Error(`${(e as Error).message} (input ${Array.from(x).join(', ')})`);
        }
      }
    } finally {
      await model.close();
    }
    const dir = path.join(ARTIFACTS, 'fuzz', index < 0 ? `fixed${-index}` : `case${index}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    writeProgram(buildPath(dir, 'program'), program);
    compileCircuit(program, dir);
    totals.signals += await checkBitExact(dir, qs);
    totals.graphs++;
    totals.inputs += qs.length;
    totals.deadLayers += program.layers.filter((l) => l.gadgets.every((x) => x.kind === 'const')).length;
    totals.constants += program.layers.reduce((s, l) => s + l.gadgets.filter((x) => x.kind === 'const').length, 0);
  } catch (e) {
    throw new Error(`${where}\n${(e as Error).message}`, { cause: e });
  }
}

describe('differential fuzz: onnxruntime vs integer program vs circuit witness', () => {
  for (let i = 0; i < CASES; i++) {
    it(`random graph ${i}`, async () => {
      await runCase(randomCase((SEED + i * 7919) >>> 0), i);
      expect(totals.graphs).toBeGreaterThan(0);
    });
  }
  for (const [i, c] of FUZZ_REGRESSIONS.entries()) {
    it(`regression: ${c.description.split('\n')[0]}`, async () => {
      await runCase(c, -1 - i);
    });
  }
  afterAll(() => {
    console.log(`fuzz: seed ${SEED}: ${totals.graphs} graphs, ${totals.inputs} inputs, ${totals.signals} witness values compared; ` +
      `${totals.constants} constant units (${totals.deadLayers} all-constant layers); largest error / bound ${totals.worstRatio.toFixed(3)}`);
  });
});
