import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildModel, type BuildOptions } from '../../src/pipeline/index.js';
import { ARTIFACTS } from './circuit.js';

export const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'fixtures');

export const fixture = (f: string): string => path.join(FIXTURES, f);
export const loadJson = (f: string): any => JSON.parse(fs.readFileSync(f, 'utf8'));

const ROOT = path.resolve(FIXTURES, '..', '..');

/** Hash of the compiler's sources, so cached builds follow code changes. */
function codeHash(): string {
  const h = crypto.createHash('sha256');
  for (const d of ['src', 'circuits']) {
    for (const f of fs.readdirSync(path.join(ROOT, d), { recursive: true }) as string[]) {
      // The browser page does not change what a build contains.
      if (d === 'src' && f.startsWith('web')) continue;
      const p = path.join(ROOT, d, f);
      if (fs.statSync(p).isFile()) h.update(f).update(fs.readFileSync(p));
    }
  }
  return h.digest('hex');
}
const CODE = codeHash();

/**
 * Builds a model once per test run (and reuses it across test files): the
 * build directory is keyed by the ONNX bytes, calibration data and options.
 */
export async function ensureBuild(name: string, onnx: Uint8Array, calibration: unknown, opts: Partial<BuildOptions> = {}): Promise<string> {
  const dir = path.join(ARTIFACTS, 'builds', name);
  const key = crypto.createHash('sha256').update(onnx).update(JSON.stringify(calibration)).update(JSON.stringify(opts)).update(CODE).digest('hex');
  const keyFile = path.join(dir, '.key');
  if (fs.existsSync(keyFile) && fs.readFileSync(keyFile, 'utf8') === key && fs.existsSync(path.join(dir, 'manifest.json'))) return dir;
  // Built aside and moved into place, so a concurrent run never sees a half-made build.
  const tmp = `${dir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  await buildModel(onnx, calibration, tmp, opts);
  fs.writeFileSync(path.join(tmp, '.key'), key);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return dir;
}
