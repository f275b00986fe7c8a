import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { ZkinferError } from '../errors.js';

const require = createRequire(import.meta.url);

export interface CircomStats {
  nonLinear: number;
  linear: number;
  publicInputs: number;
  privateInputs: number;
  publicOutputs: number;
  wires: number;
}

const num = (out: string, label: string): number => {
  const m = new RegExp(`${label}:\\s*(\\d+)`).exec(out);
  return m ? Number(m[1]) : 0;
};

/**
 * Runs the circom 2 compiler (WebAssembly build) on `file` inside `cwd`, with
 * full simplification (--O2) so linear wiring folds into the gadgets.
 * The compiler only sees `cwd` and its parents, so includes are copied there.
 */
export function runCircom(cwd: string, file: string, onLine?: (l: string) => void): Promise<CircomStats> {
  const cli = require.resolve('circom2/cli.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, file, '--r1cs', '--wasm', '--sym', '--O2', '-o', '.'], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const take = (d: Buffer) => {
      const s = d.toString().replace(/\x1b\[[0-9;]*m/g, '');
      out += s;
      s.split('\n').filter(Boolean).forEach((l) => onLine?.(l));
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (e) => reject(new ZkinferError('COMPILE_FAILED', `could not run circom2: ${e.message}`)));
    child.on('close', (code) => {
      if (code !== 0 || /error\[/.test(out)) {
        reject(new ZkinferError('COMPILE_FAILED', `circom2 failed (exit ${code}):\n${out.slice(-4000)}`));
        return;
      }
      resolve({
        nonLinear: num(out, 'non-linear constraints'),
        linear: num(out, 'linear constraints'),
        publicInputs: num(out, 'public inputs'),
        privateInputs: num(out, 'private inputs'),
        publicOutputs: num(out, 'public outputs'),
        wires: num(out, 'wires'),
      });
    });
  });
}
