import os from 'node:os';
import path from 'node:path';

export interface ServerConfig {
  /** @defaultValue 8080 */
  readonly port: number;
  /** @defaultValue '127.0.0.1' */
  readonly host: string;
  /** Bearer keys allowed to upload models and request proofs. */
  readonly apiKeys: readonly string[];
  /** Bearer token workers use to fetch and upload artifacts. @defaultValue null (API keys only) */
  readonly workerToken: string | null;
  /** Requests per minute per API key on the authenticated routes. @defaultValue 120 */
  readonly rateLimitPerMinute: number;
  /** @defaultValue '50mb' */
  readonly modelBodyLimit: string;
  /** @defaultValue '1mb' */
  readonly jsonBodyLimit: string;
  /** Longest long-poll a client may ask for, in seconds. @defaultValue 60 */
  readonly maxWaitSeconds: number;
  /** Content-addressed artifact store. */
  readonly storeDir: string;
  readonly workDir: string;
}

export const SERVER_DEFAULTS: Readonly<ServerConfig> = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  apiKeys: [],
  workerToken: null,
  rateLimitPerMinute: 120,
  modelBodyLimit: '50mb',
  jsonBodyLimit: '1mb',
  maxWaitSeconds: 60,
  storeDir: path.join(os.homedir(), '.zkinfer', 'store'),
  workDir: path.join(os.homedir(), '.zkinfer', 'work'),
});

export const serverConfig = (partial: Partial<ServerConfig> = {}): ServerConfig => Object.freeze({ ...SERVER_DEFAULTS, ...partial });
