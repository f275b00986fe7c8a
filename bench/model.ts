/**
 * Benchmarks one model in this process: `build` compiles and sets it up,
 * `prove` loads the build and times witness, proof and verification,
 * `phases` times the Groth16 prover's phases and snarkjs' prover on the same
 * key and witness. The parent runs each phase in its own process so peak
 * memory is per phase.
 */
import fs from 'node:fs';
import { buildModel } from '../src/pipeline/index.js';
import { ModelProver } from '../src/prove/index.js';
import { verifyReceipt } from '../src/verify/index.js';
import { releaseCurve } from '../src/curve.js';

import { writeDevPtau } from '../src/setup/dev-ptau.js';
import { Groth16Prover, PROVE_PHASES, type ProvePhase } from '../src/prove/groth16-prover.js';
import { proverKernels } from '../src/prove/kernels.js';
import { openBuild } from '../src/build/open.js';
import { lowerProgram } from '../src/lower/circuit.js';
import { flattenTensor, quantizeInput } from '../src/receipt/index.js';
import * as snarkjs from 'snarkjs';

const [phase, onnxFile, dataFile, outDir, runsArg] = process.argv.slice(2);
const data = phase === 'ceremony' || phase === 'verify' ? null : JSON.parse(fs.readFileSync(dataFile, 'utf8'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const report = (o: object) => process.stdout.write(`${JSON.stringify({ ...o, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);

if (phase === 'verify') {
  // argv: verify - - BUILD: a verifier's own process, as in the API or a client,
  // not the prover's (whose gigabyte heap and curve threads would be measured too).
  const receipt = JSON.parse(fs.readFileSync(`${outDir}/bench-receipt.json`, 'utf8'));
  const vkeyText = fs.readFileSync(`${outDir}/verification_key.json`, 'utf8');
  const verify: number[] = [];
  // A verifier serving many receipts is warm: 30 runs, the first (key preparation, JIT) reported apart.
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    const v = await verifyReceipt(receipt, vkeyText);
    verify.push(performance.now() - t);
    if (!v.valid) throw new Error(`bench receipt did not verify: ${v.reason}`);
  }
  await releaseCurve();
  const warm = verify.slice(1).sort((a, b) => a - b);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  report({ verifyFirstMs: Math.round(verify[0]), verifyMs: r1(median(warm)), verifyP90Ms: r1(warm[Math.floor(warm.length * 0.9)]), publicSignals: receipt.publicSignals.length });
} else if (phase === 'ceremony') {
  // argv: ceremony POWER - FILE
  const power = Number(onnxFile);
  const t0 = performance.now();
  await writeDevPtau(outDir, power);
  fs.rmSync(outDir);
  report({ power, ms: Math.round(performance.now() - t0) });
} else if (phase === 'phases') {
  // argv: phases ONNX DATA BUILD [RUNS]: warm proofs (the first left out), medians per phase.
  const runs = Number(runsArg ?? 5);
  const build = openBuild(outDir, ['manifest', 'program']);
  const program = build.program();
  const q = quantizeInput(program.io, flattenTensor(data.test[0].input, program.io.input.shape, 'input'));
  const wtns = lowerProgram(program, q, { constraints: false }).circuit.wtns();
  const zkey = build.path('zkey');
  const prover = await Groth16Prover.loadFile(zkey);
  const times = Object.fromEntries(PROVE_PHASES.map((p) => [p, [] as number[]])) as Record<ProvePhase, number[]>;
  const total: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t = performance.now();
    await prover.prove(wtns, (p, ms) => i > 0 && times[p].push(ms));
    if (i > 0) total.push(performance.now() - t);
  }
  // snarkjs on the same key and witness, warm too (its curve built by a first proof).
  const snark: number[] = [];
  for (let i = 0; i <= Math.min(3, runs); i++) {
    const t = performance.now();
    await snarkjs.groth16.prove(zkey, wtns);
    if (i > 0) snark.push(performance.now() - t);
  }
  await releaseCurve();
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const proveMs = r1(median(total));
  const snarkjsMs = r1(median(snark));
  report({
    kernels: proverKernels(),
    phasesMs: Object.fromEntries(PROVE_PHASES.map((p) => [p, r1(median(times[p]))])),
    proveMs, snarkjsMs, snarkjsRatio: Math.round((snarkjsMs / proveMs) * 100) / 100,
  });
} else if (phase === 'build') {
  const t0 = performance.now();
  // argv: build ONNX DATA OUT [SYSTEM]
  const system = (runsArg ?? 'groth16') as 'groth16' | 'plonk' | 'fflonk';
  const m = await buildModel(fs.readFileSync(onnxFile), data, outDir, { system }, (e) => {
    if (e.message) process.stderr.write(`  ${e.phase}: ${e.message}\n`);
  });
  report({ system: m.system, constraints: m.constraints.total, rows: m.domain.rows, domainPower: m.domain.power, layers: m.constraints.layers, timings: m.timings, power: m.ceremony.power, totalMs: Math.round(performance.now() - t0) });
} else {
  const runs = Number(runsArg ?? 5);
  const t0 = performance.now();
  const prover = await ModelProver.load(outDir);
  const loadMs = performance.now() - t0;
  const witness: number[] = [];
  const prove: number[] = [];
  const verify: number[] = [];
  let receipt = null;
  for (let i = 0; i < runs; i++) {
    const input = data.test[i % data.test.length].input;
    const r = await prover.prove(input);
    witness.push(r.timings.witness);
    prove.push(r.timings.prove);
    receipt = r.receipt;
  }
  await releaseCurve();
  // Kept for the gas benchmark, which sends it to the model's contracts.
  fs.writeFileSync(`${outDir}/bench-receipt.json`, JSON.stringify(receipt));
  report({
    loadMs: Math.round(loadMs),
    witnessFirstMs: witness[0], witnessMs: median(witness.slice(1).length ? witness.slice(1) : witness),
    proveFirstMs: prove[0], proveMs: median(prove.slice(1).length ? prove.slice(1) : prove),
    proofBytes: JSON.stringify(receipt!.proof).length,
  });
}
