import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { ARTIFACTS } from './helpers/circuit.js';
import { runCli } from './helpers/cli.js';
import { tinyMlp, tinySamples } from './helpers/onnx-builder.js';
import { auditKeys, type AuditReport } from '../src/audit/index.js';
import { ModelProver } from '../src/prove/index.js';
import { verifyReceipt } from '../src/verify/index.js';
import { sections } from '../src/binfile.js';
import { buildPath } from '../src/paths.js';
import { releaseCurve } from '../src/curve.js';
import type { Manifest } from '../src/pipeline/index.js';

const work = path.join(ARTIFACTS, 'ceremony');
const data = loadJson(fixture('digits_mlp.data.json'));
let dir: string;
let vkeyBefore: string;
const hashes: string[] = [];

beforeAll(async () => {
  const cached = await ensureBuild('digits_mlp', fs.readFileSync(fixture('digits_mlp.onnx')), data);
  // A private copy: contributions replace the keys, and the cached build is shared with other test files.
  dir = path.join(work, 'mlp');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(cached, dir, { recursive: true });
  vkeyBefore = fs.readFileSync(buildPath(dir, 'vkey'), 'utf8');
});

afterAll(releaseCurve);

describe('Groth16 phase 2 as a multi-party ceremony', () => {
  it('two contributions and a beacon: ceremony verify passes and lists all four, as the manifest records them', async () => {
    let res = await runCli(['ceremony', 'contribute', dir, '--name', 'alice']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/the verification key changed, and with it the model identity/);
    expect(res.stderr).toMatch(/receipts made before this contribution are for the old key/);
    hashes.push(res.stdout.trim());
    res = await runCli(['ceremony', 'contribute', dir, '--name', 'bob', '--entropy', 'bob typed this at random']);
    expect(res.code, res.stderr).toBe(0);
    hashes.push(res.stdout.trim());
    res = await runCli(['ceremony', 'beacon', dir, '--hash', '5c1b2e0a9d8f7e6d5c4b3a29181706f5e4d3c2b1a09f8e7d6c5b4a3928170615', '--iterations', '10', '--name', 'closing beacon']);
    expect(res.code, res.stderr).toBe(0);
    hashes.push(res.stdout.trim());
    hashes.forEach((h) => expect(h).toMatch(/^[0-9a-f]{128}$/));

    res = await runCli(['ceremony', 'verify', dir, '--json']);
    expect(res.code, res.stderr).toBe(0);
    const r: AuditReport = JSON.parse(res.stdout);
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => [c.name, c.status])).toEqual([
      ['ptau', 'pass'], ['proving-key', 'pass'], ['verification-key', 'pass'], ['phase2', 'pass'], ['manifest-keys', 'pass'],
    ]);
    expect(r.contributions.map((c) => [c.name, c.kind])).toEqual([
      ['zkinfer local phase-2 contribution', 'contribution'], ['alice', 'contribution'], ['bob', 'contribution'], ['closing beacon', 'beacon'],
    ]);
    expect(r.contributions.slice(1).map((c) => c.hash)).toEqual(hashes);
    expect(r.contributions[3].beacon).toEqual({ hash: '5c1b2e0a9d8f7e6d5c4b3a29181706f5e4d3c2b1a09f8e7d6c5b4a3928170615', iterationsExp: 10 });
    const m: Manifest = loadJson(buildPath(dir, 'manifest'));
    expect(m.ceremony.phase2).toEqual(r.contributions.map(({ name, hash, kind }) => ({ name, hash, kind })));
    expect(m.keys.vkeySha256).toBe(r.vkeySha256);
  });

  it('a proof made after the contributions verifies with the new key, and not with the old one', async () => {
    const prover = await ModelProver.load(dir);
    const { receipt } = await prover.prove(data.test[0].input);
    const vkey = fs.readFileSync(buildPath(dir, 'vkey'), 'utf8');
    expect(vkey).not.toBe(vkeyBefore);
    const v = await verifyReceipt(receipt, vkey);
    expect(v.valid, v.reason).toBe(true);
    const old = await verifyReceipt(receipt, vkeyBefore);
    expect(old.valid).toBe(false);
  });

  it('a proving key with one byte flipped inside a point section fails verification', async () => {
    const d = path.join(work, 'flipped');
    fs.rmSync(d, { recursive: true, force: true });
    fs.cpSync(dir, d, { recursive: true });
    const zkey = fs.readFileSync(buildPath(d, 'zkey'));
    // Section 8: the L points, which every contribution rescales.
    const l = sections(zkey, 'zkey').get(8)!;
    expect(l.length).toBeGreaterThan(64);
    zkey[l.byteOffset - zkey.byteOffset + 64 * Math.floor(l.length / 128) + 5] ^= 0x10;
    fs.writeFileSync(buildPath(d, 'zkey'), zkey);
    const r = await auditKeys(d);
    expect(r.ok).toBe(false);
    const pk = r.checks.find((c) => c.name === 'proving-key')!;
    expect(pk.status).toBe('fail');
    expect(pk.detail).toMatch(/does not follow from the build's r1cs and the powers of tau: .*L section/);
  });

  it('refuses PLONK builds: they have no circuit-specific phase 2', async () => {
    const plonk = await ensureBuild('tiny_mlp_plonk', tinyMlp(), tinySamples(16), { system: 'plonk' });
    const zkeyBefore = fs.readFileSync(buildPath(plonk, 'zkey'));
    let res = await runCli(['ceremony', 'contribute', plonk, '--name', 'carol']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/USAGE: .* is a plonk build: plonk keys follow from the r1cs and the universal powers of tau alone, so there is no circuit-specific phase 2/);
    res = await runCli(['ceremony', 'beacon', plonk, '--hash', 'abcd', '--iterations', '10']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/is a plonk build/);
    expect(Buffer.compare(fs.readFileSync(buildPath(plonk, 'zkey')), zkeyBefore)).toBe(0);
  });
});
