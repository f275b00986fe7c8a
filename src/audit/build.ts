import fs from 'node:fs';
import path from 'node:path';
import { buildPath, type BuildFile } from '../paths.js';
import type { Manifest } from '../pipeline/manifest.js';
import { openBuild } from '../build/open.js';
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
  const b = openBuild(dir, ['manifest', 'zkey', 'vkey']);
  const vkeyText = b.vkeyText();
  let vkey: VerificationKey;
  try {
    vkey = parseVerificationKey(vkeyText);
  } catch (e) {
    throw new ZkinferError('BUILD_INVALID', `${b.path('vkey')}: ${(e as Error).message}`);
  }
  const cal = b.path('calibration');
  return { dir, manifest: b.manifest, vkeyText, vkey, calibration: fs.existsSync(cal) ? fs.readFileSync(cal) : null };
}
