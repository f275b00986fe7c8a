/**
 * Times the Groth16 key setup on a synthetic circuit, native against
 * snarkjs (newZKey then one contribution), each in its own process so peak
 * memory is per run:
 *   tsx bench/setup.ts circuit N OUT.r1cs OUT.wtns   write a circuit of N constraints
 *   tsx bench/setup.ts ptau POWER OUT.ptau            write a development ptau
 *   tsx bench/setup.ts native|snarkjs R1CS PTAU ZKEY  one setup
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import * as snarkjs from 'snarkjs';
import { nativeBn254, nativeUnavailableReason } from '../src/prove/native.js';
import { writeDevPtau } from '../src/setup/dev-ptau.js';
import { nativeGroth16Setup } from '../src/setup/native-groth16.js';
import { writeSyntheticCircuit } from '../test/helpers/synthetic-r1cs.js';

const [mode, a, b, c] = process.argv.slice(2);
const report = (o: object) => process.stdout.write(`${JSON.stringify({ ...o, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
const t0 = performance.now();
const secs = () => +((performance.now() - t0) / 1000).toFixed(2);

if (mode === 'circuit') {
  const s = writeSyntheticCircuit(b, c, Number(a));
  report({ mode, constraints: s.nConstraints, wires: s.nWires, seconds: secs() });
} else if (mode === 'ptau') {
  await writeDevPtau(b, Number(a));
  report({ mode, power: Number(a), seconds: secs() });
} else if (mode === 'native') {
  const nat = nativeBn254();
  if (!nat) throw new Error(nativeUnavailableReason());
  const steps: Record<string, number> = {};
  let last = '';
  let lastT = t0;
  await nativeGroth16Setup(nat, a, b, c, {
    contribution: 'bench',
    progress: (_f, step) => {
      if (step === last) return;
      const now = performance.now();
      if (last) steps[last] = +((now - lastT) / 1000).toFixed(2);
      last = step;
      lastT = now;
    },
  });
  report({ mode, seconds: secs(), steps });
} else if (mode === 'snarkjs') {
  await snarkjs.zKey.newZKey(a, b, `${c}.0`);
  const tNew = secs();
  await snarkjs.zKey.contribute(`${c}.0`, c, 'bench', crypto.randomBytes(32).toString('hex'));
  fs.rmSync(`${c}.0`);
  report({ mode, seconds: secs(), newZKeySeconds: tNew });
} else {
  throw new Error('usage: setup.ts circuit|ptau|native|snarkjs ...');
}
process.exit(0);
