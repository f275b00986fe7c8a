import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { overall, BUILD_WEIGHTS, PROVE_WEIGHTS, runPhase, type ProgressEvent } from '../src/progress.js';
import { progressPrinter } from '../src/cli/progress.js';
import { jobProgress, type CompileJobData, type CompileResult, type ProveJobData, type ProveResult } from '../src/queue/jobs.js';
import { LocalQueue } from '../src/queue/local-queue.js';
import { lowerProgram, compileInput } from '../src/lower/index.js';
import { readProgram } from '../src/build/program-file.js';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { buildPath } from '../src/paths.js';
import fs from 'node:fs';

const capture = (tty: boolean) => {
  const s = new PassThrough() as unknown as NodeJS.WriteStream;
  let text = '';
  (s as unknown as PassThrough).on('data', (d) => (text += d));
  return { print: progressPrinter(s, tty), text: () => text };
};

describe('progress', () => {
  it('a job\'s share done rises through the phases and ends at 1', () => {
    const seq: ProgressEvent[] = [
      { phase: 'quantize', fraction: 0 }, { phase: 'quantize', fraction: 1 }, { phase: 'compile', fraction: 0.5 },
      { phase: 'ceremony', fraction: 0.2 }, { phase: 'setup', fraction: 0.9 }, { phase: 'setup', fraction: 1 },
    ];
    const xs = seq.map((e) => overall(BUILD_WEIGHTS, e));
    expect(xs[0]).toBe(0);
    xs.slice(1).forEach((x, i) => expect(x).toBeGreaterThanOrEqual(xs[i]));
    expect(xs.at(-1)).toBe(1);
    expect(overall(PROVE_WEIGHTS, { phase: 'proof', fraction: 1 })).toBe(1);
    expect(jobProgress({ phase: 'witness', fraction: 1 })).toEqual({ status: 'witness', phase: 'witness', progress: 0.05 });
    expect(jobProgress({ phase: 'setup', fraction: 0 }).status).toBe('compiling');
  });

  it('the CLI prints a line per tenth without a terminal, and a bar with percent on one', async () => {
    const plain = capture(false);
    const timings: Record<string, number> = {};
    await runPhase(plain.print, 'setup', timings, (f) => {
      for (let i = 1; i < 100; i++) f(i / 100);
    });
    const lines = plain.text().trim().split('\n');
    expect(lines.filter((l) => /setup \d+%/.test(l)).map((l) => /(\d+)%/.exec(l)![1])).toEqual(['0', '10', '20', '30', '40', '50', '60', '70', '80', '90']);
    expect(lines.at(-1)).toMatch(/setup: done in \d+\.\d\d s/);
    expect(timings.setup).toBeGreaterThanOrEqual(0);
    const tty = capture(true);
    tty.print({ phase: 'witness', fraction: 0.5 });
    expect(tty.text()).toMatch(/\r\[zkinfer\] witness +\[#{14}-{14}\]  50% ETA \d+ s/);
  });

  it('compiling reports each layer', async () => {
    const dir = await ensureBuild('digits_mlp', fs.readFileSync(fixture('digits_mlp.onnx')), loadJson(fixture('digits_mlp.data.json')));
    const p = readProgram(buildPath(dir, 'program'));
    const seen: number[] = [];
    lowerProgram(p, compileInput(p), { onLayer: (k, n) => seen.push(k / n) });
    expect(seen).toEqual(p.layers.map((_, i) => (i + 1) / p.layers.length));
  });

  it('a running job shows its phase and share done; a finished one progress 1', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new LocalQueue({
      compile: async () => ({}) as CompileResult,
      prove: async (_d, report) => {
        report(jobProgress({ phase: 'witness', fraction: 1 }));
        report(jobProgress({ phase: 'proof', fraction: 0.5 }));
        await gate;
        return { receipt: {}, timings: { witness: 1, prove: 1, total: 2 } } as unknown as ProveResult;
      },
    });
    const id = await q.addProve({ modelId: 'm', input: [] } as unknown as ProveJobData);
    await new Promise((r) => setTimeout(r, 20));
    const running = (await q.getProve(id))!;
    expect(running.status).toBe('proving');
    expect(running.phase).toBe('proof');
    expect(running.progress).toBeCloseTo(0.525, 3);
    release();
    await q.waitProve(id, 1000);
    const done = (await q.getProve(id))!;
    expect([done.status, done.phase, done.progress]).toEqual(['done', null, 1]);
    void ({} as CompileJobData);
    await q.close?.();
  });
});
