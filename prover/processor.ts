/**
 * Sandboxed job processor: BullMQ runs it in a child process, so a long proof
 * never blocks the worker's event loop and its job locks keep renewing.
 * The child is reused across jobs, so loaded models stay loaded.
 */
import os from 'node:os';
import path from 'node:path';
import type { SandboxedJob } from 'bullmq';
import { DirStore, FetchingStore, type ArtifactStore } from '../src/store/store.js';
import { runCompileJob } from '../src/jobs/compile-job.js';
import { runProveJob } from '../src/jobs/prove-job.js';
import type { CompileJobData, JobStatus, ProveJobData } from '../src/queue/jobs.js';
import { isZkinferError } from '../src/errors.js';

const storeDir = process.env.ZKINFER_STORE_DIR ?? path.join(os.tmpdir(), 'zkinfer-store');
const workDir = process.env.ZKINFER_WORK_DIR ?? path.join(os.tmpdir(), 'zkinfer-work');
const apiUrl = process.env.ZKINFER_API_URL ?? '';
const store: ArtifactStore = apiUrl ? new FetchingStore(new DirStore(storeDir), apiUrl, process.env.ZKINFER_WORKER_TOKEN ?? null) : new DirStore(storeDir);

/** Failures the caller caused, or a witness that cannot be satisfied: retrying cannot help. */
function unrecoverable(e: unknown): Error {
  const err = new Error(e instanceof Error ? e.message : String(e));
  if (isZkinferError(e) && (e.userFault || e.code === 'WITNESS_FAILED' || e.code === 'QUANTIZATION_FAILED')) err.name = 'UnrecoverableError';
  return err;
}

export default async function process_(job: SandboxedJob): Promise<unknown> {
  const phase = (s: JobStatus) => void job.updateProgress({ phase: s, at: Date.now() });
  try {
    if (job.name === 'compile') {
      phase('compiling');
      return await runCompileJob(job.data as CompileJobData, store, workDir, () => {});
    }
    return await runProveJob(job.data as ProveJobData, store, path.join(workDir, 'models'), phase);
  } catch (e) {
    throw unrecoverable(e);
  }
}
