import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as snarkjs from 'snarkjs';
import { ChaCha } from 'ffjavascript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuild, loadJson } from './helpers/builds.js';
import { ARTIFACTS } from './helpers/circuit.js';
import { runCli } from './helpers/cli.js';
import { tinyMlp, tinySamples } from './helpers/onnx-builder.js';
import { auditBuild, type AuditReport } from '../src/audit/index.js';
import { printReport } from '../src/cli/audit.js';
import { judgeTrust, meetsTrust, parseTrustLevel, recordedTrust, TRUST_LEVELS, type Manifest, type TrustVerdict } from '../src/pipeline/index.js';
import { readPhase2Transcript } from '../src/ceremony/transcript.js';
import { writeVerificationKey } from '../src/setup/vkey.js';
import { ModelProver } from '../src/prove/index.js';
import { toField } from '../src/receipt/field.js';
import { buildPath } from '../src/paths.js';
import { sha256 } from '../src/hash.js';
import { releaseCurve } from '../src/curve.js';
import type { Program } from '../src/quantize/index.js';
import { readProgram } from '../src/build/program-file.js';

const work = path.join(ARTIFACTS, 'trust');
const onnx = tinyMlp();
const onnxFile = path.join(work, 'tiny.onnx');
let tiny: string;

function copyBuild(from: string, name: string): string {
  const to = path.join(work, name);
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true });
  return to;
}
const write = (f: string, x: unknown) => {
  fs.writeFileSync(f, typeof x === 'string' ? x : JSON.stringify(x));
  return f;
};
const notPassing = (r: AuditReport) => r.checks.filter((c) => c.status !== 'pass').map((c) => c.name).sort();

beforeAll(async () => {
  fs.mkdirSync(work, { recursive: true });
  fs.writeFileSync(onnxFile, onnx);
  tiny = await ensureBuild('tiny_mlp', onnx, tinySamples(16));
});

afterAll(releaseCurve);

const pub = { name: 'alice', hash: 'a1'.repeat(64), kind: 'contribution' } as const;
const pub2 = { name: 'bob', hash: 'b2'.repeat(64), kind: 'contribution' } as const;
const bcn = { name: 'closing beacon', hash: 'c3'.repeat(64), kind: 'beacon' } as const;

