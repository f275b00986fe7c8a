import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { buildModel, buildKeyFor, fidelity, recordedTrust, type Manifest, type TrustVerdict } from '../pipeline/index.js';
import { ModelProver } from '../prove/index.js';
import { verifyReceipt } from '../verify/index.js';
import { buildPath, DEFAULT_KEYS_DIR } from '../paths.js';
import { releaseCurve } from '../curve.js';
import { reusableBuild } from '../build/open.js';
import { progressPrinter } from './progress.js';
import { sha256 } from '../hash.js';
import { EXIT } from './exit.js';
import { keyFileOf, readInputFile, readUserFile, readUserJson } from './files.js';
import { registerContractCommands } from './contracts.js';
import { registerAuditCommands } from './audit.js';
import { registerCeremonyCommands } from './ceremony.js';
import { registerCircuitCommands } from './circuit.js';
import { registerGroth16Commands } from './groth16.js';
import { proverKernels } from '../prove/kernels.js';
import { PROOF_SYSTEMS } from '../receipt/index.js';
import { baseCommand } from './base.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');


const log = (msg: string) => process.stderr.write(`[zkinfer] ${msg}\n`);

const intArg = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
  return n;
};

const rangeArg = (v: string): [number, number] => {
  const parts = v.split(',').map(Number);
  if (parts.length !== 2 || parts.some((x) => !Number.isFinite(x)) || parts[0] >= parts[1]) {
    throw new InvalidArgumentError('expected LO,HI with LO < HI, e.g. 0,1');
  }
  return [parts[0], parts[1]];
};

