import crypto from 'node:crypto';
import type { CompileJobData, CompileResult, JobStatus, ProveJobData, ProveResult, ReportProgress } from './jobs.js';
import type { Phase } from '../progress.js';
import type { FinishedListener, JobQueue, JobView } from './job-queue.js';
import { failureOf, type JobFailure } from './failure.js';

export interface LocalProcessors {
  compile(data: CompileJobData, report: ReportProgress): Promise<CompileResult>;
  prove(data: ProveJobData, report: ReportProgress): Promise<ProveResult>;
}

/**
 * In-process queue for one machine without Redis: jobs run one at a time in
 * this process and live only as long as it does.
 */
export class LocalQueue implements JobQueue {
  readonly kind = 'local' as const;
  private readonly jobs = { compile: new Map<string, JobView<CompileJobData, CompileResult>>(), prove: new Map<string, JobView<ProveJobData, ProveResult>>() };
  private readonly waiting: Array<['compile' | 'prove', string]> = [];
  private readonly listeners: FinishedListener[] = [];
  private readonly waiters = new Map<string, Array<() => void>>();
  private running = false;
  private closed = false;

  constructor(private readonly processors: LocalProcessors) {}

  private enqueue(kind: 'compile' | 'prove', id: string) {
    this.waiting.push([kind, id]);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.running || this.closed) return;
    this.running = true;
    try {
      while (this.waiting.length && !this.closed) {
        const [kind, id] = this.waiting.shift()!;
        const job = this.jobs[kind].get(id)! as JobView<unknown, unknown>;
        job.status = kind === 'compile' ? 'compiling' : 'witness';
        job.attempts++;
        try {
          const phase: ReportProgress = (p) => {
            job.status = p.status;
            job.phase = p.phase;
            job.progress = p.progress;
          };
          job.result = kind === 'compile'
            ? await this.processors.compile(job.data as CompileJobData, phase)
            : await this.processors.prove(job.data as ProveJobData, phase);
          job.status = 'done';
          job.phase = null;
          job.progress = 1;
        } catch (e) {
          job.status = 'failed';
          job.phase = null;
          job.error = failureOf(e);
        }
        job.finishedAt = Date.now();
        this.listeners.forEach((l) => l(kind, id));
        (this.waiters.get(id) ?? []).forEach((w) => w());
        this.waiters.delete(id);
      }
    } finally {
      this.running = false;
    }
  }

  private create<D>(data: D, id: string) {
    return { id, status: 'queued' as JobStatus, phase: null as Phase | null, progress: 0, data, result: null, error: null as JobFailure | null, attempts: 0, createdAt: Date.now(), finishedAt: null };
  }

  async addCompile(data: CompileJobData): Promise<void> {
    if (this.jobs.compile.has(data.modelId)) return;
    this.jobs.compile.set(data.modelId, this.create(data, data.modelId));
    this.enqueue('compile', data.modelId);
  }

  async removeCompile(id: string): Promise<void> {
    this.jobs.compile.delete(id);
  }

  async addProve(data: ProveJobData): Promise<string> {
    const id = crypto.randomUUID();
    this.jobs.prove.set(id, this.create(data, id));
    this.enqueue('prove', id);
    return id;
  }

  async getCompile(id: string) {
    return this.jobs.compile.get(id) ?? null;
  }

  async getProve(id: string) {
    return this.jobs.prove.get(id) ?? null;
  }

  async listCompiles(limit: number) {
    return [...this.jobs.compile.values()].slice(-limit);
  }

  async waitProve(id: string, ms: number): Promise<void> {
    const job = this.jobs.prove.get(id);
    if (!job || job.status === 'done' || job.status === 'failed') return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.set(id, [...(this.waiters.get(id) ?? []), () => (clearTimeout(t), resolve())]);
    });
  }

  onFinished(listener: FinishedListener): void {
    this.listeners.push(listener);
  }

  async counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const kind of ['compile', 'prove'] as const) {
      for (const j of this.jobs[kind].values()) {
        const state = j.status === 'done' ? 'completed' : j.status === 'failed' ? 'failed' : j.status === 'queued' ? 'waiting' : 'active';
        out[`${kind}_${state}`] = (out[`${kind}_${state}`] ?? 0) + 1;
      }
    }
    return out;
  }

  async liveWorkers(): Promise<number> {
    return this.closed ? 0 : 1;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
