import type { GraphNode } from '../onnx/graph.js';
import { size } from '../onnx/graph.js';
import type { Form, Gadget } from './program.js';
import { addConst, combine, constForm, signalForm } from './forms.js';
import { applyDiv, applySqrt, bitsFor, MAX_BITS } from './gadgets.js';
import { chooseFn, SMOOTH_FNS } from './fn-table.js';
import { broadcastIndex } from './broadcast.js';
import { ZkinferError } from '../errors.js';

import { type ActValue, type LinearRows, FN_MAX_BITS, attrInt, attrFloat, attrInts, normAxis } from './quantizer-core.js';
import { LinearOps } from './linear-ops.js';

/** Ops that multiply computed values: products, divisions, square roots, function tables and what is built of them. */
export class NonlinearOps extends LinearOps {
  /** Interval of a·b; a form times itself is a square (never negative). */
  protected productBounds(a: Form, b: Form, node: string): [number, number] {
    const ba = this.bounds(a, node);
    if (a === b || (a.c === b.c && a.idx.length === b.idx.length && a.idx.every((x, t) => x === b.idx[t] && a.w[t] === b.w[t]))) {
      const m = Math.max(ba.lo * ba.lo, ba.hi * ba.hi);
      return [ba.lo <= 0 && ba.hi >= 0 ? 0 : Math.min(ba.lo * ba.lo, ba.hi * ba.hi), m];
    }
    const bb = this.bounds(b, node);
    const c = [ba.lo * bb.lo, ba.lo * bb.hi, ba.hi * bb.lo, ba.hi * bb.hi];
    return [Math.min(...c), Math.max(...c)];
  }

  /**
   * Sums of products of computed values, one product gadget per output (one
   * constraint per product). A factor that is a constant folds into the base.
   * The outputs are raw: at the factors' summed scale.
   */
  protected products(node: GraphNode, shape: number[], scale: number, items: Array<{ base: Form; pairs: Form[]; bound?: readonly [number, number] }>, absBound = Infinity): ActValue {
    const offset = this.lo.length;
    const layer = { forms: [] as Form[], pairs: [] as Form[][], gadgets: [] as Gadget[] };
    const out = items.map(({ base, pairs, bound }) => {
      let b = base;
      const kept: Form[] = [];
      let lo = 0;
      let hi = 0;
      for (let t = 0; t < pairs.length; t += 2) {
        const [x, y] = [pairs[t], pairs[t + 1]];
        if (x.idx.length === 0 || y.idx.length === 0) {
          const [k, f] = x.idx.length === 0 ? [x.c, y] : [y.c, x];
          b = combine([b, f], [1, k], 0);
          continue;
        }
        const [l, h] = this.productBounds(x, y, node.name);
        lo += l;
        hi += h;
        kept.push(x, y);
      }
      if (kept.length === 0) return b;
      const bb = this.bounds(b, node.name);
      lo = Math.max(lo + bb.lo, -absBound, bound ? bound[0] + bb.lo : -Infinity);
      hi = Math.min(hi + bb.hi, absBound, bound ? bound[1] + bb.hi : Infinity);
      this.checkMagnitude(lo, hi, node.name);
      layer.forms.push(b);
      layer.pairs.push(kept);
      layer.gadgets.push({ kind: 'product', terms: kept.length / 2 });
      return signalForm(this.pushSignal(lo, hi));
    });
    if (layer.gadgets.length > 0) this.layers.push({ node: node.name, op: 'product', shape: [layer.gadgets.length], scale, ...layer, offset });
    return { kind: 'act', shape, scale, forms: out, raw: true, relu: false };
  }

  /** Mul of two computed tensors (with broadcasting): one product each. */
  protected mul2(node: GraphNode): ActValue {
    const [a, b] = node.inputs.map((n) => this.settled(n, node));
    const shape = a.shape.length >= b.shape.length && size(a.shape) >= size(b.shape) ? a.shape : b.shape;
    const ma = broadcastIndex(a.shape, shape, node.name);
    const mb = broadcastIndex(b.shape, shape, node.name);
    const items = Array.from(ma, (ia, j) => ({ base: constForm(0), pairs: [a.forms[ia], b.forms[mb[j]]] }));
    return this.products(node, [...shape], a.scale + b.scale, items);
  }

