import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { exportCircom } from '../pipeline/circuit.js';
import { buildPath } from '../paths.js';
import { checkR1csFile } from '../r1cs/file.js';
import { ZkinferError } from '../errors.js';
import { readInputFile } from './files.js';
import { lowerProgram } from '../lower/circuit.js';
import { flattenTensor, quantizeInput } from '../receipt/index.js';
import { openBuild } from '../build/open.js';

const log = (msg: string) => process.stderr.write(`[zkinfer] ${msg}\n`);

/** Commands on a build's circuit: its witness for an input, and its circom export. */
export function registerCircuitCommands(cmd: Command): void {
  cmd.command('witness')
    .description('compute the witness of one input as a .wtns file (snarkjs and rapidsnark read it)')
    .argument('<build>', 'build directory from zkinfer compile')
    .requiredOption('--input <file>', 'JSON {"input": nested array in the model input shape}')
    .requiredOption('--out <file>', '.wtns file to write')
    .option('--salt <n>', 'hashed visibility: the commitment salt (decimal)', '0')
    .option('--check', 'also check the witness against every constraint of the build\'s r1cs')
    .action(async (build: string, o) => {
      const input = readInputFile(o.input);
      if (!/^[0-9]+$/.test(o.salt)) throw new ZkinferError('USAGE', `--salt must be a decimal integer, got "${o.salt}"`);
      // The program alone gives the witness: no proving key is loaded.
      const program = openBuild(build, ['manifest', 'program', 'r1cs']).program();
      const q = quantizeInput(program.io, flattenTensor(input, program.io.input.shape, 'input'));
      const t0 = performance.now();
      const w = lowerProgram(program, q, { constraints: false, salt: BigInt(o.salt) });
      log(`witness: ${w.circuit.nWires} wires in ${(performance.now() - t0).toFixed(1)} ms`);
      if (o.check) {
        const bad = checkR1csFile(buildPath(build, 'r1cs'), (x) => w.circuit.value(x));
        if (bad) throw new ZkinferError('WITNESS_FAILED', `the witness fails constraint ${bad.constraint} of ${buildPath(build, 'r1cs')}`);
        log(`every constraint of ${buildPath(build, 'r1cs')} holds`);
      }
      fs.writeFileSync(o.out, w.circuit.wtns());
      process.stdout.write(`${path.resolve(o.out)}\n`);
    });

  cmd.command('export-circom')
    .description('write the circuit as circom source with the circuits/ templates (circom compiles it to the same constraints)')
    .argument('<build>', 'build directory from zkinfer compile')
    .option('--out <dir>', 'directory to write circom/model.circom and its includes into (default: the build directory)')
    .action((build: string, o) => {
      const out = o.out ?? build;
      const emitted = exportCircom(openBuild(build, ['manifest', 'program']).program(), out);
      log(`${emitted.includes.length} library files beside it; compile with: circom model.circom --r1cs --O2`);
      process.stdout.write(`${path.resolve(buildPath(out, 'circom'))}\n`);
    });
}
