import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { ARTIFACTS } from './helpers/circuit.js';
import { runCli } from './helpers/cli.js';
import { auditBuild, CHECK_NAMES, type AuditReport, type CheckName } from '../src/audit/index.js';
import { compileCircuit, writeCircuit } from '../src/pipeline/circuit.js';
import { sections } from '../src/binfile.js';
import { buildPath } from '../src/paths.js';
import { releaseCurve } from '../src/curve.js';
import type { Program } from '../src/quantize/index.js';
import type { Manifest } from '../src/pipeline/index.js';

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
  it('the same program compiles to byte-identical r1cs and witness wasm, equal to the build\'s', async () => {
    const program: Program = loadJson(buildPath(dir, 'program'));
    const outs = [path.join(work, 'det-a'), path.join(work, 'det-b')];
    for (const o of outs) {
      fs.rmSync(o, { recursive: true, force: true });
      writeCircuit(program, o);
      await compileCircuit(o);
    }
    const [a, b] = outs.map((o) => fs.readFileSync(buildPath(o, 'r1cs')));
    expect(a.length).toBeGreaterThan(0);
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(a, fs.readFileSync(buildPath(dir, 'r1cs')))).toBe(0);
    expect(Buffer.compare(fs.readFileSync(buildPath(outs[0], 'wasm')), fs.readFileSync(buildPath(outs[1], 'wasm')))).toBe(0);
  });
});

describe('audit', () => {
  it('passes every check on an untouched build (CLI, --json, exit 0)', async () => {
    const res = await runCli(['audit', dir, '--model', onnxFile, '--json']);
    expect(res.code, res.stderr).toBe(0);
    const r: AuditReport = JSON.parse(res.stdout);
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => c.name)).toEqual([...CHECK_NAMES]);
    expect(notPassing(r)).toEqual([]);
    expect(detail(r, 'circuit')).toMatch(/byte-identical/);
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
    expect(res.stdout).toMatch(/AUDIT FAILED: failed onnx; not checked circuit, interface/);
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
    const program: Program = loadJson(buildPath(d, 'program'));
    // Hidden tensors' recorded ranges 4x wider: their activation scales drop by 2 bits.
    for (const k of Object.keys(cal.ranges)) {
      if (k !== program.io.input.name && k !== program.io.output.name) cal.ranges[k] = cal.ranges[k].map((v: number) => v * 4);
    }
    const text = `${JSON.stringify(cal, null, 1)}\n`;
    fs.writeFileSync(buildPath(d, 'calibration'), text);
    let r = await auditBuild(d, onnx);
    // The output's scale follows the last hidden layer's, so the interface changes too.
    expect(notPassing(r)).toEqual(['calibration', 'circuit', 'interface', 'proving-key']);
    expect(detail(r, 'calibration')).toMatch(/changed after the build/);
    expect(detail(r, 'circuit')).toMatch(/differs from the build's/);
    expect(detail(r, 'interface')).toMatch(/output\.scale \(\d+ vs \d+\)/);
    // Rewriting the manifest's record of it does not help: the circuit gives it away.
    const m = loadJson(buildPath(d, 'manifest'));
    m.calibrationSha256 = crypto.createHash('sha256').update(text).digest('hex');
    fs.writeFileSync(buildPath(d, 'manifest'), JSON.stringify(m, null, 2));
    r = await auditBuild(d, onnx);
    expect(notPassing(r)).toEqual(['circuit', 'interface', 'proving-key']);
  });
});
