import fs from 'node:fs';
import { parseVerificationKey } from '../receipt/receipt.js';
import { HASH_RE, type ArtifactStore, type DirStore } from '../store/store.js';
import { isZkinferError, ZkinferError } from '../errors.js';

/**
 * Verification key texts by sha256, for routes anyone may call with any hash
 * (`/v1/verify` names its key by the receipt's `model.vkeySha256`). The store
 * holds every artifact under its hash, proving keys of hundreds of MB
 * included; only a blob of at most `maxKeyBytes` that parses as a
 * verification key is accepted, and a larger one is refused by its size
 * before it is read (when the store can tell the size). Bounded by total
 * bytes, least recently used first out.
 */
export interface VkeyCacheOptions {
  /** Largest verification key accepted, in bytes. @defaultValue 1_048_576 */
  readonly maxKeyBytes: number;
  /** Bytes of key text kept. @defaultValue 16_777_216 */
  readonly maxBytes: number;
  /** Hashes remembered as not being a verification key (content-addressed: that never changes). @defaultValue 4096 */
  readonly maxRefused: number;
}

export const VKEY_CACHE_DEFAULTS: Readonly<VkeyCacheOptions> = Object.freeze({
  maxKeyBytes: 2 ** 20,
  maxBytes: 16 * 2 ** 20,
  maxRefused: 4096,
});

/** Where keys come from. `size`, when given, lets a large blob be refused unread. */
export interface VkeySource {
  get(hash: string): Promise<Uint8Array | null>;
  size?(hash: string): Promise<number | null>;
}

/** A store as a key source; a directory store also reports sizes (a stat, no read). */
export function storeSource(store: ArtifactStore): VkeySource {
  const dir = store as Partial<DirStore>;
  return {
    get: (hash) => store.get(hash),
    ...(typeof dir.pathOf === 'function'
      ? { size: (hash: string) => fs.promises.stat(dir.pathOf!(hash)).then((s) => s.size, () => null) }
      : {}),
  };
}

export type VkeyLookup =
  | { readonly found: true; readonly text: string }
  | { readonly found: false; readonly reason: string };

export class VkeyCache {
  readonly options: VkeyCacheOptions;
  private readonly texts = new Map<string, string>();
  private readonly refused = new Map<string, string>();
  private bytes = 0;

  constructor(private readonly source: VkeySource, options: Partial<VkeyCacheOptions> = {}) {
    const o = { ...VKEY_CACHE_DEFAULTS, ...options };
    if (!(o.maxKeyBytes > 0 && o.maxBytes >= o.maxKeyBytes && o.maxRefused >= 0)) {
      throw new ZkinferError('USAGE', `vkey cache: need 0 < maxKeyBytes <= maxBytes and maxRefused >= 0, got ${o.maxKeyBytes}, ${o.maxBytes}, ${o.maxRefused}`);
    }
    this.options = Object.freeze(o);
  }

  /** Bytes of key text held. */
  get size(): number {
    return this.bytes;
  }

  /**
   * The verification key stored under `hash`, or why there is none to use:
   * not a sha256, not in the store, too large, or not a verification key.
   */
  async lookup(hash: string): Promise<VkeyLookup> {
    if (!HASH_RE.test(hash)) return { found: false, reason: 'not a sha256 (64 lowercase hex digits)' };
    const hit = this.texts.get(hash);
    if (hit !== undefined) {
      // Most recently used last: Map iteration order is insertion order.
      this.texts.delete(hash);
      this.texts.set(hash, hit);
      return { found: true, text: hit };
    }
    const known = this.refused.get(hash);
    if (known) return { found: false, reason: known };
    const max = this.options.maxKeyBytes;
    const size = this.source.size ? await this.source.size(hash) : null;
    if (size !== null && size > max) return this.refuse(hash, `artifact ${hash} is ${size} bytes, larger than any verification key (${max})`);
    const bytes = await this.source.get(hash);
    if (!bytes) return { found: false, reason: `no verification key ${hash} in the store` };
    if (bytes.length > max) return this.refuse(hash, `artifact ${hash} is ${bytes.length} bytes, larger than any verification key (${max})`);
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    try {
      parseVerificationKey(text);
    } catch (e) {
      if (!isZkinferError(e)) throw e;
      return this.refuse(hash, `artifact ${hash} is not a verification key: ${e.message}`);
    }
    this.keep(hash, text);
    return { found: true, text };
  }

  /** The key text, or null (see lookup for why). */
  async get(hash: string): Promise<string | null> {
    const r = await this.lookup(hash);
    return r.found ? r.text : null;
  }

  private keep(hash: string, text: string): void {
    const n = Buffer.byteLength(text);
    this.texts.set(hash, text);
    this.bytes += n;
    for (const [h, t] of this.texts) {
      if (this.bytes <= this.options.maxBytes) break;
      this.texts.delete(h);
      this.bytes -= Buffer.byteLength(t);
    }
  }

  private refuse(hash: string, reason: string): VkeyLookup {
    if (this.options.maxRefused > 0) {
      if (this.refused.size >= this.options.maxRefused) this.refused.delete(this.refused.keys().next().value!);
      this.refused.set(hash, reason);
    }
    return { found: false, reason };
  }
}
