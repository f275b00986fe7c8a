import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Program } from '../quantize/program.js';
import { emitCircuit, type EmittedCircuit } from '../lower/index.js';
import { compileInput, lowerProgram, type LayerCost } from '../lower/circuit.js';
import { buildPath, CIRCUITS_DIR } from '../paths.js';

const require = createRequire(import.meta.url);

export interface CompiledCircuit {
  readonly nConstraints: number;
  readonly nWires: number;
  readonly publicSignals: number;
  readonly costs: readonly LayerCost[];
}

/**
 * Compiles a program straight to its constraint system: model.r1cs and
 * model.sym in `outDir`. The build and the audit both go through here, so
 * an audit compiles exactly what a build compiled; the same program gives
 * the same bytes.
 */
export function compileCircuit(program: Program, outDir: string, fraction: (x: number) => void = () => {}): CompiledCircuit {
  const lowered = lowerProgram(program, compileInput(program), { onLayer: (k, n) => fraction(k / n) });
  fs.mkdirSync(outDir, { recursive: true });
  lowered.circuit.writeR1cs(buildPath(outDir, 'r1cs'), lowered.layout);
  lowered.circuit.writeSym(buildPath(outDir, 'sym'));
  return {
    nConstraints: lowered.circuit.nConstraints,
    nWires: lowered.circuit.nWires,
    publicSignals: lowered.layout.nOutputs + lowered.layout.nPubInputs,
    costs: lowered.costs,
  };
}

/**
 * Writes the program as circom source with the library it includes
 * (circuits/ and circomlib) into `outDir`/circom: a readable export that
 * circom compiles to the same constraint count and, signal by signal, the
 * same witness.
 */
export function exportCircom(program: Program, outDir: string): EmittedCircuit {
  const emitted = emitCircuit(program);
  const dir = buildPath(outDir, 'circomDir');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(buildPath(outDir, 'circom'), emitted.source);
  const circomlib = path.dirname(require.resolve('circomlib/package.json'));
  for (const f of emitted.includes) {
    const src = fs.existsSync(path.join(CIRCUITS_DIR, f)) ? path.join(CIRCUITS_DIR, f) : path.join(circomlib, 'circuits', f);
    fs.copyFileSync(src, path.join(dir, f));
  }
  return emitted;
}
