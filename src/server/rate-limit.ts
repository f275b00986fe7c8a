import type { RequestHandler, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { HttpError } from './http-error.js';

/**
 * Fixed-window counters: in Redis when there is one, so every API instance
 * counts together; in memory otherwise.
 */
export class WindowCounter {
  private readonly local = new Map<string, number>();

  constructor(private readonly redis: Redis | null, private readonly prefix: string) {}

  private key(name: string, windowSeconds: number): { k: string; resetIn: number } {
    const now = Math.floor(Date.now() / 1000);
    const window = Math.floor(now / windowSeconds);
    return { k: `${this.prefix}:rl:${name}:${windowSeconds}:${window}`, resetIn: (window + 1) * windowSeconds - now };
  }

  /** Counts one event; returns the count in the current window and the seconds until it ends. */
  async hit(name: string, windowSeconds: number): Promise<{ n: number; resetIn: number }> {
    const { k, resetIn } = this.key(name, windowSeconds);
    if (this.redis) {
      const [[, n]] = (await this.redis.multi().incr(k).expire(k, windowSeconds + 1).exec()) as [[unknown, number]];
      return { n, resetIn };
    }
    const n = (this.local.get(k) ?? 0) + 1;
    if (this.local.size > 10_000) this.local.clear();
    this.local.set(k, n);
    return { n, resetIn };
  }

  /** The count in the current window, without counting. */
  async peek(name: string, windowSeconds: number): Promise<{ n: number; resetIn: number }> {
    const { k, resetIn } = this.key(name, windowSeconds);
    const n = this.redis ? Number((await this.redis.get(k)) ?? 0) : this.local.get(k) ?? 0;
    return { n, resetIn };
  }
}

/**
 * A per-minute limit on whatever `who` names (an API key id, a client IP);
 * `limit` may depend on the request (per-key limits).
 */
export function rateLimit(counter: WindowCounter, scope: string, who: (req: Request, res: Response) => string, limit: (req: Request, res: Response) => number): RequestHandler {
  return async (req, res, next) => {
    const max = limit(req, res);
    let n: number;
    let resetIn: number;
    try {
      ({ n, resetIn } = await counter.hit(`${scope}:${who(req, res)}`, 60));
    } catch (e) {
      return next(e);
    }
    res.setHeader('x-ratelimit-limit', String(max));
    res.setHeader('x-ratelimit-remaining', String(Math.max(0, max - n)));
    if (n > max) {
      res.setHeader('retry-after', String(resetIn));
      return next(new HttpError(429, 'RATE_LIMITED', `rate limit of ${max} requests per minute exceeded; retry after ${resetIn} s`));
    }
    next();
  };
}
