import type { Redis } from 'ioredis';
import type { ProofSystem } from '../receipt/receipt.js';

/** A verification key this service made, and the model it belongs to. */
export interface RegisteredModel {
  readonly modelId: string;
  readonly onnxSha256: string;
  readonly vkeySha256: string;
  readonly system: ProofSystem;
  /** The setup's kind (development, ceremony…), as its manifest records it. */
  readonly ceremony: string;
}

/**
 * The verification keys of models this service compiled, by key sha256: what
 * /v1/verify and /v1/keys trust. The artifact store holds whatever bytes were
 * put there; only keys recorded here, from compile jobs that completed, are
 * vouched for.
 */
export interface ModelRegistry {
  record(m: RegisteredModel): Promise<void>;
  lookup(vkeySha256: string): Promise<RegisteredModel | null>;
}

/** In Redis (one hash), shared by every API instance. */
export class RedisRegistry implements ModelRegistry {
  private readonly key: string;
  private readonly seen = new Map<string, RegisteredModel>();

  constructor(private readonly redis: Redis, prefix: string) {
    this.key = `${prefix}:registry:vkeys`;
  }

  async record(m: RegisteredModel): Promise<void> {
    if (this.seen.get(m.vkeySha256)?.modelId === m.modelId) return;
    await this.redis.hset(this.key, m.vkeySha256, JSON.stringify(m));
    this.seen.set(m.vkeySha256, m);
  }

  async lookup(vkeySha256: string): Promise<RegisteredModel | null> {
    const hit = this.seen.get(vkeySha256);
    if (hit) return hit;
    const text = await this.redis.hget(this.key, vkeySha256);
    if (!text) return null;
    const m = JSON.parse(text) as RegisteredModel;
    // Entries are never removed, so remembering them is safe; the bound keeps memory flat.
    if (this.seen.size >= 10_000) this.seen.clear();
    this.seen.set(vkeySha256, m);
    return m;
  }
}

/** In this process only (the in-process queue of `npm start` without Redis). */
export class MemoryRegistry implements ModelRegistry {
  private readonly models = new Map<string, RegisteredModel>();

  async record(m: RegisteredModel): Promise<void> {
    this.models.set(m.vkeySha256, m);
  }

  async lookup(vkeySha256: string): Promise<RegisteredModel | null> {
    return this.models.get(vkeySha256) ?? null;
  }
}
