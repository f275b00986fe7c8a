import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildPath } from '../paths.js';
import { readR1csInfo } from '../compile/r1cs.js';
import { implausibleCalibration, PRECISION_LADDER } from '../quantize/index.js';
import { importOnnx } from '../onnx/index.js';
import type { Graph } from '../onnx/graph.js';
import { programFidelity } from '../pipeline/fidelity.js';
import { meetsTrust, type TrustLevel, type TrustVerdict } from '../pipeline/trust.js';
import { auditedTrust } from './trust.js';
import { keptSamples, samplesCheck, type SamplesSource } from './samples.js';
import { readPhase2Transcript, type TranscriptEntry } from '../ceremony/transcript.js';
import { VKEY_IO_FIELD } from '../receipt/receipt.js';
import { ZkinferError } from '../errors.js';
import { loadBuild, type AuditedBuild } from './build.js';
import { sha256, sha256File } from '../hash.js';
import { identifyPtau, ptauCheck, type PtauIdentity } from './ptau.js';
import { rederiveCircuit, type Rederived } from './rederive.js';
import { interfaceCheck } from './interface.js';
import { manifestKeysCheck, provingKeyCheck, verificationKeyCheck } from './keys.js';
import { phase2Check } from './phase2.js';
import { fail, failedChecks, pass, skip, type AuditCheck, type AuditFidelity, type AuditReport } from './report.js';

export interface AuditOptions {
  /** A powers-of-tau file; by default the one the manifest records, if it is on this machine. */
  readonly ptau?: string | null;
  readonly progress?: (msg: string) => void;
  /** Calibration samples to recompute calibration.json from; by default the ones the build kept. */
  readonly calibration?: SamplesSource | null;
  /** The auditor's own test data (NAME.data.json or an array of inputs), run through both models. */
  readonly data?: unknown;
  /** Top-1 agreement below this fails the fidelity check. @defaultValue 0.99 */
  readonly minAgreement?: number;
  /** Fail unless the build's trust level is at least this. */
  readonly require?: TrustLevel | null;
}

export const AUDIT_DEFAULTS = Object.freeze({ minAgreement: 0.99 });

const short = (h: string) => `${h.slice(0, 16)}…`;

function withWorkDir<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkinfer-audit-'));
  return f(dir).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}

function report(b: AuditedBuild, checks: AuditCheck[], ptau: PtauIdentity | null, contributions: readonly TranscriptEntry[], opts: AuditOptions, fidelity: AuditFidelity | null = null): AuditReport {
  const trust: TrustVerdict = auditedTrust(b, ptau, checks.find((c) => c.name === 'ptau'), contributions);
  const required = opts.require ? { level: opts.require, met: meetsTrust(trust.level, opts.require) } : null;
  return {
    // Anyone can forge for a key of level none: whatever else holds, it proves nothing.
    ok: failedChecks(checks).length === 0 && trust.level !== 'none' && (required?.met ?? true),
    trust,
    required,
    fidelity,
    build: path.resolve(b.dir),
    system: b.manifest.system,
    vkeySha256: sha256(b.vkeyText),
    checks,
    ptau,
    contributions,
  };
}

/**
 * The key checks, shared by the audit and `ceremony verify`: the powers of
 * tau, the proving key against `r1cs` and the ptau, the verification key
 * against the proving key, the phase-2 contributions and the manifest's key
 * hashes.
 */
