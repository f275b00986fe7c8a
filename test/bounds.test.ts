import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { makeOnnx, rand, tinyMlp } from './helpers/onnx-builder.js';
import { OP_FIXTURES, samplesFor } from './helpers/op-fixtures.js';
import { POOL_TEST_TASK, type PoolTestPayload } from './helpers/pool-tasks.js';
import { bigGemm, padBomb, withTensor } from './helpers/hostile-onnx.js';
import { IMPORT_LIMITS, importOnnx, type Graph } from '../src/onnx/index.js';
import { estimateCircuit, inputBitsFor, checkLimits, limitsFromEnv, MODEL_LIMITS, type Manifest } from '../src/pipeline/index.js';
import { calibrate, parseCalibration, quantize, quantizeOptions, layerCostOf } from '../src/quantize/index.js';
import { nest, type Receipt } from '../src/receipt/index.js';
import { ThreadPool } from '../src/server/thread-pool.js';
import { inspectModel } from '../src/server/inspect-task.js';
import { verifyInPool, verifySignalsInPool, sharedVerifyPool } from '../src/server/verify-task.js';
import { VkeyCache, storeSource, type VkeySource } from '../src/server/vkey-cache.js';
import { ModelProver } from '../src/prove/index.js';
import { verifyReceipt } from '../src/verify/index.js';
import { DirStore } from '../src/store/store.js';
import { buildPath } from '../src/paths.js';
import { releaseCurve } from '../src/curve.js';
import { ZkinferError } from '../src/errors.js';

const { onnx } = onnxProto;

/** The error `f` throws (or rejects with), for asserting its code, message and fields. */
async function caught(f: () => unknown): Promise<ZkinferError & Record<string, unknown>> {
  try {
    await f();
  } catch (e) {
    return e as ZkinferError & Record<string, unknown>;
  }
  throw new Error('expected an error');
}


