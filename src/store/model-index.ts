import type { Redis } from 'ioredis';

/**
 * Which model ids each API key uploaded, and which are public: so a key's
 * listing holds all its models however many other tenants have, not just
 * those among the newest records of the queue.
 */
export interface ModelIndex {
  add(owner: string, modelId: string, visibility: 'private' | 'public'): Promise<void>;
  /** The owner's model ids and every public one. */
  visibleTo(owner: string): Promise<string[]>;
}

export class RedisModelIndex implements ModelIndex {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  async add(owner: string, modelId: string, visibility: 'private' | 'public'): Promise<void> {
    await this.redis.sadd(visibility === 'public' ? `${this.prefix}:models:public` : `${this.prefix}:models:owner:${owner}`, modelId);
  }

  async visibleTo(owner: string): Promise<string[]> {
    return this.redis.sunion(`${this.prefix}:models:owner:${owner}`, `${this.prefix}:models:public`);
  }
}

export class MemoryModelIndex implements ModelIndex {
  private readonly sets = new Map<string, Set<string>>();

  async add(owner: string, modelId: string, visibility: 'private' | 'public'): Promise<void> {
    const k = visibility === 'public' ? '' : owner;
    this.sets.set(k, (this.sets.get(k) ?? new Set()).add(modelId));
  }

  async visibleTo(owner: string): Promise<string[]> {
    return [...new Set([...(this.sets.get(owner) ?? []), ...(this.sets.get('') ?? [])])];
  }
}
