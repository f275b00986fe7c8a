import type { Graph, GraphNode } from '../../src/onnx/graph.js';
import type { Program } from '../../src/quantize/index.js';

/**
 * A bound on |integer program - onnxruntime| for one input, derived from the
 * scales the program chose, not from its forms: an independent check that the
 * integer program computes the ONNX graph.
 *
 * Every tensor T carries e_T >= max |q_T / 2^s_T - v_T|, where v_T is
 * onnxruntime's value (float32) and q_T the integer the program holds for T
 * (an exact affine form of earlier signals when T is never materialized).
 * The only sources of error, and how they propagate:
 *
 * - input: round(x * 2^s) adds 2^-(s+1);
 * - a rescale to scale t (a ReLU; an operand rescaled before a linear map, a
 *   MaxPool or a sum that would pass the exact range; an output past it)
 *   rounds half up: 2^-(t+1). ReLU and max are 1-Lipschitz: they add nothing;
 * - a linear map y = W x + b with weights rounded at 2^-ws and bias at
 *   2^-(s_x+ws): e_y <= |W|_inf e_x + fan 2^-(ws+1) (max|v_x| + e_x) + 2^-(s_x+ws+1),
 *   |W|_inf the largest row sum of |w| (times max |a| for a folded
 *   BatchNormalization), fan the longest row; the middle term is 0 when
 *   every weight is a multiple of 2^-ws;
 * - Add/Sub of two computed tensors: e_x + e_y (aligning scales is exact);
 *   a constant operand, a Pad value: 2^-(s+1) for its rounding;
 * - moves (Reshape, Flatten, Concat, Pad, Transpose) keep the largest e;
 * - onnxruntime's own float32 rounding: 2^-22 fan (|W|_inf max|v_x| + max|b|)
 *   per linear map, 2^-22 max|v| per Add.
 *
 * Scales follow the program: s_x + ws after a linear map, a materialized
 * layer's scale after a rescale or ReLU, the larger scale after Add/Concat.
 * The tracked output scale must equal the program's, which checks the
 * bookkeeping itself. A final Softmax (1-Lipschitz) or ArgMax is judged on
 * the logits' bound: an ArgMax may pick another index only where the float
 * logits are within twice the bound of each other.
 */
export interface Bound {
  readonly error: number;
  readonly scale: number;
  /**
   * The graph ends in Softmax or ArgMax: the program's output is (the index
   * of) the logits, tensor `tensor`, within `error` of onnxruntime's.
   */
  readonly head?: { readonly op: 'Softmax' | 'ArgMax'; readonly tensor: string };
}

interface St { e: number; s: number }

const maxAbs = (xs: ArrayLike<number> | undefined): number => {
  let m = 0;
  if (xs) for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i]));
  return m;
};
const ULP = 2 ** -22;

