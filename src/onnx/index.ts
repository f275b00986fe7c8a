export * from './graph.js';
export { importOnnx } from './import.js';
export { SUPPORTED_OPS, isSupportedOp } from './ops.js';
export { IMPORT_LIMITS, importLimits, elementsOf, LimitExceededError, type ImportLimits } from './limits.js';
