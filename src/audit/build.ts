import fs from 'node:fs';
import path from 'node:path';
import { buildPath, type BuildFile } from '../paths.js';
import { MANIFEST_FORMAT, type Manifest } from '../pipeline/manifest.js';
import { parseVerificationKey, type VerificationKey } from '../receipt/receipt.js';
import { ZkinferError } from '../errors.js';

/** The files of a build directory an audit reads, loaded once. */
export interface AuditedBuild {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly vkeyText: string;
  readonly vkey: VerificationKey;
  /** calibration.json's bytes, or null when the build has none. */
  readonly calibration: Buffer | null;
}

export function buildFile(dir: string, f: BuildFile): string {
  const p = buildPath(dir, f);
  if (!fs.existsSync(p)) throw new ZkinferError('BUILD_INVALID', `${dir} is not a complete build: ${path.basename(p)} is missing`);
  return p;
}

export function loadBuild(dir: string): AuditedBuild {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ZkinferError('BUILD_INVALID', `build ${dir}: no such directory`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(buildFile(dir, 'manifest'), 'utf8')) as Manifest;
  } catch (e) {
    if (e instanceof ZkinferError) throw e;
    throw new ZkinferError('BUILD_INVALID', `${buildPath(dir, 'manifest')} is not valid JSON: ${(e as Error).message}`);
  }
  if (manifest?.format !== MANIFEST_FORMAT) throw new ZkinferError('BUILD_INVALID', `${buildPath(dir, 'manifest')}: expected format "${MANIFEST_FORMAT}"`);
  buildFile(dir, 'zkey');
  const vkeyText = fs.readFileSync(buildFile(dir, 'vkey'), 'utf8');
  let vkey: VerificationKey;
  try {
    vkey = parseVerificationKey(vkeyText);
  } catch (e) {
    throw new ZkinferError('BUILD_INVALID', `${buildPath(dir, 'vkey')}: ${(e as Error).message}`);
  }
  const cal = buildPath(dir, 'calibration');
  return { dir, manifest, vkeyText, vkey, calibration: fs.existsSync(cal) ? fs.readFileSync(cal) : null };
}
