/**
 * npm run bench [-- model ...]: for each model, constraints, compile, ceremony,
 * setup, witness, proof and verification times and peak memory, and the
 * Groth16 prover's time by phase with snarkjs' prover on the same key as a
 * ratio. Prints tables, writes bench/results/latest.json and compares with
 * the previous run.
 * --no-service skips the service figures, --no-ops the operating ones
 * (process memory over 300 proofs, /healthz under verify load).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const SHARED = path.resolve(ROOT, '..', 'shared', 'models');
const RESULTS = path.join(ROOT, 'bench', 'results');
const WORK = path.join(ROOT, 'build', 'bench');
const DEFAULT_MODELS = ['digits_mlp', 'digits_cnn', 'lenet5_28'];

function locate(name: string): [string, string] | null {
  for (const dir of [SHARED, path.join(ROOT, 'test', 'fixtures'), path.join(ROOT, 'bench', 'models')]) {
    const onnx = path.join(dir, `${name}.onnx`);
    const data = path.join(dir, `${name}.data.json`);
    if (fs.existsSync(onnx) && fs.existsSync(data)) return [onnx, data];
  }
  return null;
}

function child(args: string[], script = 'model.ts'): Record<string, any> {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'run.js'), path.join(ROOT, 'bench', script), ...args], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`bench ${args[0]} failed (exit ${r.status})`);
  return JSON.parse(last);
}

const args = process.argv.slice(2);
const named = args.filter((a) => !a.startsWith('--'));
const models = args.includes('--no-models') ? [] : named.length ? named : DEFAULT_MODELS;
/** Proof systems compared on the small models (LeNet's PLONK circuit would be in the millions of gates). */
const SYSTEMS = ['groth16', 'plonk', 'fflonk'] as const;
const systemModels = args.includes('--no-systems') ? [] : named.length ? named.filter((n) => n !== 'lenet5_28' && !n.startsWith('vgg')) : ['digits_mlp', 'digits_cnn'];
const ceremonyPowers = args.includes('--no-ceremony') ? [] : [14, 17];
const withService = !args.includes('--no-service');
const withOps = !args.includes('--no-ops');
/** Reuse an existing build in build/bench/NAME (its manifest's timings are reported). */
const reuse = args.includes('--reuse');
const previous = fs.existsSync(path.join(RESULTS, 'latest.json')) ? JSON.parse(fs.readFileSync(path.join(RESULTS, 'latest.json'), 'utf8')) : null;
const results: Record<string, any> = {};
for (const name of models) {
  const files = locate(name);
  if (!files) {
    results[name] = { error: 'model files not found' };
    continue;
  }
  const out = path.join(WORK, name);
  process.stderr.write(`${name}: build\n`);
  try {
    const manifestFile = path.join(out, 'manifest.json');
    const build = reuse && fs.existsSync(manifestFile)
      ? (() => {
        const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
        return { constraints: m.constraints.total, layers: m.constraints.layers, timings: m.timings, power: m.ceremony.power, reused: true };
      })()
      : child(['build', files[0], files[1], out]);
    process.stderr.write(`${name}: prove\n`);
    const prove = child(['prove', files[0], files[1], out, '5']);
    process.stderr.write(`${name}: verify\n`);
    const verify = child(['verify', '-', '-', out]);
    process.stderr.write(`${name}: prover phases, snarkjs\n`);
    const phases = child(['phases', files[0], files[1], out, '5']);
    results[name] = { build, prove, verify, phases, measuredAt: new Date().toISOString() };
  } catch (e) {
    results[name] = { error: (e as Error).message };
  }
}

