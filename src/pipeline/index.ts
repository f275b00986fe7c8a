export { buildModel, buildKeyFor, BUILD_DEFAULTS, type BuildOptions } from './build-model.js';
export { MANIFEST_FORMAT, type Manifest } from './manifest.js';
export { fidelity, programFidelity, type FidelityReport } from './fidelity.js';
export { judgeTrust, meetsTrust, parseTrustLevel, recordedTrust, TRUST_LEVELS, TRUST_RANK, type TrustFacts, type TrustLevel, type TrustVerdict } from './trust.js';
export { estimateCircuit, inputBitsFor, ESTIMATE_DEFAULTS, type CircuitEstimate, type EstimateOptions, type LayerEstimate } from './estimate.js';
export { checkLimits, limitsFromEnv, modelLimits, LIMIT_ENV, MODEL_LIMITS, type ModelLimits } from './limits.js';
