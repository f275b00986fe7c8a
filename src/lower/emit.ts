import type { Form, Gadget, Layer, Program } from '../quantize/program.js';
import { layerCostOf } from '../quantize/program.js';
import { commitLayout, POSEIDON_WIDTH } from '../receipt/commitment.js';
import { elementCount } from '../receipt/io.js';
import { ZkinferError } from '../errors.js';

/** Library files a generated circuit includes (from circuits/ and circomlib). */
export const LIBRARY_FILES = ['bits.circom', 'rescale.circom', 'compare.circom', 'commit.circom'] as const;
export const CIRCOMLIB_FILES = ['poseidon.circom', 'poseidon_constants.circom'] as const;

export interface EmittedCircuit {
  readonly source: string;
  readonly includes: readonly string[];
}

/** Where each global signal lives: tensor 0 is the input, tensor k is layer k. */
class SignalMap {
  private readonly starts: number[];
  constructor(p: Program) {
    this.starts = [0, ...p.layers.map((l) => l.offset)];
  }
  locate(i: number): [number, number] {
    let t = this.starts.length - 1;
    while (this.starts[t] > i) t--;
    return [t, i - this.starts[t]];
  }
}

/** Terms per circom statement: the compiler recurses once per operator. */
const TERMS_PER_STATEMENT = 24;

/**
 * Assigns a form to `target` (a signal, with <==). Long forms are summed into
 * the `acc` var in short statements first, since circom's type checker
 * recurses once per operator and overflows its stack on very long sums.
 */
function assign(target: string, f: Form, map: SignalMap, name: (t: number) => string): string[] {
  if (f.idx.length <= TERMS_PER_STATEMENT) return [`    ${target} <== ${expr(f, map, name)};`];
  const lines: string[] = [];
  for (let k = 0; k < f.idx.length; k += TERMS_PER_STATEMENT) {
    const part: Form = { idx: f.idx.slice(k, k + TERMS_PER_STATEMENT), w: f.w.slice(k, k + TERMS_PER_STATEMENT), c: k === 0 ? f.c : 0 };
    lines.push(`    acc ${k === 0 ? '=' : '+='} ${expr(part, map, name)};`);
  }
  lines.push(`    ${target} <== acc;`);
  return lines;
}

function expr(f: Form, map: SignalMap, name: (t: number) => string): string {
  const parts: string[] = [];
  for (let k = 0; k < f.idx.length; k++) {
    const [t, j] = map.locate(f.idx[k]);
    const w = f.w[k];
    const ref = `${name(t)}[${j}]`;
    const term = Math.abs(w) === 1 ? ref : `${Math.abs(w)}*${ref}`;
    parts.push(parts.length === 0 ? (w < 0 ? `-${term}` : term) : w < 0 ? ` - ${term}` : ` + ${term}`);
  }
  if (f.c !== 0 || parts.length === 0) {
    parts.push(parts.length === 0 ? String(f.c) : f.c < 0 ? ` - ${-f.c}` : ` + ${f.c}`);
  }
  return parts.join('');
}

/** Gadgets the circom library has templates for; others are refused by name. */
const CIRCOM_GADGETS: ReadonlySet<string> = new Set(['const', 'rescale-relu', 'rescale', 'max', 'argmax']);

function gadgetCall(g: Exclude<Gadget, { kind: 'const' }>, n: number): string {
  switch (g.kind) {
    case 'rescale-relu': return `RescaleRelu(${g.nb}, ${g.shift}, ${g.offset})`;
    case 'rescale': return `Rescale(${g.nb}, ${g.shift}, ${g.offset}, ${g.sub})`;
    case 'max': return `Max2(${g.nb})`;
    case 'argmax': return `ArgMax(${n}, ${g.nb})`;
    default: throw new Error(`no circom template for ${g.kind}`);
  }
}

/** One template per layer keeps each witness function small enough for V8. */
function emitLayer(l: Layer, k: number, map: SignalMap, sizes: number[]): string {
  const body: string[] = [];
  // A max chain reads the layer's own earlier outputs.
  const ref = (t: number) => (t === k ? 'out' : `t${t}`);
  l.gadgets.forEach((g, j) => {
    if (g.kind === 'const') {
      body.push(`    out[${j}] <== ${g.value};`);
      return;
    }
    body.push(`    component g${j} = ${gadgetCall(g, l.forms.length)};`);
    if (g.kind === 'max') {
      body.push(...assign(`g${j}.a`, l.forms[j], map, ref));
      body.push(...assign(`g${j}.b`, l.rhs![j], map, ref));
    } else if (g.kind === 'argmax') {
      l.forms.forEach((f, i) => body.push(...assign(`g${j}.in[${i}]`, f, map, ref)));
    } else {
      body.push(...assign(`g${j}.in`, l.forms[j], map, ref));
    }
    body.push(`    out[${j}] <== g${j}.out;`);
  });
  // Declared from the same reads main wires (layerDeps), so the two agree.
  const inputs = layerDeps(l, k, map).map((t) => `    signal input t${t}[${sizes[t]}];`);
  return [
    `// ${l.op} of ONNX node "${l.node.replace(/[^\w./:-]/g, '_')}": ${l.gadgets.length} outputs at scale 2^-${l.scale}; ${layerCostOf(l)} constraints.`,
    `template L${k}() {`,
    ...inputs,
    `    signal output out[${l.gadgets.length}];`,
    '    var acc;',
    ...body,
    '}',
    '',
  ].join('\n');
}

/**
 * The tensors a layer template reads, to wire it in the main template. A
 * constant gadget (a unit dead over the whole accepted range) reads nothing:
 * its form must not count, or main would wire an input the template lacks.
 */
