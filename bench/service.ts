/**
 * Service benchmark against the real Redis: HTTP verify latency (autocannon
 * on loopback), queue overhead per job (time to a receipt minus the worker's
 * own proving time) and proof throughput with 1 and 2 workers on digits_mlp.
 */
import fs from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { startService, call, uploadModel, waitProof } from '../test/helpers/service.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const data = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'digits_mlp.data.json'), 'utf8'));
const onnx = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'digits_mlp.onnx'));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function throughput(url: string, model: string, n: number) {
  const t0 = performance.now();
  const ids = await Promise.all(Array.from({ length: n }, async (_, i) => (await call(`${url}/v1/proofs`, 'POST', { model, input: data.test[i % 100].input })).json.id as string));
  const done = await Promise.all(ids.map((id) => waitProof(url, id, 600)));
  const secs = (performance.now() - t0) / 1000;
  if (done.some((d) => d.status !== 'done')) throw new Error('a bench proof failed');
  return { proofs: n, seconds: Math.round(secs * 100) / 100, perSecond: Math.round((n / secs) * 100) / 100 };
}

const out: Record<string, unknown> = {};
for (const workers of [1, 2]) {
  // The verify throughput runs below would otherwise meet the per-IP verify limit.
  const svc = await startService(`bench${workers}`, workers, { config: { verifyRateLimitPerMinute: 1_000_000 } });
  try {
    const model = await uploadModel(svc.url, onnx, data.calibration);
    // Warm every worker's model cache.
    await throughput(svc.url, model, 2 * workers);
    if (workers === 1) {
      // Queue overhead: one job at a time, receipt wall time minus proving time.
      const overhead: number[] = [];
      let receipt: unknown = null;
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        const r = await call(`${svc.url}/v1/proofs`, 'POST', { model, input: data.test[i].input });
        const d = await waitProof(svc.url, r.json.id);
        overhead.push(performance.now() - t0 - d.timings.total);
        receipt = d.receipt;
      }
      out.queueOverheadMs = { p50: Math.round(pct(overhead, 50)), p90: Math.round(pct(overhead, 90)) };
      const body = JSON.stringify({ receipt });
      // Latency with one client at a time, then throughput with four.
      const one = await autocannon({ url: `${svc.url}/v1/verify`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 1, duration: 10 });
      const four = await autocannon({ url: `${svc.url}/v1/verify`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 4, duration: 10 });
      out.verifyHttp = {
        p50Ms: one.latency.p50, p99Ms: one.latency.p99, rps1: Math.round(one.requests.average),
        p50Ms4: four.latency.p50, p99Ms4: four.latency.p99, rps4: Math.round(four.requests.average),
        non2xx: one.non2xx + four.non2xx,
      };
    }
    out[`throughput${workers}w`] = await throughput(svc.url, model, 20);
  } finally {
    await svc.close();
  }
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
