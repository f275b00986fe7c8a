import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { HttpError } from './http-error.js';

const keyId = (key: string) => crypto.createHash('sha256').update(key).digest('hex').slice(0, 16);

/** Bearer authentication against the configured keys (compared in constant time). */
export function requireKey(keys: readonly string[]): RequestHandler {
  const hashes = keys.map((k) => crypto.createHash('sha256').update(k).digest());
  return (req, res, next) => {
    const m = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
    if (!m) return next(new HttpError(401, 'UNAUTHENTICATED', 'missing API key: send Authorization: Bearer <key>'));
    const h = crypto.createHash('sha256').update(m[1]).digest();
    if (!hashes.some((k) => crypto.timingSafeEqual(k, h))) return next(new HttpError(401, 'UNAUTHENTICATED', 'invalid API key'));
    res.locals.keyId = keyId(m[1]);
    next();
  };
}

/** Fixed-window rate limit per API key; counted in Redis when there is one, so every API instance shares it. */
export function rateLimit(perMinute: number, redis: Redis | null, prefix: string): RequestHandler {
  const local = new Map<string, number>();
  return async (req, res, next) => {
    const window = Math.floor(Date.now() / 60_000);
    const k = `${prefix}:rl:${res.locals.keyId}:${window}`;
    let n: number;
    try {
      if (redis) {
        n = await redis.incr(k);
        if (n === 1) await redis.expire(k, 61);
      } else {
        n = (local.get(k) ?? 0) + 1;
        local.set(k, n);
        if (local.size > 10_000) local.clear();
      }
    } catch (e) {
      return next(e);
    }
    res.setHeader('x-ratelimit-limit', String(perMinute));
    res.setHeader('x-ratelimit-remaining', String(Math.max(0, perMinute - n)));
    if (n > perMinute) return next(new HttpError(429, 'RATE_LIMITED', `rate limit of ${perMinute} requests per minute exceeded; retry after ${60 - (Math.floor(Date.now() / 1000) % 60)} s`));
    next();
  };
}