/** Per model and proof system: size, setup, proof and verification time, proof size, gas on an in-process EVM. */
const systems: Record<string, any> = {};
for (const name of systemModels) {
  const files = locate(name);
  if (!files) continue;
  for (const system of SYSTEMS) {
    const key = `${name}/${system}`;
    const out = path.join(WORK, `${name}-${system}`);
    process.stderr.write(`${key}: build\n`);
    try {
      const manifestFile = path.join(out, 'manifest.json');
      const m = reuse && fs.existsSync(manifestFile) ? JSON.parse(fs.readFileSync(manifestFile, 'utf8')) : null;
      const build = m && m.system === system
        ? { system, constraints: m.constraints.total, rows: m.domain.rows, domainPower: m.domain.power, timings: m.timings, power: m.ceremony.power, reused: true }
        : child(['build', files[0], files[1], out, system]);
      process.stderr.write(`${key}: prove\n`);
      const prove = child(['prove', files[0], files[1], out, system === 'groth16' ? '5' : '2']);
      const verify = child(['verify', '-', '-', out]);
      process.stderr.write(`${key}: gas\n`);
      const gas = child([out, path.join(out, 'bench-receipt.json')], 'gas.ts');
      systems[key] = { build, prove, verify, gas, measuredAt: new Date().toISOString() };
    } catch (e) {
      systems[key] = { error: (e as Error).message };
    }
  }
}

const ceremonies: Record<string, any> = {};
for (const p of ceremonyPowers) {
  process.stderr.write(`development ceremony 2^${p}\n`);
  fs.mkdirSync(WORK, { recursive: true });
  ceremonies[`2^${p}`] = child(['ceremony', String(p), '-', path.join(WORK, `ceremony-${p}.ptau`)]);
}

let service: Record<string, any> | null = null;
if (withService) {
  process.stderr.write('service: verify latency, queue overhead, throughput\n');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'run.js'), path.join(ROOT, 'bench', 'service.ts')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  service = last.startsWith('{') ? JSON.parse(last) : { error: `exit ${r.status}` };
}

let ops: Record<string, any> | null = null;
if (withOps) {
  process.stderr.write('service: process memory over 300 proofs, /healthz under verify load\n');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'run.js'), path.join(ROOT, 'bench', 'service-ops.ts')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  ops = last.startsWith('{') ? JSON.parse(last) : { error: `exit ${r.status}` };
}

const s = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(2));
const change = (now: number | undefined, before: number | undefined) => {
  if (now === undefined || before === undefined || before === now) return '';
  return ` (${now > before ? '+' : ''}${(((now - before) / before) * 100).toFixed(0)}%)`;
};
const delta = (name: string, now: number | undefined, pick: (r: any) => number | undefined) =>
  change(now, previous?.models?.[name] && !previous.models[name].error ? pick(previous.models[name]) : undefined);
