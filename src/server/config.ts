import os from 'node:os';
import path from 'node:path';
import type { ModelLimits } from '../pipeline/limits.js';

export interface ServerConfig {
  /** @defaultValue 8080 */
  readonly port: number;
  /** @defaultValue '127.0.0.1' */
  readonly host: string;
  /** Bearer keys allowed to upload models and request proofs. */
  readonly apiKeys: readonly string[];
  /**
   * Requests per minute for particular API keys, by key; keys not named here get
   * rateLimitPerMinute. @defaultValue {} (every key gets rateLimitPerMinute)
   */
  readonly keyRateLimits: Readonly<Record<string, number>>;
  /**
   * Bearer token of the workers: the only credential that reads or writes raw
   * artifacts over HTTP. @defaultValue null (artifact routes off)
   */
  readonly workerToken: string | null;
  /** Requests per minute per API key on the authenticated routes. @defaultValue 120 */
  readonly rateLimitPerMinute: number;
  /** POST /v1/verify requests per minute per client IP (it is open to anyone). @defaultValue 120 */
  readonly verifyRateLimitPerMinute: number;
  /**
   * Failed authentications a client IP may make per authFailureWindowSeconds;
   * past it, every authenticated request from that IP gets 429 until the window
   * ends, so answers stop telling a right guess from a wrong one. @defaultValue 20
   */
  readonly authFailureLimit: number;
  /** @defaultValue 600 */
  readonly authFailureWindowSeconds: number;
  /**
   * Express "trust proxy": which X-Forwarded-For hops to believe for the client
   * IP the per-IP limits count. @defaultValue false (the socket's address)
   */
  readonly trustProxy: boolean | string;
  /**
   * Webhook destinations allowed although not global: "host:port" entries
   * (exact host as written in the URL) and CIDR ranges ("10.0.0.0/8", "fd00::/8").
   * @defaultValue [] (only global unicast addresses)
   */
  readonly webhookAllow: readonly string[];
  /** How long one webhook delivery may take. @defaultValue 5000 */
  readonly webhookTimeoutMs: number;
  /**
   * How often pending webhooks are looked for besides finish events: the
   * catch-up for proofs that ended while no API listened. @defaultValue 30000
   */
  readonly webhookSweepMs: number;
  /** @defaultValue '50mb' */
  readonly modelBodyLimit: string;
  /** @defaultValue '1mb' */
  readonly jsonBodyLimit: string;
  /** Longest long-poll a client may ask for, in seconds. @defaultValue 60 */
  readonly maxWaitSeconds: number;
  /**
   * Size limits an uploaded model must meet before a compile is queued (file
   * bytes, weights, nodes, tensor elements, estimated constraints); unset ones
   * take MODEL_LIMITS' defaults. @defaultValue {} (MODEL_LIMITS)
   */
  readonly modelLimits: Readonly<Partial<ModelLimits>>;
  /**
   * Worker threads for model inspection and proof verification, so neither
   * runs on the event loop. @defaultValue 2
   */
  readonly apiThreads: number;
  /** Content-addressed artifact store. */
  readonly storeDir: string;
  readonly workDir: string;
}

export const SERVER_DEFAULTS: Readonly<ServerConfig> = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  apiKeys: Object.freeze([]) as readonly string[],
  keyRateLimits: Object.freeze({}),
  workerToken: null,
  rateLimitPerMinute: 120,
  verifyRateLimitPerMinute: 120,
  authFailureLimit: 20,
  authFailureWindowSeconds: 600,
  trustProxy: false,
  webhookAllow: Object.freeze([]) as readonly string[],
  webhookTimeoutMs: 5000,
  webhookSweepMs: 30_000,
  modelBodyLimit: '50mb',
  jsonBodyLimit: '1mb',
  maxWaitSeconds: 60,
  modelLimits: Object.freeze({}),
  apiThreads: 2,
  storeDir: path.join(os.homedir(), '.zkinfer', 'store'),
  workDir: path.join(os.homedir(), '.zkinfer', 'work'),
});

export const serverConfig = (partial: Partial<ServerConfig> = {}): ServerConfig => Object.freeze({ ...SERVER_DEFAULTS, ...partial });
