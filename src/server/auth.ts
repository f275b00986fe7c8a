import crypto from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { HttpError } from './http-error.js';
import type { WindowCounter } from './rate-limit.js';

/** The id logs and job records use for an API key: never the key itself. */
export const keyId = (key: string) => crypto.createHash('sha256').update(key).digest('hex').slice(0, 16);

const digest = (s: string) => crypto.createHash('sha256').update(s).digest();

export interface AuthOptions {
  /** Client API keys. */
  readonly keys: readonly string[];
  /** The workers' token, or null. */
  readonly workerToken: string | null;
  /** Failed authentications per IP per window before every request from it gets 429. */
  readonly failureLimit: number;
  readonly failureWindowSeconds: number;
  readonly counter: WindowCounter;
}

type Who = { kind: 'client'; keyId: string } | { kind: 'worker' } | { kind: 'none' } | { kind: 'bad' };

/**
 * Bearer authentication: client keys and the worker token, compared in
 * constant time (by their sha256, so lengths do not leak either). Failed
 * attempts are counted per client IP; past the limit every request from that
 * IP is refused with 429 for the rest of the window, right key or not, so a
 * guesser learns nothing from the answers.
 */
export class Authenticator {
  private readonly clients: { hash: Buffer; id: string }[];
  private readonly workerHash: Buffer | null;

  constructor(private readonly o: AuthOptions) {
    this.clients = o.keys.map((k) => ({ hash: digest(k), id: keyId(k) }));
    this.workerHash = o.workerToken ? digest(o.workerToken) : null;
  }

  private identify(req: Request): Who {
    const header = req.get('authorization');
    if (header === undefined) return { kind: 'none' };
    const m = /^Bearer (.+)$/.exec(header);
    if (!m) return { kind: 'bad' };
    const h = digest(m[1]);
    let found: Who = { kind: 'bad' };
    // Every candidate is compared, so the time taken does not say which matched.
    for (const c of this.clients) if (crypto.timingSafeEqual(c.hash, h)) found = { kind: 'client', keyId: c.id };
    if (this.workerHash && crypto.timingSafeEqual(this.workerHash, h)) found = { kind: 'worker' };
    return found;
  }

  private async check(req: Request, res: Response, optional: boolean): Promise<Who> {
    const ip = req.ip ?? 'unknown';
    const who = this.identify(req);
    if (who.kind === 'none' && optional) return who;
    const scope = `authfail:${ip}`;
    const { n, resetIn } = await this.o.counter.peek(scope, this.o.failureWindowSeconds);
    if (n >= this.o.failureLimit) {
      res.setHeader('retry-after', String(resetIn));
      throw new HttpError(429, 'AUTH_RATE_LIMITED', `too many failed authentications from this address; retry after ${resetIn} s`);
    }
    if (who.kind === 'none') {
      await this.o.counter.hit(scope, this.o.failureWindowSeconds);
      throw new HttpError(401, 'UNAUTHENTICATED', 'missing API key: send Authorization: Bearer <key>');
    }
    if (who.kind === 'bad') {
      await this.o.counter.hit(scope, this.o.failureWindowSeconds);
      throw new HttpError(401, 'UNAUTHENTICATED', 'invalid API key');
    }
    return who;
  }

  /** A client API key is required; res.locals.keyId names it. */
  client(): RequestHandler {
    return (req, res, next) => {
      this.check(req, res, false).then((who) => {
        if (who.kind !== 'client') return next(new HttpError(403, 'FORBIDDEN', 'the worker token is not a client API key'));
        res.locals.keyId = who.keyId;
        next();
      }, next);
    };
  }

  /** A client API key if one is sent (res.locals.keyId), anonymous otherwise; a wrong key is still refused. */
  optionalClient(): RequestHandler {
    return (req, res, next) => {
      this.check(req, res, true).then((who) => {
        if (who.kind === 'worker') return next(new HttpError(403, 'FORBIDDEN', 'the worker token is not a client API key'));
        res.locals.keyId = who.kind === 'client' ? who.keyId : null;
        next();
      }, next);
    };
  }

  /** The worker token only: client keys get 403; with no token configured the route is off. */
  worker(): RequestHandler {
    return (req, res, next) => {
      this.check(req, res, false).then((who) => {
        if (who.kind === 'worker') return next();
        next(new HttpError(403, 'FORBIDDEN', this.workerHash
          ? 'artifact routes need the worker token (ZKINFER_WORKER_TOKEN), not a client API key'
          : 'artifact routes are off: the API has no worker token (ZKINFER_WORKER_TOKEN)'));
      }, next);
    };
  }
}
