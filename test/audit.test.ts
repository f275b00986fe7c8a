import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { ARTIFACTS } from './helpers/circuit.js';
import { runCli } from './helpers/cli.js';
import { auditBuild, CHECK_NAMES, OPTIONAL_CHECKS, type AuditReport, type CheckName } from '../src/audit/index.js';
import { compileCircuit } from '../src/pipeline/circuit.js';
import { sections } from '../src/binfile.js';
import { buildPath, DEFAULT_KEYS_DIR } from '../src/paths.js';
import { releaseCurve } from '../src/curve.js';
import { sha256 } from '../src/hash.js';
import { rederiveCircuit } from '../src/audit/rederive.js';
import { keySize, setupKeys } from '../src/setup/systems.js';
import { devPtau } from '../src/setup/ptau.js';
import { readR1csInfo } from '../src/compile/r1cs.js';
import { ModelProver } from '../src/prove/index.js';
import type { Program } from '../src/quantize/index.js';
import type { Manifest } from '../src/pipeline/index.js';
import { readProgram, writeProgram } from '../src/build/program-file.js';

const work = path.join(ARTIFACTS, 'audit');
const data = loadJson(fixture('digits_mlp.data.json'));
const onnxFile = fixture('digits_mlp.onnx');
const onnx = fs.readFileSync(onnxFile);
let dir: string;
let hashedDir: string;

/** A private copy of a cached build: the cached one is shared with other test files. */
function copyBuild(from: string, name: string): string {
  const to = path.join(work, name);
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true });
  return to;
}

const statusOf = (r: AuditReport) => Object.fromEntries(r.checks.map((c) => [c.name, c.status])) as Record<CheckName, string>;
const notPassing = (r: AuditReport) => r.checks.filter((c) => c.status !== 'pass').map((c) => c.name).sort();
const detail = (r: AuditReport, name: CheckName) => r.checks.find((c) => c.name === name)!.detail;

beforeAll(async () => {
  fs.mkdirSync(work, { recursive: true });
  dir = copyBuild(await ensureBuild('digits_mlp', onnx, data), 'mlp');
  hashedDir = copyBuild(await ensureBuild('digits_mlp_hashed', onnx, data, { visibility: 'hashed' }), 'mlp-hashed');
});

afterAll(releaseCurve);

describe('circuit compilation is deterministic', () => {
  it('the same program compiles to a byte-identical r1cs and sym map, equal to the build\'s', async () => {
    const program: Program = readProgram(buildPath(dir, 'program'));
    const outs = [path.join(work, 'det-a'), path.join(work, 'det-b')];
    for (const o of outs) {
      fs.rmSync(o, { recursive: true, force: true });
      compileCircuit(program, o);
    }
    const [a, b] = outs.map((o) => fs.readFileSync(buildPath(o, 'r1cs')));
    expect(a.length).toBeGreaterThan(0);
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(a, fs.readFileSync(buildPath(dir, 'r1cs')))).toBe(0);
    expect(Buffer.compare(fs.readFileSync(buildPath(outs[0], 'sym')), fs.readFileSync(buildPath(outs[1], 'sym')))).toBe(0);
  });
});

