export * from './program.js';
export { quantize } from './quantize.js';
export { QUANTIZE_DEFAULTS, quantizeOptions, type QuantizeOptions } from './config.js';
export { parseCalibration, collectStats } from './calibration.js';
export { FloatModel } from './float-model.js';
export { runReference, argmax } from './reference.js';
