/**
 * Asset grants: what joined gives an agent so that the asset proxy fetches for it, for that one
 * session, for a while. `<session ID>.<expiry, base36 ms>.<HMAC-SHA256>`; the MAC also covers the
 * session's random salt, so a grant dies with its session (a later session under the same ID has
 * another salt), and no one without the key can make one.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A grant taken apart; whether it is good needs its session's salt (see AssetGrants.valid). */
export interface ParsedGrant {
  code: string;
  expiresAt: number;
  mac: Buffer;
}

const GRANT = /^(\d{9})\.([0-9a-z]{1,11})\.([\w-]{43})$/;

/** The grant key from the cluster secret: an HMAC of its own, so it never doubles as the bus's key. */
export const grantKeyFromSecret = (secret: string): Buffer => createHmac('sha256', secret).update('cobrowse asset grants').digest();

/** A fresh key, for a relay alone (grants then work on this process only, which is the only one). */
export const randomGrantKey = (): Buffer => randomBytes(32);

export class AssetGrants {
  #key: Buffer | null;
  #loading: Promise<Buffer> | null = null;

  /** `key`: the key, or (on a cluster without a secret) how to fetch the one all nodes share. */
  constructor(
    private readonly key: Buffer | (() => Promise<Buffer>),
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {
    this.#key = Buffer.isBuffer(key) ? key : null;
  }

  /** Resolves once the key is at hand (at once unless it comes from Redis); fails, to be tried again, if it cannot be had. */
  async ready(): Promise<void> {
    if (this.#key || Buffer.isBuffer(this.key)) return;
    this.#loading ??= this.key().finally(() => (this.#loading = null));
    this.#key = await this.#loading;
  }

  /** A grant for session `code` with salt `salt`; the key must be ready. */
  issue(code: string, salt: string): string {
    const expiresAt = this.now() + this.ttlMs;
    return `${code}.${expiresAt.toString(36)}.${this.#mac(code, expiresAt, salt).toString('base64url')}`;
  }

  /** Its parts, or null when it is not a grant at all. */
  parse(grant: string): ParsedGrant | null {
    const m = GRANT.exec(grant);
    if (!m) return null;
    return { code: m[1]!, expiresAt: parseInt(m[2]!, 36), mac: Buffer.from(m[3]!, 'base64url') };
  }

  /** Signed by this cluster for this very session, and not expired; the key must be ready. */
  valid(grant: ParsedGrant, salt: string): boolean {
    if (!salt || grant.expiresAt <= this.now()) return false;
    return timingSafeEqual(grant.mac, this.#mac(grant.code, grant.expiresAt, salt));
  }

  #mac(code: string, expiresAt: number, salt: string): Buffer {
    if (!this.#key) throw new Error('asset grant key not loaded');
    return createHmac('sha256', this.#key).update(`${code}.${expiresAt}.${salt}`).digest();
  }
}
