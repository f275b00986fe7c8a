export * from './program.js';
export { quantize } from './quantize.js';
export { QUANTIZE_DEFAULTS, quantizeOptions, type QuantizeOptions } from './config.js';
export { parseCalibration, calibrationInputs, collectStats, calibrate } from './calibration.js';
export { choosePrecision, largestTensorError, PrecisionError, PRECISION_LADDER, PRECISION_TOLERANCE, type PrecisionTrial, type TensorError } from './precision.js';
export { FloatModel } from './float-model.js';
export { runReference, argmax } from './reference.js';
export { exactScale } from './quantize.js';
export { recordCalibration, recordFromSamples, parseRecordedCalibration, honestExactScale, implausibleCalibration, assertPlausibleCalibration, CALIBRATION_FORMAT, type PlausibilityContext, type RecordedCalibration } from './recorded.js';
