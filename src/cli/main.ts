import { CommanderError, type Command } from 'commander';
import { isZkinferError } from '../errors.js';
import { EXIT, exitCodeOf } from './exit.js';

export { EXIT } from './exit.js';

const log = (msg: string) => process.stderr.write(`[zkinfer] ${msg}\n`);

/**
 * The commands argv needs: `groth16 ...` (a rapidsnark-style prover run,
 * often once per process) loads only its own modules, not the compiler,
 * server and contract tooling every other command pulls in.
 */
async function programFor(argv: readonly string[]): Promise<Command> {
  if (argv[0] === 'groth16') {
    const [{ baseCommand }, { registerGroth16Commands }] = await Promise.all([import('./base.js'), import('./groth16.js')]);
    const cmd = baseCommand();
    registerGroth16Commands(cmd);
    return cmd;
  }
  return (await import('./program.js')).program();
}

export async function main(argv: string[]): Promise<number> {
  process.exitCode = 0;
  try {
    await (await programFor(argv)).parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (isZkinferError(e)) {
      log(`error ${e.code}: ${e.message}`);
      return exitCodeOf(e);
    }
    log(`internal error: ${(e as Error).stack ?? e}`);
    return EXIT.invalid;
  }
}

process.exitCode = await main(process.argv.slice(2));
