export { ModelProver, type ProveOptions, type ProveResult } from './prover.js';