/** Every command. */
export function program(): Command {
  const cmd = baseCommand();

  cmd.command('compile')
    .description('quantize an ONNX model, compile it to a circuit and make its proving and verification keys')
    .argument('<model.onnx>', 'float ONNX model')
    .requiredOption('--calibration <file>', 'JSON array of sample inputs, or an object with a "calibration" array')
    .requiredOption('--out <dir>', 'build directory to write')
    .option('--input-range <lo,hi>', 'float input range the circuit accepts (default: from calibration, with a margin)', rangeArg)
    .addOption(new Option('--visibility <v>', 'input visibility').choices(['public', 'hashed']).default('public'))
    .option('--activation-bits <n>', 'activation precision in bits', intArg('--activation-bits'))
    .option('--weight-bits <n>', 'weight precision in bits, sign included', intArg('--weight-bits'))
    .addOption(new Option('--system <s>', 'proof system').choices([...PROOF_SYSTEMS]).default('groth16'))
    .option('--ptau <file>', 'public powers-of-tau file (Hermez); default: a cached development ceremony')
    .option('--keys <dir>', 'where development ceremonies are cached', DEFAULT_KEYS_DIR)
    .option('--private-calibration', 'keep the calibration samples out of the build (only their sha256 is recorded); an audit then needs its own data')
    .action(async (model: string, o) => {
      const bytes = readUserFile(model, 'model', 'ONNX_MALFORMED');
      const calibration = readUserJson(o.calibration, 'calibration data', 'CALIBRATION_INVALID');
      const m = await buildModel(bytes, calibration, o.out, {
        visibility: o.visibility,
        inputRange: o.inputRange ?? null,
        ...(o.activationBits !== undefined ? { activationBits: o.activationBits } : {}),
        ...(o.weightBits !== undefined ? { weightBits: o.weightBits } : {}),
        ptau: o.ptau ?? null,
        keysDir: o.keys,
        system: o.system,
        privateCalibration: Boolean(o.privateCalibration),
      }, progressPrinter());
      log(`${m.constraints.total} constraints; ${m.system}: ${m.domain.rows} rows, domain 2^${m.domain.power}; ceremony: ${m.ceremony.kind} (2^${m.ceremony.power})`);
      for (const l of m.constraints.layers) log(`  ${l.op.padEnd(18)} ${String(l.constraints).padStart(8)}  ${l.node}`);
      log(`accepted input range [${m.inputRange.accepted.join(', ')}]`);
      log(`verification key sha256 ${m.keys.vkeySha256}`);
      log(`trust ${m.trust.level}: can forge any proof: ${m.trust.canForge}`);
      process.stdout.write(`${path.resolve(o.out)}\n`);
    });

  cmd.command('prove')
    .description('prove one inference and write a receipt')
    .argument('<build>', 'build directory from zkinfer compile')
    .requiredOption('--input <file>', 'JSON {"input": nested array in the model input shape}')
    .requiredOption('--out <file>', 'receipt to write')
    .option('--no-disclose', 'hashed visibility: keep the input and salt out of the receipt')
    .action(async (build: string, o) => {
      const input = readInputFile(o.input);
      const prover = await ModelProver.load(build);
      if (prover.system === 'groth16') log(`prover kernels: ${proverKernels()}`);
      try {
        const { receipt } = await prover.prove(input, { disclose: o.disclose }, progressPrinter());
        fs.writeFileSync(o.out, `${JSON.stringify(receipt, null, 1)}\n`);
        log(`output ${JSON.stringify(receipt.output)}`);
        process.stdout.write(`${path.resolve(o.out)}\n`);
      } finally {
        await releaseCurve();
      }
    });

  cmd.command('verify')
    .description('verify a receipt offline; exit 0 valid, 1 invalid, 2 bad usage or input')
    .argument('<receipt.json>', 'receipt from zkinfer prove')
    .requiredOption('--model <build>', 'build directory (or its verification_key.json) of the model')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, o) => {
      const receipt = readUserJson(file, 'receipt', 'RECEIPT_INVALID');
      const vkey = readUserFile(keyFileOf(o.model), 'verification key', 'BUILD_INVALID').toString('utf8');
      const trust = buildTrust(o.model);
      try {
        const r = await verifyReceipt(receipt, vkey);
        if (o.json) process.stdout.write(`${JSON.stringify(trust ? { ...r, recordedTrust: { ...trust, checked: false } } : r)}\n`);
        else {
          if (!r.valid) process.stdout.write(`INVALID: ${r.reason}\n`);
          else {
            // What the proof is for: the input it was checked against, or only its commitment.
            const input = r.inputQuantized ? `input (quantized) [${r.inputQuantized.join(', ')}]` : 'input not disclosed';
            process.stdout.write(`valid: ${r.checked.join(', ')}\n${input}${r.commitment ? `\ninput commitment ${r.commitment}` : ''}\n`);
          }
          if (trust) process.stdout.write(`trust recorded by the build (not checked here; zkinfer audit checks it): ${trust.level}: can forge any proof: ${trust.canForge}\n`);
        }
        process.exitCode = r.valid ? EXIT.ok : EXIT.invalid;
      } finally {
        await releaseCurve();
      }
    });
  cmd.command('fidelity')
    .description('compare the float model (onnxruntime) and the proven integer model on test cases')
    .argument('<build>', 'build directory from zkinfer compile')
    .requiredOption('--data <file>', 'JSON with a "test" array of {input, label} (the NAME.data.json format)')
    .option('--json', 'print the report as JSON')
    .action(async (build: string, o) => {
      const data = readUserJson(o.data, 'fidelity data');
      const r = await fidelity(build, data);
      if (o.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      const pct = (x?: number) => (x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);
      const lines = [`cases            ${r.cases}${r.outOfRange ? ` (${r.outOfRange} outside the input range, left out)` : ''}`];
      if (r.task === 'classification') {
        lines.push(`top-1 agreement  ${pct(r.top1Agreement)} (integer model vs float model)`);
        lines.push(`accuracy         float ${pct(r.floatAccuracy)}, integer ${pct(r.integerAccuracy)}`);
      } else {
        lines.push(`MSE vs labels    float ${r.floatMse?.toPrecision(4)}, integer ${r.integerMse?.toPrecision(4)}`);
      }
      lines.push(`max |error|      ${r.maxAbsError.toPrecision(4)}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  cmd.command('serve')
    .description('run the HTTP API on the Redis queue (REDIS_URL, default redis://127.0.0.1:6379)')
    .option('--port <n>', 'port', intArg('--port'), 8080)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .action(async (o) => {
      const { serve } = await import('../server/run.js');
      const s = await serve({ port: o.port, host: o.host });
      await untilSignal(async () => s.close());
    });

  cmd.command('worker')
    .description('run a prover worker on the Redis queues (REDIS_URL); any number, on any machine')
    .option('--concurrency <n>', 'proofs at once', intArg('--concurrency'), 1)
    .action(async (o) => {
      const { worker } = await import('../server/run.js');
      const w = await worker({ concurrency: o.concurrency });
      const graceMs = Number(process.env.ZKINFER_SHUTDOWN_MS ?? 60_000);
      await untilSignal(async () => {
        // The bound holds even if Redis is gone and the queue cannot be told.
        setTimeout(() => process.exit(EXIT.invalid), graceMs + SHUTDOWN_SLACK_MS).unref();
        await w.close(graceMs);
      });
    });

  cmd.command('start')
    .description('the API and one worker on the bundled example model (an in-process queue if Redis is unreachable)')
    .option('--port <n>', 'port', intArg('--port'), 8080)
    .action(async (o) => {
      const { start } = await import('../server/run.js');
      const s = await start(ROOT, { port: o.port });
      process.stdout.write([
        '',
        `zkinfer API      ${s.url}  (queue: ${s.queue.kind === 'redis' ? 'Redis' : 'in-process, Redis unreachable'})`,
        `API key          ${s.apiKey}`,
        `example model    ${s.exampleModel}  (digits_mlp; GET ${s.url}/v1/models/${s.exampleModel})`,
        `request a proof  curl -s -H 'authorization: Bearer ${s.apiKey}' -H 'content-type: application/json' \\`,
        `                   -d @examples/digits_mlp/proof-request.json ${s.url}/v1/proofs`,
        `API description  ${s.url}/openapi.json`,
        '',
      ].join('\n'));
      await untilSignal(async () => s.close());
    });

  cmd.command('demo')
    .description('compile the bundled example model (once), prove one input and verify the receipt')
    .option('--out <dir>', 'build directory for the example', path.join(ROOT, 'build', 'example'))
    .action(async (o) => {
      const ex = path.join(ROOT, 'examples', 'digits_mlp');
      const onnx = fs.readFileSync(path.join(ex, 'model.onnx'));
      const calibration = JSON.parse(fs.readFileSync(path.join(ex, 'calibration.json'), 'utf8'));
      // Reused only when made from this ONNX file, calibration and options.
      if (reusableBuild(o.out, buildKeyFor(onnx, calibration))) log(`using the compiled example in ${o.out}`);
      else await buildModel(onnx, calibration, o.out, {}, progressPrinter());
      const { input, label } = JSON.parse(fs.readFileSync(path.join(ex, 'input.json'), 'utf8')) as { input: unknown; label: number };
      const prover = await ModelProver.load(o.out);
      try {
        const { receipt } = await prover.prove(input, {}, progressPrinter());
        const receiptFile = path.join(o.out, 'receipt.json');
        fs.writeFileSync(receiptFile, `${JSON.stringify(receipt, null, 1)}\n`);
        const v = await verifyReceipt(receipt, prover.vkeyText);
        const out = (receipt.output as number[][])[0];
        const digit = out.indexOf(Math.max(...out));
        process.stdout.write([
          `model        examples/digits_mlp (${prover.manifest.constraints.total} constraints, ${prover.manifest.ceremony.kind} ceremony)`,
          `prediction   ${digit} (label ${label})`,
          `receipt      ${receiptFile}`,
          `verification ${v.valid ? 'valid' : `INVALID: ${v.reason}`}`,
          `verify again npx zkinfer verify ${path.relative(process.cwd(), receiptFile)} --model ${path.relative(process.cwd(), o.out)}`,
          '',
        ].join('\n'));
        process.exitCode = v.valid ? EXIT.ok : EXIT.invalid;
      } finally {
        await releaseCurve();
      }
    });
  registerContractCommands(cmd);
  registerAuditCommands(cmd);
  registerCeremonyCommands(cmd);
  registerCircuitCommands(cmd);
  registerGroth16Commands(cmd);
  return cmd;
}

/**
 * The trust level a build directory's manifest recorded, or null for a bare
 * key file or a directory without a readable manifest: verify reports it, it
 * does not judge it.
 */
function buildTrust(model: string): TrustVerdict | null {
  const f = buildPath(model, 'manifest');
  if (!fs.existsSync(model) || !fs.statSync(model).isDirectory() || !fs.existsSync(f)) return null;
  try {
    return recordedTrust(JSON.parse(fs.readFileSync(f, 'utf8')) as Manifest);
  } catch {
    return null;
  }
}
/** After a worker's grace period: time to kill its prover processes and requeue their jobs. */
const SHUTDOWN_SLACK_MS = 10_000;

/** Resolves on SIGTERM or SIGINT after running the shutdown (graceful, bounded). */
function untilSignal(shutdown: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const stop = (sig: string) => {
      log(`${sig}: shutting down`);
      shutdown().then(resolve, (e) => {
        log(`shutdown failed: ${(e as Error).message}`);
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
