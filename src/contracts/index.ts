export { solidityVerifier, parseSolidityKey, type SolidityKey } from './verifier.js';
export { modelContract, MODEL_FUNCTIONS, type ModelContract, type ModelContractOptions, type ModelFunction } from './model-contract.js';
export { calldata, type Calldata, type CalldataOptions, type ProofBundle } from './calldata.js';
export { SOLIDITY_PROTOCOLS, protocolAbi, signature, type SolidityProtocol, type ProtocolAbi } from './protocols.js';
export { keccak256, selector } from './keccak.js';
