import type { Command } from 'commander';
import { auditBuild, type AuditReport } from '../audit/index.js';
import { releaseCurve } from '../curve.js';
import { readUserFile } from './files.js';

const log = (msg: string) => process.stderr.write(`[zkinfer] ${msg}\n`);

/** Prints an audit report: JSON, or one line per check and the ceremony. */
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
  const named = (s: 'fail' | 'skip') => r.checks.filter((c) => c.status === s).map((c) => c.name).join(', ');
  lines.push(r.ok ? verdict.ok : `${verdict.failed}: failed ${named('fail') || 'none'}${named('skip') ? `; not checked ${named('skip')}` : ''}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerAuditCommands(cmd: Command): void {
  cmd.command('audit')
    .description('check that a build\'s verification key belongs to an ONNX model; exit 0 all checks pass, 1 one fails, 2 bad usage or input')
    .argument('<build>', 'build directory from zkinfer compile')
    .requiredOption('--model <model.onnx>', 'the ONNX file the key should belong to')
    .option('--ptau <file>', 'powers-of-tau file (default: the one the manifest records, if on this machine)')
    .option('--json', 'print the report as JSON')
    .action(async (build: string, o) => {
      const onnx = readUserFile(o.model, 'model', 'ONNX_MALFORMED');
      try {
        const r = await auditBuild(build, onnx, { ptau: o.ptau ?? null, progress: log });
        printReport(r, Boolean(o.json), {
          ok: 'AUDIT PASSED: this verification key belongs to this ONNX model',
          failed: 'AUDIT FAILED',
        });
        process.exitCode = r.ok ? 0 : 1;
      } finally {
        await releaseCurve();
      }
    });
}