async function keyChecks(b: AuditedBuild, r1cs: { file: string; source: string } | null, opts: AuditOptions, workDir: string) {
  const progress = opts.progress ?? (() => {});
  const { manifest } = b;
  const system = manifest.system;
  const zkey = buildPath(b.dir, 'zkey');
  const checks: AuditCheck[] = [];

  let ptau: PtauIdentity | null = null;
  if (opts.ptau) {
    // A file the user named: not being a ptau is their input's fault.
    ptau = await identifyPtau(opts.ptau);
  } else if (!fs.existsSync(manifest.ceremony.file)) {
    checks.push(fail('ptau', `the build's powers of tau ${manifest.ceremony.file} is not on this machine; pass --ptau FILE (blake2b-512 ${short(manifest.ceremony.blake2b)})`));
  } else {
    try {
      ptau = await identifyPtau(manifest.ceremony.file);
    } catch (e) {
      checks.push(fail('ptau', (e as Error).message));
    }
  }
  if (ptau) checks.push(ptauCheck(ptau, manifest.ceremony));

  if (!ptau) checks.push(skip('proving-key', 'needs the powers of tau'));
  else if (!r1cs) checks.push(skip('proving-key', 'needs an r1cs: none was re-derived and the build has none'));
  else {
    progress(`checking the proving key against the ${r1cs.source} r1cs and the powers of tau…`);
    checks.push(await provingKeyCheck(system, r1cs.file, r1cs.source, ptau, zkey, b.vkey[VKEY_IO_FIELD], workDir));
  }
  checks.push(await verificationKeyCheck(b.vkey, zkey));

  let contributions: readonly TranscriptEntry[] = [];
  try {
    const t = await readPhase2Transcript(zkey);
    contributions = t.contributions;
    checks.push(phase2Check(system, t, manifest.ceremony.phase2 ?? []));
  } catch (e) {
    checks.push(fail('phase2', (e as Error).message));
  }
  checks.push(manifestKeysCheck(manifest.keys, b.vkeyText, zkey));
  return { checks, ptau, contributions };
}

/** Whether the build's keys are sound on their own (no ONNX file needed): what `ceremony verify` runs. */
export async function auditKeys(dir: string, opts: AuditOptions = {}): Promise<AuditReport> {
  const b = loadBuild(dir);
  const r1cs = buildPath(dir, 'r1cs');
  return withWorkDir(async (work) => {
    const k = await keyChecks(b, fs.existsSync(r1cs) ? { file: r1cs, source: "build's" } : null, opts, work);
    return report(b, k.checks, k.ptau, k.contributions, opts);
  });
}

function onnxCheck(b: AuditedBuild, onnxSha256: string): AuditCheck {
  const inManifest = b.manifest.onnx?.sha256;
  const inKey = b.vkey[VKEY_IO_FIELD].onnxSha256;
  if (onnxSha256 === inManifest && onnxSha256 === inKey) return pass('onnx', `sha256 ${onnxSha256} is the one the manifest and the verification key name`);
  const where = [...(onnxSha256 !== inManifest ? [`the manifest names ${short(String(inManifest))}`] : []), ...(onnxSha256 !== inKey ? [`the verification key names ${short(String(inKey))}`] : [])];
  return fail('onnx', `the ONNX file's sha256 is ${short(onnxSha256)}; ${where.join(', ')}`);
}

/**
 * calibration.json parses, is the record the manifest names, and is one
 * honest calibration can produce (see quantize/recorded.ts; with samples,
 * the input range must be theirs); returns the record for re-derivation.
 */
function calibrationCheck(b: AuditedBuild, graph: Graph | null, samples: Float64Array[] | null): { check: AuditCheck; record: unknown } {
  if (!b.calibration) return { check: fail('calibration', 'the build has no calibration.json (it predates recorded calibration): recompile the model to audit it'), record: null };
  let record: unknown;
  try {
    record = JSON.parse(b.calibration.toString('utf8'));
  } catch (e) {
    return { check: fail('calibration', `calibration.json: ${(e as Error).message}`), record: null };
  }
  const { options, precision } = b.manifest;
  const problems = implausibleCalibration(record, { inputName: graph?.input.name ?? b.vkey[VKEY_IO_FIELD].input.name, activationBits: options.activationBits, ...(samples ? { samples } : {}) });
  if (problems.some((p) => p.startsWith('calibration record:'))) return { check: fail('calibration', `calibration.json: ${problems.join('; ')}`), record: null };
  if (precision?.mode === 'auto' && !PRECISION_LADDER.some(([a, w]) => a === options.activationBits && w === options.weightBits)) {
    problems.push(`the manifest says the precision was searched, yet ${options.activationBits}/${options.weightBits} bits is no step of the ladder ${PRECISION_LADDER.map(([a, w]) => `${a}/${w}`).join(', ')}`);
  }
  const s = sha256(b.calibration);
  if (s !== b.manifest.calibrationSha256) {
    problems.unshift(`calibration.json has sha256 ${short(s)}, the manifest recorded ${short(String(b.manifest.calibrationSha256))}: it was changed after the build`);
  }
  if (problems.length) return { check: fail('calibration', `not a calibration honest calibration produces: ${problems.join('; ')}`), record };
  return { check: pass('calibration', 'calibration.json is the record the manifest names, and one calibration can produce'), record };
}

