/**
 * Worker heartbeats: each worker process keeps its name in one sorted set per
 * queue namespace, scored by when its heartbeat expires. A worker that dies
 * (even by SIGKILL) drops out when its score passes; no key per worker to scan.
 */
interface HeartbeatClient {
  zadd(key: string, score: number, member: string): Promise<unknown>;
  zrem(key: string, member: string): Promise<unknown>;
  zremrangebyscore(key: string, min: number | string, max: number | string): Promise<unknown>;
  zcount(key: string, min: number | string, max: number | string): Promise<number>;
}

export const HEARTBEAT = Object.freeze({
  /** How often a worker announces itself. @defaultValue 5000 */
  intervalMs: 5000,
  /** How long an announcement holds. @defaultValue 15000 */
  ttlMs: 15_000,
});

export const workersKey = (prefix: string): string => `${prefix}:workers`;

export async function beat(redis: HeartbeatClient, prefix: string, name: string, ttlMs: number, now = Date.now()): Promise<void> {
  await redis.zadd(workersKey(prefix), now + ttlMs, name);
}

export async function leave(redis: HeartbeatClient, prefix: string, name: string): Promise<void> {
  await redis.zrem(workersKey(prefix), name);
}

/** Workers whose heartbeat has not expired. */
export async function liveWorkers(redis: HeartbeatClient, prefix: string, now = Date.now()): Promise<number> {
  await redis.zremrangebyscore(workersKey(prefix), '-inf', now);
  return redis.zcount(workersKey(prefix), now, '+inf');
}
