export { emitCircuit, LIBRARY_FILES, CIRCOMLIB_FILES, type EmittedCircuit } from './emit.js';
export { lowerProgram, compileInput, LOWER_DEFAULTS, type LayerCost, type LoweredCircuit, type LowerOptions } from './circuit.js';