const rows = [['model', 'constraints', 'compile s', 'ceremony s', 'setup s', 'load s', 'witness ms', 'prove ms', 'verify ms', 'first proof s', 'build peak MB', 'prove peak MB']];
for (const [name, r] of Object.entries(results)) {
  if (r.error) {
    rows.push([name, `error: ${r.error}`, '', '', '', '', '', '', '', '', '', '']);
    continue;
  }
  const b = r.build;
  const p = r.prove;
  rows.push([
    name,
    `${b.constraints}${delta(name, b.constraints, (x) => x.build.constraints)}`,
    s(b.timings.compile), s(b.timings.ceremony), s(b.timings.setup), s(p.loadMs),
    `${p.witnessMs}${delta(name, p.witnessMs, (x) => x.prove.witnessMs)}`,
    `${p.proveMs}${delta(name, p.proveMs, (x) => x.prove.proveMs)}`,
    `${r.verify.verifyMs} (p90 ${r.verify.verifyP90Ms})`,
    // ONNX to a first verified proof: the whole build, loading the prover, the first witness and proof, the first verification.
    b.reused ? '-' : s(b.totalMs + p.loadMs + p.witnessFirstMs + p.proveFirstMs + r.verify.verifyFirstMs),
    b.reused ? '-' : `${b.peakRssMb}`, `${p.peakRssMb}`,
  ]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
process.stdout.write(`${table}\n`);
const phaseNames = ['qap', 'fft', 'msmA', 'msmB1', 'msmB2', 'msmC', 'msmH', 'assemble'];
const pr = [['model', ...phaseNames.map((p) => `${p} ms`), 'proof ms', 'snarkjs ms', 'snarkjs / ours', 'kernels']];
for (const [name, r] of Object.entries(results)) {
  if (r.error || !r.phases) continue;
  const p = r.phases;
  pr.push([name, ...phaseNames.map((k) => String(p.phasesMs[k])),
    `${p.proveMs}${delta(name, p.proveMs, (x) => x.phases?.proveMs)}`, String(p.snarkjsMs), `${p.snarkjsRatio}`, p.kernels]);
}
if (pr.length > 1) {
  const w = pr[0].map((_, i) => Math.max(...pr.map((r) => r[i].length)));
  process.stdout.write(`\nGroth16 prover phases (warm, medians):\n${pr.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ')).join('\n')}\n`);
}
for (const [name, r] of Object.entries(results)) {
  if (r.error) continue;
  process.stdout.write(`\n${name} constraints by layer:\n`);
  for (const l of r.build.layers) process.stdout.write(`  ${l.op.padEnd(18)} ${String(l.constraints).padStart(8)}  ${l.node}\n`);
}
for (const [k, c] of Object.entries(ceremonies)) {
  process.stdout.write(`\ndevelopment ceremony ${k}: ${s(c.ms)} s${change(c.ms, previous?.ceremonies?.[k]?.ms)} (peak ${c.peakRssMb} MB)\n`);
}
if (service) process.stdout.write(`\nservice (digits_mlp, loopback): ${JSON.stringify(service)}\n`);
if (ops?.error) process.stdout.write(`\nservice operations: error: ${ops.error}\n`);
else if (ops) {
  const t = ops.rssMb.total;
  const h = ops.healthz;
  process.stdout.write(`\nservice operations (digits_mlp, ${ops.workers} workers): RSS total ${t.before} -> ${t.after} MB over ${ops.proofs} proofs`
    + ` (${ops.proving.proofsPerSecond}/s); /healthz p50/p99 ${h.unloaded.p50Ms}/${h.unloaded.p99Ms} ms idle,`
    + ` ${h.loaded.p50Ms}/${h.loaded.p99Ms} ms under ${ops.connections} verify connections (${ops.verifyLoad.rps} verify/s, ${ops.verifyLoad.non2xx} non-2xx)\n`);
}
if (Object.keys(systems).length) {
  const sr = [['model/system', 'rows', 'domain', 'ptau', 'setup s', 'prove ms', 'verify ms', 'proof B', 'verify gas', 'model contract gas', 'verifier code B']];
  for (const [k, r] of Object.entries(systems)) {
    if (r.error) {
      sr.push([k, `error: ${r.error}`, '', '', '', '', '', '', '', '', '']);
      continue;
    }
    sr.push([k, String(r.build.rows), `2^${r.build.domainPower}`, `2^${r.build.power}`, s(r.build.timings.setup), String(r.prove.proveMs), String(r.verify.verifyMs),
      String(r.prove.proofBytes), String(r.gas.verifier.verifyGas.transaction), String(r.gas.model.verifyGas.transaction), String(r.gas.verifier.codeSize)]);
  }
  const w = sr[0].map((_, i) => Math.max(...sr.map((r) => r[i].length)));
  process.stdout.write(`\nproof systems:\n${sr.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ')).join('\n')}\n`);
}
fs.mkdirSync(RESULTS, { recursive: true });
// Parts not measured this run keep their previous figures.
const doc = {
  service: service ?? previous?.service ?? null,
  serviceOps: ops ?? previous?.serviceOps ?? null,
  date: new Date().toISOString(),
  machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
  models: { ...(previous?.models ?? {}), ...results },
  systems: { ...(previous?.systems ?? {}), ...systems },
  ceremonies: Object.keys(ceremonies).length ? ceremonies : previous?.ceremonies ?? {},
};
fs.writeFileSync(path.join(RESULTS, 'latest.json'), `${JSON.stringify(doc, null, 2)}\n`);
fs.writeFileSync(path.join(RESULTS, `${doc.date.slice(0, 10)}.json`), `${JSON.stringify(doc, null, 2)}\n`);
