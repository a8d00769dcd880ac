/**
 * Which web pages may talk to the relay. Browsers always send `Origin` on a WebSocket and
 * pages cannot forge it, so an exact allowlist stops other sites from embedding the
 * launcher or an agent console against this relay. Non-browser clients send no Origin
 * (and could send any), so a missing Origin is allowed: this is not authentication.
 */

import { allowedBy, type DomainRule, type OriginParts } from '../core/protocol/index.js';

/** localhost, *.localhost and loopback addresses, over http or https, any port. */
const LOCAL_ORIGIN = /^https?:\/\/(?:localhost|(?:[a-z0-9-]+\.)+localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/;

/** The origin `entry` names, or a TypeError saying why it is not one. */
export function normalizeOrigin(entry: string): string {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new TypeError(`"${entry}" is not an origin (expected e.g. https://shop.example)`);
  }
  if (!/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username) {
    throw new TypeError(`"${entry}" is not an origin: give scheme, host and port only (e.g. https://shop.example)`);
  }
  return url.origin;
}

export class OriginPolicy {
  readonly #allowed: ReadonlySet<string> | null;

  /** `list` absent: any origin (the relay warns); `dev`: also any localhost origin. */
  constructor(
    list: readonly string[] | undefined,
    private readonly dev: boolean,
  ) {
    this.#allowed = list ? new Set(list.map(normalizeOrigin)) : null;
  }

  /** True when neither a list nor dev mode narrows it. */
  get open(): boolean {
    return !this.#allowed && !this.dev;
  }

  allows(origin: string | undefined): boolean {
    if (origin === undefined || this.open) return true;
    return (this.dev && LOCAL_ORIGIN.test(origin)) || !!this.#allowed?.has(origin);
  }

  /** For the start-up summary. */
  describe(): string {
    if (this.open) return 'any (no allowlist)';
    const parts = [...(this.#allowed ?? [])];
    if (this.dev) parts.push('localhost (dev)');
    return parts.join(', ') || 'none';
  }
}

/** Where a hand-off token may be redeemed: on the listed domains of the page that asked for it. */
export interface HandoffBinding {
  origin: string;
  rules: DomainRule[];
}

function originParts(origin: string): OriginParts | null {
  try {
    const url = new URL(origin);
    return url.origin === origin ? url : null;
  } catch {
    return null;
  }
}

/**
 * Whether a page at `origin` may redeem a token bound so: a token that leaked (a log, a shared link)
 * opens nothing on a site the session never listed. Unbound tokens (from a client that sent no
 * Origin or no domains) are one-time and short-lived only.
 */
export function mayRedeem(binding: HandoffBinding | null, origin: string | undefined): boolean {
  if (!binding) return true;
  const page = originParts(binding.origin);
  const redeemer = origin === undefined ? null : originParts(origin);
  return !!page && !!redeemer && allowedBy(redeemer, page, binding.rules);
}