describe('trust levels', () => {
  it('judges every level from the ptau and the phase-2 chain', () => {
    const cases: Array<[Parameters<typeof judgeTrust>[0], TrustVerdict['level'], RegExp]> = [
      [{ system: 'groth16', ptau: 'public', phase2: [bcn] }, 'none', /^anyone$/],
      [{ system: 'groth16', ptau: 'public', phase2: [] }, 'none', /^anyone$/],
      [{ system: 'groth16', ptau: 'public', phase2: [pub, pub2], deltaIsGenerator: true }, 'none', /^anyone$/],
      [{ system: 'groth16', ptau: 'unknown', phase2: [pub, pub2] }, 'none', /unknown/],
      [{ system: 'groth16', ptau: null, ptauProblem: 'mismatched', phase2: [pub, pub2] }, 'none', /unknown or not the one/],
      [{ system: 'groth16', ptau: 'development', phase2: [pub] }, 'development', /whoever made the development powers of tau/],
      [{ system: 'groth16', ptau: 'development', phase2: [pub, pub2, bcn] }, 'development', /development powers of tau/],
      [{ system: 'groth16', ptau: 'public', phase2: [pub] }, 'single-party', /the phase-2 contributor "alice" \(a1a1a1a1a1a1a1a1…\)/],
      [{ system: 'groth16', ptau: 'public', phase2: [pub, pub2, bcn] }, 'multi-party', /only all 2 phase-2 contributors together: "alice" \(a1a1.*…\), "bob" \(b2b2.*…\)/],
      [{ system: 'plonk', ptau: 'public', phase2: [] }, 'public-ceremony', /all contributors to the public powers of tau/],
      [{ system: 'fflonk', ptau: 'development', phase2: [] }, 'development', /development powers of tau/],
      [{ system: 'fflonk', ptau: 'unknown', phase2: [] }, 'none', /unknown/],
    ];
    for (const [facts, level, forge] of cases) {
      const v = judgeTrust(facts);
      expect(v.level, JSON.stringify(facts)).toBe(level);
      expect(v.canForge).toMatch(forge);
      expect(v.reasons.length).toBeGreaterThan(0);
    }
    expect(judgeTrust({ system: 'groth16', ptau: 'public', phase2: [bcn] }).reasons.join(' ')).toMatch(/only 1 beacon\(s\) and no secret contribution: delta follows from the public beacon value/);
    expect(judgeTrust({ system: 'groth16', ptau: 'public', phase2: [pub], deltaIsGenerator: true }).reasons.join(' ')).toMatch(/delta is G2's generator/);
  });

  it('orders the levels for --require: none < development < single-party < multi-party = public-ceremony', () => {
    expect(TRUST_LEVELS).toEqual(['none', 'development', 'single-party', 'multi-party', 'public-ceremony']);
    expect(meetsTrust('development', 'development')).toBe(true);
    expect(meetsTrust('development', 'single-party')).toBe(false);
    expect(meetsTrust('single-party', 'multi-party')).toBe(false);
    expect(meetsTrust('multi-party', 'public-ceremony')).toBe(true);
    expect(meetsTrust('public-ceremony', 'multi-party')).toBe(true);
    expect(meetsTrust('none', 'development')).toBe(false);
    expect(() => parseTrustLevel('high')).toThrow(/trust level must be one of none, development, single-party, multi-party, public-ceremony; got "high"/);
  });

  it('prints every level in the audit\'s text and JSON', async () => {
    const base = await auditBuild(tiny, onnx);
    const verdicts = [
      judgeTrust({ system: 'groth16', ptau: 'public', phase2: [bcn] }),
      judgeTrust({ system: 'groth16', ptau: 'development', phase2: [pub] }),
      judgeTrust({ system: 'groth16', ptau: 'public', phase2: [pub] }),
      judgeTrust({ system: 'groth16', ptau: 'public', phase2: [pub, pub2, bcn] }),
      judgeTrust({ system: 'plonk', ptau: 'public', phase2: [] }),
    ];
    expect(verdicts.map((v) => v.level)).toEqual([...TRUST_LEVELS]);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    try {
      for (const trust of verdicts) {
        const r = { ...base, trust, ok: trust.level !== 'none' };
        out.length = 0;
        printReport(r, false, { ok: `AUDIT PASSED; trust ${trust.level}`, failed: 'AUDIT FAILED' });
        const text = out.join('');
        expect(text).toContain(`trust           ${trust.level.toUpperCase()}: can forge any proof: ${trust.canForge}`);
        for (const reason of trust.reasons) expect(text).toContain(`- ${reason}`);
        expect(text).toMatch(trust.level === 'none' ? /AUDIT FAILED: trust none: anyone can forge proofs for this key/ : new RegExp(`AUDIT PASSED; trust ${trust.level}`));
        out.length = 0;
        printReport(r, true, { ok: '', failed: '' });
        expect(JSON.parse(out.join('')).trust).toEqual(trust);
      }
    } finally {
      spy.mockRestore();
    }
  });
});

/** snarkjs' beacon randomness: the beacon hash, sha256'd 2^exp times, seeds ChaCha (snarkjs misc.rngFromBeaconParams). */
function beaconRng(hashHex: string, exp: number): ChaCha {
  let h: Buffer = Buffer.from(hashHex, 'hex');
  for (let i = 0; i < 2 ** exp; i++) h = crypto.createHash('sha256').update(h).digest();
  return new ChaCha(Array.from({ length: 8 }, (_, i) => h.readUInt32BE(i * 4)));
}

describe('a phase 2 with no secret contribution (regression)', () => {
  const BEACON = '0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20';
  let d: string;

  beforeAll(async () => {
    // The key rebuilt from the r1cs and the ptau with newZKey plus a public beacon only, the manifest rewritten to match.
    d = copyBuild(tiny, 'beacon-only');
    const m: Manifest = loadJson(buildPath(d, 'manifest'));
    const zkey = buildPath(d, 'zkey');
    await snarkjs.zKey.newZKey(buildPath(d, 'r1cs'), m.ceremony.file, `${zkey}.0`);
    await snarkjs.zKey.beacon(`${zkey}.0`, zkey, 'public beacon', BEACON, 10);
    fs.rmSync(`${zkey}.0`);
    const io = readProgram(buildPath(d, 'program')).io;
    await writeVerificationKey(zkey, buildPath(d, 'vkey'), io);
    const { contributions } = await readPhase2Transcript(zkey);
    const manifest = {
      ...m,
      ceremony: { ...m.ceremony, phase2: contributions.map(({ name, hash, kind }) => ({ name, hash, kind })) },
      keys: { vkeySha256: sha256(fs.readFileSync(buildPath(d, 'vkey'))), zkeySha256: sha256(fs.readFileSync(zkey)) },
      // The recorded verdict is a claim; the audit judges from the key.
      trust: judgeTrust({ system: 'groth16', ptau: 'public', phase2: [pub, pub2] }),
    };
    fs.writeFileSync(buildPath(d, 'manifest'), JSON.stringify(manifest, null, 2));
  });

  it('every structural check passes, yet the audit reports trust none and exits 1 (text and JSON)', async () => {
    let res = await runCli(['audit', d, '--model', onnxFile, '--json']);
    expect(res.code, res.stderr).toBe(1);
    const r: AuditReport = JSON.parse(res.stdout);
    expect(notPassing(r)).toEqual([]);
    expect(r.ok).toBe(false);
    expect(r.trust.level).toBe('none');
    expect(r.trust.canForge).toBe('anyone');
    expect(r.trust.reasons.join(' ')).toMatch(/only 1 beacon\(s\) and no secret contribution/);
    res = await runCli(['audit', d, '--model', onnxFile]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/trust\s+NONE: can forge any proof: anyone/);
    expect(res.stdout).toMatch(/AUDIT FAILED: trust none: anyone can forge proofs for this key\n$/);
    expect(res.stdout).not.toMatch(/AUDIT PASSED/);
  });

  it('why: delta follows from the beacon, and with it anyone forges a receipt for any output that zkinfer verify accepts', async () => {
    const vkey = loadJson(buildPath(d, 'vkey'));
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    const { G1, G2, Fr } = curve as any;
    const delta = Fr.fromRng(beaconRng(BEACON, 10));
    const pt1 = (p: string[]) => G1.fromObject(p.map(BigInt));
    const pt2 = (p: string[][]) => G2.fromObject(p.map((c) => c.map(BigInt)));
    expect(G2.eq(G2.timesFr(G2.g, delta), pt2(vkey.vk_delta_2))).toBe(true);

    // A genuine receipt, then its output replaced by one the model never gave: the classes swapped.
    const prover = await ModelProver.load(d);
    const { receipt } = await prover.prove(tinySamples(16)[0]);
    const q = receipt.outputQuantized.map(BigInt);
    const claimed = [q[1] + 1000n, q[0] - 1000n];
    const signals = [...claimed.map((v) => toField(v).toString()), ...receipt.publicSignals.slice(claimed.length)];
    // A = alpha, B = beta, C = -(IC_0 + sum s_i IC_i) / delta.
    let vkx = pt1(vkey.IC[0]);
    signals.forEach((s, i) => (vkx = G1.add(vkx, G1.timesScalar(pt1(vkey.IC[i + 1]), BigInt(s)))));
    const c = G1.toAffine(G1.timesFr(G1.neg(vkx), Fr.inv(delta)));
    const proof = { ...receipt.proof as object, pi_a: vkey.vk_alpha_1, pi_b: vkey.vk_beta_2, pi_c: [...G1.toObject(c).map(String), '1'].slice(0, 3) };
    expect(await snarkjs.groth16.verify(vkey, signals, proof)).toBe(true);
    const forged = {
      ...receipt, proof, publicSignals: signals, outputQuantized: claimed.map(String),
      output: [claimed.map((v) => Number(v) / 2 ** receipt.outputScale)],
    };
    const res = await runCli(['verify', write(path.join(work, 'forged.json'), forged), '--model', d]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^valid/);
  });

  it('a key straight from newZKey (delta = 1, no phase 2): trust none from the key itself', async () => {
    const e = copyBuild(d, 'no-phase2');
    const m: Manifest = loadJson(buildPath(e, 'manifest'));
    const zkey = buildPath(e, 'zkey');
    await snarkjs.zKey.newZKey(buildPath(e, 'r1cs'), m.ceremony.file, zkey);
    await writeVerificationKey(zkey, buildPath(e, 'vkey'), readProgram(buildPath(e, 'program')).io);
    fs.writeFileSync(buildPath(e, 'manifest'), JSON.stringify({
      ...m, ceremony: { ...m.ceremony, phase2: [] },
      keys: { vkeySha256: sha256(fs.readFileSync(buildPath(e, 'vkey'))), zkeySha256: sha256(fs.readFileSync(zkey)) },
    }, null, 2));
    const res = await runCli(['ceremony', 'verify', e, '--json']);
    expect(res.code).toBe(1);
    const r: AuditReport = JSON.parse(res.stdout);
    expect(r.trust.level).toBe('none');
    expect(r.trust.reasons.join(' ')).toMatch(/delta is G2's generator \(delta = 1\)/);
  });
});

describe('the level a build records and the one the audit finds', () => {
  it('a development build: audit says development; --require development passes, --require single-party fails (exit 1)', async () => {
    let res = await runCli(['audit', tiny, '--model', onnxFile, '--require', 'development']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/trust\s+DEVELOPMENT: can forge any proof: whoever made the development powers of tau/);
    expect(res.stdout).toMatch(/required\s+development: met/);
    expect(res.stdout).toMatch(/AUDIT PASSED: this verification key belongs to this ONNX model; trust development\n$/);
    res = await runCli(['audit', tiny, '--model', onnxFile, '--require', 'single-party', '--json']);
    expect(res.code).toBe(1);
    const r: AuditReport = JSON.parse(res.stdout);
    expect(notPassing(r)).toEqual([]);
    expect(r.required).toEqual({ level: 'single-party', met: false });
    expect(r.ok).toBe(false);
    res = await runCli(['audit', tiny, '--model', onnxFile, '--require', 'high']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/trust level must be one of/);
  });

  it('the manifest records the level; ceremony contributions update it; verify shows it and says it is not checked', async () => {
    const m: Manifest = loadJson(buildPath(tiny, 'manifest'));
    expect(m.trust.level).toBe('development');
    expect(recordedTrust(m)).toEqual(m.trust);
    const { trust: _t, ...old } = m;
    expect(recordedTrust(old as Manifest)).toEqual(m.trust);

    const d = copyBuild(tiny, 'ceremony');
    expect((await runCli(['ceremony', 'contribute', d, '--name', 'carol'])).code).toBe(0);
    const after: Manifest = loadJson(buildPath(d, 'manifest'));
    // Two parties, but on a development ptau: still development.
    expect(after.trust.level).toBe('development');
    expect(after.trust.reasons.join(' ')).toMatch(/2 phase-2 contributions: "zkinfer local phase-2 contribution" .*"carol"/);

    const prover = await ModelProver.load(d);
    const { receipt } = await prover.prove(tinySamples(16)[1]);
    const rf = write(path.join(work, 'receipt.json'), receipt);
    let res = await runCli(['verify', rf, '--model', d]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/trust recorded by the build \(not checked here; zkinfer audit checks it\): development: can forge any proof: whoever made/);
    res = await runCli(['verify', rf, '--model', d, '--json']);
    expect(JSON.parse(res.stdout).recordedTrust).toEqual({ ...after.trust, checked: false });
    res = await runCli(['verify', rf, '--model', buildPath(d, 'vkey')]);
    expect(res.code).toBe(0);
    expect(res.stdout).not.toMatch(/trust/);
  });

  it('PLONK on a development ptau is development (public-ceremony needs a public ptau)', async () => {
    const plonk = await ensureBuild('tiny_mlp_plonk', onnx, tinySamples(16), { system: 'plonk' });
    const r = await auditBuild(plonk, onnx);
    expect(notPassing(r)).toEqual([]);
    expect(r.trust.level).toBe('development');
    expect(r.trust.reasons.join(' ')).toMatch(/plonk: no circuit-specific secret/);
    expect((loadJson(buildPath(plonk, 'manifest')) as Manifest).trust.level).toBe('development');
  });
});

describe('private calibration', () => {
  it('compile --private-calibration keeps only the samples\' sha256; the audit then needs --calibration or --data', async () => {
    const out = path.join(work, 'private');
    fs.rmSync(out, { recursive: true, force: true });
    const samples = tinySamples(16);
    const cal = write(path.join(work, 'tiny-cal.json'), samples);
    let res = await runCli(['compile', onnxFile, '--calibration', cal, '--out', out, '--private-calibration']);
    expect(res.code, res.stderr).toBe(0);
    expect(fs.existsSync(buildPath(out, 'calibrationSamples'))).toBe(false);
    const m: Manifest = loadJson(buildPath(out, 'manifest'));
    expect(m.calibrationSamples).toEqual({ sha256: sha256(`${JSON.stringify(samples)}\n`), count: 16, kept: false });
    expect(fs.readFileSync(buildPath(tiny, 'calibrationSamples'), 'utf8')).toBe(`${JSON.stringify(samples)}\n`);

    let r = await auditBuild(out, onnx);
    expect(notPassing(r)).toEqual(['samples']);
    r = await auditBuild(out, onnx, { calibration: { data: samples, source: cal } });
    expect(notPassing(r)).toEqual([]);
    r = await auditBuild(out, onnx, { data: samples });
    expect(notPassing(r)).toEqual([]);
    expect(r.checks.find((c) => c.name === 'samples')!.detail).toMatch(/judged by the fidelity check/);
    expect(r.fidelity).toMatchObject({ labelled: false, minAgreement: 0.99 });
    res = await runCli(['audit', out, '--model', onnxFile, '--data', cal, '--min-agreement', '2']);
    expect(res.code).toBe(2);
  });

  it('kept samples changed after the build fail the samples check', async () => {
    const d = copyBuild(tiny, 'samples-edited');
    const kept = loadJson(buildPath(d, 'calibrationSamples'));
    kept.pop();
    write(buildPath(d, 'calibrationSamples'), `${JSON.stringify(kept)}\n`);
    const r = await auditBuild(d, onnx);
    expect(notPassing(r)).toEqual(['samples']);
    expect(r.checks.find((c) => c.name === 'samples')!.detail).toMatch(/calibration-samples.json has sha256 .*: it was changed after the build/);
  });
});
