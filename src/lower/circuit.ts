import type { Form, Gadget, Layer, Program } from '../quantize/program.js';
import { layerCostOf } from '../quantize/program.js';
import { evalForm } from '../quantize/forms.js';
import { runReference } from '../quantize/reference.js';
import { commitLayout, POSEIDON_WIDTH } from '../receipt/commitment.js';
import { elementCount } from '../receipt/io.js';
import { Builder, type BuiltCircuit, type WireLayout } from '../r1cs/builder.js';
import { addScaled, addTerm, constLin, lin, ONE, wireLin, type Lin } from '../r1cs/lin.js';
import { inRange } from '../r1cs/gadgets/bits.js';
import { rescale, rescaleRelu, type OutWire, type Signal } from '../r1cs/gadgets/rescale.js';
import { argMax, isZero, max2 } from '../r1cs/gadgets/compare.js';
import { packInputs } from '../r1cs/gadgets/pack.js';
import { product } from '../r1cs/gadgets/product.js';
import { divide, sqrt } from '../r1cs/gadgets/divide.js';
import { fnGadget, multilinear } from '../r1cs/gadgets/fn.js';
import { poseidon, type FieldSignal } from '../r1cs/gadgets/poseidon.js';
import { CONST, planPivots, type Row } from './pivots.js';
import { ZkinferError } from '../errors.js';

/** Constraints of one part of the circuit, as the manifest reports them. */
export interface LayerCost {
  readonly node: string;
  readonly op: string;
  readonly outputs: number;
  readonly constraints: number;
  readonly bits: { readonly min: number; readonly max: number };
}

export interface LoweredCircuit {
  readonly circuit: BuiltCircuit;
  readonly layout: WireLayout;
  /** Measured per part: the input range checks, each layer, then the outputs (folds, commitment). */
  readonly costs: readonly LayerCost[];
  /** The integer reference's outputs, which the output wires hold. */
  readonly output: readonly number[];
}

export interface LowerOptions {
  /** Record constraints (compile) or only compute the witness (prove). @defaultValue true */
  readonly constraints: boolean;
  /** Name wires for the .sym map. @defaultValue true with constraints */
  readonly names: boolean;
  /** Hashed visibility: the commitment's salt. @defaultValue 0n */
  readonly salt: bigint;
  /** Called after each layer with (layers done, layers in all), for progress. */
  readonly onLayer: (done: number, total: number) => void;
}

export const LOWER_DEFAULTS: Readonly<LowerOptions> = Object.freeze({ constraints: true, names: true, salt: 0n, onLayer: () => {} });

/** The quantized input every accepted range contains: compiling needs values, not a real input. */
export const compileInput = (p: Program): bigint[] => new Array<bigint>(elementCount(p.io.input.shape)).fill(BigInt(p.io.input.lo));

/** The widest decomposition of each gadget, for the manifest. */
function widthOf(g: Gadget): number | null {
  switch (g.kind) {
    case 'const': case 'product': case 'iszero': return null;
    case 'div': return Math.max(g.rb, g.qb);
    case 'sqrt': return g.gb;
    default: return g.nb;
  }
}

function bitsOf(l: Layer): { min: number; max: number } {
  const widths = l.gadgets.flatMap((g) => { const w = widthOf(g); return w === null ? [] : [w]; });
  return { min: widths.length ? Math.min(...widths) : 0, max: widths.length ? Math.max(...widths) : 0 };
}

/**
 * A program as a rank-1 constraint system and its witness, in one pass: the
 * integer reference gives every value, the gadgets (r1cs/gadgets) add their
 * wires and constraints. The same code compiles the circuit (constraints,
 * with names) and computes each proof's witness (values only), so the two
 * cannot disagree on wire numbering.
 */
