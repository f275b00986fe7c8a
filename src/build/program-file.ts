import fs from 'node:fs';
import type { Form, Gadget, Layer, Program } from '../quantize/program.js';
import { fileError } from '../errors.js';

/**
 * The quantized program on disk, as JSON lines: a header, then each layer's
 * metadata followed by its forms and gadgets in parts of at most PART
 * elements, then the output forms likewise. A model with millions of linear
 * terms never becomes one JavaScript string (V8 caps strings near 512 MB).
 */
export const PROGRAM_FORMAT = 'zkinfer-program/1';
const PART = 2048;

type Header = Omit<Program, 'layers' | 'outputForms'> & { format: typeof PROGRAM_FORMAT; layers: number; outputParts: number };
type LayerHead = Omit<Layer, 'forms' | 'rhs' | 'pairs' | 'gadgets'> & { parts: number; hasRhs: boolean; hasPairs?: boolean };
interface LayerPart { forms: Form[]; rhs?: Form[]; pairs?: Form[][]; gadgets: Gadget[] }

export function writeProgram(file: string, p: Program): void {
  const fd = fs.openSync(file, 'w');
  const line = (x: unknown) => fs.writeSync(fd, `${JSON.stringify(x)}\n`);
  try {
    const { layers, outputForms, ...rest } = p;
    const header: Header = { format: PROGRAM_FORMAT, ...rest, layers: layers.length, outputParts: Math.ceil(outputForms.length / PART) };
    line(header);
    for (const l of layers) {
      const { forms, rhs, pairs, gadgets, ...meta } = l;
      const n = Math.max(forms.length, gadgets.length);
      const head: LayerHead = { ...meta, parts: Math.ceil(n / PART), hasRhs: rhs !== undefined, ...(pairs ? { hasPairs: true } : {}) };
      line(head);
      for (let i = 0; i < n; i += PART) {
        const part: LayerPart = { forms: forms.slice(i, i + PART), gadgets: gadgets.slice(i, i + PART) };
        if (rhs) part.rhs = rhs.slice(i, i + PART);
        if (pairs) part.pairs = pairs.slice(i, i + PART);
        line(part);
      }
    }
    for (let i = 0; i < outputForms.length; i += PART) line(outputForms.slice(i, i + PART));
  } finally {
    fs.closeSync(fd);
  }
}

/** Lines of a file, read in blocks. */
function* lines(file: string): Generator<string> {
  const fd = fs.openSync(file, 'r');
  const block = Buffer.alloc(1 << 22);
  let pending: Buffer[] = [];
  try {
    for (;;) {
      const n = fs.readSync(fd, block, 0, block.length, null);
      if (n === 0) break;
      let start = 0;
      for (let i = block.indexOf(10, 0); i >= 0 && i < n; i = block.indexOf(10, start)) {
        pending.push(block.subarray(start, i));
        yield Buffer.concat(pending).toString('utf8');
        pending = [];
        start = i + 1;
      }
      if (start < n) pending.push(Buffer.from(block.subarray(start, n)));
    }
    if (pending.length) yield Buffer.concat(pending).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads a program written by writeProgram (or, from older builds, one JSON document). */
export function readProgram(file: string): Program {
  try {
    const it = lines(file);
    const first = it.next();
    if (first.done) throw new Error('empty file');
    const head = JSON.parse(first.value) as Header | Program;
    if (!('format' in head) || head.format !== PROGRAM_FORMAT) {
      if ('outputForms' in head && Array.isArray(head.layers) && it.next().done) return head as Program;
      throw new Error(`expected format "${PROGRAM_FORMAT}"`);
    }
    const next = (): unknown => {
      const r = it.next();
      if (r.done) throw new Error('truncated');
      return JSON.parse(r.value);
    };
    const layers: Layer[] = [];
    for (let k = 0; k < head.layers; k++) {
      const { parts, hasRhs, hasPairs, ...meta } = next() as LayerHead;
      const forms: Form[] = [];
      const gadgets: Gadget[] = [];
      const rhs: Form[] = [];
      const pairs: Form[][] = [];
      for (let i = 0; i < parts; i++) {
        const part = next() as LayerPart;
        for (const f of part.forms) forms.push(f);
        for (const g of part.gadgets) gadgets.push(g);
        if (part.rhs) for (const f of part.rhs) rhs.push(f);
        if (part.pairs) for (const f of part.pairs) pairs.push(f);
      }
      layers.push({ ...meta, forms, gadgets, ...(hasRhs ? { rhs } : {}), ...(hasPairs ? { pairs } : {}) });
    }
    const outputForms: Form[] = [];
    for (let i = 0; i < head.outputParts; i++) for (const f of next() as Form[]) outputForms.push(f);
    if (!it.next().done) throw new Error('trailing data');
    const { format: _f, layers: _l, outputParts: _o, ...rest } = head;
    return { ...rest, layers, outputForms };
  } catch (e) {
    throw fileError('BUILD_INVALID', file, e);
  }
}
