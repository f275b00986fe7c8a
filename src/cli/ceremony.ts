import { InvalidArgumentError, type Command } from 'commander';
import { auditKeys } from '../audit/index.js';
import { beacon, contribute, type ContributionResult } from '../ceremony/index.js';
import { releaseCurve } from '../curve.js';
import { printReport } from './audit.js';

const log = (msg: string) => process.stderr.write(`[zkinfer] ${msg}\n`);

const intArg = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
  return n;
};

async function released<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } finally {
    await releaseCurve();
  }
}

function reportContribution(r: ContributionResult): void {
  log(`${r.contribution.kind} #${r.total} "${r.contribution.name}" added to the proving key`);
  log(`the verification key changed, and with it the model identity: ${r.vkeySha256.before} -> ${r.vkeySha256.after}`);
  log('receipts made before this contribution are for the old key and verify only against it');
  process.stdout.write(`${r.contribution.hash}\n`);
}

export function registerCeremonyCommands(cmd: Command): void {
  const c = cmd.command('ceremony').description('Groth16 phase 2 as a multi-party ceremony: contributions, a closing beacon, verification');

  c.command('contribute')
    .description('add a contribution of your own randomness to a build\'s proving key (replaces the keys; prints the contribution hash)')
    .argument('<build>', 'build directory (Groth16)')
    .requiredOption('--name <name>', 'contributor name, recorded in the key (up to 64 characters)')
    .option('--entropy <text>', 'extra entropy, mixed with system randomness (default: random)')
    .action(async (build: string, o) => reportContribution(await released(() => contribute(build, o.name, o.entropy))));

  c.command('beacon')
    .description('close the ceremony with a public random value (replaces the keys; prints the contribution hash)')
    .argument('<build>', 'build directory (Groth16)')
    .requiredOption('--hash <hex>', 'public random value in hexadecimal, e.g. a future block hash')
    .requiredOption('--iterations <n>', 'hash it 2^N times, N from 10 to 63', intArg('--iterations'))
    .option('--name <name>', 'name recorded in the key', 'beacon')
    .action(async (build: string, o) => reportContribution(await released(() => beacon(build, o.hash, o.iterations, o.name))));

  c.command('verify')
    .description('check the proving key against the r1cs and the powers of tau, and list its contributions; exit 0 valid, 1 invalid, 2 bad usage or input')
    .argument('<build>', 'build directory')
    .option('--ptau <file>', 'powers-of-tau file (default: the one the manifest records, if on this machine)')
    .option('--json', 'print the report as JSON')
    .action(async (build: string, o) => {
      const r = await released(() => auditKeys(build, { ptau: o.ptau ?? null, progress: log }));
      printReport(r, Boolean(o.json), { ok: `CEREMONY VERIFIED: the keys follow from the r1cs, the powers of tau and the contributions listed; trust ${r.trust.level}`, failed: 'CEREMONY NOT VERIFIED' });
      process.exitCode = r.ok ? 0 : 1;
    });
}
