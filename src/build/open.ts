import fs from 'node:fs';
import { buildPath, type BuildFile } from './files.js';
import { readProgram } from './program-file.js';
import { MANIFEST_FORMAT, type Manifest } from '../pipeline/manifest.js';
import type { Program } from '../quantize/program.js';
import { ZkinferError } from '../errors.js';

/** A build directory opened once: its manifest checked, its other files read on demand with errors that name them. */
export interface OpenedBuild {
  readonly dir: string;
  readonly manifest: Manifest;
  path(f: BuildFile): string;
  read(f: BuildFile): Buffer;
  program(): Program;
  vkeyText(): string;
}

/** The files a build must hold to prove with it. */
export const PROVING_FILES: readonly BuildFile[] = ['manifest', 'program', 'zkey', 'vkey'];

export function openBuild(dir: string, need: readonly BuildFile[] = PROVING_FILES): OpenedBuild {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ZkinferError('BUILD_INVALID', `build ${dir}: no such directory`);
  const path = (f: BuildFile): string => buildPath(dir, f);
  for (const f of need) {
    if (!fs.existsSync(path(f))) throw new ZkinferError('BUILD_INVALID', `${dir} is not a complete build: ${path(f)} is missing (run zkinfer compile)`);
  }
  const read = (f: BuildFile): Buffer => {
    try {
      return fs.readFileSync(path(f));
    } catch (e) {
      throw new ZkinferError('BUILD_INVALID', `${path(f)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (e as Error).message}`);
    }
  };
  let manifest: Manifest;
  try {
    manifest = JSON.parse(read('manifest').toString('utf8')) as Manifest;
  } catch (e) {
    if (e instanceof ZkinferError) throw e;
    throw new ZkinferError('BUILD_INVALID', `${path('manifest')} is not valid JSON: ${(e as Error).message}`);
  }
  if (manifest?.format !== MANIFEST_FORMAT) throw new ZkinferError('BUILD_INVALID', `${path('manifest')}: expected format "${MANIFEST_FORMAT}"`);
  let program: Program | undefined;
  return {
    dir,
    manifest,
    path,
    read,
    program: () => (program ??= readProgram(path('program'))),
    vkeyText: () => read('vkey').toString('utf8'),
  };
}

/** The reuse policy: a build is reused only when complete and made from the same ONNX, calibration and options. */
export function reusableBuild(dir: string, key: string): boolean {
  try {
    return openBuild(dir).manifest.buildKey === key;
  } catch {
    return false;
  }
}