/** The auditor's data through onnxruntime and the audited program: top-1 agreement at least minAgreement. */
async function fidelityCheck(onnx: Uint8Array, derived: Rederived, data: unknown, minAgreement: number): Promise<{ check: AuditCheck; fidelity: AuditFidelity | null }> {
  let r;
  try {
    r = await programFidelity(onnx, derived.program, data);
  } catch (e) {
    if (e instanceof ZkinferError && e.userFault) throw e;
    return { check: fail('fidelity', (e as Error).message), fidelity: null };
  }
  const { top1Agreement, ...rest } = r;
  const fidelity: AuditFidelity = { ...rest, ...(top1Agreement !== undefined ? { agreement: top1Agreement } : {}), minAgreement };
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const acc = r.floatAccuracy !== undefined ? `; accuracy float ${pct(r.floatAccuracy)}, circuit ${pct(r.integerAccuracy!)}` : '';
  const left = r.outOfRange ? ` (${r.outOfRange} outside the input range, left out)` : '';
  if (r.cases === 0) return { check: fail('fidelity', `none of the ${r.outOfRange} test inputs is inside the circuit's input range`), fidelity };
  if (top1Agreement === undefined) {
    return { check: pass('fidelity', `${r.cases} cases${left}: regression, largest |error| ${r.maxAbsError.toPrecision(4)}${r.integerMse !== undefined ? `, MSE float ${r.floatMse!.toPrecision(4)}, circuit ${r.integerMse.toPrecision(4)}` : ''}`), fidelity };
  }
  const what = `${r.cases} cases${left}: top-1 agreement with the float model ${pct(top1Agreement)}, largest |error| ${r.maxAbsError.toPrecision(4)}${acc}`;
  return top1Agreement >= minAgreement
    ? { check: pass('fidelity', what), fidelity }
    : { check: fail('fidelity', `${what}: below the required ${pct(minAgreement)}`), fidelity };
}

async function circuitCheck(derived: Rederived, buildR1cs: string): Promise<AuditCheck> {
  if (!fs.existsSync(buildR1cs)) return fail('circuit', 'the build has no circuit/model.r1cs to compare with');
  const mine = sha256File(derived.r1cs);
  const theirs = sha256File(buildR1cs);
  if (mine === theirs) return pass('circuit', `the r1cs compiled from the ONNX file and the recorded calibration is byte-identical to the build's (sha256 ${short(mine)})`);
  const counts = async (f: string) => {
    try {
      const i = await readR1csInfo(f);
      return `${i.nConstraints} constraints, ${i.nVars} wires`;
    } catch (e) {
      return `unreadable: ${(e as Error).message}`;
    }
  };
  return fail('circuit', `the re-derived r1cs (sha256 ${short(mine)}, ${await counts(derived.r1cs)}) differs from the build's (sha256 ${short(theirs)}, ${await counts(buildR1cs)})`);
}

/**
 * Does this verification key belong to this ONNX model? Re-derives the
 * circuit from the ONNX file and the build's recorded calibration, compares
 * it with the build's, then checks the keys against it and the powers of
 * tau. Every check is reported; none stops the others unless it supplies
 * what they need.
 */
