export * from './field.js';
export * from './io.js';
export * from './receipt.js';
export * from './commitment.js';
export * from './signals.js';