describe('audit', () => {
  it('passes every check on an untouched build (CLI, --json, exit 0)', async () => {
    const res = await runCli(['audit', dir, '--model', onnxFile, '--json']);
    expect(res.code, res.stderr).toBe(0);
    const r: AuditReport = JSON.parse(res.stdout);
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => c.name)).toEqual(CHECK_NAMES.filter((n) => !OPTIONAL_CHECKS.includes(n)));
    expect(notPassing(r)).toEqual([]);
    expect(detail(r, 'circuit')).toMatch(/byte-identical/);
    // By default calibration is recomputed from the samples the build kept.
    expect(detail(r, 'samples')).toMatch(/recomputed from the build's calibration-samples.json \(32 samples, onnxruntime\) equals calibration.json/);
    expect(r.trust.level).toBe('development');
    expect(r.fidelity).toBeNull();
    expect(r.ptau?.kind).toBe('development');
    expect(detail(r, 'ptau')).toMatch(/development ceremony \(made locally; worthless against whoever made it\)/);
    const m: Manifest = loadJson(buildPath(dir, 'manifest'));
    expect(r.contributions.map(({ name, hash, kind }) => ({ name, hash, kind }))).toEqual(m.ceremony.phase2);
    expect(r.vkeySha256).toBe(m.keys.vkeySha256);
  });

  it('fails on another model\'s ONNX file (CLI: exit 1, the failing check named)', async () => {
    const res = await runCli(['audit', dir, '--model', fixture('digits_cnn.onnx')]);
    expect(res.code, res.stderr).toBe(1);
    expect(res.stdout).toMatch(/FAIL\s+onnx\s+the ONNX file's sha256 is/);
    expect(res.stdout).toMatch(/SKIP\s+circuit/);
    expect(res.stdout).toMatch(/PASS\s+proving-key/);
    expect(res.stdout).toMatch(/AUDIT FAILED: failed onnx; not checked samples, circuit, interface/);
  });

  it('fails when verification_key.json is another build\'s', async () => {
    const d = copyBuild(dir, 'vkey-swapped');
    fs.copyFileSync(buildPath(hashedDir, 'vkey'), buildPath(d, 'vkey'));
    const r = await auditBuild(d, onnx);
    expect(r.ok).toBe(false);
    expect(notPassing(r)).toEqual(['interface', 'manifest-keys', 'verification-key']);
    expect(detail(r, 'interface')).toMatch(/visibility \("hashed" vs "public"\)/);
    expect(detail(r, 'verification-key')).toMatch(/is not the proving key's verification key: differs at/);
    expect(statusOf(r).circuit).toBe('pass');
    expect(statusOf(r)['proving-key']).toBe('pass');
  });

  it('fails when the r1cs is modified', async () => {
    const d = copyBuild(dir, 'r1cs-modified');
    const r1cs = fs.readFileSync(buildPath(d, 'r1cs'));
    const constraints = sections(r1cs, 'r1cs').get(2)!;
    const at = constraints.byteOffset - r1cs.byteOffset + Math.floor(constraints.length / 2);
    r1cs[at] ^= 0x01;
    fs.writeFileSync(buildPath(d, 'r1cs'), r1cs);
    const r = await auditBuild(d, onnx);
    expect(notPassing(r)).toEqual(['circuit']);
    expect(detail(r, 'circuit')).toMatch(/the re-derived r1cs \(sha256 .*\) differs from the build's/);
    // The keys are checked against the circuit the ONNX file gives, which they still match.
    expect(detail(r, 'proving-key')).toMatch(/re-derived r1cs/);
  });

  it('fails when the zkey is another circuit\'s', async () => {
    const d = copyBuild(dir, 'zkey-swapped');
    fs.copyFileSync(buildPath(hashedDir, 'zkey'), buildPath(d, 'zkey'));
    const r = await auditBuild(d, onnx);
    expect(notPassing(r)).toEqual(['manifest-keys', 'phase2', 'proving-key', 'verification-key']);
    expect(detail(r, 'proving-key')).toMatch(/does not follow from the re-derived r1cs and the powers of tau/);
    expect(detail(r, 'phase2')).toMatch(/#1 hash .* in the key, .* in the manifest/);
    expect(statusOf(r).circuit).toBe('pass');
  });

  it('fails when calibration.json is altered so that a scale changes, even with the manifest rewritten to match', async () => {
    const d = copyBuild(dir, 'calibration-altered');
    const cal = loadJson(buildPath(d, 'calibration'));
    const program: Program = readProgram(buildPath(d, 'program'));
    // Hidden tensors' recorded ranges 4x wider: their activation scales drop by 2 bits.
    for (const k of Object.keys(cal.ranges)) {
      if (k !== program.io.input.name && k !== program.io.output.name) cal.ranges[k] = cal.ranges[k].map((v: number) => v * 4);
    }
    const text = `${JSON.stringify(cal, null, 1)}\n`;
    fs.writeFileSync(buildPath(d, 'calibration'), text);
    let r = await auditBuild(d, onnx);
    // The output's scale follows the last hidden layer's, so the interface changes too.
    expect(notPassing(r)).toEqual(['calibration', 'circuit', 'interface', 'proving-key', 'samples']);
    expect(detail(r, 'calibration')).toMatch(/changed after the build/);
    expect(detail(r, 'samples')).toMatch(/differs from calibration.json \(recomputed vs recorded\): ranges\./);
    expect(detail(r, 'circuit')).toMatch(/differs from the build's/);
    expect(detail(r, 'interface')).toMatch(/output\.scale \(\d+ vs \d+\)/);
    // Rewriting the manifest's record of it does not help: the circuit gives it away.
    const m = loadJson(buildPath(d, 'manifest'));
    m.calibrationSha256 = crypto.createHash('sha256').update(text).digest('hex');
    fs.writeFileSync(buildPath(d, 'manifest'), JSON.stringify(m, null, 2));
    r = await auditBuild(d, onnx);
    expect(notPassing(r)).toEqual(['circuit', 'interface', 'proving-key', 'samples']);
  });
});

const write = (f: string, x: unknown) => {
  fs.writeFileSync(f, JSON.stringify(x));
  return f;
};

/**
 * A build made consistent with an edited calibration.json, as its maker
 * would: the circuit recompiled from the edited record, fresh keys, and the
 * manifest rewritten to name them. Every structural check of the audit
 * holds for it; only the quantization checks can tell.
 */
async function rebuiltWith(from: string, name: string, edit: (cal: any, program: Program) => void): Promise<string> {
  const d = copyBuild(from, name);
  const cal = loadJson(buildPath(d, 'calibration'));
  edit(cal, readProgram(buildPath(d, 'program')));
  const text = `${JSON.stringify(cal, null, 1)}\n`;
  fs.writeFileSync(buildPath(d, 'calibration'), text);
  const m: Manifest = loadJson(buildPath(d, 'manifest'));
  const { program } = await rederiveCircuit(fs.readFileSync(buildPath(d, 'onnx')), cal, m.options, d);
  writeProgram(buildPath(d, 'program'), program);
  // The circuit may have grown past the build's ceremony: a development one of the size it needs.
  const info = await readR1csInfo(buildPath(d, 'r1cs'));
  const size = await keySize('groth16', buildPath(d, 'r1cs'), { nConstraints: info.nConstraints, nPublic: info.nPubInputs + info.nOutputs });
  const ceremony = await devPtau(DEFAULT_KEYS_DIR, size.ptauPower);
  const { contributions } = await setupKeys('groth16', buildPath(d, 'r1cs'), ceremony.file, buildPath(d, 'zkey'), buildPath(d, 'vkey'), program.io);
  const manifest = {
    ...m, io: program.io, calibrationSha256: sha256(text), ceremony: { ...ceremony, phase2: contributions },
    keys: { vkeySha256: sha256(fs.readFileSync(buildPath(d, 'vkey'))), zkeySha256: sha256(fs.readFileSync(buildPath(d, 'zkey'))) },
  };
  fs.writeFileSync(buildPath(d, 'manifest'), JSON.stringify(manifest, null, 2));
  return d;
}

describe('the quantization is audited too (digits_mlp)', () => {
  const testFile = fixture('digits_mlp.data.json');
  /** Other samples: the first 32 test inputs instead of the calibration set. */
  const otherSamples = () => write(path.join(work, 'mlp-other-samples.json'), data.test.slice(0, 32).map((t: { input: unknown }) => t.input));

  it('--calibration with its own samples and --data with its own test set pass, with the fidelity figures (JSON)', async () => {
    const res = await runCli(['audit', dir, '--model', onnxFile, '--calibration', testFile, '--data', testFile, '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const r: AuditReport = JSON.parse(res.stdout);
    expect(r.ok).toBe(true);
    expect(notPassing(r)).toEqual([]);
    expect(detail(r, 'samples')).toMatch(new RegExp(`recomputed from ${testFile.replace(/[.]/g, '\\.')} \\(32 samples`));
    expect(r.fidelity).toMatchObject({ task: 'classification', cases: 100, outOfRange: 0, labelled: true, minAgreement: 0.99 });
    expect(r.fidelity!.agreement).toBeGreaterThanOrEqual(0.99);
    expect(r.fidelity!.maxAbsError).toBeLessThan(0.5);
    expect(Math.abs(r.fidelity!.floatAccuracy! - r.fidelity!.integerAccuracy!)).toBeLessThanOrEqual(0.01);
  });

  it('--calibration with other samples fails the samples check (text, exit 1); a plain array of inputs is test data too', async () => {
    const plain = write(path.join(work, 'mlp-plain-inputs.json'), data.test.slice(0, 40).map((t: { input: unknown }) => t.input));
    const res = await runCli(['audit', dir, '--model', onnxFile, '--calibration', otherSamples(), '--data', plain]);
    expect(res.code, res.stderr).toBe(1);
    expect(res.stdout).toMatch(/FAIL\s+samples\s+calibration recomputed from .*mlp-other-samples\.json \(32 samples\) differs from calibration\.json \(recomputed vs recorded\): ranges\./);
    expect(res.stdout).toMatch(/PASS\s+circuit/);
    expect(res.stdout).toMatch(/PASS\s+fidelity\s+40 cases: top-1 agreement with the float model \d+\.\d%, largest \|error\| /);
    expect(res.stdout).not.toMatch(/accuracy float/);
    expect(res.stdout).toMatch(/AUDIT FAILED: failed samples\n/);
  });

  it('exactInputScale set to 0 (inputs binarized) in a build rebuilt to match: the audit fails', async () => {
    const d = await rebuiltWith(dir, 'exact-scale-0', (cal) => (cal.exactInputScale = 0));
    const r = await auditBuild(d, onnx, { data });
    // The circuit and the keys are consistent with the edited record; the record is not calibration's.
    for (const c of ['onnx', 'circuit', 'interface', 'proving-key', 'verification-key', 'phase2', 'manifest-keys'] as const) expect(statusOf(r)[c], detail(r, c)).toBe('pass');
    expect(r.ok).toBe(false);
    expect(detail(r, 'calibration')).toMatch(/exactInputScale 0 is outside 1\.\.\d+ \(the activation bits\): calibration never records it/);
    expect(detail(r, 'samples')).toMatch(/exactInputScale \(\d+ vs 0\)/);
    // Proving refuses the record too.
    await expect(ModelProver.load(d)).rejects.toThrow(/not a calibration honest calibration can produce: exactInputScale 0/);
  });

  it('one hidden range set to [0, 2^12] in a build rebuilt to match: samples and fidelity fail', async () => {
    let hidden = '';
    const d = await rebuiltWith(dir, 'hidden-range', (cal, program) => {
      hidden = Object.keys(cal.ranges).find((k) => k !== program.io.input.name && k !== program.io.output.name && cal.ranges[k][0] >= 0)!;
      cal.ranges[hidden] = [0, 2 ** 12];
    });
    const r = await auditBuild(d, onnx, { data });
    for (const c of ['onnx', 'calibration', 'circuit', 'interface', 'proving-key', 'verification-key', 'phase2', 'manifest-keys'] as const) expect(statusOf(r)[c], detail(r, c)).toBe('pass');
    expect(r.ok).toBe(false);
    expect(notPassing(r)).toEqual(['fidelity', 'samples']);
    expect(detail(r, 'samples')).toContain(`ranges.${hidden}[1] (`);
    expect(detail(r, 'fidelity')).toMatch(/top-1 agreement with the float model \d+\.\d%.*: below the required 99\.0%/);
    expect(r.fidelity!.agreement).toBeLessThan(0.9);
  });
});

describe('the quantization is audited too (digits_cnn)', () => {
  const cnnOnnxFile = fixture('digits_cnn.onnx');
  const cnnDataFile = fixture('digits_cnn.data.json');
  const cnnData = loadJson(cnnDataFile);
  let cnn: string;
  beforeAll(async () => {
    cnn = await ensureBuild('digits_cnn', fs.readFileSync(cnnOnnxFile), cnnData);
  });

  it('--calibration with its own samples and --data with its own test set pass', async () => {
    const res = await runCli(['audit', cnn, '--model', cnnOnnxFile, '--calibration', cnnDataFile, '--data', cnnDataFile, '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const r: AuditReport = JSON.parse(res.stdout);
    expect(notPassing(r)).toEqual([]);
    expect(r.fidelity).toMatchObject({ cases: 100, labelled: true });
    expect(r.fidelity!.agreement).toBeGreaterThanOrEqual(0.99);
  });

  it('--calibration with other samples fails the samples check', async () => {
    const other = write(path.join(work, 'cnn-other-samples.json'), cnnData.test.slice(0, 32).map((t: { input: unknown }) => t.input));
    const r = await auditBuild(cnn, fs.readFileSync(cnnOnnxFile), { calibration: { data: loadJson(other), source: other } });
    expect(notPassing(r)).toEqual(['samples']);
    expect(detail(r, 'samples')).toMatch(/differs from calibration\.json \(recomputed vs recorded\): ranges\./);
  });
});