export async function auditBuild(dir: string, onnx: Uint8Array, opts: AuditOptions = {}): Promise<AuditReport> {
  const progress = opts.progress ?? (() => {});
  const b = loadBuild(dir);
  if (opts.ptau && !fs.existsSync(opts.ptau)) throw new ZkinferError('PTAU_REJECTED', `--ptau ${opts.ptau}: no such file`);
  const checks: AuditCheck[] = [];
  const onnx1 = onnxCheck(b, sha256(onnx));
  const graph = onnx1.status === 'pass' ? importOnnx(onnx) : null;

  // The samples first: with them, the calibration's plausibility includes the input range.
  const kept = keptSamples(b);
  const source = opts.calibration ?? kept.source;
  let samplesResult: AuditCheck;
  let samples: Float64Array[] | null = null;
  let recorded: unknown = null;
  try {
    recorded = b.calibration ? JSON.parse(b.calibration.toString('utf8')) : null;
  } catch {
    recorded = null;
  }
  if (!graph) samplesResult = skip('samples', 'not recomputed: the ONNX file is not the one this build names');
  else if (recorded === null) samplesResult = skip('samples', 'not recomputed: no usable calibration record');
  else if (source) {
    progress(`recomputing calibration from ${source.source} (onnxruntime)…`);
    const r = await samplesCheck(b, onnx, graph, recorded, source);
    samplesResult = r.check;
    samples = r.samples;
  } else if (kept.problem) samplesResult = fail('samples', kept.problem);
  else if (opts.data !== undefined) {
    samplesResult = pass('samples', 'not recomputed: the build keeps no calibration samples (private calibration); the quantization is judged by the fidelity check on the auditor\'s data instead');
  } else {
    samplesResult = fail('samples', 'the build keeps no calibration samples (private calibration): nothing shows calibration.json is what calibration gives; pass --calibration FILE with the samples, or --data FILE to judge the quantization by your own data');
  }
  const cal = calibrationCheck(b, graph, samples);
  checks.push(onnx1, cal.check, samplesResult);

  return withWorkDir(async (work) => {
    let fidelity: AuditFidelity | null = null;
    let derived: Rederived | null = null;
    if (onnx1.status !== 'pass') {
      const why = 'not re-derived: the ONNX file is not the one this build names';
      checks.push(skip('circuit', why), skip('interface', why));
    } else if (cal.record === null) {
      const why = 'not re-derived: no usable calibration record';
      checks.push(skip('circuit', why), skip('interface', why));
    } else {
      progress('re-deriving the circuit (quantize, emit, circom)…');
      try {
        derived = await rederiveCircuit(onnx, cal.record, b.manifest.options, work);
      } catch (e) {
        checks.push(fail('circuit', `re-derivation failed: ${(e as Error).message}`), skip('interface', 'not re-derived'));
      }
      if (derived) checks.push(await circuitCheck(derived, buildPath(dir, 'r1cs')), interfaceCheck(b.vkey[VKEY_IO_FIELD], derived.program.io));
    }
    if (opts.data !== undefined) {
      if (!derived) checks.push(skip('fidelity', 'no re-derived program to run'));
      else {
        progress('running the test data through onnxruntime and the audited integer program…');
        const f = await fidelityCheck(onnx, derived, opts.data, opts.minAgreement ?? AUDIT_DEFAULTS.minAgreement);
        checks.push(f.check);
        fidelity = f.fidelity;
      }
    }
    // The keys are checked against the circuit the ONNX file gives, when there is one: that is the claim under audit.
    const buildR1cs = buildPath(dir, 'r1cs');
    const r1cs = derived ? { file: derived.r1cs, source: 're-derived' } : fs.existsSync(buildR1cs) ? { file: buildR1cs, source: "build's" } : null;
    const k = await keyChecks(b, r1cs, opts, work);
    return report(b, [...checks, ...k.checks], k.ptau, k.contributions, opts, fidelity);
  });
}
