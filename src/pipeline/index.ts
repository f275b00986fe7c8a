export { buildModel, BUILD_DEFAULTS, type BuildOptions } from './build-model.js';
export { MANIFEST_FORMAT, type Manifest } from './manifest.js';
export { fidelity, type FidelityReport } from './fidelity.js';
