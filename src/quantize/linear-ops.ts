import type { GraphNode } from '../onnx/graph.js';
import { size } from '../onnx/graph.js';
import type { Form, Gadget } from './program.js';
import { addConst, combine, constForm, signalForm } from './forms.js';
import { bitsFor, chooseGadget, gadgetRange, MAX_BITS } from './gadgets.js';
import { broadcastIndex } from './broadcast.js';
import { window2d, windowTaps } from './windows.js';
import { expandMap, gatherMap, sliceMap, splitMaps, tileMap } from './shape-ops.js';
import { IMPORT_LIMITS } from '../onnx/limits.js';
import { ZkinferError } from '../errors.js';

import { type ActValue, type Value, type LinearRows, attrInt, attrFloat, attrInts, strides, channelOf, normAxis, QuantizerCore } from './quantizer-core.js';

/** Ops whose outputs are affine in their inputs or pick among them: linear maps, moves, comparisons. */
export class LinearOps extends QuantizerCore {
  /**
   * A BatchNormalization right after a linear node folds into its weights:
   * every output element has its own row, so scaling row j by the factor of
   * j's channel is exact. The channel is ONNX's axis 1 at every rank (for a
   * rank-3 MatMul output that is not the axis the weights run along).
   */
  protected foldBatchNorm(node: GraphNode, rows: LinearRows, outShape: readonly number[]): LinearRows {
    const bn = this.soleConsumer(node.outputs[0]);
    if (!bn || bn.opType !== 'BatchNormalization' || outShape.length < 2) return rows;
    const p = this.bnAffine(bn, outShape);
    this.folded.add(bn);
    this.notes.push(`BatchNormalization "${bn.name}" folded into "${node.name}"`);
    const ch = channelOf(outShape);
    const n = rows.idx.length;
    const bias = new Float64Array(n);
    for (let j = 0; j < n; j++) bias[j] = (rows.bias ? rows.bias[j] : 0) * p.a[ch(j)] + p.b[ch(j)];
    return { idx: rows.idx, w: rows.w.map((r, j) => r.map((x) => x * p.a[ch(j)])), bias };
  }

  /** y = a[c] * x + b[c] for channel c (axis 1) of a tensor of shape `shape`. */
  protected bnAffine(bn: GraphNode, shape: readonly number[]): { a: Float64Array; b: Float64Array } {
    const [, sName, bName, mName, vName] = bn.inputs;
    const [gamma, beta, mean, variance] = [sName, bName, mName, vName].map((n) => this.constant(n, bn).data);
    const C = shape[1];
    if (shape.length < 2 || [gamma, beta, mean, variance].some((t) => t.length !== C)) {
      throw new ZkinferError('ONNX_INVALID', `BatchNormalization node "${bn.name}": input [${shape}] needs ${C ?? 'a channel axis and'} parameters per channel (axis 1), got scale, bias, mean, variance of ${[gamma, beta, mean, variance].map((t) => t.length).join(', ')}`);
    }
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const a = gamma.map((g, i) => g / Math.sqrt(variance[i] + eps));
    const b = beta.map((x, i) => x - mean[i] * a[i]);
    return { a, b };
  }

  protected gemm(node: GraphNode): ActValue {
    const [aName, bName, cName] = node.inputs;
    const a = this.act(aName, node);
    const b = this.constant(bName, node);
    const alpha = attrFloat(node, 'alpha', 1);
    const beta = attrFloat(node, 'beta', 1);
    const transA = attrInt(node, 'transA', 0);
    const transB = attrInt(node, 'transB', 0);
    if (a.shape.length !== 2 || b.dims.length !== 2) {
      throw new ZkinferError('ONNX_INVALID', `Gemm node "${node.name}" needs 2-D operands, got [${a.shape}] and [${b.dims}]`);
    }
    const [m, k] = transA ? [a.shape[1], a.shape[0]] : a.shape;
    if (transA && m !== 1) throw new ZkinferError('ONNX_UNSUPPORTED', `Gemm node "${node.name}": transA with ${m} rows is not supported`);
    const [kb, n] = transB ? [b.dims[1], b.dims[0]] : b.dims;
    if (kb !== k) throw new ZkinferError('ONNX_INVALID', `Gemm node "${node.name}": inner dimensions differ (${k} vs ${kb})`);
    let bias: Float64Array | null = null;
    if (cName) {
      const c = this.constant(cName, node);
      const map = broadcastIndex(c.dims, [m, n], node.name);
      bias = Float64Array.from(map, (i) => beta * c.data[i]);
    }
    const rows: LinearRows = { idx: [], w: [], bias };
    for (let r = 0; r < m; r++) {
      for (let j = 0; j < n; j++) {
        rows.idx.push(Array.from({ length: k }, (_, t) => r * k + t));
        rows.w.push(Array.from({ length: k }, (_, t) => alpha * (transB ? b.data[j * k + t] : b.data[t * n + j])));
      }
    }
    return this.linear(node, aName, a, this.foldBatchNorm(node, rows, [m, n]), [m, n]);
  }

