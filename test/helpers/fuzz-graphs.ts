import { makeOnnx, rand, type ModelSpec, type NodeSpec } from './onnx-builder.js';

/**
 * Random small ONNX graphs from the supported operators, for the
 * differential fuzz: shapes, weights, pads, strides, dilations, groups,
 * branches that meet in an Add or a Concat, folded and standalone
 * BatchNormalization, and dead units (every weight and the bias negative
 * after a ReLU, so the unit is 0 over the whole accepted range).
 */
export interface FuzzCase {
  readonly seed: number;
  readonly onnx: Uint8Array;
  readonly inputShape: number[];
  readonly outputShape: number[];
  readonly range: [number, number];
  readonly activationBits: number;
  readonly weightBits: number;
  /** One line per node, to print with a failure. */
  readonly description: string;
}

interface T {
  name: string;
  shape: number[];
  /** Every value is >= 0 (after a ReLU): negative weights make a unit dead. */
  nonneg: boolean;
}

const f32 = Math.fround;
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** A 32-bit mix, so neighbouring seeds start the generator far apart. */
const mix = (x: number): number => {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

export function randomCase(seed: number): FuzzCase {
  const r = rand(mix(seed));
  const u = () => (r() + 1) / 2; // [0, 1)
  const int = (lo: number, hi: number) => lo + Math.floor(u() * (hi - lo + 1));
  const pick = <X>(xs: readonly X[]): X => xs[Math.floor(u() * xs.length)];
  const chance = (p: number) => u() < p;
  const vals = (n: number, scale = 1) => Array.from({ length: n }, () => f32(r() * scale));

  const nodes: NodeSpec[] = [];
  const inits: NonNullable<ModelSpec['initializers']> = [];
  let k = 0;
  const fresh = (p: string) => `${p}${k++}`;
  const init = (dims: number[], data: number[], int64 = false) => {
    const name = fresh('c');
    inits.push({ name, dims, data, int64 });
    return name;
  };
  const node = (op: string, inputs: string[], attrs: NodeSpec['attrs'] = {}) => {
    const out = fresh('t');
    nodes.push({ op, name: `${op.toLowerCase()}_${nodes.length}`, inputs, outputs: [out], attrs });
    return out;
  };

  /** Weights [units][fan]; some units dead when the input is non-negative. */
  const weights = (units: number, fan: number, scale: number, nonneg: boolean) => {
    const dead = new Set<number>();
    if (nonneg && chance(0.35)) {
      const all = chance(0.3);
      for (let m = 0; m < units; m++) if (all || chance(0.5)) dead.add(m);
    }
    const w = Array.from({ length: units }, (_, m) => vals(fan, scale).map((x) => (dead.has(m) ? -Math.abs(x) - f32(0.05) : x)));
    const b = Array.from({ length: units }, (_, m) => (dead.has(m) ? f32(-0.25 - u()) : f32(r() * 0.5)));
    return { w, b, dead: dead.size };
  };

  const bnParams = (C: number) => [
    init([C], Array.from({ length: C }, () => f32((chance(0.3) ? -1 : 1) * (0.3 + 2 * u())))),
    init([C], vals(C, 0.5)),
    init([C], vals(C, 0.5)),
    init([C], Array.from({ length: C }, () => f32(0.25 + 2 * u()))),
  ];

  const conv = (x: T, sameSize = false, channels?: number): T => {
    const [, C, H, W] = x.shape;
    let M = channels ?? int(1, 4);
    const group = C % 2 === 0 && M % 2 === 0 && chance(0.25) ? 2 : 1;
    const kk = sameSize ? pick([1, 3]) : int(1, Math.min(3, H, W));
    const stride = sameSize ? 1 : pick([1, 1, 2]);
    const dil = !sameSize && kk > 1 && H >= 2 * kk + 1 && W >= 2 * kk + 1 && chance(0.2) ? 2 : 1;
    const pad = sameSize ? (kk - 1) / 2 : pick([0, 0, 1]);
    const span = (kk - 1) * dil + 1;
    // Now and then asymmetric pads [top, left, bottom, right], or auto_pad SAME_UPPER.
    const pads = !sameSize && chance(0.2) ? [int(0, 1), int(0, 1), int(0, 1), int(0, 1)] : [pad, pad, pad, pad];
    const same = !sameSize && dil === 1 && chance(0.1);
    let outH = Math.floor((H + pads[0] + pads[2] - span) / stride) + 1;
    let outW = Math.floor((W + pads[1] + pads[3] - span) / stride) + 1;
    if (same) [outH, outW] = [Math.ceil(H / stride), Math.ceil(W / stride)];
    const Cg = C / group;
    const { w, b } = weights(M, Cg * kk * kk, 1 / Math.sqrt(Cg * kk * kk) + 0.2, x.nonneg);
    const Wn = init([M, Cg, kk, kk], w.flat());
    const inputs = [x.name, Wn];
    if (chance(0.8)) inputs.push(init([M], b));
    const attrs: NodeSpec['attrs'] = { kernel_shape: [kk, kk], strides: [stride, stride] };
    if (same) attrs.auto_pad = 'SAME_UPPER';
    else attrs.pads = pads;
    if (dil > 1) attrs.dilations = [dil, dil];
    if (group > 1) attrs.group = group;
    return { name: node('Conv', inputs, attrs), shape: [1, M, outH, outW], nonneg: false };
  };

  const gemm = (x: T, n: number): T => {
    const kdim = x.shape[1];
    const { w, b } = weights(n, kdim, 1 / Math.sqrt(kdim) + 0.3, x.nonneg);
    const transB = chance(0.6);
    // w[j][t] is unit j's weight on input t.
    const B = transB ? init([n, kdim], w.flat()) : init([kdim, n], Array.from({ length: kdim * n }, (_, i) => w[i % n][Math.floor(i / n)]));
    const attrs: NodeSpec['attrs'] = transB ? { transB: 1 } : {};
    if (chance(0.3)) attrs.alpha = f32(0.5 + u() * 0.4);
    const inputs = [x.name, B];
    if (chance(0.8)) {
      inputs.push(init([n], b));
      if (chance(0.3)) attrs.beta = f32(0.6 + u() * 0.3);
    }
    return { name: node('Gemm', inputs, attrs), shape: [1, n], nonneg: false };
  };

  const matmulAdd = (x: T, n: number, bias = true): T => {
    const kdim = x.shape[x.shape.length - 1];
    const { w, b } = weights(n, kdim, 1 / Math.sqrt(kdim) + 0.3, x.nonneg);
    const Wn = init([kdim, n], Array.from({ length: kdim * n }, (_, i) => w[i % n][Math.floor(i / n)]));
    const h = node('MatMul', [x.name, Wn]);
    const shape = [...x.shape.slice(0, -1), n];
    return { name: bias ? node('Add', [h, init([n], b)]) : h, shape, nonneg: false };
  };

  const relu = (x: T): T => ({ name: node('Relu', [x.name]), shape: x.shape, nonneg: true });
  const bn = (x: T): T => ({ name: node('BatchNormalization', [x.name, ...bnParams(x.shape[1])], { epsilon: f32(1e-3 + 1e-5) }), shape: x.shape, nonneg: false });

  const pool = (x: T, op: 'MaxPool' | 'AveragePool'): T => {
    const [, C, H, W] = x.shape;
    const kk = int(2, Math.min(3, H, W));
    const stride = pick([1, 2]);
    const dil = op === 'MaxPool' && kk === 2 && H >= 4 && W >= 4 && chance(0.2) ? 2 : 1;
    const pads = chance(0.4) ? [int(0, 1), int(0, 1), int(0, 1), int(0, 1)] : [0, 0, 0, 0];
    const span = (kk - 1) * dil + 1;
    const outH = Math.floor((H + pads[0] + pads[2] - span) / stride) + 1;
    const outW = Math.floor((W + pads[1] + pads[3] - span) / stride) + 1;
    const attrs: NodeSpec['attrs'] = { kernel_shape: [kk, kk], strides: [stride, stride], pads };
    if (dil > 1) attrs.dilations = [dil, dil];
    if (op === 'AveragePool' && chance(0.5)) attrs.count_include_pad = 1;
    return { name: node(op, [x.name], attrs), shape: [1, C, outH, outW], nonneg: x.nonneg };
  };

  const pad = (x: T): T => {
    const r4 = x.shape.length === 4;
    const p = x.shape.map((_, i) => (r4 ? (i >= 2 || (i === 1 && chance(0.2)) ? int(0, 1) : 0) : i === 1 ? int(0, 2) : 0));
    const q = x.shape.map((_, i) => (r4 ? (i >= 2 || (i === 1 && chance(0.2)) ? int(0, 1) : 0) : i === 1 ? int(0, 2) : 0));
    const value = chance(0.5) ? 0 : f32(r() * 0.5);
    const name = node('Pad', [x.name, init([2 * x.shape.length], [...p, ...q], true), init([], [value])]);
    return { name, shape: x.shape.map((d, i) => d + p[i] + q[i]), nonneg: x.nonneg && value >= 0 };
  };

  const mul = (x: T): T => {
    const C = x.shape[1];
    const per = chance(0.6);
    const dims = per ? (x.shape.length === 4 ? [1, C, 1, 1] : [1, C]) : [];
    const c = init(dims, vals(per ? C : 1, 1.5).map((v) => (Math.abs(v) < 0.1 ? f32(0.5) : v)));
    return { name: node('Mul', chance(0.5) ? [x.name, c] : [c, x.name]), shape: x.shape, nonneg: false };
  };

  /** A constant added or subtracted, broadcast per channel or per element; sometimes constant minus tensor. */
  const addConst = (x: T): T => {
    const C = x.shape[1];
    const dims = x.shape.length === 4 ? pick([[1, C, 1, 1], [x.shape[3]], []]) : pick([[C], [1, C], []]);
    const c = init(dims, vals(prod(dims), 0.75));
    const op = chance(0.7) ? 'Add' : 'Sub';
    return { name: node(op, chance(0.5) ? [x.name, c] : [c, x.name]), shape: x.shape, nonneg: false };
  };

  const flatten = (x: T): T => ({ name: node('Flatten', [x.name], { axis: 1 }), shape: [1, prod(x.shape.slice(1))], nonneg: x.nonneg });

  /** MatMul over a rank-3 view [1, a, b] with a channels, then BatchNormalization on axis 1. */
  const rank3 = (x: T): T | null => {
    const n = x.shape[1];
    const a = [2, 3, 4].find((d) => n % d === 0 && n / d >= 2);
    if (!a) return null;
    const v = node('Reshape', [x.name, init([3], [1, a, n / a], true)]);
    // Without a bias the BatchNormalization directly follows the MatMul and folds into it.
    const h = matmulAdd({ name: v, shape: [1, a, n / a], nonneg: x.nonneg }, a, chance(0.4));
    const y = bn(h);
    return { name: node('Reshape', [y.name, init([2], [1, -1], true)]), shape: [1, a * a], nonneg: false };
  };

  const imageStep = (x: T): T => {
    const [, , H, W] = x.shape;
    const small = H < 3 || W < 3;
    const choice = pick(small
      ? ['conv', 'relu', 'bn', 'mul', 'pad', 'flatten', 'gap', 'const']
      : ['conv', 'conv', 'convbn', 'relu', 'maxpool', 'avgpool', 'bn', 'pad', 'add', 'concat', 'mul', 'flatten', 'gap', 'const', 'transpose', 'addgap']);
    switch (choice) {
      case 'conv': return conv(x);
      case 'convbn': return bn(conv(x));
      case 'relu': return relu(x);
      case 'maxpool': return pool(x, 'MaxPool');
      case 'avgpool': return pool(x, 'AveragePool');
      case 'bn': return bn(x);
      case 'pad': return pad(x);
      case 'mul': return mul(x);
      case 'flatten': return flatten(x);
      case 'const': return addConst(x);
      case 'transpose': return { name: node('Transpose', [x.name], { perm: [0, 1, 3, 2] }), shape: [1, x.shape[1], W, H], nonneg: x.nonneg };
      case 'gap': return { name: node('GlobalAveragePool', [x.name]), shape: [1, x.shape[1], 1, 1], nonneg: x.nonneg };
      case 'add': {
        const left = chance(0.5) ? relu(conv(x, true)) : x;
        const b = conv(x, true, left.shape[1]);
        return { name: node(chance(0.8) ? 'Add' : 'Sub', [left.name, chance(0.5) ? node('Relu', [b.name]) : b.name]), shape: b.shape, nonneg: false };
      }
      case 'concat': {
        if (chance(0.3)) {
          // Along a spatial axis, against a padded copy.
          const b = relu(x);
          const axis = pick([2, 3]);
          const shape = [...x.shape];
          shape[axis] *= 2;
          return { name: node('Concat', [b.name, x.name], { axis }), shape, nonneg: x.nonneg };
        }
        const b = chance(0.5) ? conv(x, true) : relu(x);
        return { name: node('Concat', [x.name, b.name], { axis: 1 }), shape: [1, x.shape[1] + b.shape[1], H, W], nonneg: x.nonneg && b.nonneg };
      }
      case 'addgap': {
        // A computed tensor broadcast over another (per-channel mean added back).
        const g = node('GlobalAveragePool', [x.name]);
        return { name: node(chance(0.7) ? 'Add' : 'Sub', chance(0.5) ? [x.name, g] : [g, x.name]), shape: x.shape, nonneg: false };
      }
      default: throw new Error(choice);
    }
  };

  const vectorStep = (x: T): T => {
    const choice = pick(['gemm', 'gemm', 'gemmbn', 'matmul', 'relu', 'relu', 'bn', 'add', 'concat', 'rank3', 'mul', 'pad', 'const', 'unsqueeze', 'chain']);
    switch (choice) {
      case 'gemm': return gemm(x, int(2, 6));
      case 'gemmbn': return bn(gemm(x, int(2, 5)));
      case 'matmul': return matmulAdd(x, int(2, 6));
      case 'relu': return relu(x);
      case 'bn': return bn(x);
      case 'mul': return mul(x);
      case 'pad': return pad(x);
      case 'rank3': return rank3(x) ?? relu(x);
      case 'const': return addConst(x);
      case 'chain': {
        // Linear maps with no ReLU between them compose into one form until
        // its magnitude nears 2^49: then the input is rescaled first.
        let y = x;
        for (let i = int(4, 7); i > 0; i--) y = pick([() => gemm(y, int(2, 4)), () => mul(y), () => bn(y), () => matmulAdd(y, int(2, 4), false)])();
        return y;
      }
      case 'unsqueeze': {
        const u3 = node('Unsqueeze', [x.name, init([1], [2], true)]);
        return { name: node('Squeeze', [u3, init([1], [2], true)]), shape: x.shape, nonneg: x.nonneg };
      }
      case 'add': {
        const n = int(2, 5);
        const a = chance(0.5) ? relu(gemm(x, n)) : gemm(x, n);
        return { name: node(chance(0.8) ? 'Add' : 'Sub', [a.name, gemm(x, n).name]), shape: [1, n], nonneg: false };
      }
      case 'concat': {
        const b = chance(0.5) ? gemm(x, int(1, 4)) : relu(x);
        return { name: node('Concat', chance(0.5) ? [x.name, b.name] : [b.name, x.name], { axis: 1 }), shape: [1, x.shape[1] + b.shape[1]], nonneg: x.nonneg && b.nonneg };
      }
      default: throw new Error(choice);
    }
  };

  const image = chance(0.5);
  // Now and then a wide input through a bottleneck: composing the two maps
  // would give 144 x 144 terms, so the bottleneck is rescaled into signals.
  const wide = !image && chance(0.1);
  const inputShape = image ? [1, int(1, 2), int(4, 6), int(4, 6)] : [1, wide ? 144 : int(3, 8)];
  const range = pick<[number, number]>([[0, 1], [0, 1], [-1, 1], [-1, 1], [0.25, 3], [-2, -0.5]]);
  let x: T = { name: 'x', shape: inputShape, nonneg: range[0] >= 0 };
  if (wide) x = matmulAdd(matmulAdd(x, 2, false), 144, false);
  const steps = int(2, 5);
  for (let i = 0; i < steps; i++) {
    const next = x.shape.length === 4 ? imageStep(x) : vectorStep(x);
    x = next.shape.length === 4 && prod(next.shape) > 160 ? relu(next) : next;
    if (prod(x.shape) > 160) break;
  }
  if (x.shape.length === 4) x = flatten(x);
  if (x.shape[1] > 8 || chance(0.5)) x = gemm(x, int(2, 4));
  // A classifier's head: the proof covers the logits (Softmax) or their index (ArgMax).
  const head = x.shape[1] >= 2 ? pick(['none', 'none', 'none', 'softmax', 'argmax'] as const) : 'none';
  if (head === 'softmax') x = { name: node('Softmax', [x.name], { axis: 1 }), shape: x.shape, nonneg: true };
  if (head === 'argmax') x = { name: node('ArgMax', [x.name], { axis: 1, keepdims: 1 }), shape: [1, 1], nonneg: true };
  // The graph output must be a node's output: name it y.
  nodes[nodes.length - 1].outputs = ['y'];
  const outputShape = x.shape;
  const onnx = makeOnnx({ input: { name: 'x', shape: inputShape }, output: { name: 'y', shape: outputShape, elemType: head === 'argmax' ? 7 : 1 }, nodes, initializers: inits });
  const description = nodes.map((n) => `${n.name}(${n.inputs.filter((i) => !i.startsWith('c')).join(', ')}) -> ${n.outputs[0]} ${JSON.stringify(n.attrs ?? {})}`).join('\n');
  return { seed, onnx, inputShape, outputShape, range, activationBits: int(6, 12), weightBits: int(6, 12), description };
}

const fixedCase = (name: string, spec: ModelSpec, range: [number, number], bits: [number, number]): FuzzCase => ({
  seed: 0,
  onnx: makeOnnx(spec),
  inputShape: spec.input.shape as number[],
  outputShape: spec.output.shape as number[],
  range,
  activationBits: bits[0],
  weightBits: bits[1],
  description: `${name}\n${spec.nodes.map((n) => `${n.op}(${n.inputs.join(', ')}) -> ${n.outputs[0]}`).join('\n')}`,
});

/** Cases the fuzz found (or that it must keep finding), run on every run. */
export const FUZZ_REGRESSIONS: readonly FuzzCase[] = [
  // Two branches with weight scales 7 bits apart: aligning the narrower one
  // scaled its accumulators past 2^50 and the output was refused.
  fixedCase('sum of two wide branches at different scales', {
    input: { name: 'x', shape: [1, 2] }, output: { name: 'y', shape: [1, 2] },
    initializers: [
      { name: 'W1', dims: [2, 2], data: [0.7, -0.6, 0.65, 0.55] },
      { name: 'W2', dims: [2, 2], data: [0.6, 0.7, -0.55, 0.65] },
      { name: 'WA', dims: [2, 2], data: [0.7, -0.6, 0.65, 0.55] },
      { name: 'WB', dims: [2, 2], data: [90, -85, 70, 95] },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W1'], outputs: ['h1'] },
      { op: 'MatMul', inputs: ['h1', 'W2'], outputs: ['h2'] },
      { op: 'MatMul', inputs: ['h2', 'WA'], outputs: ['a'] },
      { op: 'MatMul', inputs: ['h2', 'WB'], outputs: ['b'] },
      { op: 'Add', inputs: ['a', 'b'], outputs: ['y'] },
    ],
  }, [-1, 1], [12, 12]),
  // BatchNormalization after a rank-3 MatMul: channel axis 1, not the last.
  fixedCase('batchnormalization folded into a rank-3 matmul', {
    input: { name: 'x', shape: [1, 3, 4] }, output: { name: 'y', shape: [1, 3, 3] },
    initializers: [
      { name: 'W', dims: [4, 3], data: [0.5, -0.25, 0.75, 0.1, 0.9, -0.6, -0.3, 0.2, 0.4, 0.8, -0.7, 0.05] },
      { name: 'g', dims: [3], data: [1, 2, -3] }, { name: 'b', dims: [3], data: [0.1, -0.2, 0.3] },
      { name: 'm', dims: [3], data: [0, 0.1, -0.1] }, { name: 'v', dims: [3], data: [1, 0.5, 2] },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['h'] },
      { op: 'BatchNormalization', inputs: ['h', 'g', 'b', 'm', 'v'], outputs: ['y'] },
    ],
  }, [-1, 1], [10, 10]),
  // A MaxPool over accumulators just under 2^49: their difference needed a
  // 51-bit comparison and the model was refused.
  fixedCase('max-pool of accumulators near the exact limit', {
    input: { name: 'x', shape: [1, 1, 4, 4] }, output: { name: 'y', shape: [1, 1, 2, 2] },
    initializers: [0, 1, 2].map((i) => ({ name: `W${i}`, dims: [1, 1, 1, 1], data: [0.65] })),
    nodes: [
      { op: 'Conv', inputs: ['x', 'W0'], outputs: ['c0'], attrs: { kernel_shape: [1, 1] } },
      { op: 'Conv', inputs: ['c0', 'W1'], outputs: ['c1'], attrs: { kernel_shape: [1, 1] } },
      { op: 'Conv', inputs: ['c1', 'W2'], outputs: ['c2'], attrs: { kernel_shape: [1, 1] } },
      { op: 'MaxPool', inputs: ['c2'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    ],
  }, [-1, 1], [13, 13]),
  // A ReLU layer dead over the whole range beside a live one.
  fixedCase('a layer of dead units', {
    input: { name: 'x', shape: [1, 3] }, output: { name: 'y', shape: [1, 2] },
    initializers: [
      { name: 'Wa', dims: [3, 2], data: [-0.5, -0.25, -0.1, -0.7, -0.3, -0.2] }, { name: 'ba', dims: [2], data: [-0.5, -0.1] },
      { name: 'Wb', dims: [3, 2], data: [0.5, -0.25, 0.1, 0.7, -0.3, 0.2] }, { name: 'bb', dims: [2], data: [0.1, -0.1] },
      { name: 'Wc', dims: [4, 2], data: [0.5, -0.5, 0.25, 0.75, -1, 0.5, 0.3, 0.2] },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'Wa'], outputs: ['a0'] }, { op: 'Add', inputs: ['a0', 'ba'], outputs: ['a'] },
      { op: 'Relu', inputs: ['a'], outputs: ['ra'] },
      { op: 'MatMul', inputs: ['x', 'Wb'], outputs: ['b0'] }, { op: 'Add', inputs: ['b0', 'bb'], outputs: ['b'] },
      { op: 'Relu', inputs: ['b'], outputs: ['rb'] },
      { op: 'Concat', inputs: ['ra', 'rb'], outputs: ['h'], attrs: { axis: 1 } },
      { op: 'MatMul', inputs: ['h', 'Wc'], outputs: ['y'] },
    ],
  }, [0, 1], [8, 8]),
  // ReLU over an input range that is all positive is a copy of the input,
  // so the output form read each input twice (directly and through the
  // copy); the elimination of an input for the output pack read only one
  // of the two and left the other naming the eliminated input.
  fixedCase('an output reading inputs directly and through an identity relu', {
    input: { name: 'x', shape: [1, 4] }, output: { name: 'y', shape: [1, 2] },
    initializers: [{ name: 'W', dims: [8, 2], data: [0.5, -0.25, 0.1, 0.7, -0.3, 0.2, 0.9, -0.6, -0.4, 0.3, 0.6, 0.15, -0.7, 0.45, 0.2, -0.35] }],
    nodes: [
      { op: 'Relu', inputs: ['x'], outputs: ['r'] },
      { op: 'Concat', inputs: ['r', 'x'], outputs: ['h'], attrs: { axis: 1 } },
      { op: 'MatMul', inputs: ['h', 'W'], outputs: ['y'] },
    ],
  }, [0.25, 3], [8, 10]),
];
