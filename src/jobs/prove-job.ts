import { NO_PROGRESS, type OnProgress } from '../progress.js';
import path from 'node:path';
import type { ArtifactStore } from '../store/store.js';
import type { JobStatus, ProveJobData, ProveResult } from '../queue/jobs.js';
import { ModelProver } from '../prove/index.js';
import { materializeBuild } from './materialize.js';

/** Models kept loaded (proving key, witness calculator) between jobs. */
const MAX_LOADED = 4;
const loaded = new Map<string, Promise<ModelProver>>();

async function proverFor(store: ArtifactStore, data: ProveJobData, cacheDir: string): Promise<ModelProver> {
  const key = data.artifacts.vkey;
  let p = loaded.get(key);
  if (!p) {
    p = (async () => {
      const dir = path.join(cacheDir, key);
      await materializeBuild(store, data.artifacts, dir);
      return ModelProver.load(dir);
    })();
    p.catch(() => loaded.delete(key));
    if (loaded.size >= MAX_LOADED) loaded.delete(loaded.keys().next().value!);
    loaded.set(key, p);
  } else {
    // Most recently used last.
    loaded.delete(key);
    loaded.set(key, p);
  }
  return p;
}

/** Proves one input for one model, reporting its phases. */
export async function runProveJob(data: ProveJobData, store: ArtifactStore, cacheDir: string, progress: OnProgress = NO_PROGRESS): Promise<ProveResult> {
  const t0 = performance.now();
  const prover = await proverFor(store, data, cacheDir);
  const { receipt, timings } = await prover.prove(data.input, { disclose: data.disclose }, progress);
  return { receipt, timings: { ...timings, total: Math.round(performance.now() - t0) } };
}
