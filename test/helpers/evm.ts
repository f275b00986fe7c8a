import { createRequire } from 'node:module';
import { createEVM, type EVM } from '@ethereumjs/evm';
import { Account, bytesToHex, createAddressFromString, hexToBytes, type Address } from '@ethereumjs/util';

const require = createRequire(import.meta.url);

interface Solc {
  version(): string;
  compile(input: string): string;
}

let solcInstance: Solc | null = null;
/** solc-js loads a large emscripten build: once per process. */
export const solc = (): Solc => (solcInstance ??= require('solc') as Solc);

export interface CompiledContract {
  readonly bytecode: string;
  readonly deployedBytecode: string;
  /** Signature → 4-byte selector, as solc computes them. */
  readonly methodIdentifiers: Record<string, string>;
}

/** The EVM version contracts are compiled for and run on: @ethereumjs/evm's default hardfork. */
export const EVM_VERSION = 'prague';

/** Compiles Solidity sources (file name → text) in one standard-JSON run; throws on any compile error. */
export function compileSolidity(sources: Record<string, string>): Record<string, Record<string, CompiledContract>> {
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([f, content]) => [f, { content }])),
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: EVM_VERSION,
      outputSelection: { '*': { '*': ['evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.methodIdentifiers'] } },
    },
  };
  const out = JSON.parse(solc().compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts?: Record<string, Record<string, { evm: { bytecode: { object: string }; deployedBytecode: { object: string }; methodIdentifiers: Record<string, string> } }>>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  const result: Record<string, Record<string, CompiledContract>> = {};
  for (const [file, contracts] of Object.entries(out.contracts ?? {})) {
    result[file] = {};
    for (const [name, c] of Object.entries(contracts)) {
      result[file][name] = { bytecode: c.evm.bytecode.object, deployedBytecode: c.evm.deployedBytecode.object, methodIdentifiers: c.evm.methodIdentifiers };
    }
  }
  return result;
}

const compiled = new Map<string, Record<string, CompiledContract>>();
/** The contracts of one Solidity source, compiled once per process (by content): tests and the gas bench share the work. */
export function compileSource(source: string): Record<string, CompiledContract> {
  let c = compiled.get(source);
  if (!c) compiled.set(source, (c = compileSolidity({ 'Contract.sol': source })['Contract.sol']));
  return c;
}

/** EIP-170: the largest runtime code a contract may have on mainnet. */
export const MAX_CODE_SIZE = 24_576;

export interface GasReport {
  /** Gas the EVM spent running the call (or the creation, code deposit included). */
  readonly execution: number;
  /** Intrinsic calldata cost: 4 per zero byte, 16 per other byte (EIP-2028). */
  readonly calldata: number;
  /**
   * What the transaction is charged: 21000 + calldata + execution (+ creation
   * costs for a deployment), or the EIP-7623 calldata floor if larger.
   */
  readonly transaction: number;
}

export interface CallResult {
  /** False when the call reverted or failed. */
  readonly ok: boolean;
  readonly returnValue: Uint8Array;
  readonly error?: string;
  readonly gas: GasReport;
}

function txGas(data: Uint8Array, execution: bigint, create: boolean): GasReport {
  const zeros = data.reduce((n, b) => n + (b === 0 ? 1 : 0), 0);
  const tokens = zeros + 4 * (data.length - zeros);
  const calldata = 4 * tokens;
  // A creation pays 32000 plus 2 per 32-byte word of init code (EIP-3860).
  const createCost = create ? 32_000 + 2 * Math.ceil(data.length / 32) : 0;
  const standard = 21_000 + calldata + createCost + Number(execution);
  return { execution: Number(execution), calldata, transaction: Math.max(standard, 21_000 + 10 * tokens) };
}

/**
 * An in-process chain: one funded account sending transactions to contracts
 * on @ethereumjs/evm. Each call starts with the access lists a real
 * transaction has (precompiles, sender and recipient warm), so gas matches
 * what a node would charge.
 */
export class Chain {
  private constructor(
    private readonly evm: EVM,
    readonly sender: Address,
  ) {}

  /** `allowUnlimitedContractSize` lets an oversized verifier still be measured; tests check sizes themselves. */
  static async create(opts: { allowUnlimitedContractSize?: boolean } = {}): Promise<Chain> {
    const evm = await createEVM({ allowUnlimitedContractSize: opts.allowUnlimitedContractSize ?? false, allowUnlimitedInitCodeSize: opts.allowUnlimitedContractSize ?? false });
    const sender = createAddressFromString('0x00000000000000000000000000000000000c0ffe');
    await evm.stateManager.putAccount(sender, new Account(0n, 10n ** 24n));
    return new Chain(evm, sender);
  }

  private async run(to: Address | undefined, data: Uint8Array, gasLimit: bigint) {
    await this.evm.journal.cleanup();
    for (const a of this.evm.precompiles.keys()) this.evm.journal.addAlwaysWarmAddress(a);
    this.evm.journal.addAlwaysWarmAddress(this.sender.toString());
    if (to) this.evm.journal.addAlwaysWarmAddress(to.toString());
    return this.evm.runCall({ caller: this.sender, origin: this.sender, to, data, gasLimit });
  }

  /** Deploys init code (hex); throws if the creation fails. */
  async deploy(bytecode: string): Promise<{ address: Address; codeSize: number; gas: GasReport }> {
    const data = hexToBytes(bytecode.startsWith('0x') ? (bytecode as `0x${string}`) : `0x${bytecode}`);
    const r = await this.run(undefined, data, 60_000_000n);
    if (r.execResult.exceptionError || !r.createdAddress) throw new Error(`deployment failed: ${r.execResult.exceptionError?.error ?? 'no address'}`);
    const code = await this.evm.stateManager.getCode(r.createdAddress);
    return { address: r.createdAddress, codeSize: code.length, gas: txGas(data, r.execResult.executionGasUsed, true) };
  }

  /** Sends a transaction with this data (0x hex) to a contract. */
  async call(to: Address, data: string, gasLimit = 30_000_000n): Promise<CallResult> {
    const bytes = hexToBytes(data as `0x${string}`);
    const r = await this.run(to, bytes, gasLimit);
    const e = r.execResult.exceptionError;
    return { ok: !e, returnValue: r.execResult.returnValue, ...(e ? { error: e.error } : {}), gas: txGas(bytes, r.execResult.executionGasUsed, false) };
  }
}

/** ABI words of a return value, as unsigned 256-bit integers. */
export function words(ret: Uint8Array): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i + 32 <= ret.length; i += 32) out.push(BigInt(bytesToHex(ret.subarray(i, i + 32))));
  return out;
}

/** Two's complement 256-bit word as a signed integer. */
export const int256 = (w: bigint): bigint => (w >= 1n << 255n ? w - (1n << 256n) : w);

/** Decodes a single dynamic int256[] return value. */
export function decodeInt256Array(ret: Uint8Array): bigint[] {
  const w = words(ret);
  const start = Number(w[0] / 32n);
  const n = Number(w[start]);
  return w.slice(start + 1, start + 1 + n).map(int256);
}

/** Decodes a single bool return value. */
export function decodeBool(ret: Uint8Array): boolean {
  const w = words(ret);
  if (w.length !== 1 || w[0] > 1n) throw new Error(`not an ABI bool: ${bytesToHex(ret)}`);
  return w[0] === 1n;
}

export { bytesToHex };