  protected matmul(node: GraphNode): ActValue {
    const [aName, bName] = node.inputs;
    if (this.values.get(aName)?.kind === 'const') {
      throw new ZkinferError('ONNX_UNSUPPORTED', `MatMul node "${node.name}": a constant left operand is not supported (computed tensor times constant only)`);
    }
    const a = this.act(aName, node);
    const b = this.constant(bName, node);
    if (b.dims.length !== 2) throw new ZkinferError('ONNX_UNSUPPORTED', `MatMul node "${node.name}": the constant operand must be 2-D, got [${b.dims}]`);
    const k = a.shape[a.shape.length - 1];
    const [kb, n] = b.dims;
    if (kb !== k) throw new ZkinferError('ONNX_INVALID', `MatMul node "${node.name}": inner dimensions differ (${k} vs ${kb})`);
    const rowsN = a.forms.length / k;
    const rows: LinearRows = { idx: [], w: [], bias: null };
    for (let r = 0; r < rowsN; r++) {
      for (let j = 0; j < n; j++) {
        rows.idx.push(Array.from({ length: k }, (_, t) => r * k + t));
        rows.w.push(Array.from({ length: k }, (_, t) => b.data[t * n + j]));
      }
    }
    const outShape = [...a.shape.slice(0, -1), n];
    return this.linear(node, aName, a, this.foldBatchNorm(node, rows, outShape), outShape);
  }

