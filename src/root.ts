import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's root: the nearest directory above `from` holding zkinfer's
 * package.json. Found by walking up rather than by a fixed number of `..`,
 * so a module bundled elsewhere (bin/compiled.js) still finds the sources,
 * the native build cache and the keys.
 */
export function packageRoot(from: string): string {
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    try {
      if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'zkinfer') return dir;
    } catch {
      // not here: go up
    }
    if (path.dirname(dir) === dir) throw new Error(`no zkinfer package.json above ${from}`);
  }
}

export const PACKAGE_ROOT = packageRoot(fileURLToPath(import.meta.url));
