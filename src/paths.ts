import path from 'node:path';

export { BUILD_FILES, buildPath, type BuildFile } from './build/files.js';

/** The development powers of tau cache (ignored by git). */
export const devPtauPath = (keysDir: string, power: number): string =>
  path.join(keysDir, `dev-pot${String(power).padStart(2, '0')}.ptau`);

export const DEFAULT_KEYS_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'keys');
export const CIRCUITS_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'circuits');