describe('ONNX import: declared sizes against the data and the limits', () => {
  it('a 70000 x 70000 weight with no data is malformed, named, and nothing is allocated for it', async () => {
    const bytes = withTensor({ name: 'W', dims: [70_000, 70_000], dataType: 1 });
    expect(bytes.length).toBeLessThan(200);
    const e = await caught(() => importOnnx(bytes));
    expect(e).toBeInstanceOf(ZkinferError);
    expect(e.code).toBe('ONNX_MALFORMED');
    expect(e.message).toBe('tensor "W" declares dims [70000,70000] (4900000000 elements) but holds no data');
  });

  it('a 10000 x 10000 weight with no data is refused the same way (it used to be allocated first)', async () => {
    const e = await caught(() => importOnnx(withTensor({ name: 'W', dims: [10_000, 10_000], dataType: 1 })));
    expect(e.code).toBe('ONNX_MALFORMED');
    expect(e.message).toMatch(/tensor "W" declares dims \[10000,10000\] .* but holds no data/);
  });

  it('raw bytes, typed values and dims must agree; dims must be non-negative and their product exact', async () => {
    const cases: Array<[onnxProto.onnx.ITensorProto, RegExp]> = [
      [{ name: 'A', dims: [2, 2], dataType: 1, rawData: new Uint8Array(12) }, /tensor "A" holds 12 bytes, expected 16 for dims \[2,2\]/],
      [{ name: 'B', dims: [2, 2], dataType: 1, floatData: [1, 2, 3] }, /tensor "B" holds 3 values, expected 4 for dims \[2,2\]/],
      [{ name: 'C', dims: [-1, 4], dataType: 1, floatData: [1] }, /tensor "C": dimension 0 is -1/],
      [{ name: 'D', dims: [2 ** 30, 2 ** 30, 2 ** 30], dataType: 1 }, /tensor "D": dims .* multiply to more than 2\^53/],
      [{ name: 'E', dims: [1], dataType: 1, floatData: [Number.NaN] }, /tensor "E" value 0 is NaN/],
    ];
    for (const [t, msg] of cases) {
      const e = await caught(() => importOnnx(withTensor(t)));
      expect(e.code, t.name!).toBe('ONNX_MALFORMED');
      expect(e.message).toMatch(msg);
    }
    // An empty tensor needs no data.
    expect(importOnnx(withTensor({ name: 'Z', dims: [0, 3], dataType: 1 })).constants.get('Z')!.data.length).toBe(0);
  });

  it('a Gemm 2048 x 2048 is refused on import by its weight count, before decoding it', async () => {
    const bytes = bigGemm(2048);
    expect(bytes.length).toBeGreaterThan(16_000_000);
    const e = await caught(() => importOnnx(bytes));
    expect(e.code).toBe('ONNX_TOO_LARGE');
    expect(e.limit).toBe('maxTensorElements');
    expect(e.value).toBe(2048 * 2048);
    expect(e.message).toBe('tensor "W" (dims [2048,2048]) has too many elements: 4,194,304, over the limit of 1,048,576 (maxTensorElements)');
  });

  it('every import limit is named with its figure: bytes, tensor elements, total weights, nodes, declared shapes', async () => {
    const mlp = tinyMlp();
    const cases: Array<[Partial<typeof IMPORT_LIMITS>, string, number]> = [
      [{ maxOnnxBytes: 100 }, 'maxOnnxBytes', mlp.length],
      [{ maxTensorElements: 10 }, 'maxTensorElements', 12],
      [{ maxWeightElements: 20 }, 'maxWeightElements', 21],
      [{ maxNodes: 7 }, 'maxNodes', 8],
    ];
    for (const [limits, name, value] of cases) {
      const e = await caught(() => importOnnx(mlp, limits));
      expect(e.code, name).toBe('ONNX_TOO_LARGE');
      expect(e.limit).toBe(name);
      expect(e.value).toBe(value);
      expect(e.message).toMatch(new RegExp(`\\(${name}\\)$`));
    }
    // A declared graph output of 2^22 elements.
    const e = await caught(() => importOnnx(padBomb(4_194_304)));
    expect(e.code).toBe('ONNX_TOO_LARGE');
    expect(e.message).toMatch(/graph output "y" \(shape \[1,4194304\]\) has too many elements: 4,194,304/);
    expect(Object.isFrozen(IMPORT_LIMITS)).toBe(true);
    expect(() => importOnnx(mlp, { maxNodes: 0 })).toThrow(/limit maxNodes must be a positive integer, got 0/);
  });
});

/** Input bits and the real gadget cost of quantizing `bytes` at the widest precision of the ladder. */
async function quantizedCost(bytes: Uint8Array, graph: Graph, calibration: unknown) {
  const samples = parseCalibration(calibration, graph.input.shape);
  const { stats } = await calibrate(bytes, graph, samples);
  const p = quantize({ graph, onnxSha256: '0'.repeat(64), stats, samples, options: quantizeOptions({ activationBits: 14, weightBits: 14 }) });
  const n = graph.input.shape.reduce((a, b) => a * b, 1);
  return { bits: p.io.input.bits, cost: n * p.io.input.bits + p.layers.reduce((s, l) => s + layerCostOf(l), 0), samples };
}

