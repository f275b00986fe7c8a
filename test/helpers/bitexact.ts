import fs from 'node:fs';
import { buildPath } from '../../src/paths.js';
import { runReference, type Program } from '../../src/quantize/index.js';
import { lowerProgram } from '../../src/lower/index.js';
import { toField } from '../../src/receipt/index.js';
import { firstViolation, parseR1cs, readSym } from './r1cs.js';
import { readProgram } from '../../src/build/program-file.js';

/** A witness computed from the program alone (values only, as the prover computes it), wire by wire. */
export function witnessOf(program: Program, q: readonly bigint[], salt = 1n): bigint[] {
  const c = lowerProgram(program, q, { constraints: false, salt }).circuit;
  return Array.from({ length: c.nWires }, (_, w) => c.value(w));
}

/**
 * Checks the build's r1cs against the witness the prover computes, for each
 * input: every constraint holds, and every output and every layer signal
 * the circuit keeps as a wire equals the integer reference. Returns how many
 * signal values were compared.
 */
export async function checkBitExact(dir: string, inputs: bigint[][]): Promise<number> {
  const program: Program = readProgram(buildPath(dir, 'program'));
  const r1cs = parseR1cs(buildPath(dir, 'r1cs'));
  const sym = readSym(buildPath(dir, 'sym'));
  const probes: Array<[number, number]> = []; // [wire, global signal index]
  program.layers.forEach((l, k) => l.gadgets.forEach((_, j) => {
    const wire = sym.get(`main.l${k + 1}.out[${j}]`);
    if (wire !== undefined) probes.push([wire, l.offset + j]);
  }));
  const outWires = program.outputForms.map((_, j) => sym.get(`main.out[${j}]`)!);
  let compared = 0;
  for (const q of inputs) {
    const ref = runReference(program, q);
    const w = witnessOf(program, q);
    if (w.length !== r1cs.nWires) throw new Error(`witness has ${w.length} wires, the r1cs ${r1cs.nWires}`);
    const bad = firstViolation(r1cs, w);
    if (bad >= 0) throw new Error(`constraint ${bad} fails for input ${q.join(',')}`);
    outWires.forEach((wire, j) => {
      if (w[wire] !== toField(BigInt(ref.output[j]))) throw new Error(`output ${j}: circuit ${w[wire]} vs reference ${ref.output[j]}`);
      compared++;
    });
    for (const [wire, sig] of probes) {
      if (w[wire] !== toField(BigInt(ref.signals[sig]))) throw new Error(`signal ${sig}: circuit ${w[wire]} vs reference ${ref.signals[sig]}`);
      compared++;
    }
  }
  return compared;
}
