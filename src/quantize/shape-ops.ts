import type { ConstTensor, GraphNode } from '../onnx/graph.js';
import { size } from '../onnx/graph.js';
import { broadcastIndex } from './broadcast.js';
import { ZkinferError } from '../errors.js';

/**
 * Ops that only move elements: each output element is one input element.
 * The quantizer applies the map to forms (no constraint), the constant
 * folder to constant data.
 */
export interface IndexMap {
  readonly shape: number[];
  /** Flat input index of each output element. */
  readonly src: Int32Array;
}

export const stridesOf = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
};

const invalid = (node: GraphNode, msg: string): never => {
  throw new ZkinferError('ONNX_INVALID', `${node.opType} node "${node.name}": ${msg}`);
};

export const normalizeAxis = (node: GraphNode, axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isSafeInteger(a) || a < 0 || a >= rank) invalid(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
};

/** Output index → input index for an output of `shape` whose coordinate on each axis d maps to pick(d, c). */
function gatherCoords(inShape: readonly number[], shape: number[], pick: (d: number, c: number) => number, maxElements: number, node: GraphNode): IndexMap {
  const n = size(shape);
  if (n > maxElements) invalid(node, `computes ${n} elements (limit ${maxElements})`);
  const inStr = stridesOf(inShape);
  const outStr = stridesOf(shape);
  const src = new Int32Array(n);
  for (let o = 0; o < n; o++) {
    let s = 0;
    for (let d = 0; d < shape.length; d++) s += pick(d, Math.floor(o / outStr[d]) % shape[d]) * inStr[d];
    src[o] = s;
  }
  return { shape, src };
}

/** Slice with constant starts, ends, axes and steps (ONNX clamping rules). */
export function sliceMap(node: GraphNode, inShape: readonly number[], starts: number[], ends: number[], axesIn: number[] | null, stepsIn: number[] | null, maxElements: number): IndexMap {
  const r = inShape.length;
  const axes = (axesIn ?? starts.map((_, i) => i)).map((a) => normalizeAxis(node, a, r));
  const steps = stepsIn ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) invalid(node, 'starts, ends, axes and steps differ in length');
  const first = inShape.map(() => 0);
  const step = inShape.map(() => 1);
  const shape = [...inShape];
  axes.forEach((a, i) => {
    const dim = inShape[a];
    const st = steps[i];
    if (!Number.isSafeInteger(st) || st === 0) invalid(node, `step ${st} on axis ${a}`);
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let s = starts[i] < 0 ? starts[i] + dim : starts[i];
    let e = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (st > 0) {
      s = clamp(s, 0, dim);
      e = clamp(e, 0, dim);
    } else {
      s = clamp(s, 0, dim - 1);
      e = clamp(e, -1, dim - 1);
    }
    shape[a] = Math.max(0, Math.ceil((e - s) / st));
    first[a] = s;
    step[a] = st;
  });
  return gatherCoords(inShape, shape, (d, c) => first[d] + c * step[d], maxElements, node);
}

/** Gather with constant indices along an axis. */
export function gatherMap(node: GraphNode, inShape: readonly number[], indices: ConstTensor, axisIn: number, maxElements: number): IndexMap {
  const axis = normalizeAxis(node, axisIn, inShape.length);
  const dim = inShape[axis];
  const idx = Array.from(indices.data, (v) => {
    const k = v < 0 ? v + dim : v;
    if (!Number.isSafeInteger(k) || k < 0 || k >= dim) invalid(node, `index ${v} is out of range for axis ${axis} of size ${dim}`);
    return k;
  });
  const outer = inShape.slice(0, axis);
  const inner = inShape.slice(axis + 1);
  const shape = [...outer, ...indices.dims, ...inner];
  const n = size(shape);
  if (n > maxElements) invalid(node, `computes ${n} elements (limit ${maxElements})`);
  const innerN = size(inner);
  const src = new Int32Array(n);
  let o = 0;
  for (let a = 0; a < size(outer); a++) {
    for (const k of idx) {
      for (let b = 0; b < innerN; b++) src[o++] = (a * dim + k) * innerN + b;
    }
  }
  return { shape, src };
}

/** Expand to a constant shape (numpy broadcasting both ways). */
export function expandMap(node: GraphNode, inShape: readonly number[], target: number[], maxElements: number): IndexMap {
  const r = Math.max(inShape.length, target.length);
  const a = [...new Array(r - inShape.length).fill(1), ...inShape];
  const b = [...new Array(r - target.length).fill(1), ...target];
  const shape = a.map((d, i) => {
    if (d !== b[i] && d !== 1 && b[i] !== 1) invalid(node, `cannot expand [${inShape}] to [${target}]`);
    return Math.max(d, b[i]);
  });
  if (size(shape) > maxElements) invalid(node, `computes ${size(shape)} elements (limit ${maxElements})`);
  return { shape, src: broadcastIndex(inShape, shape, node.name) };
}

/** Tile by constant repeats. */
export function tileMap(node: GraphNode, inShape: readonly number[], repeats: number[], maxElements: number): IndexMap {
  if (repeats.length !== inShape.length || repeats.some((x) => !Number.isSafeInteger(x) || x < 0)) invalid(node, `repeats [${repeats}] do not fit rank ${inShape.length}`);
  return gatherCoords(inShape, inShape.map((d, i) => d * repeats[i]), (d, c) => c % inShape[d], maxElements, node);
}

/** Transpose by a permutation (reversed axes by default). */
export function transposeMap(node: GraphNode, inShape: readonly number[], permIn: number[] | null): IndexMap {
  const r = inShape.length;
  const perm = permIn ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  if (perm.length !== r || new Set(perm).size !== r || perm.some((p) => p < 0 || p >= r)) invalid(node, `perm [${perm}] is not a permutation of ${r} axes`);
  const shape = perm.map((p) => inShape[p]);
  const inStr = stridesOf(inShape);
  const outStr = stridesOf(shape);
  const src = new Int32Array(size(shape));
  for (let o = 0; o < src.length; o++) {
    let s = 0;
    for (let d = 0; d < r; d++) s += (Math.floor(o / outStr[d]) % shape[d]) * inStr[perm[d]];
    src[o] = s;
  }
  return { shape, src };
}

/** Split along an axis into given sizes, or equal parts (one per output). */
export function splitMaps(node: GraphNode, inShape: readonly number[], axisIn: number, sizesIn: number[] | null, outputs: number, maxElements: number): IndexMap[] {
  const axis = normalizeAxis(node, axisIn, inShape.length);
  const dim = inShape[axis];
  const sizes = sizesIn ?? Array.from({ length: outputs }, (_, i) => Math.ceil(dim / outputs) * (i + 1) <= dim ? Math.ceil(dim / outputs) : Math.max(0, dim - Math.ceil(dim / outputs) * i));
  if (sizes.length !== outputs || sizes.reduce((a, b) => a + b, 0) !== dim || sizes.some((s) => s < 0)) invalid(node, `split [${sizes}] does not divide axis ${axis} of size ${dim} into ${outputs} outputs`);
  let start = 0;
  return sizes.map((s) => {
    const m = sliceMap(node, inShape, [start], [start + s], [axis], [1], maxElements);
    start += s;
    return m;
  });
}