describe('circuit estimate', () => {
  it('bounds the real constraint counts of digits_mlp (895) and digits_cnn (2,786) from above, within 3x', async () => {
    for (const name of ['digits_mlp', 'digits_cnn']) {
      const data = loadJson(fixture(`${name}.data.json`));
      const bytes = fs.readFileSync(fixture(`${name}.onnx`));
      const m: Manifest = loadJson(buildPath(await ensureBuild(name, bytes, data), 'manifest'));
      const graph = importOnnx(bytes);
      const e = estimateCircuit(graph, { inputBits: inputBitsFor(parseCalibration(data, graph.input.shape)) });
      expect(m.constraints.total).toBe(name === 'digits_mlp' ? 895 : 2786);
      expect(e.constraints).toBeGreaterThanOrEqual(m.constraints.total);
      expect(e.constraints).toBeLessThan(3 * m.constraints.total);
      // The input range check is exact; each gadget layer is bounded.
      expect(e.layers[0]).toMatchObject({ op: 'input-range', constraints: m.constraints.layers[0].constraints });
      for (const l of m.constraints.layers.filter((x) => x.op === 'relu' || x.op === 'max')) {
        expect(e.layers.find((x) => x.node === l.node)!.constraints).toBeGreaterThanOrEqual(l.constraints);
      }
      expect(e.publicSignals).toBe(m.constraints.publicSignals);
      expect(e.ptauPower).toBeGreaterThanOrEqual(m.domain.power);
      checkLimits(e);
    }
  });

  it('charges a hashed input its Poseidon commitment: 264 for 261 in the digits_mlp hashed build', async () => {
    const data = loadJson(fixture('digits_mlp.data.json'));
    const bytes = fs.readFileSync(fixture('digits_mlp.onnx'));
    const m: Manifest = loadJson(buildPath(await ensureBuild('digits_mlp_hashed', bytes, data, { visibility: 'hashed' }), 'manifest'));
    const graph = importOnnx(bytes);
    const e = estimateCircuit(graph, { inputBits: inputBitsFor(parseCalibration(data, graph.input.shape)), visibility: 'hashed' });
    const real = m.constraints.layers.find((l) => l.op === 'output+commitment')!.constraints;
    expect(real).toBe(261);
    expect(e.layers.find((l) => l.op === 'commitment')!.constraints).toBe(264);
    expect(e.constraints).toBeGreaterThanOrEqual(m.constraints.total);
    expect(e.publicSignals).toBe(m.constraints.publicSignals);
  });

  it('bounds every operator fixture, and two linear layers in a row (rescaled between), as the quantizer builds them', async () => {
    const r = rand(3);
    const chained = makeOnnx({
      input: { name: 'x', shape: ['N', 64] }, output: { name: 'y', shape: ['N', 64] },
      initializers: [{ name: 'A', dims: [64, 64], data: Array.from({ length: 4096 }, r) }, { name: 'B', dims: [64, 64], data: Array.from({ length: 4096 }, r) }],
      nodes: [{ op: 'MatMul', inputs: ['x', 'A'], outputs: ['h'] }, { op: 'MatMul', name: '/second', inputs: ['h', 'B'], outputs: ['y'] }],
    });
    const all = [...OP_FIXTURES.map((f) => ({ name: f.name, onnx: f.onnx, shape: f.inputShape })), { name: 'chained', onnx: chained, shape: [1, 64] }];
    for (const f of all) {
      const graph = importOnnx(f.onnx);
      const cal = samplesFor(f.shape, 16, 1).map((x) => nest(x, f.shape));
      const real = await quantizedCost(f.onnx, graph, cal);
      const bits = inputBitsFor(real.samples);
      expect(bits, f.name).toBeGreaterThanOrEqual(real.bits);
      expect(estimateCircuit(graph, { inputBits: bits }).constraints, f.name).toBeGreaterThanOrEqual(real.cost);
    }
    const e = estimateCircuit(importOnnx(chained), { inputBits: 8 });
    expect(e.layers.find((l) => l.node === '/second')!.constraints).toBe(64 * 50);
  });

  it('stops the Pad-to-4M-elements model at its Pad node, naming it, before any per-element work', async () => {
    const bytes = padBomb();
    expect(bytes.length).toBeLessThan(200);
    const graph = importOnnx(bytes);
    const e = await caught(() => estimateCircuit(graph));
    expect(e.code).toBe('CIRCUIT_TOO_LARGE');
    expect(e.limit).toBe('maxTensorElements');
    expect(e.message).toBe('Pad node "/Pad" computes a tensor of shape [1,4194304], elements: 4,194,304, over the limit of 1,048,576 (maxTensorElements)');
    // With the element cap lifted (and the output declared as computed), the constraint limit refuses it.
    const est = estimateCircuit(importOnnx(padBomb(4_194_304), { maxTensorElements: 2 ** 23 }), { maxTensorElements: 2 ** 23 });
    expect(est.layers.find((l) => l.node === '/Relu')!.constraints).toBe(4_194_304 * 51);
    const c = await caught(() => checkLimits(est, { maxTensorElements: 2 ** 23 }));
    expect(c.code).toBe('CIRCUIT_TOO_LARGE');
    expect(c.limit).toBe('maxConstraints');
    expect(c.message).toMatch(/^the circuit would have up to this many constraints: 218,104,\d{3}, over the limit of 4,194,304 \(maxConstraints\)$/);
  });

  it('refuses the Gemm 2048 x 2048 by its terms when the weight limits are raised (and the terms limit lowered below its 2^22)', async () => {
    const raised = { maxTensorElements: 2 ** 23, maxWeightElements: 2 ** 23, maxLinearTerms: 2 ** 21 };
    const e = estimateCircuit(importOnnx(bigGemm(2048), raised), { inputBits: 8, maxTensorElements: raised.maxTensorElements });
    expect(e.linearTerms).toBe(2048 * 2048);
    const c = await caught(() => checkLimits(e, raised));
    expect(c.limit).toBe('maxLinearTerms');
    expect(c.value).toBe(4_194_304);
  });

  it('caps Concat blow-ups and refuses hostile window attributes without looping', async () => {
    const concat = makeOnnx({
      input: { name: 'x', shape: ['N', 1024] }, output: { name: 'y', shape: ['N', 4] },
      nodes: [{ op: 'Concat', name: '/Cat', inputs: Array(1100).fill('x'), outputs: ['y'], attrs: { axis: 1 } }],
    });
    const e = await caught(() => estimateCircuit(importOnnx(concat)));
    expect(e.code).toBe('CIRCUIT_TOO_LARGE');
    expect(e.message).toMatch(/^Concat node "\/Cat" computes a tensor of shape \[1,1126400\]/);
    const pool = (attrs: Record<string, number[]>) => makeOnnx({
      input: { name: 'x', shape: ['N', 1, 4, 4] }, output: { name: 'y', shape: ['N', 1, 2, 2] },
      nodes: [{ op: 'MaxPool', name: '/P', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [2, 2], ...attrs } }],
    });
    const cases: Array<[Record<string, number[]>, string, RegExp]> = [
      [{ strides: [0, 1] }, 'ONNX_INVALID', /MaxPool node "\/P": strides \[0,1\] must be 2 positive integers/],
      [{ pads: [-1, 0, 0, 0] }, 'ONNX_INVALID', /pads \[-1,0,0,0\] must be 4 non-negative integers/],
      [{ pads: [2 ** 40, 0, 2 ** 40, 0] }, 'CIRCUIT_TOO_LARGE', /MaxPool node "\/P" computes 2199023255555 x 3 windows per channel/],
      [{ pads: [2, 2, 2, 2] }, 'ONNX_INVALID', /a window lies wholly in the padding/],
    ];
    for (const [attrs, code, msg] of cases) {
      const c = await caught(() => estimateCircuit(importOnnx(pool(attrs))));
      expect(c.code, JSON.stringify(attrs)).toBe(code);
      expect(c.message).toMatch(msg);
    }
    const transpose = makeOnnx({
      input: { name: 'x', shape: ['N', 2, 3] }, output: { name: 'y', shape: ['N', 3, 2] },
      nodes: [{ op: 'Transpose', name: '/T', inputs: ['x'], outputs: ['y'], attrs: { perm: [0, 2, 2] } }],
    });
    expect((await caught(() => estimateCircuit(importOnnx(transpose)))).message).toBe('Transpose node "/T": perm [0,2,2] is not a permutation of the 3 axes');
  });

  it('limits: frozen defaults, environment overrides named by variable, hashed inputs charged for Poseidon', () => {
    expect(Object.isFrozen(MODEL_LIMITS)).toBe(true);
    expect(MODEL_LIMITS).toMatchObject({ maxConstraints: 2 ** 22, maxOnnxBytes: 64 * 2 ** 20 });
    expect(limitsFromEnv({ ZKINFER_MAX_CONSTRAINTS: '5000', ZKINFER_MAX_ONNX_BYTES: '1024', OTHER: 'x' })).toEqual({ maxConstraints: 5000, maxOnnxBytes: 1024 });
    expect(() => limitsFromEnv({ ZKINFER_MAX_CONSTRAINTS: '1e3x' })).toThrow('ZKINFER_MAX_CONSTRAINTS must be a positive integer, got "1e3x"');
    const g = importOnnx(tinyMlp());
    const pub = estimateCircuit(g, { inputBits: 8 });
    const hashed = estimateCircuit(g, { inputBits: 8, visibility: 'hashed' });
    // One Poseidon over (1 pack + salt): t = 3, 8 * 3 + 57 S-boxes of 3 constraints.
    expect(hashed.constraints - pub.constraints).toBe(3 * (8 * 3 + 57));
    expect(hashed.publicSignals).toBe(3);
  });
});