  /** MatMul of two computed tensors [..., M, K]·[..., K, N], batch dimensions broadcast: K products per output. */
  protected matmul2(node: GraphNode): ActValue {
    const [a, b] = node.inputs.map((n) => this.settled(n, node));
    if (a.shape.length < 2 || b.shape.length < 2) throw new ZkinferError('ONNX_UNSUPPORTED', `MatMul node "${node.name}": computed operands must be at least 2-D, got [${a.shape}] and [${b.shape}]`);
    const [M, K] = a.shape.slice(-2);
    const [Kb, N] = b.shape.slice(-2);
    if (K !== Kb) throw new ZkinferError('ONNX_INVALID', `MatMul node "${node.name}": inner dimensions differ (${K} vs ${Kb})`);
    const ba = a.shape.slice(0, -2);
    const bb = b.shape.slice(0, -2);
    const batch = ba.length >= bb.length && size(ba) >= size(bb) ? ba : bb;
    const ia = broadcastIndex(ba, batch, node.name);
    const ib = broadcastIndex(bb, batch, node.name);
    const items: Array<{ base: Form; pairs: Form[]; bound?: [number, number] }> = [];
    for (let z = 0; z < size(batch); z++) {
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          const pairs: Form[] = [];
          let vlo = 0;
          let vhi = 0;
          for (let k = 0; k < K; k++) {
            const f = b.forms[(ib[z] * K + k) * N + j];
            pairs.push(a.forms[(ia[z] * M + i) * K + k], f);
            if (a.rowSum !== undefined) {
              const bb = this.bounds(f, node.name);
              vlo = Math.min(vlo, bb.lo);
              vhi = Math.max(vhi, bb.hi);
            }
          }
          items.push({ base: constForm(0), pairs, ...(a.rowSum !== undefined ? { bound: [a.rowSum * vlo, a.rowSum * vhi] as [number, number] } : {}) });
        }
      }
    }
    return this.products(node, [...batch, M, N], a.scale + b.scale, items);
  }

  /**
   * floor(num·2^k / den) per element, den > 0 over its bounds. The scale of
   * the quotient is num's + k - den's: k is chosen so it reaches `target`.
   * `denLo` may tighten den's interval where the graph proves more (a
   * softmax's sum holds its maximum's exp).
   */
  protected divide(node: GraphNode, shape: number[], num: { forms: Form[]; scale: number }, den: { forms: Form[]; scale: number }, target: number, denLo?: number): ActValue {
    const k = Math.max(0, target - num.scale + den.scale);
    const offset = this.lo.length;
    const layer = { forms: [] as Form[], rhs: [] as Form[], gadgets: [] as Gadget[] };
    const out = num.forms.map((nf, j) => {
      const df = den.forms[j];
      const bn = this.bounds(nf, node.name);
      const bd = this.bounds(df, node.name);
      const dlo = Math.max(bd.lo, denLo ?? -Infinity);
      if (!(dlo > 0)) {
        throw new ZkinferError('QUANTIZATION_FAILED', `node "${node.name}" (${node.opType}): the denominator may reach ${(dlo / 2 ** den.scale).toPrecision(4)}; only a denominator that stays above zero is supported`);
      }
      this.checkMagnitude(bn.lo * 2 ** k, bn.hi * 2 ** k, node.name);
      const rb = bitsFor(bd.hi);
      const corners = [bn.lo * 2 ** k / dlo, bn.lo * 2 ** k / bd.hi, bn.hi * 2 ** k / dlo, bn.hi * 2 ** k / bd.hi];
      const qlo = Math.floor(Math.min(...corners));
      const qhi = Math.floor(Math.max(...corners));
      const qoff = qlo < 0 ? -qlo : 0;
      const g = { kind: 'div', k, rb, qb: Math.max(1, bitsFor(qhi + qoff)), qoff } as const;
      if (applyDiv(g, bn.hi, dlo) === null || applyDiv(g, bn.lo, dlo) === null) throw new ZkinferError('QUANTIZATION_FAILED', `node "${node.name}": quotient bounds do not hold`);
      layer.forms.push(nf);
      layer.rhs.push(df);
      layer.gadgets.push(g);
      return signalForm(this.pushSignal(qlo, qhi));
    });
    const scale = num.scale + k - den.scale;
    this.layers.push({ node: node.name, op: 'div', shape: [layer.gadgets.length], scale, ...layer, offset });
    return { kind: 'act', shape, scale, forms: out, raw: scale > this.activationScale(node.outputs[0]).scale, relu: false };
  }

  /** Div of computed tensors. A denominator shared by several numerators is inverted once, then multiplied. */
  protected div(node: GraphNode): ActValue {
    const [nName, dName] = node.inputs;
    if (this.values.get(dName)?.kind === 'const') {
      const c = this.constant(dName, node);
      if (Array.from(c.data).some((x) => x === 0)) throw new ZkinferError('ONNX_INVALID', `Div node "${node.name}": division by a constant zero`);
      const a = this.act(nName, node);
      const map = broadcastIndex(c.dims, a.shape, node.name);
      const rows: LinearRows = { idx: a.forms.map((_, i) => [i]), w: Array.from(map, (k) => [1 / c.data[k]]), bias: null };
      return this.linear(node, nName, a, rows, [...a.shape]);
    }
    const d = this.settled(dName, node);
    const nv = this.values.get(nName);
    const n: ActValue = nv?.kind === 'const'
      ? { kind: 'act', shape: [...nv.t.dims], scale: this.q.options.activationBits, raw: false, relu: false, forms: Array.from(nv.t.data, (x) => constForm(Math.round(x * 2 ** this.q.options.activationBits))) }
      : this.settled(nName, node);
    const shape = n.shape.length >= d.shape.length && size(n.shape) >= size(d.shape) ? n.shape : d.shape;
    const mn = broadcastIndex(n.shape, shape, node.name);
    const md = broadcastIndex(d.shape, shape, node.name);
    const target = this.activationScale(node.outputs[0]).scale;
    if (size(shape) > size(d.shape)) {
      // 1/den once per denominator, at enough bits for the smallest quotient step.
      const bd = d.forms.map((f) => this.bounds(f, node.name));
      const top = Math.max(...bd.map((b) => b.hi));
      const K = bitsFor(top) + this.q.options.activationBits + 2;
      const inv = this.divide(node, [...d.shape], { forms: d.forms.map(() => constForm(1)), scale: 0 }, d, K - d.scale);
      const items = Array.from(mn, (i, j) => ({ base: constForm(0), pairs: [n.forms[i], inv.forms[md[j]]] }));
      return this.products(node, [...shape], n.scale + inv.scale, items);
    }
    return this.divide(node, [...shape], { forms: Array.from(mn, (i) => n.forms[i]), scale: n.scale }, { forms: Array.from(md, (i) => d.forms[i]), scale: d.scale }, target);
  }

  /** Sqrt of a computed tensor that stays >= 0: floor(sqrt(x·2^k)), k making x's scale + k even. */
  protected sqrtOf(node: GraphNode, a: ActValue): ActValue {
    const target = this.activationScale(node.outputs[0]).scale;
    let k = Math.max(0, 2 * target - a.scale);
    if ((a.scale + k) % 2 !== 0) k++;
    const offset = this.lo.length;
    const layer = { forms: [] as Form[], gadgets: [] as Gadget[] };
    const out = a.forms.map((f) => {
      const b = this.bounds(f, node.name);
      if (b.lo < 0) throw new ZkinferError('QUANTIZATION_FAILED', `node "${node.name}" (${node.opType}): its input may reach ${(b.lo / 2 ** a.scale).toPrecision(4)}; Sqrt needs an input that stays >= 0`);
      this.checkMagnitude(b.hi * 2 ** k, 0, node.name);
      const shi = Math.floor(Math.sqrt(b.hi * 2 ** k)) + 1;
      const g = { kind: 'sqrt', k, gb: bitsFor(2 * shi) } as const;
      layer.forms.push(f);
      layer.gadgets.push(g);
      return signalForm(this.pushSignal(applySqrt(g, b.lo)!, applySqrt(g, b.hi)!));
    });
    const scale = (a.scale + k) / 2;
    this.layers.push({ node: node.name, op: 'sqrt', shape: [layer.gadgets.length], scale, ...layer, offset });
    return { kind: 'act', shape: [...a.shape], scale, forms: out, raw: false, relu: false };
  }

  /** A smooth element-wise function through one fn table for the whole tensor. */
  protected smooth(node: GraphNode, fnName: string, a: ActValue, tensor = node.outputs[0], lo?: number, hi?: number): ActValue {
    const fn = SMOOTH_FNS[fnName];
    let l = Infinity;
    let h = -Infinity;
    for (const f of a.forms) {
      const b = this.bounds(f, node.name);
      l = Math.min(l, b.lo);
      h = Math.max(h, b.hi);
    }
    const choice = chooseFn(fn, { lo: lo ?? l, hi: hi ?? h, scale: a.scale }, Math.min(FN_MAX_BITS, this.activationScale(tensor).scale), node.name);
    const offset = this.lo.length;
    const forms = a.forms.map(() => signalForm(this.pushSignal(choice.outLo, choice.outHi)));
    this.layers.push({ node: node.name, op: 'fn', shape: [a.forms.length], scale: choice.outScale, forms: a.forms, gadgets: a.forms.map(() => choice.gadget), table: choice.table, offset });
    this.notes.push(`${fn.name} "${node.name}": piecewise polynomial, ${2 ** choice.gadget.h} segments of degree ${choice.gadget.d} on inputs at 2^-${choice.inScale}; largest error ${choice.maxError.toPrecision(3)}`);
    return { kind: 'act', shape: [...a.shape], scale: choice.outScale, forms, raw: true, relu: false };
  }

  /**
   * Softmax along an axis: x - max (<= 0, and 0 at the maximum), exp by a
   * table, the row's sum inverted once and multiplied into each element.
   */
  protected softmax(node: GraphNode, log: boolean): ActValue {
    let a = this.act(node.inputs[0], node);
    if (a.raw && this.tooWide(a.forms, MAX_BITS - 2)) a = this.materialize(node.name, node.inputs[0], a, false);
    const axis = normAxis(attrInt(node, 'axis', -1), a.shape.length, node);
    const rows = this.rows(a.shape, axis);
    const max = this.rowMax(node, a, rows);
    const d: Form[] = new Array(a.forms.length);
    let lo = 0;
    rows.forEach((r, k) => r.forEach((i) => {
      d[i] = combine([a.forms[i], max[k]], [1, -1], 0);
      lo = Math.min(lo, this.bounds(d[i], node.name).lo);
    }));
    const e = this.smooth(node, 'Exp', { ...a, forms: d }, `${node.outputs[0]}`, lo, 0);
    const one = Math.round(2 ** e.scale);
    const sums = rows.map((r) => combine(r.map((i) => e.forms[i]), r.map(() => 1), 0));
    const eLo = Math.min(0, ...e.forms.map((f) => this.bounds(f, node.name).lo));
    const sumLo = one + (rows[0].length - 1) * eLo - 2 ** (e.scale - this.q.options.activationBits);
    if (log) {
      const ls = this.smooth(node, 'Log', { kind: 'act', shape: [rows.length], scale: e.scale, forms: sums, raw: true, relu: false }, node.outputs[0], Math.max(1, sumLo), undefined);
      // log_softmax = d - log(Σ exp(d)), aligned to the finer of the two scales.
      const scale = Math.max(a.scale, ls.scale);
      const forms = new Array<Form>(a.forms.length);
      rows.forEach((r, k) => r.forEach((i) => {
        forms[i] = combine([d[i], ls.forms[k]], [2 ** (scale - a.scale), -(2 ** (scale - ls.scale))], 0);
      }));
      return { kind: 'act', shape: [...a.shape], scale, forms, raw: true, relu: false };
    }
    // The inverse needs the probabilities' bits, no more than the exp table holds.
    const K = bitsFor(rows[0].length * one) + Math.min(FN_MAX_BITS, this.q.options.activationBits) + 2;
    const inv = this.divide(node, [rows.length], { forms: sums.map(() => constForm(1)), scale: 0 }, { forms: sums, scale: e.scale }, K - e.scale, sumLo);
    const items = new Array<{ base: Form; pairs: Form[] }>(a.forms.length);
    rows.forEach((r, k) => r.forEach((i) => (items[i] = { base: constForm(0), pairs: [e.forms[i], inv.forms[k]] })));
    // Σ_i e_i·floor(2^K / Σ e) <= 2^K when no e_i is negative: so is each product.
    const p = this.products(node, [...a.shape], e.scale + inv.scale, items, eLo >= 0 ? 2 ** K : Infinity);
    return eLo >= 0 && axis === a.shape.length - 1 ? { ...p, rowSum: 2 ** K } : p;
  }

  /**
   * (x - mean) / sqrt(var + eps) over the trailing axes from `axis`, divided
   * by sqrt(n) (a weight the caller folds in): d_i = n·x_i - Σx exactly, then
   * V = Σ d_i² + n³·eps (n products), one square root and one inverse per row,
   * and d_i·inv (one product each). Since d_i² <= V, |d_i·inv| stays below
   * 2^(K + 1 - k/2) whatever the interval analysis says of d and inv apart.
   */
  protected normalized(node: GraphNode, inName: string, axis: number, eps: number): { value: ActValue; n: number } {
    const a = this.settled(inName, node);
    const n = size(a.shape.slice(axis));
    const rowsN = a.forms.length / n;
    const rowsIdx = Array.from({ length: rowsN }, (_, r) => Array.from({ length: n }, (_, i) => r * n + i));
    const d = rowsIdx.map((row) => row.map((i) => combine(row.map((t) => a.forms[t]), row.map((t) => (t === i ? n - 1 : -1)), 0)));
    const epsQ = Math.max(1, Math.round(n ** 3 * eps * 2 ** (2 * a.scale)));
    const v = this.products(node, [rowsN], 2 * a.scale, d.map((row) => ({ base: constForm(epsQ), pairs: row.flatMap((f) => [f, f]) })));
    const sq = this.sqrtOf(node, { ...v, raw: false });
    const k = 2 * sq.scale - 2 * a.scale;
    const sLo = Math.max(1, Math.floor(Math.sqrt(epsQ * 2 ** k)));
    // The inverse's precision follows the calibrated spread of x (a precision choice, not a bound).
    const st = this.q.stats.get(inName);
    const typical = n ** 1.5 * Math.max(1e-3, st ? Math.max(Math.abs(st.min), Math.abs(st.max)) : 1) * 2 ** sq.scale;
    const K = bitsFor(Math.ceil(typical)) + this.q.options.activationBits + 2;
    const inv = this.divide(node, [rowsN], { forms: sq.forms.map(() => constForm(1)), scale: 0 }, sq, K - sq.scale, sLo);
    const items = rowsIdx.flatMap((row, r) => row.map((_, i) => ({ base: constForm(0), pairs: [d[r][i], inv.forms[r]] })));
    return { value: this.products(node, [...a.shape], a.scale + inv.scale, items, 2 ** (K + 1 - k / 2)), n };
  }

  /** LayerNormalization (opset 17): the normalized rows, then scale and bias as weights. */
  protected layerNorm(node: GraphNode): ActValue {
    const x = this.act(node.inputs[0], node);
    const axis = normAxis(attrInt(node, 'axis', -1), x.shape.length, node);
    const { value: p, n } = this.normalized(node, node.inputs[0], axis, attrFloat(node, 'epsilon', 1e-5));
    const gamma = this.constant(node.inputs[1], node);
    const beta = node.inputs[2] ? this.constant(node.inputs[2], node) : null;
    const norm = x.shape.slice(axis);
    const gi = broadcastIndex(gamma.dims, norm, node.name);
    const bi = beta ? broadcastIndex(beta.dims, norm, node.name) : null;
    const rows: LinearRows = {
      idx: p.forms.map((_, j) => [j]),
      w: p.forms.map((_, j) => [Math.sqrt(n) * gamma.data[gi[j % n]]]),
      bias: beta ? Float64Array.from(p.forms, (_, j) => beta.data[bi![j % n]]) : null,
    };
    // Rescaled at once: the normalized rows carry the inverse's precision, which later layers do not need.
    return this.materialize(node.name, node.outputs[0], this.linear(node, node.inputs[0], p, rows, [...x.shape]), false);
  }

  /**
   * The LayerNorm opset 13 exports, Div(Sub(x, ReduceMean(x)),
   * Sqrt(Add(ReduceMean(Pow(Sub, 2)), eps))), found before quantizing: its
   * Div computes the normalized rows in one piece (the scale and bias after
   * it stay ordinary Mul and Add), and the nodes between are skipped.
   */
  protected findLayerNorms(): void {
    const producer = new Map<string, GraphNode>();
    for (const n of this.q.graph.nodes) for (const o of n.outputs) producer.set(o, n);
    const only = (t: string, users: number) => (this.consumers.get(t) ?? []).length === users && t !== this.q.graph.output.name;
    const constVal = (t: string): number | null => {
      const c = this.q.graph.constants.get(t);
      return c && c.data.length === 1 ? c.data[0] : null;
    };
    const meanAxes = (n: GraphNode | undefined): number[] | null => {
      if (!n || n.opType !== 'ReduceMean' || attrInt(n, 'keepdims', 1) !== 1) return null;
      return n.inputs[1] ? Array.from(this.q.graph.constants.get(n.inputs[1])?.data ?? []) : attrInts(n, 'axes');
    };
    for (const div of this.q.graph.nodes) {
      if (div.opType !== 'Div') continue;
      const sub = producer.get(div.inputs[0]);
      const sqrt = producer.get(div.inputs[1]);
      if (sub?.opType !== 'Sub' || sqrt?.opType !== 'Sqrt') continue;
      const mean1 = producer.get(sub.inputs[1]);
      const x = sub.inputs[0];
      const add = producer.get(sqrt.inputs[0]);
      if (!mean1 || mean1.inputs[0] !== x || add?.opType !== 'Add') continue;
      const [vName, eName] = constVal(add.inputs[1]) !== null ? [add.inputs[0], add.inputs[1]] : [add.inputs[1], add.inputs[0]];
      const eps = constVal(eName);
      const mean2 = producer.get(vName);
      const pow = mean2 ? producer.get(mean2.inputs[0]) : undefined;
      const squares = pow && ((pow.opType === 'Pow' && pow.inputs[0] === sub.outputs[0] && constVal(pow.inputs[1]) === 2)
        || (pow.opType === 'Mul' && pow.inputs[0] === sub.outputs[0] && pow.inputs[1] === sub.outputs[0]));
      const a1 = meanAxes(mean1);
      const a2 = meanAxes(mean2);
      if (eps === null || eps <= 0 || !squares || !a1 || !a2 || a1.join() !== a2.join()) continue;
      if (!only(mean1.outputs[0], 1) || !only(sub.outputs[0], 2) || !only(pow!.outputs[0], 1) || !only(mean2!.outputs[0], 1) || !only(add.outputs[0], 1) || !only(sqrt.outputs[0], 1)) continue;
      this.layerNorms.set(div, { x, axes: a1, eps });
      for (const n of [mean1, sub, pow!, mean2!, add, sqrt]) this.skipped.add(n);
    }
  }

  /** A found LayerNorm's Div: the normalized rows, times sqrt(n). */
  protected fusedLayerNorm(node: GraphNode, ln: { x: string; axes: number[]; eps: number }): ActValue {
    const x = this.act(ln.x, node);
    const r = x.shape.length;
    const axes = ln.axes.map((a) => normAxis(a, r, node)).sort((p, q) => p - q);
    if (axes.some((a, i) => a !== r - axes.length + i)) throw new ZkinferError('ONNX_UNSUPPORTED', `node "${node.name}": a normalization over axes [${ln.axes}] that are not the trailing ones is not supported`);
    const { value: p, n } = this.normalized(node, ln.x, axes[0], ln.eps);
    const rows: LinearRows = { idx: p.forms.map((_, j) => [j]), w: p.forms.map(() => [Math.sqrt(n)]), bias: null };
    this.notes.push(`LayerNorm pattern ending in "${node.name}" computed as one normalization`);
    return this.materialize(node.name, node.outputs[0], this.linear(node, ln.x, p, rows, [...x.shape]), false);
  }

  /** Pow with a constant exponent: 1 (identity), 2 (a square, one product each), 0.5 (Sqrt). */
  protected pow(node: GraphNode): ActValue {
    const e = Array.from(this.constant(node.inputs[1], node).data);
    if (e.length !== 1) throw new ZkinferError('ONNX_UNSUPPORTED', `Pow node "${node.name}": only a scalar exponent is supported`);
    if (e[0] === 1) return this.act(node.inputs[0], node);
    if (e[0] === 0.5) return this.sqrtOf(node, this.act(node.inputs[0], node));
    if (e[0] !== 2) throw new ZkinferError('ONNX_UNSUPPORTED', `Pow node "${node.name}": exponent ${e[0]} is not supported (1, 2 and 0.5 are)`);
    const a = this.settled(node.inputs[0], node);
    return this.products(node, [...a.shape], 2 * a.scale, a.forms.map((f) => ({ base: constForm(0), pairs: [f, f] })));
  }

  /** Gelu (opset 20, exact form): x·(1 + erf(x/√2))/2, an Erf table and one product per element. */
  protected gelu(node: GraphNode): ActValue {
    const a = node.attrs.get('approximate');
    if (a && a.kind === 'string' && a.value !== 'none') throw new ZkinferError('ONNX_UNSUPPORTED', `Gelu node "${node.name}": approximate="${a.value}" is not supported (the exact form is)`);
    const x = this.settled(node.inputs[0], node);
    const z = this.linear(node, node.inputs[0], x, { idx: x.forms.map((_, i) => [i]), w: x.forms.map(() => [Math.SQRT1_2]), bias: null }, [...x.shape]);
    const e = this.smooth({ ...node, opType: 'Erf' }, 'Erf', z);
    const one = 2 ** e.scale;
    // The product is 2·y at x's scale plus erf's: one more bit of scale halves it exactly.
    return this.products(node, [...x.shape], x.scale + e.scale + 1, x.forms.map((f, j) => ({ base: constForm(0), pairs: [f, addConst(e.forms[j], one)] })));
  }

  /**
   * Gather of a constant table by computed indices (an embedding): for each
   * index and each row v of the table an IsZero of index - v (2 constraints)
   * gives a one-hot selector; the gathered row is linear in it. An index
   * outside the table selects nothing (a zero row).
   */
  protected embedding(node: GraphNode): ActValue {
    const table = this.constant(node.inputs[0], node);
    const idx = this.settled(node.inputs[1], node);
    const axis = normAxis(attrInt(node, 'axis', 0), table.dims.length, node);
    if (axis !== 0) throw new ZkinferError('ONNX_UNSUPPORTED', `Gather node "${node.name}": computed indices only along axis 0 of a constant table (axis ${axis})`);
    const V = table.dims[0];
    const inner = size(table.dims.slice(1));
    const one = 2 ** idx.scale;
    const offset = this.lo.length;
    const layer = { forms: [] as Form[], gadgets: [] as Gadget[] };
    const selectors = idx.forms.map((f) => {
      const b = this.bounds(f, node.name);
      return Array.from({ length: V }, (_, v) => {
        // Row v answers index v and, counted from the end, v - V.
        const hits = [v, v - V].filter((k) => k * one >= b.lo && k * one <= b.hi);
        if (hits.length === 0) return constForm(0);
        return combine(hits.map((k) => {
          layer.forms.push(addConst(f, -k * one));
          layer.gadgets.push({ kind: 'iszero' });
          return signalForm(this.pushSignal(0, 1));
        }), hits.map(() => 1), 0);
      });
    });
    if (layer.gadgets.length > 0) this.layers.push({ node: node.name, op: 'iszero', shape: [layer.gadgets.length], scale: 0, ...layer, offset });
    const ws = this.weightScale(node.name, table.data);
    const forms: Form[] = [];
    for (const sel of selectors) {
      for (let k = 0; k < inner; k++) forms.push(combine(sel, sel.map((_, v) => Math.round(table.data[v * inner + k] * 2 ** ws)), 0));
    }
    return { kind: 'act', shape: [...idx.shape, ...table.dims.slice(1)], scale: ws, forms, raw: true, relu: false };
  }
}
