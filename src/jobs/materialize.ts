import fs from 'node:fs';
import path from 'node:path';
import type { ArtifactStore } from '../store/store.js';
import { ARTIFACT_FILES, type Artifacts } from '../queue/jobs.js';
import { buildPath } from '../paths.js';

/** Writes a model's artifacts from the store into a build directory (once). */
export async function materializeBuild(store: ArtifactStore, artifacts: Artifacts, dir: string): Promise<void> {
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return;
  for (const name of ARTIFACT_FILES) {
    const bytes = await store.get(artifacts[name]);
    if (!bytes) throw new Error(`artifact ${name} (${artifacts[name]}) is not in the store`);
    const p = buildPath(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, bytes);
  }
  fs.writeFileSync(done, '');
}

/** Puts a build directory's artifacts into the store. */
export async function storeBuild(store: ArtifactStore, dir: string): Promise<Artifacts> {
  const out = {} as Artifacts;
  for (const name of ARTIFACT_FILES) out[name] = await store.put(fs.readFileSync(buildPath(dir, name)));
  return out;
}
