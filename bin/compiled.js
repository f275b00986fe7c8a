// The CLI compiled to JavaScript once per state of src/, for commands whose
// whole process time matters (`groth16 prove`, run once per proof by circom
// users): tsx's loader costs ~0.3 s and ~80 MB on every start. The bundle is
// cached in build/cli/<fingerprint of src/>; any change to a source file
// makes a new one. Returns null (run through tsx) if it cannot be built.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');

/** Every source file's path, size and mtime: cheap to read on each start (a few ms), changed by any edit. */
function fingerprint() {
  const h = crypto.createHash('sha256');
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const st = fs.statSync(p);
        h.update(`${path.relative(SRC, p)}\0${st.size}\0${st.mtimeMs}\n`);
      }
    }
  };
  walk(SRC);
  return h.digest('hex').slice(0, 16);
}

export async function compiledEntry() {
  try {
    const dir = path.join(ROOT, 'build', 'cli', fingerprint());
    const entry = path.join(dir, 'main.js');
    if (!fs.existsSync(entry)) {
      const { build } = await import('esbuild');
      // Built aside and renamed into place: a concurrent start never sees half a bundle.
      const tmp = `${dir}.${process.pid}.tmp`;
      await build({
        entryPoints: [path.join(SRC, 'cli', 'main.ts')],
        outdir: tmp,
        bundle: true,
        splitting: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        packages: 'external',
        logLevel: 'silent',
      });
      try {
        fs.renameSync(tmp, dir);
      } catch {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
      // Bundles of earlier sources are never used again.
      for (const old of fs.readdirSync(path.dirname(dir))) {
        if (old !== path.basename(dir) && !old.endsWith('.tmp')) fs.rmSync(path.join(path.dirname(dir), old), { recursive: true, force: true });
      }
    }
    return pathToFileURL(entry).href;
  } catch {
    return null;
  }
}
