/**
 * Entry of a prover child process. It runs the jobs its worker sends over IPC
 * and dies with its worker: when the IPC channel closes, and, should a long
 * synchronous computation block this event loop, from a watch thread that
 * sees the parent process change.
 */
import { Worker } from 'node:worker_threads';
import type { JobKind } from './processor.js';
import type { JobProgress } from '../src/queue/jobs.js';

export type ToChild = { type: 'run'; id: string; kind: JobKind; data: unknown };
export type FromChild =
  | { type: 'ready' }
  | { type: 'progress'; id: string; progress: JobProgress }
  | { type: 'done'; id: string; value: unknown }
  | { type: 'failed'; id: string; error: { code: string; message: string } };

/** How often the watch thread looks at the parent. */
const WATCH_MS = 500;

function watchParent(): void {
  process.on('disconnect', () => process.exit(70));
  // Runs on its own thread, so it fires even while a proof blocks the main one.
  const w = new Worker(
    `const { workerData } = require('node:worker_threads');
     setInterval(() => { if (process.ppid !== workerData.ppid) process.kill(workerData.pid, 'SIGKILL'); }, workerData.ms);`,
    { eval: true, workerData: { ppid: process.ppid, pid: process.pid, ms: WATCH_MS }, execArgv: [] },
  );
  w.unref();
}

function send(m: FromChild): void {
  if (process.connected) process.send!(m);
}

if (process.send) {
  // Watch first: loading the prover (onnxruntime, snarkjs) takes seconds, and a
  // worker killed meanwhile must not leave this process behind.
  watchParent();
  const { runJob, jobFailure } = await import('./processor.js');
  process.on('message', (m: ToChild) => {
    if (m?.type !== 'run') return;
    runJob(m.kind, m.data, (progress: JobProgress) => send({ type: 'progress', id: m.id, progress })).then(
      (value) => send({ type: 'done', id: m.id, value }),
      (e) => send({ type: 'failed', id: m.id, error: jobFailure(e) }),
    );
  });
  send({ type: 'ready' });
}
