export { verifyReceipt, loadKey, type VerifyResult } from './verify.js';
