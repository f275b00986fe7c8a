import os from 'node:os';
import path from 'node:path';
import { DirStore, FetchingStore, type ArtifactStore } from '../src/store/store.js';

/** The artifact store a worker and its children use, from ZKINFER_STORE_DIR / ZKINFER_API_URL. */
export function storeFromEnv(env: NodeJS.ProcessEnv = process.env): ArtifactStore {
  const dir = env.ZKINFER_STORE_DIR ?? path.join(os.tmpdir(), 'zkinfer-store');
  const apiUrl = env.ZKINFER_API_URL ?? '';
  return apiUrl ? new FetchingStore(new DirStore(dir), apiUrl, env.ZKINFER_WORKER_TOKEN ?? null) : new DirStore(dir);
}

export const workDirFromEnv = (env: NodeJS.ProcessEnv = process.env): string => env.ZKINFER_WORK_DIR ?? path.join(os.tmpdir(), 'zkinfer-work');