export function outputBound(graph: Graph, p: Program, floats: ReadonlyMap<string, Float64Array>, x: Float64Array): Bound {
  const st = new Map<string, St>();
  const consts = graph.constants;
  const inScale = p.io.input.scale;
  const exactIn = Array.from(x).every((v) => Number.isInteger(v * 2 ** inScale));
  st.set(graph.input.name, { e: exactIn ? 0 : 2 ** -(inScale + 1), s: inScale });
  const vmax = (t: string) => (t === graph.input.name ? maxAbs(x) : maxAbs(floats.get(t)));
  const ws = (node: string): number => {
    const r = p.scales.find((s) => s.tensor === `${node}:weights`);
    if (!r) throw new Error(`bound: no weight scale recorded for ${node}`);
    return r.scale;
  };
  const get = (t: string, n: GraphNode): St => {
    const v = st.get(t);
    if (!v) throw new Error(`bound: ${n.name} reads ${t}, not tracked`);
    return v;
  };
  const folded = (bn: string, into: string) => p.notes.includes(`BatchNormalization "${bn}" folded into "${into}"`);
  const consumerBn = (n: GraphNode): GraphNode | null => {
    const c = graph.nodes.filter((m) => m.inputs.includes(n.outputs[0]));
    return c.length === 1 && c[0].opType === 'BatchNormalization' && folded(c[0].name, n.name) ? c[0] : null;
  };
  const bnAffine = (bn: GraphNode) => {
    const [g, b, m, v] = bn.inputs.slice(1).map((i) => consts.get(i)!.data);
    const epsA = bn.attrs.get('epsilon');
    const eps = epsA && (epsA.kind === 'float' || epsA.kind === 'int') ? epsA.value : 1e-5;
    const a = Array.from(g, (gi, i) => gi / Math.sqrt(v[i] + eps));
    return { a, b: Array.from(b, (bi, i) => bi - m[i] * a[i]) };
  };
  const attrNum = (n: GraphNode, k: string, d: number) => {
    const a = n.attrs.get(k);
    return a && (a.kind === 'float' || a.kind === 'int') ? a.value : d;
  };

  /** An operand rescaled into signals by node n before use (a linear map's input, a wide sum's). */
  const settled = (n: GraphNode, t: string, x: St): St => {
    const l = p.layers.find((m) => (m.op === 'rescale' || m.op === 'relu') && m.node === n.name && m.tensor === t);
    return l ? { e: x.e + 2 ** -(l.scale + 1), s: l.scale } : x;
  };

  /**
   * rowNorm: largest Σ|w| of an output; fan: longest row; w: every weight
   * value (for exactness); bias: largest |b|.
   */
  const linear = (n: GraphNode, inName: string, rowNorm: number, fan: number, w: ArrayLike<number>, bias: number): St => {
    let x = { ...get(inName, n) };
    x = settled(n, inName, x);
    let norm = rowNorm;
    let ww = Array.from(w);
    let b = bias;
    const bn = consumerBn(n);
    if (bn) {
      const aff = bnAffine(bn);
      const amax = maxAbs(aff.a);
      norm *= amax;
      ww = ww.flatMap((v) => aff.a.map((ai) => v * ai));
      b = amax * bias + maxAbs(aff.b);
    }
    const s = ws(n.name);
    const exact = ww.every((v) => Number.isInteger(v * 2 ** s));
    const vx = vmax(inName);
    const e = norm * x.e + (exact ? 0 : fan * 2 ** -(s + 1) * (vx + x.e)) + 2 ** -(x.s + s + 1) + ULP * fan * (norm * vx + b);
    return { e, s: x.s + s };
  };

  let head: Bound['head'];
  for (const n of graph.nodes) {
    const out = n.outputs[0];
    const [i0, i1] = n.inputs;
    let r: St;
    switch (n.opType) {
      case 'Gemm': {
        const B = consts.get(i1)!;
        const alpha = attrNum(n, 'alpha', 1);
        const beta = attrNum(n, 'beta', 1);
        const transB = attrNum(n, 'transB', 0) === 1;
        const [kdim, units] = transB ? [B.dims[1], B.dims[0]] : [B.dims[0], B.dims[1]];
        let norm = 0;
        for (let j = 0; j < units; j++) {
          let sum = 0;
          for (let t = 0; t < kdim; t++) sum += Math.abs(alpha * (transB ? B.data[j * kdim + t] : B.data[t * units + j]));
          norm = Math.max(norm, sum);
        }
        const bias = n.inputs[2] ? beta * maxAbs(consts.get(n.inputs[2])!.data) : 0;
        r = linear(n, i0, norm, kdim, Array.from(B.data, (v) => alpha * v), bias);
        break;
      }
      case 'MatMul': {
        const B = consts.get(i1)!;
        const [kdim, units] = B.dims;
        let norm = 0;
        for (let j = 0; j < units; j++) {
          let sum = 0;
          for (let t = 0; t < kdim; t++) sum += Math.abs(B.data[t * units + j]);
          norm = Math.max(norm, sum);
        }
        r = linear(n, i0, norm, kdim, B.data, 0);
        break;
      }
      case 'Conv': {
        const W = consts.get(i1)!;
        const per = W.dims.slice(1).reduce((a, b) => a * b, 1);
        let norm = 0;
        for (let m = 0; m < W.dims[0]; m++) {
          let sum = 0;
          for (let t = 0; t < per; t++) sum += Math.abs(W.data[m * per + t]);
          norm = Math.max(norm, sum);
        }
        r = linear(n, i0, norm, per, W.data, n.inputs[2] ? maxAbs(consts.get(n.inputs[2])!.data) : 0);
        break;
      }
      case 'AveragePool':
      case 'GlobalAveragePool': {
        const k = n.attrs.get('kernel_shape');
        const fan = n.opType === 'AveragePool' && k?.kind === 'ints' ? k.value[0] * k.value[1] : Math.round(count(i0) / count(out));
        // Weights are 1/d, d up to the window size (fewer taps at a padded edge): rows sum to at most 1.
        r = linear(n, i0, 1, fan, Array.from({ length: fan }, (_, d) => 1 / (d + 1)), 0);
        break;
      }
      case 'Mul': {
        const cName = consts.has(i0) ? i0 : i1;
        const aName = cName === i0 ? i1 : i0;
        const c = consts.get(cName)!.data;
        r = linear(n, aName, maxAbs(c), 1, c, 0);
        break;
      }
      case 'BatchNormalization': {
        const src = graph.nodes.find((m) => m.outputs.includes(i0));
        if (src && folded(n.name, src.name)) {
          r = { ...get(i0, n) };
          break;
        }
        const aff = bnAffine(n);
        r = linear(n, i0, maxAbs(aff.a), 1, aff.a, maxAbs(aff.b));
        break;
      }
      case 'Relu': {
        const x = get(i0, n);
        const l = p.layers.find((m) => m.op === 'relu' && m.tensor === out);
        // No layer of its own: deferred past the MaxPool that reads it.
        r = l ? { e: x.e + 2 ** -(l.scale + 1), s: l.scale } : { ...x };
        break;
      }
      case 'MaxPool': {
        const x = settled(n, i0, get(i0, n));
        const l = p.layers.find((m) => m.op === 'relu' && m.tensor === out);
        r = l ? { e: x.e + 2 ** -(l.scale + 1), s: l.scale } : { ...x };
        break;
      }
      case 'Add':
      case 'Sub': {
        const ins = [i0, i1].map((t) => (consts.has(t) ? null : settled(n, t, get(t, n))));
        const s = Math.max(...ins.filter((v): v is St => v !== null).map((v) => v.s));
        const e = ins.reduce((acc, v) => acc + (v ? v.e : 2 ** -(s + 1)), 0) + ULP * vmax(out);
        r = { e, s };
        break;
      }
      case 'Concat': {
        const ins = n.inputs.map((t) => (consts.has(t) ? null : settled(n, t, get(t, n))));
        const s = Math.max(...ins.filter((v): v is St => v !== null).map((v) => v.s));
        r = { e: Math.max(...ins.map((v) => (v ? v.e : 2 ** -(s + 1)))), s };
        break;
      }
      case 'Pad': {
        const x = get(i0, n);
        const value = n.inputs[2] ? consts.get(n.inputs[2])!.data[0] : 0;
        r = { e: Math.max(x.e, Number.isInteger(value * 2 ** x.s) ? 0 : 2 ** -(x.s + 1)), s: x.s };
        break;
      }
      case 'Softmax':
        head = { op: 'Softmax', tensor: i0 };
        r = { ...get(i0, n) };
        break;
      case 'ArgMax':
        head = { op: 'ArgMax', tensor: i0 };
        r = { e: get(i0, n).e, s: 0 };
        break;
      case 'Flatten':
      case 'Reshape':
      case 'Transpose':
      case 'Identity':
      case 'Squeeze':
      case 'Unsqueeze':
        r = { ...get(i0, n) };
        break;
      default:
        throw new Error(`bound: no rule for ${n.opType}`);
    }
    st.set(out, r);
  }
  let o = st.get(graph.output.name)!;
  const last = p.layers.find((m) => m.op === 'rescale' && m.node === graph.output.name && m.tensor === graph.output.name);
  if (last) o = { e: o.e + 2 ** -(last.scale + 1), s: last.scale };
  if (o.s !== p.io.output.scale) throw new Error(`bound: tracked output scale 2^-${o.s}, the program's is 2^-${p.io.output.scale}`);
  return { error: o.e, scale: o.s, ...(head ? { head } : {}) };

  function count(t: string): number {
    return t === graph.input.name ? x.length : (floats.get(t)?.length ?? 1);
  }
}