describe('worker-thread pool', () => {
  let pool: ThreadPool;
  const run = (p: PoolTestPayload, timeoutMs?: number) => pool.run(POOL_TEST_TASK, p, { timeoutMs });
  beforeAll(() => {
    pool = new ThreadPool({ size: 1, maxQueued: 1, timeoutMs: 20_000, resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 16 } });
  });
  afterAll(() => pool.close());

  it('returns structured results; ZkinferErrors cross with code, message and fields; other errors as TASK_FAILED', async () => {
    expect(await run({ kind: 'echo', value: { a: [1, 2], b: 'x' } })).toEqual({ a: [1, 2], b: 'x' });
    const e = await caught(() => run({ kind: 'fail', code: 'ONNX_INVALID', message: 'node "n": bad' }));
    expect(e).toBeInstanceOf(ZkinferError);
    expect(e).toMatchObject({ code: 'ONNX_INVALID', message: 'node "n": bad', userFault: true, limit: 'maxNodes', value: 5 });
    expect(await caught(() => run({ kind: 'crash', message: 'bug' }))).toMatchObject({ code: 'TASK_FAILED', message: 'RangeError: bug', userFault: false });
  });

  it('a runaway task is stopped at its deadline and the pool keeps working', async () => {
    const before = pool.stats();
    const e = await caught(() => run({ kind: 'spin' }, 300));
    expect(e).toMatchObject({ code: 'TASK_TIMEOUT', message: 'the task took longer than 300 ms; its thread was stopped' });
    expect(await run({ kind: 'echo', value: 7 })).toBe(7);
    expect(pool.stats()).toMatchObject({ timedOut: before.timedOut + 1, started: before.started + 1, threads: 1 });
  });

  it('a task over the heap limit fails alone: its thread is replaced', async () => {
    const e = await caught(() => run({ kind: 'allocate' }));
    expect(e).toMatchObject({ code: 'TASK_FAILED', message: 'the task ran out of memory (48 MB heap per thread)' });
    expect(await run({ kind: 'echo', value: 'after' })).toBe('after');
  });

  it('refuses work at once with POOL_BUSY when every thread is busy and the queue is full', async () => {
    await run({ kind: 'echo', value: 0 });
    const first = run({ kind: 'busy', ms: 200 });
    const second = run({ kind: 'echo', value: 2 });
    const third = await caught(() => run({ kind: 'echo', value: 3 }));
    expect(third).toMatchObject({ code: 'POOL_BUSY', message: 'all 1 worker threads are busy and 1 tasks wait; retry later' });
    expect(await first).toBe(true);
    expect(await second).toBe(2);
  });
});

