import type { Phase } from '../progress.js';
import type { CompileJobData, CompileResult, JobStatus, ProveJobData, ProveResult } from './jobs.js';
import type { JobFailure } from './failure.js';

export interface JobView<D, R> {
  id: string;
  status: JobStatus;
  /** While running: the pipeline phase and the share of the job done (0 to 1; 1 once done). */
  phase: Phase | null;
  progress: number;
  data: D;
  result: R | null;
  /** Why a failed job failed: its error code and message. */
  error: JobFailure | null;
  attempts: number;
  createdAt: number;
  finishedAt: number | null;
}

export type CompileView = JobView<CompileJobData, CompileResult>;
export type ProveView = JobView<ProveJobData, ProveResult>;

export type FinishedListener = (kind: 'compile' | 'prove', id: string) => void;

/**
 * What the API needs of a queue. BullQueue is the distributed one (Redis);
 * LocalQueue runs jobs in this process, for a single machine without Redis.
 */
export interface JobQueue {
  readonly kind: 'redis' | 'local';
  addCompile(data: CompileJobData): Promise<void>;
  /** Forgets a compile job, so the model can be compiled again. */
  removeCompile(id: string): Promise<void>;
  addProve(data: ProveJobData): Promise<string>;
  getCompile(id: string): Promise<CompileView | null>;
  getProve(id: string): Promise<ProveView | null>;
  listCompiles(limit: number): Promise<CompileView[]>;
  /** Resolves when the job ends or after ms, whichever is first. */
  waitProve(id: string, ms: number): Promise<void>;
  onFinished(listener: FinishedListener): void;
  counts(): Promise<Record<string, number>>;
  /** Worker processes taking jobs now (heartbeats in Redis; the local queue counts itself). */
  liveWorkers(): Promise<number>;
  close(): Promise<void>;
}
