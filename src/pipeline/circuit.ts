import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Program } from '../quantize/program.js';
import { emitCircuit, type EmittedCircuit } from '../lower/index.js';
import { runCircom, type CircomStats } from '../compile/circom.js';
import { buildPath, BUILD_FILES, CIRCUITS_DIR } from '../paths.js';

const require = createRequire(import.meta.url);

/**
 * Writes a program's circom source and the library files it includes into
 * `outDir`'s circuit folder (laid out as a build directory). The build and
 * the audit both go through here, so an audit compiles exactly what a build
 * compiled.
 */
export function writeCircuit(program: Program, outDir: string): EmittedCircuit {
  const emitted = emitCircuit(program);
  const dir = buildPath(outDir, 'circuitDir');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(buildPath(outDir, 'circom'), emitted.source);
  const circomlib = path.dirname(require.resolve('circomlib/package.json'));
  for (const f of emitted.includes) {
    const src = fs.existsSync(path.join(CIRCUITS_DIR, f)) ? path.join(CIRCUITS_DIR, f) : path.join(circomlib, 'circuits', f);
    fs.copyFileSync(src, path.join(dir, f));
  }
  return emitted;
}

/** Compiles the circuit written by writeCircuit: r1cs, sym and witness wasm, with the witness calculator saved as CommonJS. */
export async function compileCircuit(outDir: string): Promise<CircomStats> {
  const stats = await runCircom(buildPath(outDir, 'circuitDir'), path.relative(BUILD_FILES.circuitDir, BUILD_FILES.circom));
  const wc = buildPath(outDir, 'witnessCalculator');
  fs.copyFileSync(wc.replace(/\.cjs$/, '.js'), wc);
  return stats;
}
