import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { buildPath } from '../../src/paths.js';
import { runReference, type Program } from '../../src/quantize/index.js';
import { toField } from '../../src/receipt/index.js';
import { readSym } from './r1cs.js';

const require = createRequire(import.meta.url);

/**
 * Checks the integer reference against the compiled circuit's witness: every
 * output and every layer signal circom kept as a wire, for each input.
 * Returns how many signal values were compared.
 */
export async function checkBitExact(dir: string, inputs: bigint[][]): Promise<number> {
  const program: Program = JSON.parse(fs.readFileSync(buildPath(dir, 'program'), 'utf8'));
  const jsDir = path.dirname(buildPath(dir, 'wasm'));
  fs.copyFileSync(path.join(jsDir, 'witness_calculator.js'), path.join(jsDir, 'witness_calculator.cjs'));
  const calc = await require(path.join(jsDir, 'witness_calculator.cjs'))(fs.readFileSync(buildPath(dir, 'wasm')));
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
    const w: bigint[] = await calc.calculateWitness({ in: q.map((v) => toField(v).toString()), ...(program.io.visibility === 'hashed' ? { salt: '1' } : {}) }, true);
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
