import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild } from './helpers/builds.js';
import { tinyMlp, tinySamples } from './helpers/onnx-builder.js';
import { ModelProver } from '../src/prove/index.js';
import { verifyProof, verifyReceipt } from '../src/verify/index.js';
import { parseCanonical, PROOF_SYSTEMS, type ProofSystem, type Receipt } from '../src/receipt/index.js';
import type { Manifest } from '../src/pipeline/manifest.js';
import { buildPath } from '../src/paths.js';
import { releaseCurve } from '../src/curve.js';
import { plonkGateCount, r1csPlonkGates } from '../src/setup/plonk-size.js';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const inputs = tinySamples(3, 21);

interface Built {
  dir: string;
  vkey: string;
  manifest: Manifest;
  receipts: Receipt[];
}
const built = {} as Record<ProofSystem, Built>;

beforeAll(async () => {
  for (const system of PROOF_SYSTEMS) {
    const dir = await ensureBuild(`tiny_mlp_${system}`, tinyMlp(), tinySamples(16), { system });
    const prover = await ModelProver.load(dir);
    const receipts: Receipt[] = [];
    for (const x of inputs) receipts.push((await prover.prove(x)).receipt);
    built[system] = {
      dir,
      vkey: fs.readFileSync(buildPath(dir, 'vkey'), 'utf8'),
      manifest: JSON.parse(fs.readFileSync(buildPath(dir, 'manifest'), 'utf8')),
      receipts,
    };
  }
});
afterAll(releaseCurve);

/** A receipt whose output fields (and signals) come from another proof of the same model. */
function withOutputOf(r: Receipt, other: Receipt): Receipt {
  const t = clone(r);
  const n = t.outputQuantized.length;
  t.output = clone(other.output);
  t.outputQuantized = [...other.outputQuantized];
  t.publicSignals.splice(0, n, ...other.publicSignals.slice(0, n));
  return t;
}

function withInputOf(r: Receipt, other: Receipt): Receipt {
  const t = clone(r);
  const n = t.outputQuantized.length;
  t.input = clone(other.input);
  t.inputQuantized = clone(other.inputQuantized);
  t.publicSignals.splice(n, t.publicSignals.length - n, ...other.publicSignals.slice(n));
  return t;
}

const NAMES: Record<ProofSystem, string> = { groth16: 'Groth16', plonk: 'PLONK', fflonk: 'FFLONK' };

describe.each(PROOF_SYSTEMS)('%s', (system) => {
  const b = () => built[system];

  it('builds with the system recorded, sized by its own rows', () => {
    const m = b().manifest;
    expect(m.system).toBe(system);
    expect(JSON.parse(b().vkey).protocol).toBe(system);
    if (system === 'groth16') {
      expect(m.domain.rows).toBe(m.constraints.total);
      expect(m.ceremony.phase2).toHaveLength(1);
    } else {
      // Linear forms are free in Groth16 but cost addition gates here.
      expect(m.domain.rows).toBeGreaterThan(m.constraints.total);
      expect(m.ceremony.phase2).toHaveLength(0);
    }
    expect(2 ** m.domain.power).toBeGreaterThanOrEqual(m.domain.rows);
    expect(m.ceremony.power).toBe(system === 'fflonk' ? Math.max(8, m.domain.power + 3) : Math.max(8, m.domain.power));
  });

  it('proves, and every receipt verifies', async () => {
    for (const r of b().receipts) {
      expect(r.system).toBe(system);
      expect((r.proof as { protocol: string }).protocol).toBe(system);
      const v = await verifyReceipt(r, b().vkey);
      expect(v.valid, v.reason).toBe(true);
      expect(v.checked).toContain(`${NAMES[system]} proof`);
    }
  });

  it('rejects another proof\'s output or input under this proof', async () => {
    const [r0, r1] = b().receipts;
    expect(r0.outputQuantized).not.toEqual(r1.outputQuantized);
    for (const t of [withOutputOf(r0, r1), withInputOf(r0, r1)]) {
      const v = await verifyReceipt(t, b().vkey);
      expect(v.valid).toBe(false);
      expect(v.reason).toMatch(new RegExp(`${NAMES[system]} proof does not verify`));
    }
  });

  it('rejects a changed proof element', async () => {
    const [r0, r1] = b().receipts;
    const t = clone(r0) as Receipt & { proof: Record<string, unknown> };
    const p1 = r1.proof as Record<string, unknown>;
    if (system === 'groth16') t.proof.pi_c = p1.pi_c;
    else if (system === 'plonk') t.proof.eval_a = p1.eval_a;
    else (t.proof.evaluations as Record<string, unknown>).a = (p1.evaluations as Record<string, unknown>).a;
    const v = await verifyReceipt(t, b().vkey);
    expect(v.valid).toBe(false);
    expect(v.reason).toMatch(/proof does not verify/);
  });

  it('rejects the proof under another system\'s key of the same model, and a proof labelled with another system', async () => {
    const r = b().receipts[0];
    const signals = r.publicSignals.map((s) => parseCanonical(s)!);
    for (const other of PROOF_SYSTEMS.filter((s) => s !== system)) {
      const vk = JSON.parse(built[other].vkey);
      expect(await verifyProof(other, 'other', vk, signals, r.proof)).toBe(false);
      expect(await verifyProof(other, 'other', vk, signals, { ...(r.proof as object), protocol: other })).toBe(false);
    }
    const relabelled = { ...clone(r), system: PROOF_SYSTEMS.find((s) => s !== system)! };
    const v = await verifyReceipt(relabelled, b().vkey);
    expect(v.valid).toBe(false);
  });
});

describe('PLONK gate count', () => {
  it('is what snarkjs counts when it sets the model up', async () => {
    const dir = built.plonk.dir;
    const lines: string[] = [];
    const log = (...a: unknown[]) => lines.push(a.join(' '));
    const out = path.join(os.tmpdir(), `zk-gates-${process.pid}.zkey`);
    await snarkjs.plonk.setup(buildPath(dir, 'r1cs'), built.plonk.manifest.ceremony.file, out, { debug: () => {}, info: log, warn: log, error: log });
    fs.rmSync(out, { force: true });
    const reported = lines.map((l) => /Plonk constraints: (\d+)/.exec(l)).find(Boolean);
    expect(Number(reported![1])).toBe(await r1csPlonkGates(buildPath(dir, 'r1cs')));
    expect(built.plonk.manifest.domain.rows).toBe(Number(reported![1]));
  });

  it('counts public gates, linear rows with 3 terms per gate and products with 1 per operand', () => {
    const lc = (...vars: number[]) => Object.fromEntries(vars.map((v) => [String(v), 1n]));
    expect(plonkGateCount(2, [])).toBe(2);
    expect(plonkGateCount(0, [[{}, {}, lc(1, 2, 3)]])).toBe(1);
    expect(plonkGateCount(0, [[{}, {}, lc(1, 2, 3, 4, 5)]])).toBe(3);
    expect(plonkGateCount(0, [[lc(1, 2), lc(3), lc(4, 5, 6)]])).toBe(1 + 1 + 2);
    expect(plonkGateCount(0, [[{ 0: 2n }, lc(1, 2, 3), lc(3, 4)]])).toBe(2);
  });
});
