import fs from 'node:fs';
import { blake2bFile } from '../setup/ptau.js';
import { hermezPower } from '../setup/hermez.js';
import type { Manifest } from '../pipeline/manifest.js';
import { ZkinferError } from '../errors.js';
import { fail, pass, type AuditCheck } from './report.js';

export type PtauKind = 'public' | 'development' | 'unknown';

/** What a powers-of-tau file is, judged from its own bytes. */
export interface PtauIdentity {
  readonly file: string;
  readonly blake2b: string;
  readonly kind: PtauKind;
  /** The file's power (2^power), from its header. */
  readonly power: number;
  /** Phase-1 contributions the file records. */
  readonly contributions: number;
  readonly description: string;
}

const PTAU_HEADER = 1;
const PTAU_CONTRIBUTIONS = 7;

/**
 * Reads the power (header section) and the contribution count (section 7)
 * of a ptau file without loading it: the large ones are gigabytes.
 */
function ptauHeader(file: string): { power: number; contributions: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const read = (pos: number, n: number): Buffer => {
      const b = Buffer.alloc(n);
      if (fs.readSync(fd, b, 0, n, pos) !== n) throw new Error('truncated');
      return b;
    };
    const head = read(0, 12);
    if (head.subarray(0, 4).toString() !== 'ptau') throw new Error('not a ptau file');
    const n = head.readUInt32LE(8);
    let pos = 12;
    let power: number | null = null;
    let contributions: number | null = null;
    for (let i = 0; i < n; i++) {
      const s = read(pos, 12);
      const type = s.readUInt32LE(0);
      const size = Number(s.readBigUInt64LE(4));
      if (type === PTAU_HEADER) {
        const n8 = read(pos + 12, 4).readUInt32LE(0);
        power = read(pos + 12 + 4 + n8, 4).readUInt32LE(0);
      } else if (type === PTAU_CONTRIBUTIONS) {
        contributions = read(pos + 12, 4).readUInt32LE(0);
      }
      pos += 12 + size;
    }
    if (power === null || contributions === null) throw new Error('no header or contributions section');
    return { power, contributions };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Names a powers of tau: a known public (Hermez) ceremony by its blake2b-512;
 * a development ceremony when it records no contribution at all (made from
 * secrets drawn on one machine, see setup/dev-ptau.ts); otherwise unknown.
 */
export async function identifyPtau(file: string): Promise<PtauIdentity> {
  if (!fs.existsSync(file)) throw new ZkinferError('PTAU_REJECTED', `powers of tau ${file}: no such file`);
  let header: { power: number; contributions: number };
  try {
    header = ptauHeader(file);
  } catch (e) {
    throw new ZkinferError('PTAU_REJECTED', `powers of tau ${file}: ${(e as Error).message}`);
  }
  const blake2b = await blake2bFile(file);
  const hermez = hermezPower(blake2b);
  const base = { file, blake2b, power: header.power, contributions: header.contributions };
  if (hermez !== null) return { ...base, kind: 'public', description: `known public ceremony 2^${hermez} (Hermez)` };
  if (header.contributions === 0) return { ...base, kind: 'development', description: 'development ceremony (made locally; worthless against whoever made it)' };
  return { ...base, kind: 'unknown', description: `unknown: ${header.contributions} phase-1 contributions, not a known public ceremony file` };
}

/** The ptau check: the file is the one the manifest recorded, and what it is. */
export function ptauCheck(id: PtauIdentity, ceremony: Manifest['ceremony']): AuditCheck {
  if (id.blake2b !== ceremony.blake2b) {
    return fail('ptau', `${id.file} (${id.description}) has blake2b-512 ${id.blake2b.slice(0, 16)}…, the build recorded ${ceremony.blake2b.slice(0, 16)}… (${ceremony.file})`);
  }
  if (ceremony.kind === 'public' && id.kind !== 'public') return fail('ptau', `the manifest calls ${id.file} a public ceremony, but its blake2b-512 is no known Hermez file`);
  return pass('ptau', `${id.file}: ${id.description}; blake2b-512 matches the manifest`);
}
