export { verifyReceipt, type VerifyResult } from './verify.js';
