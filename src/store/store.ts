import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from '../hash.js';

export const HASH_RE = /^[0-9a-f]{64}$/;

/** Content-addressed artifacts: bytes are stored and fetched by their sha256. */
export interface ArtifactStore {
  put(bytes: Uint8Array): Promise<string>;
  get(hash: string): Promise<Buffer | null>;
  has(hash: string): Promise<boolean>;
}

/** A directory store: DIR/ab/abcdef… Writes are atomic (rename), reads are checked. */
export class DirStore implements ArtifactStore {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  pathOf(hash: string): string {
    if (!HASH_RE.test(hash)) throw new Error(`not a sha256: ${hash}`);
    return path.join(this.dir, hash.slice(0, 2), hash);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hash = sha256(bytes);
    const p = this.pathOf(hash);
    if (!fs.existsSync(p)) {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      const tmp = `${p}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
      await fs.promises.writeFile(tmp, bytes);
      await fs.promises.rename(tmp, p);
    }
    return hash;
  }

  async get(hash: string): Promise<Buffer | null> {
    const p = this.pathOf(hash);
    if (!fs.existsSync(p)) return null;
    const b = await fs.promises.readFile(p);
    if (sha256(b) !== hash) {
      await fs.promises.rm(p, { force: true });
      return null;
    }
    return b;
  }

  async has(hash: string): Promise<boolean> {
    return fs.existsSync(this.pathOf(hash));
  }
}

/**
 * A local store that fetches what it lacks from a zkinfer API by hash, and
 * checks the hash before keeping it: how a worker on another machine gets
 * a model's artifacts.
 */
export class FetchingStore implements ArtifactStore {
  constructor(private readonly local: DirStore, private readonly apiUrl: string, private readonly token: string | null) {}

  async put(bytes: Uint8Array): Promise<string> {
    const hash = await this.local.put(bytes);
    const res = await fetch(`${this.apiUrl}/v1/artifacts/${hash}`, {
      method: 'PUT',
      body: bytes as Uint8Array<ArrayBuffer>,
      headers: { 'content-type': 'application/octet-stream', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
    });
    if (!res.ok) throw new Error(`uploading artifact ${hash} failed: HTTP ${res.status}`);
    return hash;
  }

  async get(hash: string): Promise<Buffer | null> {
    const have = await this.local.get(hash);
    if (have) return have;
    const res = await fetch(`${this.apiUrl}/v1/artifacts/${hash}`, { headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`fetching artifact ${hash} failed: HTTP ${res.status}`);
    const b = Buffer.from(await res.arrayBuffer());
    if (sha256(b) !== hash) throw new Error(`artifact ${hash} arrived with another hash: refused`);
    await this.local.put(b);
    return b;
  }

  async has(hash: string): Promise<boolean> {
    return (await this.local.has(hash)) || (await this.get(hash)) !== null;
  }
}