describe('inspect and verify on the pool', () => {
  let pool: ThreadPool;
  let receipt: Receipt;
  let vkey: string;
  let mlp: Uint8Array;
  const mlpData = loadJson(fixture('digits_mlp.data.json'));
  let vpool: ThreadPool;
  beforeAll(async () => {
    pool = new ThreadPool({ size: 2 });
    vpool = sharedVerifyPool(2);
    mlp = fs.readFileSync(fixture('digits_mlp.onnx'));
    const dir = await ensureBuild('digits_mlp', mlp, mlpData);
    const prover = await ModelProver.load(dir);
    receipt = (await prover.prove(mlpData.test[0].input)).receipt;
    vkey = prover.vkeyText;
  });
  afterAll(async () => {
    await pool.close();
    await releaseCurve();
  });

  it('inspects a model: shapes, ops and the estimate; malformed and oversized models come back with their code and message', async () => {
    const s = await inspectModel(pool, mlp, mlpData);
    expect(s).toMatchObject({ input: { shape: [1, 64] }, output: { shape: [1, 10] }, ops: [{ op: 'Gemm', count: 2 }, { op: 'Relu', count: 1 }], inputBits: 5, calibrationSamples: mlpData.calibration.length });
    expect(s.estimate.constraints).toBeGreaterThanOrEqual(895);
    expect(await caught(() => inspectModel(pool, Uint8Array.from([1, 2, 3, 4, 5]), mlpData))).toMatchObject({ code: 'ONNX_MALFORMED' });
    expect(await caught(() => inspectModel(pool, withTensor({ name: 'W', dims: [70_000, 70_000], dataType: 1 }), [[[0, 0, 0, 0]]]))).toMatchObject({
      code: 'ONNX_MALFORMED', message: 'tensor "W" declares dims [70000,70000] (4900000000 elements) but holds no data',
    });
    expect(await caught(() => inspectModel(pool, padBomb(), [[[0, 0, 0, 0]]]))).toMatchObject({ code: 'CIRCUIT_TOO_LARGE', limit: 'maxTensorElements', value: 4_194_304 });
    expect(await caught(() => inspectModel(pool, mlp, mlpData, {}, { maxConstraints: 1000 }))).toMatchObject({ code: 'CIRCUIT_TOO_LARGE', limit: 'maxConstraints' });
    expect(await caught(() => inspectModel(pool, mlp, [[1, 2, 3]]))).toMatchObject({ code: 'CALIBRATION_INVALID' });
    expect(await caught(() => inspectModel(pool, mlp, mlpData, { activationBits: 99 }))).toMatchObject({ code: 'USAGE' });
    expect((await inspectModel(pool, mlp, mlpData, { activationBits: undefined, visibility: 'hashed', system: 'plonk' })).estimate.publicSignals).toBe(11);
    // Oversized files are refused before they are copied to a thread.
    const before = pool.stats().completed + pool.stats().failed;
    expect(await caught(() => inspectModel(pool, mlp, mlpData, {}, { maxOnnxBytes: 1000 }))).toMatchObject({ code: 'ONNX_TOO_LARGE', limit: 'maxOnnxBytes' });
    expect(pool.stats().completed + pool.stats().failed).toBe(before);
  });

  it('verifies receipts and bare proofs on the pool; a tampered receipt is invalid, a malformed one RECEIPT_INVALID', async () => {
    expect(await verifyInPool(vpool, receipt, vkey)).toMatchObject({ valid: true });
    const bad = structuredClone(receipt);
    bad.outputQuantized[0] = String(BigInt(bad.outputQuantized[0]) + 1n);
    expect(await verifyInPool(vpool, bad, vkey)).toMatchObject({ valid: false, reason: 'quantized output differs from the proven output signals' });
    expect(await caught(() => verifyInPool(vpool, { proof: 1 }, vkey))).toMatchObject({ code: 'RECEIPT_INVALID' });
    const s = await verifySignalsInPool(vpool, receipt.proof, receipt.publicSignals, vkey);
    expect(s).toMatchObject({ valid: true, outputQuantized: receipt.outputQuantized });
    const forged = [...receipt.publicSignals];
    forged[0] = String(BigInt(forged[0]) + 1n);
    expect(await verifySignalsInPool(vpool, receipt.proof, forged, vkey)).toMatchObject({ valid: false, reason: 'the groth16 proof does not verify against this model' });
  });

  it('the verification pool is one per process, never closed, so its threads are never terminated', async () => {
    expect(sharedVerifyPool(4)).toBe(vpool);
    expect((await verifyInPool(vpool, receipt, vkey)).valid).toBe(true);
  });

  it('many concurrent verifications leave the main event loop free (in process, they occupy it)', async () => {
    const n = 24;
    const batch = async (verify: () => Promise<{ valid: boolean }>) => {
      const elu0 = performance.eventLoopUtilization();
      const results = await Promise.all(Array.from({ length: n }, verify));
      const elu = performance.eventLoopUtilization(elu0).utilization;
      expect(results.every((r) => r.valid)).toBe(true);
      return elu;
    };
    await verifyReceipt(receipt, vkey);
    const inProcess = await batch(() => verifyReceipt(receipt, vkey));
    const pooled = await batch(() => verifyInPool(vpool, receipt, vkey));
    // Event-loop utilization: the share of the batch's wall time the main thread was busy.
    expect(inProcess).toBeGreaterThan(0.8);
    expect(pooled).toBeLessThan(0.5);
  });
});

