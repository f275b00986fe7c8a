import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { runCircom } from '../../src/compile/circom.js';
import { CIRCUITS_DIR } from '../../src/paths.js';
import { CIRCOMLIB_FILES } from '../../src/lower/index.js';
import { parseR1cs, readSym, type R1cs } from './r1cs.js';

const require = createRequire(import.meta.url);
export const ARTIFACTS = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '.artifacts');

export interface TestCircuit {
  r1cs: R1cs;
  sym: Map<string, number>;
  witness(input: Record<string, unknown>): Promise<bigint[]>;
  wire(name: string): number;
}

/** Compiles a circom main with our library beside it, for gadget tests. */
export async function compileTestCircuit(name: string, body: string, includes: string[] = ['bits.circom', 'rescale.circom']): Promise<TestCircuit> {
  const dir = path.join(ARTIFACTS, 'gadgets', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(CIRCUITS_DIR)) fs.copyFileSync(path.join(CIRCUITS_DIR, f), path.join(dir, f));
  const circomlib = path.join(path.dirname(require.resolve('circomlib/package.json')), 'circuits');
  for (const f of CIRCOMLIB_FILES) fs.copyFileSync(path.join(circomlib, f), path.join(dir, f));
  const src = `pragma circom 2.1.0;\n${includes.map((i) => `include "${i}";`).join('\n')}\n${body}\n`;
  fs.writeFileSync(path.join(dir, 't.circom'), src);
  await runCircom(dir, 't.circom');
  // circom writes CommonJS; this package is ESM, so load it under .cjs.
  fs.copyFileSync(path.join(dir, 't_js', 'witness_calculator.js'), path.join(dir, 't_js', 'witness_calculator.cjs'));
  const builder = require(path.join(dir, 't_js', 'witness_calculator.cjs')) as (code: Buffer) => Promise<{ calculateWitness(i: unknown, s: boolean): Promise<bigint[]> }>;
  const calc = await builder(fs.readFileSync(path.join(dir, 't_js', 't.wasm')));
  const sym = readSym(path.join(dir, 't.sym'));
  return {
    r1cs: parseR1cs(path.join(dir, 't.r1cs')),
    sym,
    witness: (input) => calc.calculateWitness(input, true),
    wire: (n) => {
      const w = sym.get(n);
      if (w === undefined) throw new Error(`signal ${n} is not a wire`);
      return w;
    },
  };
}