  protected conv(node: GraphNode): ActValue {
    const [xName, wName, bName] = node.inputs;
    const x = this.act(xName, node);
    const W = this.constant(wName, node);
    if (W.dims.length !== 4) throw new ZkinferError('ONNX_UNSUPPORTED', `Conv node "${node.name}": only 2-D convolutions are supported (weight dims [${W.dims}])`);
    const [M, Cg, kh, kw] = W.dims;
    const group = attrInt(node, 'group', 1);
    const C = x.shape[1];
    if (C !== Cg * group || M % group !== 0) {
      throw new ZkinferError('ONNX_INVALID', `Conv node "${node.name}": ${C} input channels do not match weights [${W.dims}] with group ${group}`);
    }
    const win = window2d(node, x.shape, [kh, kw]);
    const bias = bName ? this.constant(bName, node).data : null;
    const rows: LinearRows = { idx: [], w: [], bias: bias ? new Float64Array(M * win.outH * win.outW) : null };
    const mPerG = M / group;
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / mPerG);
      for (let oy = 0; oy < win.outH; oy++) {
        for (let ox = 0; ox < win.outW; ox++) {
          const idx: number[] = [];
          const w: number[] = [];
          const taps = windowTaps(win, oy, ox);
          for (let c = 0; c < Cg; c++) {
            const ci = g * Cg + c;
            for (const [ky, kx, y, xx] of taps) {
              if (y < 0) continue;
              const wv = W.data[((m * Cg + c) * kh + ky) * kw + kx];
              if (wv === 0) continue;
              idx.push((ci * win.inH + y) * win.inW + xx);
              w.push(wv);
            }
          }
          if (rows.bias) rows.bias[rows.idx.length] = bias![m];
          rows.idx.push(idx);
          rows.w.push(w);
        }
      }
    }
    const outShape = [1, M, win.outH, win.outW];
    return this.linear(node, xName, x, this.foldBatchNorm(node, rows, outShape), outShape);
  }

  protected averagePool(node: GraphNode, global: boolean): ActValue {
    const x = this.act(node.inputs[0], node);
    if (x.shape.length !== 4) throw new ZkinferError('ONNX_UNSUPPORTED', `${node.opType} node "${node.name}": only 2-D inputs (N, C, H, W) are supported, got [${x.shape}]`);
    const [, C, H, Wd] = x.shape;
    const win = global ? window2d(node, x.shape, [H, Wd]) : window2d(node, x.shape);
    const includePad = attrInt(node, 'count_include_pad', 0) === 1;
    const rows: LinearRows = { idx: [], w: [], bias: null };
    for (let c = 0; c < C; c++) {
      for (let oy = 0; oy < win.outH; oy++) {
        for (let ox = 0; ox < win.outW; ox++) {
          const taps = windowTaps(win, oy, ox);
          const inside = taps.filter((t) => t[2] >= 0);
          const div = includePad ? taps.length : inside.length;
          rows.idx.push(inside.map(([, , y, xx]) => (c * H + y) * Wd + xx));
          rows.w.push(inside.map(() => 1 / div));
        }
      }
    }
    return this.linear(node, node.inputs[0], x, rows, [1, C, win.outH, win.outW]);
  }

  /**
   * MaxPool as one comparison chain per window: (k-1) Max2 gadgets. It runs on
   * the accumulators before rescaling and ReLU, which are monotone, so one
   * rescale per window replaces one per input element.
   */
  protected maxPool(node: GraphNode): ActValue {
    let v = this.values.get(node.inputs[0]);
    if (!v || v.kind !== 'act') throw new ZkinferError('ONNX_UNSUPPORTED', `MaxPool node "${node.name}" needs a computed input`);
    // A comparison takes the difference of two accumulators, one bit wider than
    // either: near the exact limit, rescale them first.
    if (v.raw && this.tooWide(v.forms, MAX_BITS - 2)) v = this.materialize(node.name, node.inputs[0], v, v.relu);
    const win = window2d(node, v.shape);
    const [, C, H, W] = v.shape;
    const offset = this.lo.length;
    const layer = { forms: [] as Form[], rhs: [] as Form[], gadgets: [] as Gadget[] };
    const out: Form[] = [];
    for (let c = 0; c < C; c++) {
      for (let oy = 0; oy < win.outH; oy++) {
        for (let ox = 0; ox < win.outW; ox++) {
          const taps = windowTaps(win, oy, ox).filter((t) => t[2] >= 0);
          let m = v.forms[(c * H + taps[0][2]) * W + taps[0][3]];
          for (const [, , y, x] of taps.slice(1)) m = this.max2(node.name, layer, m, v.forms[(c * H + y) * W + x]);
          out.push(m);
        }
      }
    }
    if (layer.gadgets.length > 0) {
      this.layers.push({ node: node.name, op: 'max', shape: [layer.gadgets.length], scale: v.scale, forms: layer.forms, rhs: layer.rhs, gadgets: layer.gadgets, offset });
    }
    const pooled: ActValue = { kind: 'act', shape: [1, C, win.outH, win.outW], scale: v.scale, forms: out, raw: v.raw, relu: false };
    return v.relu ? this.materialize(node.name, node.outputs[0], pooled, true) : pooled;
  }

  /** Add or Sub, of constants or computed tensors, with broadcasting. */
  protected addSub(node: GraphNode, sign: 1 | -1): ActValue {
    const r = this.addSubOf(node, sign, false);
    return r.raw && this.tooWide(r.forms) ? this.addSubOf(node, sign, true) : r;
  }

  protected addSubOf(node: GraphNode, sign: 1 | -1, settle: boolean): ActValue {
    const { vals, scale } = this.aligned(node, node.inputs.slice(0, 2), settle);
    const [x, y] = vals;
    const shape = x.shape.length >= y.shape.length && size(x.shape) >= size(y.shape) ? x.shape : y.shape;
    const mx = broadcastIndex(x.shape, shape, node.name);
    const my = broadcastIndex(y.shape, shape, node.name);
    const forms = Array.from(mx, (ix, i) => {
      const fy = y.forms[my[i]];
      const fx = x.forms[ix];
      return fy.idx.length === 0 ? addConst(fx, sign * fy.c) : combine([fx, fy], [1, sign], 0);
    });
    return { kind: 'act', shape: [...shape], scale, forms, raw: x.raw || y.raw, relu: false };
  }

  protected mul(node: GraphNode): ActValue {
    const [p, q] = node.inputs;
    const vp = this.values.get(p);
    const [actName, cName] = vp?.kind === 'act' ? [p, q] : [q, p];
    const a = this.act(actName, node);
    const c = this.constant(cName, node);
    const map = broadcastIndex(c.dims, a.shape, node.name);
    const rows: LinearRows = { idx: a.forms.map((_, i) => [i]), w: Array.from(map, (k) => [c.data[k]]), bias: null };
    return this.linear(node, actName, a, rows, [...a.shape]);
  }

  protected batchNorm(node: GraphNode): Value {
    if (this.folded.has(node)) return this.values.get(node.inputs[0])!;
    const a = this.act(node.inputs[0], node);
    const p = this.bnAffine(node, a.shape);
    const ch = channelOf(a.shape);
    const rows: LinearRows = {
      idx: a.forms.map((_, j) => [j]),
      w: a.forms.map((_, j) => [p.a[ch(j)]]),
      bias: Float64Array.from(a.forms, (_, j) => p.b[ch(j)]),
    };
    return this.linear(node, node.inputs[0], a, rows, [...a.shape]);
  }

  protected pad(node: GraphNode): ActValue {
    const a = this.act(node.inputs[0], node);
    const modeAttr = node.attrs.get('mode');
    const mode = modeAttr && modeAttr.kind === 'string' ? modeAttr.value : 'constant';
    if (mode !== 'constant') throw new ZkinferError('ONNX_UNSUPPORTED', `Pad node "${node.name}": mode "${mode}" is not supported (constant only)`);
    const pads = node.inputs[1] ? Array.from(this.constant(node.inputs[1], node).data) : attrInts(node, 'pads') ?? [];
    if (node.inputs[3]) throw new ZkinferError('ONNX_UNSUPPORTED', `Pad node "${node.name}": the axes input is not supported`);
    const value = node.inputs[2] ? this.constant(node.inputs[2], node).data[0] ?? 0 : attrFloat(node, 'value', 0);
    const r = a.shape.length;
    if (pads.length !== 2 * r) throw new ZkinferError('ONNX_INVALID', `Pad node "${node.name}": ${pads.length} pads for a rank-${r} tensor`);
    const shape = a.shape.map((d, i) => d + pads[i] + pads[i + r]);
    const inStr = strides(a.shape);
    const outStr = strides(shape);
    const fill = constForm(Math.round(value * 2 ** a.scale));
    const forms = Array.from({ length: size(shape) }, (_, o) => {
      let src = 0;
      for (let d = 0; d < r; d++) {
        const c = Math.floor(o / outStr[d]) % shape[d] - pads[d];
        if (c < 0 || c >= a.shape[d]) return fill;
        src += c * inStr[d];
      }
      return a.forms[src];
    });
    return { ...a, shape, forms };
  }

  protected transpose(node: GraphNode): ActValue {
    const a = this.act(node.inputs[0], node);
    const r = a.shape.length;
    const perm = attrInts(node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    const shape = perm.map((p) => a.shape[p]);
    const inStr = strides(a.shape);
    const outStr = strides(shape);
    const forms = Array.from({ length: a.forms.length }, (_, o) => {
      let src = 0;
      for (let d = 0; d < r; d++) src += (Math.floor(o / outStr[d]) % shape[d]) * inStr[perm[d]];
      return a.forms[src];
    });
    return { ...a, shape, forms };
  }

  protected axesOf(node: GraphNode): number[] | null {
    if (node.inputs[1]) return Array.from(this.constant(node.inputs[1], node).data);
    return attrInts(node, 'axes');
  }

  protected concat(node: GraphNode): ActValue {
    const r = this.concatOf(node, false);
    return r.raw && this.tooWide(r.forms) ? this.concatOf(node, true) : r;
  }

  protected concatOf(node: GraphNode, settle: boolean): ActValue {
    const { vals, scale } = this.aligned(node, node.inputs, settle);
    const r = vals[0].shape.length;
    const axis = normAxis(attrInt(node, 'axis', 0), r, node);
    const outer = size(vals[0].shape.slice(0, axis));
    const forms: Form[] = [];
    for (let o = 0; o < outer; o++) {
      for (const v of vals) {
        const chunk = size(v.shape.slice(axis));
        forms.push(...v.forms.slice(o * chunk, (o + 1) * chunk));
      }
    }
    const shape = [...vals[0].shape];
    shape[axis] = vals.reduce((s, v) => s + v.shape[axis], 0);
    return { kind: 'act', shape, scale, forms, raw: vals.some((v) => v.raw), relu: false };
  }

  protected reshape(node: GraphNode, a: ActValue, shape: number[]): ActValue {
    if (size(shape) !== a.forms.length) {
      throw new ZkinferError('ONNX_INVALID', `node "${node.name}" (${node.opType}): cannot reshape [${a.shape}] to [${shape}]`);
    }
    return { ...a, shape };
  }

  protected reshapeTarget(node: GraphNode, a: ActValue): number[] {
    const t = this.constant(node.inputs[1], node);
    const allowzero = attrInt(node, 'allowzero', 0);
    const dims = Array.from(t.data, (d, i) => (d === 0 && !allowzero ? a.shape[i] : d));
    const known = dims.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    return dims.map((d) => (d === -1 ? a.forms.length / known : d));
  }

  /** Slice, Gather, Expand, Tile and Split of a computed tensor move forms: no constraint. */
  protected shapeOp(node: GraphNode): ActValue {
    const a = this.act(node.inputs[0], node);
    const max = IMPORT_LIMITS.maxTensorElements;
    switch (node.opType) {
      case 'Slice': return this.mapped(a, sliceMap(node, a.shape, this.intsOf(node, 1) ?? attrInts(node, 'starts') ?? [], this.intsOf(node, 2) ?? attrInts(node, 'ends') ?? [], this.intsOf(node, 3) ?? attrInts(node, 'axes'), this.intsOf(node, 4), max));
      case 'Gather': return this.mapped(a, gatherMap(node, a.shape, this.constant(node.inputs[1], node), attrInt(node, 'axis', 0), max));
      case 'Expand': return this.mapped(a, expandMap(node, a.shape, this.intsOf(node, 1) ?? [], max));
      case 'Tile': return this.mapped(a, tileMap(node, a.shape, this.intsOf(node, 1) ?? [], max));
      case 'Split': {
        const sizes = this.intsOf(node, 1) ?? attrInts(node, 'split');
        const maps = splitMaps(node, a.shape, attrInt(node, 'axis', 0), sizes, node.outputs.length, max);
        maps.forEach((m, i) => i > 0 && this.values.set(node.outputs[i], this.mapped(a, m)));
        return this.mapped(a, maps[0]);
      }
      default: throw new ZkinferError('ONNX_UNSUPPORTED', `unsupported ONNX operator: ${node.opType} (node "${node.name}")`);
    }
  }

  /** Where with a constant condition: each element from one side or the other (either may be a constant). */
  protected where(node: GraphNode): ActValue {
    if (this.values.get(node.inputs[0])?.kind !== 'const') throw new ZkinferError('ONNX_UNSUPPORTED', `Where node "${node.name}": a computed condition is not supported (constant only)`);
    const cond = this.constant(node.inputs[0], node);
    const { vals, scale } = this.aligned(node, node.inputs.slice(1, 3));
    const [x, y] = vals;
    const shapes = [[...cond.dims], x.shape, y.shape];
    const r = Math.max(...shapes.map((t) => t.length));
    const shape = Array.from({ length: r }, (_, i) => Math.max(...shapes.map((t) => t[i - (r - t.length)] ?? 1)));
    const [mc, mx, my] = shapes.map((t) => broadcastIndex(t, shape, node.name));
    const forms = Array.from(mc, (ic, j) => (cond.data[ic] !== 0 ? x.forms[mx[j]] : y.forms[my[j]]));
    return { kind: 'act', shape, scale, forms, raw: x.raw || y.raw, relu: false };
  }

  /** ReduceSum/ReduceMean (linear), ReduceMax/ReduceMin (Max2 chains) over any axes. */
  protected reduce(node: GraphNode): ActValue {
    const a = this.act(node.inputs[0], node);
    const r = a.shape.length;
    const axesIn = node.inputs[1] ? Array.from(this.constant(node.inputs[1], node).data) : attrInts(node, 'axes');
    const noop = attrInt(node, 'noop_with_empty_axes', 0) === 1;
    if ((!axesIn || axesIn.length === 0) && noop) return a;
    const axes = (axesIn && axesIn.length ? axesIn : a.shape.map((_, i) => i)).map((x) => normAxis(x, r, node));
    const keep = attrInt(node, 'keepdims', 1) === 1;
    const outShape = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const st = strides(a.shape);
    const ost = strides(outShape);
    const groups: number[][] = Array.from({ length: size(outShape) }, () => []);
    for (let f = 0; f < a.forms.length; f++) {
      let o = 0;
      for (let d = 0; d < r; d++) if (!axes.includes(d)) o += (Math.floor(f / st[d]) % a.shape[d]) * ost[d];
      groups[o].push(f);
    }
    const shape = keep ? outShape : a.shape.filter((_, i) => !axes.includes(i));
    if (node.opType === 'ReduceSum' || node.opType === 'ReduceMean') {
      const k = node.opType === 'ReduceMean' ? 1 / groups[0].length : 1;
      return this.linear(node, node.inputs[0], a, { idx: groups, w: groups.map((g) => g.map(() => k)), bias: null }, shape);
    }
    const sign = node.opType === 'ReduceMax' ? 1 : -1;
    const src: ActValue = sign === 1 ? a : { ...a, forms: a.forms.map((f) => combine([f], [-1], 0)) };
    const m = this.rowMax(node, src, groups);
    return { kind: 'act', shape, scale: a.scale, forms: sign === 1 ? m : m.map((f) => combine([f], [-1], 0)), raw: a.raw, relu: false };
  }

  /** ArgMax along any axis, anywhere: one comparison chain (one layer) per row; its outputs are indices, at scale 0. */
  protected argmax(node: GraphNode): ActValue {
    const a = this.act(node.inputs[0], node);
    const axis = normAxis(attrInt(node, 'axis', 0), a.shape.length, node);
    if (attrInt(node, 'select_last_index', 0) !== 0) throw new ZkinferError('ONNX_UNSUPPORTED', `ArgMax node "${node.name}": select_last_index=1 is not supported`);
    const keep = attrInt(node, 'keepdims', 1) === 1;
    const shape = keep ? a.shape.map((d, i) => (i === axis ? 1 : d)) : a.shape.filter((_, i) => i !== axis);
    const forms = this.rows(a.shape, axis).map((row) => {
      const xs = row.map((i) => a.forms[i]);
      if (xs.length === 1) return constForm(0);
      let mlo = -Infinity;
      let mhi = -Infinity;
      let nb = 1;
      xs.forEach((f, i) => {
        const b = this.bounds(f, node.name);
        if (i > 0) nb = Math.max(nb, Math.max(bitsFor(-(mlo - b.hi) - 1), bitsFor(mhi - b.lo)) + 1);
        mlo = Math.max(mlo, b.lo);
        mhi = Math.max(mhi, b.hi);
      });
      const offset = this.pushSignal(0, xs.length - 1);
      this.layers.push({ node: node.name, op: 'argmax', shape: [1], scale: 0, forms: xs, gadgets: [{ kind: 'argmax', nb }], offset });
      return signalForm(offset);
    });
    return { kind: 'act', shape, scale: 0, forms, raw: false, relu: false };
  }

  /**
   * Cast to an integer type: truncation, which for values >= 0 is a floor:
   * a Rescale of x - half (it rounds half up) by the whole scale, to scale 0.
   */
  protected truncate(node: GraphNode, a: ActValue): ActValue {
    if (a.scale <= 0) return a;
    const half = 2 ** (a.scale - 1);
    const offset = this.lo.length;
    const gadgets: Gadget[] = [];
    const src = a.forms.map((f) => addConst(f, -half));
    const forms = src.map((f) => {
      const b = this.bounds(f, node.name);
      if (b.lo + half < 0) throw new ZkinferError('QUANTIZATION_FAILED', `Cast node "${node.name}": the input may reach ${((b.lo + half) / 2 ** a.scale).toPrecision(4)}; a cast to an integer type needs values >= 0`);
      const g = chooseGadget(b.lo, b.hi, a.scale, false, node.name);
      gadgets.push(g);
      const [lo, hi] = gadgetRange(g, b.lo, b.hi);
      return g.kind === 'const' ? (this.pushSignal(lo, hi), constForm(g.value)) : signalForm(this.pushSignal(lo, hi));
    });
    this.layers.push({ node: node.name, op: 'rescale', shape: [...a.shape], scale: 0, forms: src, gadgets, offset });
    return { kind: 'act', shape: [...a.shape], scale: 0, forms, raw: false, relu: false };
  }

  /** Max and Min of tensors (computed or constant, broadcast), folded pairwise. */
  protected maxMin(node: GraphNode): ActValue {
    const { vals, scale } = this.aligned(node, node.inputs, true);
    return vals.slice(1).reduce((acc, v) => {
      const shape = acc.shape.length >= v.shape.length && size(acc.shape) >= size(v.shape) ? acc.shape : v.shape;
      const ma = broadcastIndex(acc.shape, shape, node.name);
      const mb = broadcastIndex(v.shape, shape, node.name);
      const forms = this.maxOf(node, Array.from(ma, (i, j) => [acc.forms[i], v.forms[mb[j]]] as [Form, Form]), scale, node.opType === 'Max' ? 1 : -1);
      return { kind: 'act', shape: [...shape], scale, forms, raw: false, relu: false };
    }, vals[0]);
  }

  /** Clip to [lo, hi] (either may be absent): a Max2 with each constant bound. */
  protected clip(node: GraphNode, a: ActValue, lo: number | null, hi: number | null): ActValue {
    let forms = a.forms;
    const k = 2 ** a.scale;
    if (lo !== null) forms = this.maxOf(node, forms.map((f) => [f, constForm(Math.round(lo * k))]), a.scale, 1);
    if (hi !== null) forms = this.maxOf(node, forms.map((f) => [f, constForm(Math.round(hi * k))]), a.scale, -1);
    return { ...a, forms };
  }

  /** A constant attribute or input of Clip (opset 11 takes them as inputs). */
  protected clipBounds(node: GraphNode): [number | null, number | null] {
    if (node.inputs.length > 1) {
      const at = (k: number) => (node.inputs[k] ? this.constant(node.inputs[k], node).data[0] : null);
      return [at(1), at(2)];
    }
    const f = (name: string) => (node.attrs.has(name) ? attrFloat(node, name, 0) : null);
    return [f('min'), f('max')];
  }

  /**
   * max(x, αx) for 0 <= α <= 1, min(x, αx) above 1: LeakyRelu and PRelu as
   * one comparison of two forms at the slope's weight scale.
   */
  protected leaky(node: GraphNode, a: ActValue, slopes: ArrayLike<number>): ActValue {
    const ws = this.weightScale(node.name, [1, ...Array.from(slopes)]);
    const one = 2 ** ws;
    const scale = a.scale + ws;
    const out = a.forms.map((f, j) => {
      const s = slopes[j % slopes.length];
      return [combine([f], [one], 0), combine([f], [Math.round(s * one)], 0), s <= 1 ? 1 : -1] as const;
    });
    const up = this.maxOf(node, out.filter((o) => o[2] === 1).map((o) => [o[0], o[1]]), scale, 1);
    const down = this.maxOf(node, out.filter((o) => o[2] === -1).map((o) => [o[0], o[1]]), scale, -1);
    let iu = 0;
    let id = 0;
    return { kind: 'act', shape: [...a.shape], scale, forms: out.map((o) => (o[2] === 1 ? up[iu++] : down[id++])), raw: true, relu: false };
  }

  /** HardSigmoid: clip(αx + β, 0, 1), a linear map then two comparisons. */
  protected hardSigmoid(node: GraphNode, a: ActValue, alpha: number, beta: number): ActValue {
    const rows: LinearRows = { idx: a.forms.map((_, i) => [i]), w: a.forms.map(() => [alpha]), bias: Float64Array.from(a.forms, () => beta) };
    const lin = this.linear(node, node.inputs[0], a, rows, [...a.shape]);
    return this.clip(node, lin, 0, 1);
  }
}
