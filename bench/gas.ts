/**
 * On-chain verification cost of a model: compiles its snarkjs verifier and
 * its model contract (solc-js), deploys both on an in-process EVM and sends
 * the receipt to each. Gas only, never time.
 *
 *   node bin/run.js bench/gas.ts <build dir> <receipt.json>   # prints JSON
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { calldata, modelContract, parseSolidityKey, protocolAbi, solidityVerifier, type ProofBundle } from '../src/contracts/index.js';
import { buildPath } from '../src/paths.js';
import { Chain, compileSource, decodeBool, decodeInt256Array, MAX_CODE_SIZE, type GasReport } from '../test/helpers/evm.js';

export interface ContractGas {
  /** Runtime code size in bytes; above MAX_CODE_SIZE (EIP-170) mainnet refuses the deployment. */
  readonly codeSize: number;
  readonly deployable: boolean;
  /** The deployment transaction (the model contract's includes deploying its own verifier). */
  readonly deployGas: number;
  /** One verification transaction: verifyProof on the verifier, verify on the model contract. */
  readonly verifyGas: GasReport;
}

export interface VerifierGas {
  readonly system: string;
  readonly publicSignals: number;
  readonly verifier: ContractGas;
  readonly model: ContractGas;
}

/**
 * Gas to verify this receipt on chain, through the raw verifier and through
 * the model contract. Throws if either does not accept it: a number for a
 * rejected proof would measure the wrong path.
 */
export async function measureVerifierGas(vkText: string, receipt: ProofBundle): Promise<VerifierGas> {
  const vk = parseSolidityKey(vkText);
  const model = await modelContract(vkText);
  const verifierBin = compileSource(solidityVerifier(vkText))[protocolAbi(vk.protocol, vk.nPublic).contract];
  const modelBin = compileSource(model.source)[model.contract];
  const data = await calldata(receipt);
  // Oversized verifiers still run here, so large models get a figure; `deployable` says whether mainnet would take them.
  const chain = await Chain.create({ allowUnlimitedContractSize: true });

  const v = await chain.deploy(verifierBin.bytecode);
  const vr = await chain.call(v.address, data.verifier);
  if (!vr.ok || !decodeBool(vr.returnValue)) throw new Error(`the ${vk.protocol} verifier rejects the receipt (${vr.error ?? 'returned false'})`);

  const m = await chain.deploy(modelBin.bytecode);
  const mr = await chain.call(m.address, data.model.verify!);
  if (!mr.ok) throw new Error(`the model contract rejects the receipt (${mr.error})`);
  const out = decodeInt256Array(mr.returnValue);
  if (receipt.outputQuantized && out.join() !== receipt.outputQuantized.join()) throw new Error('the model contract returns other outputs than the receipt');

  return {
    system: vk.protocol,
    publicSignals: vk.nPublic,
    verifier: { codeSize: v.codeSize, deployable: v.codeSize <= MAX_CODE_SIZE, deployGas: v.gas.transaction, verifyGas: vr.gas },
    // The model contract's own code is small; what limits it is its verifier.
    model: { codeSize: m.codeSize, deployable: m.codeSize <= MAX_CODE_SIZE && v.codeSize <= MAX_CODE_SIZE, deployGas: m.gas.transaction, verifyGas: mr.gas },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [build, receiptFile] = process.argv.slice(2);
  if (!build || !receiptFile) {
    process.stderr.write('usage: node bin/run.js bench/gas.ts <build dir> <receipt.json>\n');
    process.exit(2);
  }
  const vkText = fs.readFileSync(fs.statSync(build).isDirectory() ? buildPath(build, 'vkey') : build, 'utf8');
  const r = await measureVerifierGas(vkText, JSON.parse(fs.readFileSync(receiptFile, 'utf8')));
  process.stdout.write(`${JSON.stringify(r)}\n`);
  const { releaseCurve } = await import('../src/curve.js');
  await releaseCurve();
}
