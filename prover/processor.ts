/**
 * What a prover child runs: one compile or proof job, with the artifact store
 * this machine uses. Proof children are reused across jobs, so loaded models
 * stay loaded; each compile has a child of its own.
 */
import path from 'node:path';
import type { ArtifactStore } from '../src/store/store.js';
import { runCompileJob } from '../src/jobs/compile-job.js';
import { runProveJob } from '../src/jobs/prove-job.js';
import { jobProgress, type CompileJobData, type ProveJobData, type ReportProgress } from '../src/queue/jobs.js';
import { ZkinferError, isZkinferError } from '../src/errors.js';
import { failureOf, type JobFailure } from '../src/queue/failure.js';
import { storeFromEnv, workDirFromEnv } from './store.js';

export type JobKind = 'compile' | 'prove';

let store: ArtifactStore | null = null;

export async function runJob(kind: JobKind, data: unknown, report: ReportProgress): Promise<unknown> {
  store ??= storeFromEnv();
  if (kind === 'compile') {
    report({ status: 'compiling', phase: null, progress: 0 });
    return runCompileJob(data as CompileJobData, store, workDirFromEnv(), (e) => report(jobProgress(e)));
  }
  try {
    return await runProveJob(data as ProveJobData, store, path.join(workDirFromEnv(), 'models'), (e) => report(jobProgress(e)));
  } catch (e) {
    // A proof's build directory is made here from stored artifacts: if it does
    // not load, a stored artifact is at fault, not the caller.
    if (isZkinferError(e) && e.code === 'BUILD_INVALID') throw new ZkinferError('ARTIFACT_CORRUPT', `stored model artifact: ${e.message}`, { cause: e });
    throw e;
  }
}

/** The failure to report for an error a job threw. */
export const jobFailure = (e: unknown): JobFailure => failureOf(e);
