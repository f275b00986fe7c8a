export { verifyReceipt, loadKey, type VerifyResult } from './verify.js';
export { checkProof, verifyProof, type ProofCheck } from './proof.js';
export { decodeSignals, type DecodedSignals } from '../receipt/signals.js';
