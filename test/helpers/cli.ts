import { spawn } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'bin', 'zkinfer.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real zkinfer CLI in a child process, with `env` added to this one's environment. */
export function runCli(args: string[], cwd?: string, env?: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
