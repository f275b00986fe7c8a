export { emitCircuit, LIBRARY_FILES, CIRCOMLIB_FILES, type EmittedCircuit, type LayerCost } from './emit.js';
