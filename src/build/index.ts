export { BUILD_FILES, buildPath, type BuildFile } from './files.js';
export { readProgram, writeProgram, PROGRAM_FORMAT } from './program-file.js';
export { openBuild, reusableBuild, PROVING_FILES, type OpenedBuild } from './open.js';
export { buildKey } from './key.js';