export function lowerProgram(p: Program, input: readonly bigint[], options: Partial<LowerOptions> = {}): LoweredCircuit {
  const opts = { ...LOWER_DEFAULTS, ...options };
  const ref = runReference(p, input);
  const v = ref.signals;
  const cs = new Builder({ constraints: opts.constraints, names: opts.names });
  const plan = planPivots(p);
  const nIn = elementCount(p.io.input.shape);
  const nOut = p.outputForms.length;
  const hashed = p.io.visibility === 'hashed';
  const per = hashed ? 1 : (p.io.input.perSignal ?? 1);
  const packed = !hashed && per > 1;
  const { bits, lo } = p.io.input;

  // Program signal -> wire (or pivot); -1 when the signal is a linear combination or constant.
  const sigWire = new Int32Array(p.signalCount).fill(-1);
  const sigLinOf = new Map<number, () => Lin>();
  const pivotSignal = new Map<number, number>();
  const place = (i: number, value: number, name?: () => string): number => {
    if (plan.pivots.has(i)) {
      const w = cs.pivot(value);
      pivotSignal.set(w, i);
      sigWire[i] = w;
      return w;
    }
    const w = cs.wire(value, name);
    sigWire[i] = w;
    return w;
  };
  const sigLin = (i: number): Lin => (sigWire[i] >= 0 ? wireLin(sigWire[i]) : sigLinOf.get(i)!());
  const formLin = (f: Form): Lin => {
    const out = lin();
    for (let k = 0; k < f.idx.length; k++) {
      const i = f.idx[k];
      if (sigWire[i] >= 0) addTerm(out, sigWire[i], f.w[k]);
      else addScaled(out, sigLinOf.get(i)!(), f.w[k]);
    }
    return addTerm(out, ONE, f.c);
  };
  const formSignal = (f: Form): Signal => ({ value: evalForm(f, v), lin: () => formLin(f) });

  // Public outputs first, then the commitment or the input packs, then the inputs.
  const outWires = ref.output.map((x, j) => cs.wire(x, `main.out[${j}]`));
  const commitWire = hashed ? cs.wire(0, 'main.commitment') : -1;
  const packWires: number[] = [];
  if (packed) {
    for (let q = 0; q * per < nIn; q++) packWires.push(cs.wire(0, `main.inputs[${q}]`));
  }
  const publicIn = !hashed && !packed;
  for (let i = 0; i < nIn; i++) place(i, Number(input[i]), () => `main.in[${i}]`);
  const saltWire = hashed ? cs.wire(opts.salt, 'main.salt') : -1;
  const layout: WireLayout = {
    nOutputs: nOut + (hashed ? 1 : packWires.length),
    nPubInputs: publicIn ? nIn : 0,
    nPrvInputs: publicIn ? 0 : nIn + (hashed ? 1 : 0),
  };

  const costs: LayerCost[] = [];
  let mark = cs.constraints;
  const close = (node: string, op: string, outputs: number, b: { min: number; max: number }) => {
    costs.push({ node, op, outputs, constraints: cs.constraints - mark, bits: b });
    mark = cs.constraints;
  };

  for (let i = 0; i < nIn; i++) {
    const w = sigWire[i];
    inRange(cs, w, Number(input[i]), bits, lo, () => `input ${i}`, cs.constraining ? (b) => `main.rc[${i}].d.bits[${b}]` : undefined);
  }
  close(p.io.input.name, 'input-range', nIn, { min: bits, max: bits });

  const inputs = Array.from({ length: nIn }, (_, i) => sigWire[i]);
  const inputValues = input.map((x) => BigInt(x));
  if (packed) {
    const packs = packInputs(cs, inputs, inputValues, per, bits, lo);
    packs.forEach((pk, q) => cs.set(packWires[q], pk.value));
  }

  p.layers.forEach((l, li) => {
    const k = li + 1;
    const naming = cs.constraining && opts.names;
    const where = (j: number) => () => `node "${l.node}" (${l.op}) element ${j}`;
    const outAt = (j: number): OutWire => (value) => place(l.offset + j, value, naming ? () => `main.l${k}.out[${j}]` : undefined);
    const bitName = (j: number) => (naming ? (b: number) => `main.l${k}.g${j}.d.bits[${b}]` : undefined);
    const partName = (j: number) => (naming ? (part: string, b: number) => `main.l${k}.g${j}.${part}[${b}]` : undefined);
    const g0 = l.gadgets.find((g) => g.kind === 'fn');
    const alpha = g0?.kind === 'fn' && l.table ? multilinear(l.table, g0.h, g0.d) : null;
    l.gadgets.forEach((g, j) => {
      const idx = l.offset + j;
      switch (g.kind) {
        case 'const':
          sigLinOf.set(idx, () => constLin(g.value));
          return;
        case 'rescale-relu':
          rescaleRelu(cs, formSignal(l.forms[j]), g.nb, g.shift, g.offset, outAt(j), where(j), bitName(j));
          return;
        case 'rescale': {
          const s = rescale(cs, formSignal(l.forms[j]), g.nb, g.shift, g.offset, g.sub, outAt(j), where(j), bitName(j));
          if (g.shift === 0) sigLinOf.set(idx, s.lin);
          return;
        }
        case 'max':
          max2(cs, formSignal(l.forms[j]), formSignal(l.rhs![j]), g.nb, outAt(j), where(j), bitName(j));
          return;
        case 'argmax': {
          const s = argMax(cs, l.forms.map(formSignal), g.nb, outAt(0), (i) => `node "${l.node}" (argmax) comparison ${i}`, naming ? {
            bits: (step, b) => `main.l${k}.g0.d[${step - 1}].bits[${b}]`,
            max: (step) => `main.l${k}.g0.m[${step}]`,
            index: (step) => `main.l${k}.g0.idx[${step}]`,
          } : undefined);
          if (sigWire[idx] < 0) sigLinOf.set(idx, s.lin);
          return;
        }
        case 'product': {
          const f = l.pairs![j];
          const pairs = Array.from({ length: f.length / 2 }, (_, t) => [formSignal(f[2 * t]), formSignal(f[2 * t + 1])] as const);
          product(cs, formSignal(l.forms[j]), pairs, outAt(j));
          return;
        }
        case 'div':
          divide(cs, formSignal(l.forms[j]), formSignal(l.rhs![j]), g, outAt(j), where(j), partName(j));
          return;
        case 'sqrt':
          sqrt(cs, formSignal(l.forms[j]), g, outAt(j), where(j), partName(j));
          return;
        case 'iszero':
          isZero(cs, formSignal(l.forms[j]), outAt(j), naming ? () => `main.l${k}.g${j}.inv` : undefined);
          return;
        case 'fn':
          fnGadget(cs, formSignal(l.forms[j]), g, l.table!, alpha!, outAt(j), where(j), bitName(j));
          return;
        default:
          return g satisfies never;
      }
    });
    if (cs.constraints - mark !== layerCostOf(l)) {
      throw new ZkinferError('COMPILE_FAILED', `node "${l.node}": ${cs.constraints - mark} constraints where its gadgets state ${layerCostOf(l)}`);
    }
    close(l.node, l.op, l.gadgets.length, bitsOf(l));
    opts.onLayer(k, p.layers.length);
  });

  if (hashed) {
    const lay = commitLayout(nIn, bits);
    const items: FieldSignal[] = [...packInputs(cs, inputs, inputValues, lay.perPack, bits, lo), { value: opts.salt, lin: cs.constraining ? wireLin(saltWire) : null }];
    const zero: FieldSignal = { value: 0n, lin: cs.constraining ? lin() : null, constant: true };
    if (lay.chunks === 0) poseidon(cs, items, commitWire);
    else {
      let state = poseidon(cs, items.slice(0, POSEIDON_WIDTH));
      for (let i = POSEIDON_WIDTH; i < items.length; i += POSEIDON_WIDTH - 1) {
        const chunk = items.slice(i, i + POSEIDON_WIDTH - 1);
        while (chunk.length < POSEIDON_WIDTH - 1) chunk.push(zero);
        const last = i + POSEIDON_WIDTH - 1 >= items.length;
        state = poseidon(cs, [state, ...chunk], last ? commitWire : undefined);
      }
    }
  }

  // Outputs no elimination could fold stay linear constraints: (F_j - o_j)·1 = 0.
  const symLin = (s: number): Lin => {
    if (s === CONST) return constLin(1);
    if (s >= 0) return sigLin(s);
    const j = -s - 1;
    return wireLin(j < nOut ? outWires[j] : packWires[j - nOut]);
  };
  const rowLin = (r: Row): Lin => {
    const out = lin();
    for (const [s, k] of r) addScaled(out, symLin(s), k);
    return out;
  };
  for (const r of plan.unfolded) cs.enforce(() => [rowLin(r), constLin(1), lin()]);
  close(p.outputNode, hashed ? 'output+commitment' : packed ? 'output+input packs' : 'output', nOut, { min: 0, max: 0 });

  const circuit = cs.finish((w) => rowLin(plan.pivots.get(pivotSignal.get(w)!)!));
  return { circuit, layout, costs, output: ref.output };
}
