import { InvalidArgumentError, type Command } from 'commander';
import { auditBuild, type AuditReport } from '../audit/index.js';
import { parseTrustLevel, TRUST_LEVELS, type TrustVerdict } from '../pipeline/trust.js';
import { releaseCurve } from '../curve.js';
import { readUserFile, readUserJson } from './files.js';

const log = (msg: string) => process.stderr.write(`[zkinfer] ${msg}\n`);

const trustArg = (v: string) => {
  try {
    return parseTrustLevel(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

const shareArg = (v: string): number => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('--min-agreement must be a number from 0 to 1, e.g. 0.99');
  return n;
};

/** The trust verdict in lines: level, who can forge, why. */
export function trustLines(t: TrustVerdict, heading = 'trust'): string[] {
  return [`${heading.padEnd(15)} ${t.level.toUpperCase()}: can forge any proof: ${t.canForge}`, ...t.reasons.map((r) => `                - ${r}`)];
}

/** Prints an audit report: JSON, or one line per check, the ceremony and the trust verdict. */
export function printReport(r: AuditReport, json: boolean, verdict: { ok: string; failed: string }): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const label = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' } as const;
  const width = Math.max(...r.checks.map((c) => c.name.length));
  const lines = [`${r.build} (${r.system})`];
  for (const c of r.checks) lines.push(`  ${label[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`);
  lines.push(`powers of tau   ${r.ptau ? `${r.ptau.description} (2^${r.ptau.power}, ${r.ptau.file})` : 'not available'}`);
  lines.push(`phase 2         ${r.system === 'groth16' ? `${r.contributions.length} contribution(s), oldest first` : 'none (not a Groth16 key)'}`);
  r.contributions.forEach((c, i) => {
    lines.push(`  #${i + 1} ${c.kind.padEnd(12)} "${c.name}"`);
    lines.push(`     ${c.hash}`);
    if (c.beacon) lines.push(`     beacon ${c.beacon.hash}, 2^${c.beacon.iterationsExp} iterations`);
  });
  lines.push(`model identity  ${r.vkeySha256} (verification key sha256)`);
  lines.push(...trustLines(r.trust));
  if (r.required) lines.push(`required        ${r.required.level}: ${r.required.met ? 'met' : `NOT met (the build is ${r.trust.level})`}`);
  const named = (s: 'fail' | 'skip') => r.checks.filter((c) => c.status === s).map((c) => c.name).join(', ');
  const failed = named('fail');
  const skipped = named('skip');
  const why = [
    ...(failed ? [`failed ${failed}`] : []),
    ...(skipped ? [`not checked ${skipped}`] : []),
    ...(r.trust.level === 'none' ? ['trust none: anyone can forge proofs for this key'] : []),
    ...(r.required && !r.required.met ? [`trust ${r.trust.level} is below the required ${r.required.level}`] : []),
  ];
  lines.push(r.ok ? verdict.ok : `${verdict.failed}: ${why.join('; ') || 'failed'}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerAuditCommands(cmd: Command): void {
  cmd.command('audit')
    .description('check that a build\'s verification key belongs to an ONNX model and who can forge for it; exit 0 all checks pass, 1 one fails (or trust is none or below --require), 2 bad usage or input')
    .argument('<build>', 'build directory from zkinfer compile')
    .requiredOption('--model <model.onnx>', 'the ONNX file the key should belong to')
    .option('--ptau <file>', 'powers-of-tau file (default: the one the manifest records, if on this machine)')
    .option('--calibration <file>', 'calibration samples to recompute calibration.json from (default: the build\'s calibration-samples.json, if kept)')
    .option('--data <file>', 'your own test data (NAME.data.json "test" array, or an array of inputs): compares the float model and the audited circuit')
    .option('--min-agreement <share>', 'with --data: fail below this top-1 agreement', shareArg, 0.99)
    .option('--require <level>', `fail unless the trust level is at least this (${TRUST_LEVELS.join(' < ').replace('multi-party < public-ceremony', 'multi-party = public-ceremony')})`, trustArg)
    .option('--json', 'print the report as JSON')
    .action(async (build: string, o) => {
      const onnx = readUserFile(o.model, 'model', 'ONNX_MALFORMED');
      const calibration = o.calibration ? { data: readUserJson(o.calibration, 'calibration samples', 'CALIBRATION_INVALID'), source: o.calibration as string } : null;
      const data = o.data ? readUserJson(o.data, 'test data') : undefined;
      try {
        const r = await auditBuild(build, onnx, { ptau: o.ptau ?? null, progress: log, calibration, data, minAgreement: o.minAgreement, require: o.require ?? null });
        printReport(r, Boolean(o.json), {
          ok: `AUDIT PASSED: this verification key belongs to this ONNX model; trust ${r.trust.level}`,
          failed: 'AUDIT FAILED',
        });
        process.exitCode = r.ok ? 0 : 1;
      } finally {
        await releaseCurve();
      }
    });
}
