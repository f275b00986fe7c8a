import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Redis } from 'ioredis';
import { AllowList, isGlobal, parseIp } from './address.js';

/** A resolved address, as dns.lookup gives it. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Names to addresses; injected so tests need no DNS. */
export type ResolveHost = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: ResolveHost = async (hostname) =>
  (await dns.promises.lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** Why a webhook URL is refused. */
export class WebhookRefused extends Error {}

export interface WebhookPolicy {
  readonly allow: AllowList;
  readonly resolve: ResolveHost;
  readonly timeoutMs: number;
}

export interface WebhookTarget {
  readonly url: URL;
  /** The address to connect to: checked, and used for the connection (no second lookup). */
  readonly address: ResolvedAddress;
}

const defaultPort = (u: URL) => Number(u.port || (u.protocol === 'https:' ? 443 : 80));
const bare = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Resolves a webhook URL and checks where it leads: refused unless every
 * address it resolves to is global unicast or operator-allowed (by host:port
 * or CIDR). All addresses are checked, not just the first, so a name with
 * one public and one internal address cannot pick the internal one later.
 */
export async function resolveWebhook(text: string, p: WebhookPolicy): Promise<WebhookTarget> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookRefused('webhook is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookRefused('webhook must be an http(s) URL');
  if (url.username || url.password) throw new WebhookRefused('webhook must not carry credentials in the URL');
  const host = bare(url.hostname);
  const port = defaultPort(url);
  const literal = parseIp(host);
  let addrs: ResolvedAddress[];
  if (literal) addrs = [{ address: host, family: literal.v4 ? 4 : 6 }];
  else {
    try {
      addrs = await p.resolve(host);
    } catch (e) {
      throw new WebhookRefused(`webhook host ${host} does not resolve (${(e as Error).message})`);
    }
    if (!addrs.length) throw new WebhookRefused(`webhook host ${host} does not resolve`);
  }
  if (!p.allow.hostPort(url.hostname, port)) {
    const bad = addrs.find((a) => !isGlobal(a.address) && !p.allow.address(a.address));
    if (bad) {
      throw new WebhookRefused(`webhook host ${host}${bad.address === host ? '' : ` resolves to ${bad.address}, which`} is not a global address (loopback, private, link-local or reserved); the operator may allow it with ZKINFER_WEBHOOK_ALLOW`);
    }
  }
  return { url, address: addrs[0] };
}

/**
 * POSTs a JSON body to a checked target: connects to the pinned address (the
 * Host header and TLS name stay the URL's), follows no redirect, and gives up
 * after timeoutMs. Resolves to the HTTP status.
 */
export function postWebhook(t: WebhookTarget, body: string, timeoutMs: number): Promise<number> {
  const lookup: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [t.address]);
    else cb(null, t.address.address, t.address.family);
  };
  const mod = t.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(t.url, {
      method: 'POST',
      lookup,
      agent: false,
      timeout: timeoutMs,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'zkinfer-webhook' },
    }, (res) => {
      // The answer is not used: drain it, a redirect included, and never follow it.
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Proof jobs whose webhook is still to be sent, kept in Redis (when there is
 * one) so a proof that ends while no API instance runs is still announced by
 * the next one that starts. claim() is SET NX: each webhook goes out once.
 */
export interface PendingWebhooks {
  add(jobId: string): Promise<void>;
  list(limit: number): Promise<string[]>;
  claim(jobId: string): Promise<boolean>;
  done(jobId: string): Promise<void>;
}

export class RedisPendingWebhooks implements PendingWebhooks {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  async add(jobId: string): Promise<void> {
    await this.redis.zadd(`${this.prefix}:webhooks:pending`, String(Date.now()), jobId);
  }

  async list(limit: number): Promise<string[]> {
    return this.redis.zrange(`${this.prefix}:webhooks:pending`, '0', String(limit - 1));
  }

  async claim(jobId: string): Promise<boolean> {
    return (await this.redis.set(`${this.prefix}:webhook:${jobId}`, '1', 'EX', 7 * 86_400, 'NX')) === 'OK';
  }

  async done(jobId: string): Promise<void> {
    await this.redis.zrem(`${this.prefix}:webhooks:pending`, jobId);
  }
}

export class MemoryPendingWebhooks implements PendingWebhooks {
  private readonly pending = new Set<string>();
  private readonly claimed = new Set<string>();

  async add(jobId: string): Promise<void> {
    this.pending.add(jobId);
  }

  async list(limit: number): Promise<string[]> {
    return [...this.pending].slice(0, limit);
  }

  async claim(jobId: string): Promise<boolean> {
    if (this.claimed.has(jobId)) return false;
    this.claimed.add(jobId);
    return true;
  }

  async done(jobId: string): Promise<void> {
    this.pending.delete(jobId);
  }
}
