import type { AttrValue, ConstTensor, GraphNode } from '../onnx/graph.js';
import { size } from '../onnx/graph.js';
import { broadcastIndex } from './broadcast.js';
import { expandMap, gatherMap, normalizeAxis, sliceMap, tileMap, transposeMap, type IndexMap } from './shape-ops.js';
import { ZkinferError } from '../errors.js';

/**
 * Constant folding: a node whose inputs are all constants (or a Shape, whose
 * input's shape is known) is evaluated at compile time. This is how the
 * shape arithmetic an exporter leaves around Reshape (Shape, Gather,
 * Unsqueeze, Concat, Cast, ConstantOfShape, ...) disappears before
 * quantization. Returns null for a node that is not foldable.
 */
export type FoldInput = ConstTensor | { readonly shape: readonly number[] } | undefined;

const isConst = (x: FoldInput): x is ConstTensor => x !== undefined && 'data' in x;

/** ONNX float types a computed Cast may keep (float, float16, double, bfloat16). */
export const FLOAT_TYPES: ReadonlySet<number> = new Set([1, 10, 11, 16]);
/** ONNX integer types (uint8 to uint64). */
export const INT_CASTS: ReadonlySet<number> = new Set([2, 3, 4, 5, 6, 7, 12, 13]);
const INT_TYPES = INT_CASTS;

const attr = (n: GraphNode, name: string): AttrValue | undefined => n.attrs.get(name);
const attrInt = (n: GraphNode, name: string, dflt: number): number => {
  const a = attr(n, name);
  return a && a.kind === 'int' ? a.value : dflt;
};
const attrInts = (n: GraphNode, name: string): number[] | null => {
  const a = attr(n, name);
  return a && a.kind === 'ints' ? a.value : null;
};
const ints = (t: ConstTensor | undefined): number[] | null => (t ? Array.from(t.data) : null);
const tensor = (dims: readonly number[], data: ArrayLike<number>, int = false): ConstTensor => (int ? { dims: [...dims], data: Float64Array.from(data), int } : { dims: [...dims], data: Float64Array.from(data) });
const mapped = (t: ConstTensor, m: IndexMap): ConstTensor => tensor(m.shape, Array.from(m.src, (i) => t.data[i]), t.int);

const BINARY: Readonly<Record<string, (a: number, b: number, int: boolean) => number>> = Object.freeze({
  Add: (a: number, b: number) => a + b,
  Sub: (a: number, b: number) => a - b,
  Mul: (a: number, b: number) => a * b,
  Div: (a: number, b: number, int: boolean) => (int ? Math.trunc(a / b) : a / b),
  Pow: (a: number, b: number) => a ** b,
  Max: (a: number, b: number) => Math.max(a, b),
  Min: (a: number, b: number) => Math.min(a, b),
  Equal: (a: number, b: number) => (a === b ? 1 : 0),
  Less: (a: number, b: number) => (a < b ? 1 : 0),
  Greater: (a: number, b: number) => (a > b ? 1 : 0),
});

const UNARY: Readonly<Record<string, (a: number) => number>> = Object.freeze({
  Neg: (a: number) => -a,
  Sqrt: Math.sqrt,
  Abs: Math.abs,
  Floor: Math.floor,
  Ceil: Math.ceil,
  Relu: (a: number) => Math.max(0, a),
  Exp: Math.exp,
  Reciprocal: (a: number) => 1 / a,
});

function broadcastShape(node: GraphNode, shapes: ReadonlyArray<readonly number[]>): number[] {
  const r = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: r }, (_, i) => {
    let d = 1;
    for (const s of shapes) {
      const x = s[i - (r - s.length)] ?? 1;
      if (x !== 1 && d !== 1 && x !== d) throw new ZkinferError('ONNX_INVALID', `${node.opType} node "${node.name}": cannot broadcast [${shapes.map((t) => `[${t}]`).join(', ')}]`);
      if (x !== 1) d = x;
    }
    return d;
  });
}

