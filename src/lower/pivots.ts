import type { Form, Program } from '../quantize/program.js';
import { FIELD_PRIME, toField } from '../receipt/field.js';
import { elementCount } from '../receipt/io.js';
import { invCoef } from '../r1cs/lin.js';

/**
 * Folding the public outputs' linear definitions into the circuit.
 *
 * A public output o_j is linear in earlier signals: o_j = F_j (the output
 * layer's affine forms, or a pack of public inputs). Written as a constraint
 * it would cost one each; instead one private signal x_p of F_j with no other
 * linear use is eliminated, x_p = (o_j - (F_j - c_p·x_p)) / c_p, and replaced
 * by that expression wherever it appears. Its defining constraint then
 * carries the output (circom's --O2 does the same). This is Gauss-Jordan
 * elimination over the outputs, choosing for each the candidate signal that
 * the fewest gadget forms read, so that the rewrite touches few constraints.
 *
 * Symbols: a program signal i >= 0, or public output j as -(j + 1).
 */
export type Row = Map<number, bigint>;

export interface PivotPlan {
  /** Program signal -> its expression over symbols (and the constant, key CONST). */
  readonly pivots: ReadonlyMap<number, Row>;
  /** Output equations with no candidate: kept as linear constraints, F_j - o_j = 0. */
  readonly unfolded: readonly Row[];
}

export const CONST = Number.MIN_SAFE_INTEGER;
export const outputSymbol = (j: number): number => -(j + 1);

const F = toField;

function addSym(into: Row, s: number, v: bigint): void {
  const n = F((into.get(s) ?? 0n) + v);
  if (n === 0n) into.delete(s);
  else into.set(s, n);
}

function addRow(into: Row, r: Row, k: bigint): void {
  for (const [s, v] of r) addSym(into, s, v * k);
}

/**
 * Program signals the lowering defines as linear combinations rather than
 * wires (constants, shift-0 rescales), expanded over wire signals. A pivot's
 * coefficient must be read off the wire-level equation: an output form that
 * reads x directly and through a copy of x holds x twice, and a copy that
 * still named x after x's elimination would leave a pivot behind.
 * `opaque` are the signals whose linear definition involves the circuit's
 * own wires (a two-way ArgMax's index is 1 - its comparison bit); they stay
 * symbols, and the signals their comparison reads are never eliminated.
 */
interface Linear {
  expand(i: number): Row | undefined;
  readonly opaque: ReadonlySet<number>;
  readonly pinned: ReadonlySet<number>;
}

function linearSignals(p: Program): Linear {
  const defs = new Map<number, Form | number>();
  const opaque = new Set<number>();
  for (const l of p.layers) {
    l.gadgets.forEach((g, j) => {
      if (g.kind === 'const') defs.set(l.offset + j, g.value);
      else if (g.kind === 'rescale' && g.shift === 0) defs.set(l.offset + j, { ...l.forms[j], c: l.forms[j].c + g.offset - g.sub });
      else if (g.kind === 'argmax' && l.forms.length <= 2) opaque.add(l.offset + j);
    });
  }
  const memo = new Map<number, Row>();
  const expand = (i: number): Row | undefined => {
    const d = defs.get(i);
    if (d === undefined) return undefined;
    let r = memo.get(i);
    if (r) return r;
    r = new Map();
    if (typeof d === 'number') {
      if (d !== 0) r.set(CONST, F(BigInt(d)));
    } else addForm(r, d, 1n, expand);
    memo.set(i, r);
    return r;
  };
  const pinned = new Set<number>();
  for (const l of p.layers) {
    if (!(l.gadgets[0]?.kind === 'argmax' && opaque.has(l.offset))) continue;
    for (const f of l.forms) {
      const r: Row = new Map();
      addForm(r, f, 1n, expand);
      for (const s of r.keys()) pinned.add(s);
    }
  }
  return { expand, opaque, pinned };
}

/** into += k·f, with linear signals replaced by their expansions. */
function addForm(into: Row, f: Form, k: bigint, expand: (i: number) => Row | undefined): void {
  if (f.c !== 0) addSym(into, CONST, BigInt(f.c) * k);
  for (let m = 0; m < f.idx.length; m++) {
    const w = BigInt(f.w[m]) * k;
    const e = expand(f.idx[m]);
    if (e) addRow(into, e, w);
    else addSym(into, f.idx[m], w);
  }
}