/**
 * Checks the integer program's output (as floats) against onnxruntime's
 * within the bound; returns the largest error / bound (for the report).
 */
export function judge(graph: Graph, p: Program, floats: ReadonlyMap<string, Float64Array>, x: Float64Array, out: readonly number[]): number {
  const want = floats.get(graph.output.name)!;
  const bound = outputBound(graph, p, floats, x);
  const slack = 1e-6 * (1 + maxAbs(want));
  if (bound.head?.op === 'ArgMax') {
    const logits = floats.get(bound.head.tensor)!;
    const [i, j] = [out[0], want[0]];
    if (i !== j && !(logits[j] - logits[i] <= 2 * bound.error + slack)) {
      throw new Error(`ArgMax: the integer program picks ${i}, onnxruntime ${j}, whose logits differ by ${logits[j] - logits[i]}, more than twice the bound ${bound.error}`);
    }
    return 0;
  }
  let got = [...out];
  if (bound.head?.op === 'Softmax') {
    const m = Math.max(...got);
    const e = got.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, b) => a + b, 0);
    got = e.map((v) => v / sum);
  }
  let ratio = 0;
  got.forEach((v, j) => {
    const err = Math.abs(v - want[j]);
    if (!(err <= bound.error + slack)) {
      throw new Error(`output ${j}: integer program ${v}, onnxruntime ${want[j]}: error ${err} exceeds the bound ${bound.error}`);
    }
    ratio = Math.max(ratio, err / (bound.error + slack));
  });
  return ratio;
}