/** The folded value of `node`, or null when it cannot be folded here. */
export function foldNode(node: GraphNode, inputs: readonly FoldInput[], maxElements: number): ConstTensor | null {
  const op = node.opType;
  if (op === 'Shape') {
    const x = inputs[0];
    if (!x) return null;
    const shape = isConst(x) ? x.dims : x.shape;
    const r = shape.length;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    return tensor([Math.max(0, clamp(attrInt(node, 'end', r)) - clamp(attrInt(node, 'start', 0)))], shape.slice(clamp(attrInt(node, 'start', 0)), clamp(attrInt(node, 'end', r))), true);
  }
  if (op === 'Size') {
    const x = inputs[0];
    if (!x) return null;
    return tensor([], [size(isConst(x) ? x.dims : x.shape)], true);
  }
  const present = inputs.filter((x, i) => node.inputs[i] !== '');
  if (!present.every(isConst)) return null;
  const c = inputs as ReadonlyArray<ConstTensor | undefined>;
  const a = c[0];
  if (op === 'ConstantOfShape') {
    const dims = ints(a) ?? [];
    if (size(dims) > maxElements) throw new ZkinferError('CIRCUIT_TOO_LARGE', `ConstantOfShape node "${node.name}": [${dims}] is too large`);
    const v = attr(node, 'value');
    const t = v && v.kind === 'tensor' ? v.value : null;
    return tensor(dims, new Array<number>(size(dims)).fill(t ? t.data[0] ?? 0 : 0), t?.int ?? false);
  }
  if (!a) return null;
  if (op in BINARY && c[1]) {
    const b = c[1];
    const shape = broadcastShape(node, [a.dims, b.dims]);
    const ma = broadcastIndex(a.dims, shape, node.name);
    const mb = broadcastIndex(b.dims, shape, node.name);
    const int = !!a.int && !!b.int;
    const cmp = op === 'Equal' || op === 'Less' || op === 'Greater';
    return tensor(shape, Array.from(ma, (i, j) => BINARY[op](a.data[i], b.data[mb[j]], int)), int || cmp);
  }
  if (op in UNARY) return tensor(a.dims, Array.from(a.data, UNARY[op]), a.int && op !== 'Sqrt' && op !== 'Exp' && op !== 'Reciprocal');
  switch (op) {
    case 'Identity': return a;
    case 'Cast': {
      const to = attrInt(node, 'to', 1);
      if (INT_TYPES.has(to)) return tensor(a.dims, Array.from(a.data, Math.trunc), true);
      if (to === 9) return tensor(a.dims, Array.from(a.data, (x) => (x !== 0 ? 1 : 0)), true);
      return tensor(a.dims, a.data, false);
    }
    case 'Where': {
      const [x, y] = [c[1]!, c[2]!];
      const shape = broadcastShape(node, [a.dims, x.dims, y.dims]);
      const [mc, mx, my] = [a, x, y].map((t) => broadcastIndex(t.dims, shape, node.name));
      return tensor(shape, Array.from(mc, (i, j) => (a.data[i] !== 0 ? x.data[mx[j]] : y.data[my[j]])), !!x.int && !!y.int);
    }
    case 'Range': {
      const [start, limit, delta] = [a.data[0], c[1]!.data[0], c[2]!.data[0]];
      const n = Math.max(0, Math.ceil((limit - start) / delta));
      if (!Number.isFinite(n) || n > maxElements) throw new ZkinferError('ONNX_INVALID', `Range node "${node.name}": ${n} elements`);
      return tensor([n], Array.from({ length: n }, (_, i) => start + i * delta), a.int);
    }
    case 'Reshape': {
      const target = ints(c[1]) ?? [];
      const dims = target.map((d, i) => (d === 0 && !attrInt(node, 'allowzero', 0) ? a.dims[i] : d));
      const known = dims.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
      const out = dims.map((d) => (d === -1 ? a.data.length / known : d));
      if (size(out) !== a.data.length) throw new ZkinferError('ONNX_INVALID', `Reshape node "${node.name}": cannot reshape [${a.dims}] to [${target}]`);
      return tensor(out, a.data, a.int);
    }
    case 'Unsqueeze': {
      const axes = ints(c[1]) ?? attrInts(node, 'axes') ?? [];
      const r = a.dims.length + axes.length;
      const norm = axes.map((x) => normalizeAxis(node, x, r));
      const dims: number[] = [];
      let k = 0;
      for (let i = 0; i < r; i++) dims.push(norm.includes(i) ? 1 : a.dims[k++]);
      return tensor(dims, a.data, a.int);
    }
    case 'Squeeze': {
      const axes = (ints(c[1]) ?? attrInts(node, 'axes') ?? a.dims.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((x) => normalizeAxis(node, x, a.dims.length));
      return tensor(a.dims.filter((_, i) => !axes.includes(i)), a.data, a.int);
    }
    case 'Concat': {
      const ts = c.filter((t): t is ConstTensor => t !== undefined);
      const axis = normalizeAxis(node, attrInt(node, 'axis', 0), a.dims.length);
      const outer = size(a.dims.slice(0, axis));
      const data: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const t of ts) {
          const chunk = size(t.dims.slice(axis));
          for (let i = o * chunk; i < (o + 1) * chunk; i++) data.push(t.data[i]);
        }
      }
      const dims = [...a.dims];
      dims[axis] = ts.reduce((s, t) => s + t.dims[axis], 0);
      return tensor(dims, data, ts.every((t) => t.int));
    }
    case 'Gather': return mapped(a, gatherMap(node, a.dims, c[1]!, attrInt(node, 'axis', 0), maxElements));
    case 'Slice': {
      const starts = ints(c[1]) ?? attrInts(node, 'starts') ?? [];
      const ends = ints(c[2]) ?? attrInts(node, 'ends') ?? [];
      return mapped(a, sliceMap(node, a.dims, starts, ends, ints(c[3]) ?? attrInts(node, 'axes'), ints(c[4]), maxElements));
    }
    case 'Expand': return mapped(a, expandMap(node, a.dims, ints(c[1]) ?? [], maxElements));
    case 'Tile': return mapped(a, tileMap(node, a.dims, ints(c[1]) ?? [], maxElements));
    case 'Transpose': return mapped(a, transposeMap(node, a.dims, attrInts(node, 'perm')));
    case 'ReduceSum': case 'ReduceMean': case 'ReduceMax': case 'ReduceMin': case 'ReduceProd':
      return reduceConst(node, a, ints(c[1]) ?? attrInts(node, 'axes'));
    default: return null;
  }
}