/** The public outputs' definitions: output forms, then (public visibility, packed) the input packs. */
function outputEquations(p: Program, lin: Linear): Row[] {
  const rows: Row[] = [];
  const formRow = (f: Form, j: number): Row => {
    const r: Row = new Map();
    addForm(r, f, 1n, lin.expand);
    r.set(outputSymbol(j), FIELD_PRIME - 1n);
    return r;
  };
  p.outputForms.forEach((f, j) => rows.push(formRow(f, j)));
  const per = p.io.input.perSignal ?? 1;
  if (p.io.visibility === 'public' && per > 1) {
    const n = elementCount(p.io.input.shape);
    const { bits, lo } = p.io.input;
    for (let q = 0; q * per < n; q++) {
      const r: Row = new Map();
      let c = 0n;
      for (let m = q * per; m < Math.min(n, (q + 1) * per); m++) {
        const k = 1n << BigInt(bits * (m - q * per));
        r.set(m, k);
        c -= k * BigInt(lo);
      }
      if (c !== 0n) r.set(CONST, F(c));
      r.set(outputSymbol(p.outputForms.length + q), FIELD_PRIME - 1n);
      rows.push(r);
    }
  }
  return rows;
}

/** Signals the lowering makes wires, which an elimination may remove, with how many gadget forms read each. */
function candidates(p: Program, lin: Linear): Map<number, number> {
  const refs = new Map<number, number>();
  const inputsPrivate = p.io.visibility === 'hashed' || (p.io.input.perSignal ?? 1) > 1;
  if (inputsPrivate) for (let i = 0; i < elementCount(p.io.input.shape); i++) refs.set(i, 0);
  for (const l of p.layers) {
    l.gadgets.forEach((g, j) => {
      const wire = g.kind === 'rescale-relu' || g.kind === 'max' || (g.kind === 'argmax' && l.forms.length > 2) || (g.kind === 'rescale' && g.shift > 0)
        || g.kind === 'product' || g.kind === 'div' || g.kind === 'sqrt' || g.kind === 'fn' || g.kind === 'iszero';
      if (wire) refs.set(l.offset + j, 0);
    });
  }
  for (const s of lin.pinned) refs.delete(s);
  const count = (i: number) => refs.has(i) && refs.set(i, refs.get(i)! + 1);
  const read = (f: Form) => f.idx.forEach((i) => {
    const e = lin.expand(i);
    if (e) for (const s of e.keys()) count(s);
    else count(i);
  });
  for (const l of p.layers) {
    l.forms.forEach(read);
    l.rhs?.forEach(read);
    l.pairs?.forEach((f) => f.forEach(read));
  }
  return refs;
}

const plans = new WeakMap<Program, PivotPlan>();

export function planPivots(p: Program): PivotPlan {
  const known = plans.get(p);
  if (known) return known;
  const lin = linearSignals(p);
  const refs = candidates(p, lin);
  const pivots = new Map<number, Row>();
  const unfolded: Row[] = [];
  for (const eq of outputEquations(p, lin)) {
    const e: Row = new Map(eq);
    for (const [s, x] of pivots) {
      const k = e.get(s);
      if (k === undefined) continue;
      e.delete(s);
      addRow(e, x, k);
    }
    let best = -1;
    for (const s of e.keys()) {
      if (s < 0 || !refs.has(s) || pivots.has(s)) continue;
      if (best < 0 || refs.get(s)! < refs.get(best)! || (refs.get(s) === refs.get(best) && s > best)) best = s;
    }
    if (best < 0) {
      unfolded.push(e);
      continue;
    }
    // x_best = -(e - c·x_best) / c
    const c = e.get(best)!;
    e.delete(best);
    const x: Row = new Map();
    addRow(x, e, F(-invCoef(c)));
    for (const [, r] of pivots) {
      const k = r.get(best);
      if (k === undefined) continue;
      r.delete(best);
      addRow(r, x, k);
    }
    pivots.set(best, x);
  }
  const plan = { pivots, unfolded };
  plans.set(p, plan);
  return plan;
}