describe('verification key cache', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkinfer-vkeys-'));
  const store = new DirStore(dir);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The store as a source that counts its reads. */
  const counting = () => {
    const s = storeSource(store);
    const reads: string[] = [];
    const src: VkeySource = { ...s, get: (h) => (reads.push(h), s.get(h)) };
    return { src, reads };
  };
  const key = (n: number) => JSON.stringify({ protocol: 'groth16', nPublic: n, curve: 'bn128', zkinfer: { pad: 'k'.repeat(1000) } });

  it('refuses a large blob by its size without reading it, and remembers non-keys', async () => {
    const big = await store.put(Buffer.alloc(3 * 2 ** 20, 'a'));
    const junk = await store.put(Buffer.from('{"not":"a key"}'));
    const { src, reads } = counting();
    const c = new VkeyCache(src);
    expect(await c.lookup(big)).toEqual({ found: false, reason: `artifact ${big} is 3145728 bytes, larger than any verification key (1048576)` });
    expect(reads).toEqual([]);
    expect((await c.lookup(junk)) as { reason: string }).toMatchObject({ found: false, reason: expect.stringMatching(/is not a verification key: verification key lacks protocol/) });
    await c.lookup(junk);
    expect(reads).toEqual([junk]);
    expect(await c.lookup('0'.repeat(64))).toMatchObject({ found: false, reason: expect.stringMatching(/^no verification key 0+ in the store$/) });
    expect(await c.lookup('../etc/passwd')).toMatchObject({ found: false });
  });

  it('keeps keys up to its byte bound, least recently used out first', async () => {
    const hashes = await Promise.all([1, 2, 3].map((n) => store.put(Buffer.from(key(n)))));
    const { src, reads } = counting();
    const c = new VkeyCache(src, { maxKeyBytes: 2000, maxBytes: 2 * Buffer.byteLength(key(1)) });
    expect(await c.get(hashes[0])).toBe(key(1));
    await c.get(hashes[1]);
    await c.get(hashes[0]);
    await c.get(hashes[2]);
    expect(c.size).toBe(2 * Buffer.byteLength(key(1)));
    reads.length = 0;
    await c.get(hashes[0]);
    await c.get(hashes[2]);
    expect(reads).toEqual([]);
    await c.get(hashes[1]);
    expect(reads).toEqual([hashes[1]]);
  });
});