const REDUCERS: Readonly<Record<string, { init: number; step: (acc: number, v: number) => number }>> = Object.freeze({
  ReduceSum: { init: 0, step: (acc: number, v: number) => acc + v },
  ReduceMean: { init: 0, step: (acc: number, v: number) => acc + v },
  ReduceProd: { init: 1, step: (acc: number, v: number) => acc * v },
  ReduceMax: { init: -Infinity, step: Math.max },
  ReduceMin: { init: Infinity, step: Math.min },
});

function reduceConst(node: GraphNode, a: ConstTensor, axesIn: number[] | null): ConstTensor {
  const r = a.dims.length;
  if ((!axesIn || axesIn.length === 0) && attrInt(node, 'noop_with_empty_axes', 0) === 1) return a;
  const axes = (axesIn && axesIn.length ? axesIn : a.dims.map((_, i) => i)).map((x) => normalizeAxis(node, x, r));
  const outDims = a.dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const inStr = a.dims.map((_, i) => size(a.dims.slice(i + 1)));
  const outStr = outDims.map((_, i) => size(outDims.slice(i + 1)));
  const red = REDUCERS[node.opType];
  const out = new Array<number>(size(outDims)).fill(red.init);
  for (let f = 0; f < a.data.length; f++) {
    let o = 0;
    for (let d = 0; d < r; d++) if (!axes.includes(d)) o += (Math.floor(f / inStr[d]) % a.dims[d]) * outStr[d];
    out[o] = red.step(out[o], a.data[f]);
  }
  const n = a.data.length / out.length;
  const data = node.opType === 'ReduceMean' ? out.map((v) => v / n) : out;
  const keep = attrInt(node, 'keepdims', 1) === 1;
  return tensor(keep ? outDims : a.dims.filter((_, i) => !axes.includes(i)), data, !!a.int && node.opType !== 'ReduceMean');
}
