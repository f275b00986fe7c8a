export { verifyReceipt, loadKey, type VerifyResult } from './verify.js';
export { verifyProof } from './proof.js';
