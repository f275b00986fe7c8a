import client from 'prom-client';
import type { JobQueue } from '../queue/job-queue.js';

/** Prometheus metrics: jobs by state, queue depth, phase durations. */
export class Metrics {
  readonly registry = new client.Registry();
  private readonly jobs = new client.Gauge({ name: 'zkinfer_jobs', help: 'jobs by queue and state', labelNames: ['queue', 'state'], registers: [this.registry] });
  private readonly depth = new client.Gauge({ name: 'zkinfer_queue_depth', help: 'proof jobs waiting', registers: [this.registry] });
  readonly phase = new client.Histogram({
    name: 'zkinfer_phase_seconds', help: 'duration of proof phases', labelNames: ['phase'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 120], registers: [this.registry],
  });
  readonly requests = new client.Counter({ name: 'zkinfer_http_requests_total', help: 'HTTP requests', labelNames: ['route', 'status'], registers: [this.registry] });

  constructor(private readonly queue: JobQueue) {
    client.collectDefaultMetrics({ register: this.registry });
  }

  async render(): Promise<string> {
    const counts = await this.queue.counts();
    this.jobs.reset();
    for (const [k, v] of Object.entries(counts)) {
      const [queue, state] = k.split('_');
      this.jobs.set({ queue, state }, v);
    }
    this.depth.set(counts.prove_waiting ?? 0);
    return this.registry.metrics();
  }
}
