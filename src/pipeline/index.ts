export { buildModel, BUILD_DEFAULTS, type BuildOptions } from './build-model.js';
export { MANIFEST_FORMAT, type Manifest } from './manifest.js';
