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

function addRow(into: Row, r: Row, k: bigint): void {
  for (const [s, v] of r) {
    const n = F((into.get(s) ?? 0n) + v * k);
    if (n === 0n) into.delete(s);
    else into.set(s, n);
  }
}

/** The public outputs' definitions: output forms, then (public visibility, packed) the input packs. */
function outputEquations(p: Program): Row[] {
  const rows: Row[] = [];
  const formRow = (f: Form, j: number): Row => {
    const r: Row = new Map();
    f.idx.forEach((i, k) => r.set(i, F(BigInt(f.w[k]))));
    if (f.c !== 0) r.set(CONST, F(BigInt(f.c)));
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

/** Signals the lowering makes wires, which an elimination may remove. */
function candidates(p: Program): Map<number, number> {
  const refs = new Map<number, number>();
  const inputsPrivate = p.io.visibility === 'hashed' || (p.io.input.perSignal ?? 1) > 1;
  if (inputsPrivate) for (let i = 0; i < elementCount(p.io.input.shape); i++) refs.set(i, 0);
  for (const l of p.layers) {
    l.gadgets.forEach((g, j) => {
      const wire = g.kind === 'rescale-relu' || g.kind === 'max' || (g.kind === 'argmax' && l.forms.length > 2) || (g.kind === 'rescale' && g.shift > 0);
      if (wire) refs.set(l.offset + j, 0);
    });
  }
  const read = (f: Form) => f.idx.forEach((i) => refs.has(i) && refs.set(i, refs.get(i)! + 1));
  for (const l of p.layers) {
    l.forms.forEach(read);
    l.rhs?.forEach(read);
  }
  return refs;
}

const plans = new WeakMap<Program, PivotPlan>();

export function planPivots(p: Program): PivotPlan {
  const known = plans.get(p);
  if (known) return known;
  const refs = candidates(p);
  const pivots = new Map<number, Row>();
  const unfolded: Row[] = [];
  for (const eq of outputEquations(p)) {
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
