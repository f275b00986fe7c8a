import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { calldata, modelContract, parseSolidityKey, solidityVerifier } from '../contracts/index.js';
import { parseReceipt } from '../receipt/index.js';
import { releaseCurve } from '../curve.js';
import { keyFileOf, readUserFile, readUserJson } from './files.js';

const log = (msg: string) => process.stderr.write(`[zkinfer] ${msg}\n`);


/** Commands for on-chain verification: Solidity verifiers and their call data. */
export function registerContractCommands(cmd: Command): void {
  cmd.command('export-verifier')
    .description('write the Solidity verifier for a model (snarkjs template), or with --contract model a contract that also decodes the output')
    .argument('<build>', 'build directory (or its verification_key.json)')
    .option('--out <file>', 'Solidity file to write (default: standard output)')
    .addOption(new Option('--contract <kind>', 'verifier: the snarkjs verifier alone; model: the verifier plus a contract returning the proven outputs').choices(['verifier', 'model']).default('verifier'))
    .option('--name <name>', 'name of the model contract (--contract model)', 'ZkinferModel')
    .action(async (build: string, o) => {
      const vkText = readUserFile(keyFileOf(build), 'verification key', 'BUILD_INVALID').toString('utf8');
      const vk = parseSolidityKey(vkText);
      let source: string;
      if (o.contract === 'model') {
        const m = await modelContract(vkText, { name: o.name });
        source = m.source;
        log(`${vk.protocol} verifier ${m.verifierContract} and model contract ${m.contract} (${vk.nPublic} public signals)`);
      } else {
        source = solidityVerifier(vkText);
        log(`${vk.protocol} verifier (${vk.nPublic} public signals)`);
      }
      if (!o.out) {
        process.stdout.write(source);
        return;
      }
      fs.writeFileSync(o.out, source);
      process.stdout.write(`${path.resolve(o.out)}\n`);
    });

  cmd.command('calldata')
    .description("print a receipt's proof and public signals as arguments of the Solidity verifier's verifyProof")
    .argument('<receipt.json>', 'receipt from zkinfer prove')
    .option('--json', 'print JSON: structured arguments, signature, and ABI-encoded data for the verifier and the model contract')
    .action(async (file: string, o) => {
      const receipt = parseReceipt(readUserJson(file, 'receipt', 'RECEIPT_INVALID'));
      try {
        const c = await calldata(receipt);
        process.stdout.write(o.json ? `${JSON.stringify(c, null, 1)}\n` : `${c.text}\n`);
      } finally {
        await releaseCurve();
      }
    });
}
