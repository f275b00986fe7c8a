import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Groth16Prover } from '../prove/groth16-prover.js';
import { proverKernels } from '../prove/kernels.js';
import { releaseCurve } from '../curve.js';
import { ZkinferError } from '../errors.js';
import { readUserFile } from './files.js';

const log = (msg: string) => process.stderr.write(`[zkinfer] ${msg}\n`);


/**
 * `zkinfer groth16 prove ZKEY WTNS PROOF PUBLIC`: snarkjs' and rapidsnark's
 * command, on any Groth16 zkey of snarkjs' format (not only zkinfer's), so
 * its output verifies with `snarkjs groth16 verify`.
 */
export function registerGroth16Commands(cmd: Command): void {
  const g = cmd.command('groth16').description('Groth16 on snarkjs files');
  g.command('prove')
    .description('prove a witness with a Groth16 proving key (snarkjs zkey) and write the proof and public signals as JSON')
    .argument('<zkey>', 'proving key, snarkjs format')
    .argument('<wtns>', 'witness, .wtns format')
    .argument('<proof>', 'proof JSON to write')
    .argument('<public>', 'public signals JSON to write')
    .action(async (zkey: string, wtns: string, proofOut: string, publicOut: string) => {
      readUserFile(zkey, 'proving key', 'INPUT_INVALID');
      const witness = readUserFile(wtns, 'witness', 'INPUT_INVALID');
      log(`prover kernels: ${proverKernels()}`);
      let prover: Groth16Prover;
      try {
        prover = await Groth16Prover.loadFile(zkey);
      } catch (e) {
        throw new ZkinferError('INPUT_INVALID', `proving key ${zkey}: ${(e as Error).message}`);
      }
      try {
        const t0 = performance.now();
        let out;
        try {
          out = await prover.prove(witness);
        } catch (e) {
          throw new ZkinferError('INPUT_INVALID', `witness ${wtns}: ${(e as Error).message}`);
        }
        log(`proof in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
        fs.writeFileSync(proofOut, `${JSON.stringify(out.proof, null, 1)}\n`);
        fs.writeFileSync(publicOut, `${JSON.stringify(out.publicSignals, null, 1)}\n`);
        process.stdout.write(`${path.resolve(proofOut)}\n`);
      } finally {
        await releaseCurve();
      }
    });
}