function layerDeps(l: Layer, k: number, map: SignalMap): number[] {
  const deps = new Set<number>();
  const read = (f: Form) => f.idx.forEach((i) => deps.add(map.locate(i)[0]));
  l.gadgets.forEach((g, j) => {
    if (g.kind === 'const') return;
    if (g.kind === 'argmax') l.forms.forEach(read);
    else read(l.forms[j]);
    if (g.kind === 'max') read(l.rhs![j]);
  });
  deps.delete(k);
  return [...deps].sort((a, b) => a - b);
}

export function emitCircuit(p: Program): EmittedCircuit {
  const missing = p.layers.find((l) => l.gadgets.some((g) => !CIRCOM_GADGETS.has(g.kind)));
  if (missing) {
    throw new ZkinferError('ONNX_UNSUPPORTED', `circom export: node "${missing.node}" (${missing.op}) uses a gadget the circom library has no template for; the circuit itself is built directly`);
  }
  const map = new SignalMap(p);
  const nIn = elementCount(p.io.input.shape);
  const nOut = p.outputForms.length;
  const sizes = [nIn, ...p.layers.map((l) => l.gadgets.length)];
  const hashed = p.io.visibility === 'hashed';
  const { bits, lo } = p.io.input;
  const perSignal = hashed ? 1 : (p.io.input.perSignal ?? 1);
  const publicPacks = Math.ceil(nIn / perSignal);
  const tensorName = (t: number) => (t === 0 ? 'in' : `l${t}.out`);

  const main: string[] = [];
  main.push('template Model() {');
  main.push(`    signal input in[${nIn}];`);
  if (hashed) main.push('    signal input salt;');
  main.push(`    signal output out[${nOut}];`);
  if (hashed) main.push('    signal output commitment;');
  if (perSignal > 1) main.push(`    signal output inputs[${publicPacks}];`);
  main.push('');
  main.push(`    // Every input in [${lo}, ${lo + 2 ** bits - 1}]: ${bits} constraints each.`);
  main.push(`    component rc[${nIn}];`);
  main.push(`    for (var i = 0; i < ${nIn}; i++) {`);
  main.push(`        rc[i] = InRange(${bits}, ${lo});`);
  main.push('        rc[i].in <== in[i];');
  main.push('    }');

  if (perSignal > 1) {
    main.push('');
    main.push(`    // Public inputs, ${perSignal} to a signal (a verifier pays per public signal). Each`);
    main.push('    // pack is linear in the inputs\' bits: --O2 folds it into their bit checks.');
    main.push(`    component pack = PackInputs(${nIn}, ${bits}, ${lo}, ${perSignal}, ${publicPacks});`);
    main.push('    pack.in <== in;');
    main.push('    inputs <== pack.packs;');
  }

  if (hashed) {
    const lay = commitLayout(nIn, bits);
    main.push('');
    main.push(`    // Commitment: ${lay.packs} packs of ${lay.perPack} inputs, Poseidon with the salt.`);
    main.push(`    component pack = PackInputs(${nIn}, ${bits}, ${lo}, ${lay.perPack}, ${lay.packs});`);
    main.push('    pack.in <== in;');
    const items = [...Array.from({ length: lay.packs }, (_, i) => `pack.packs[${i}]`), 'salt'];
    if (lay.chunks === 0) {
      main.push(`    component h0 = Poseidon(${items.length});`);
      items.forEach((it, i) => main.push(`    h0.inputs[${i}] <== ${it};`));
      main.push('    commitment <== h0.out;');
    } else {
      let c = 0;
      main.push(`    component h0 = Poseidon(${POSEIDON_WIDTH});`);
      items.slice(0, POSEIDON_WIDTH).forEach((it, i) => main.push(`    h0.inputs[${i}] <== ${it};`));
      for (let i = POSEIDON_WIDTH; i < items.length; i += POSEIDON_WIDTH - 1) {
        c++;
        main.push(`    component h${c} = Poseidon(${POSEIDON_WIDTH});`);
        main.push(`    h${c}.inputs[0] <== h${c - 1}.out;`);
        for (let j = 0; j < POSEIDON_WIDTH - 1; j++) {
          main.push(`    h${c}.inputs[${j + 1}] <== ${items[i + j] ?? '0'};`);
        }
      }
      main.push(`    commitment <== h${c}.out;`);
    }
  }

  const templates: string[] = [];
  p.layers.forEach((l, i) => {
    const k = i + 1;
    templates.push(emitLayer(l, k, map, sizes));
    main.push('');
    main.push(`    component l${k} = L${k}();`);
    for (const t of layerDeps(l, k, map)) main.push(`    l${k}.t${t} <== ${tensorName(t)};`);
  });

  main.push('');
  main.push(`    // Output of "${p.outputNode}" at scale 2^-${p.io.output.scale}: linear, no gadget.`);
  main.push('    var acc;');
  p.outputForms.forEach((f, j) => main.push(...assign(`out[${j}]`, f, map, tensorName)));
  main.push('}');
  main.push('');
  main.push(hashed || perSignal > 1 ? 'component main = Model();' : 'component main {public [in]} = Model();');

  const includes = hashed ? [...LIBRARY_FILES, ...CIRCOMLIB_FILES] : [...LIBRARY_FILES];
  const source = [
    '// Generated by zkinfer from an ONNX model. Weights are constants: linear',
    '// layers are affine forms and cost nothing; only the gadgets constrain.',
    'pragma circom 2.1.0;',
    '',
    ...LIBRARY_FILES.map((f) => `include "${f}";`),
    ...(hashed ? ['include "poseidon.circom";'] : []),
    '',
    ...templates,
    ...main,
    '',
  ].join('\n');
  return { source, includes };
}
