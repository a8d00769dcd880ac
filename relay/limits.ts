/**
 * The relay's abuse limits as small, clock-injected pieces: token buckets for per-socket
 * rates, a sliding-window failure counter for join guessing, and per-key counts for
 * sockets and sessions per client IP (and per IPv6 /48).
 */
import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';

/**
 * A socket's frame and byte budgets: two token buckets on one clock, each holding at most
 * one second's worth. The balance may go negative (a read already in hand is processed);
 * the caller pauses the socket until it is paid back. An infinite rate is no limit.
 */
export class RateBudget {
  private frames: number;
  private bytes: number;
  private last: number;

  constructor(
    private readonly rates: { readonly framesPerSecond: number; readonly bytesPerSecond: number },
    now: number,
  ) {
    this.frames = rates.framesPerSecond;
    this.bytes = rates.bytesPerSecond;
    this.last = now;
  }

  /** Spends one frame of `size` bytes; returns how many ms until both balances are back to zero (0: go on). */
  take(size: number, now: number): number {
    const { framesPerSecond: fps, bytesPerSecond: bps } = this.rates;
    const seconds = (now - this.last) / 1000;
    this.last = now;
    let wait = 0;
    if (fps !== Infinity) {
      this.frames = Math.min(fps, this.frames + seconds * fps) - 1;
      if (this.frames < 0) wait = (-this.frames / fps) * 1000;
    }
    if (bps !== Infinity) {
      this.bytes = Math.min(bps, this.bytes + seconds * bps) - size;
      if (this.bytes < 0) wait = Math.max(wait, (-this.bytes / bps) * 1000);
    }
    return wait;
  }
}

/**
 * At most `max` failures per key within a sliding `windowMs`. Successes are not recorded,
 * so they cannot wash out failures; a locked key stays locked until its oldest failure ages out.
 */
export class FailureLimiter {
  readonly #failures = new Map<string, number[]>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** Ms until `key` may try again; 0 when it may now. */
  retryAfter(key: string, now: number): number {
    const recent = this.#recent(key, now);
    return recent.length >= this.max ? recent[0]! + this.windowMs - now : 0;
  }

  fail(key: string, now: number): void {
    const recent = this.#recent(key, now);
    recent.push(now);
    if (recent.length > this.max) recent.shift(); // only the oldest of the last `max` matters
    this.#failures.set(key, recent);
  }

  /** Forgets keys with no failure in the window, so a spray of addresses cannot grow memory for ever. */
  sweep(now: number): void {
    for (const key of this.#failures.keys()) this.#recent(key, now);
  }

  get size(): number {
    return this.#failures.size;
  }

  #recent(key: string, now: number): number[] {
    const list = this.#failures.get(key);
    if (!list) return [];
    while (list.length && list[0]! <= now - this.windowMs) list.shift();
    if (!list.length) this.#failures.delete(key);
    return list;
  }
}

/** Live things per key (sockets per IP, sessions per IP), refusing past `max`. */
export class KeyCounter {
  readonly #counts = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Counts one more for `key`, unless that would pass `max`. */
  tryAdd(key: string): boolean {
    const n = this.#counts.get(key) ?? 0;
    if (n >= this.max) return false;
    this.#counts.set(key, n + 1);
    return true;
  }

  remove(key: string): void {
    const n = (this.#counts.get(key) ?? 0) - 1;
    if (n > 0) this.#counts.set(key, n);
    else this.#counts.delete(key);
  }
}

/**
 * Live things per client under two keys at once: its IP key (IPv4 address or IPv6 /64) against
 * `max`, and for IPv6 also its /48 against `max × per48Factor` — someone holding a /48 has 65,536
 * /64s, so counting /64s alone would multiply every per-IP cap by as much.
 */
export class IpCounter {
  readonly #perIp: KeyCounter;
  readonly #per48: KeyCounter;

  constructor(max: number, per48Factor: number) {
    this.#perIp = new KeyCounter(max);
    this.#per48 = new KeyCounter(max * per48Factor);
  }

  /** Counts one more for `key` (an ipKey), unless its /64 or its /48 is at its cap. */
  tryAdd(key: string): boolean {
    const wide = prefix48(key);
    if (wide !== null && !this.#per48.tryAdd(wide)) return false;
    if (this.#perIp.tryAdd(key)) return true;
    if (wide !== null) this.#per48.remove(wide);
    return false;
  }

  remove(key: string): void {
    const wide = prefix48(key);
    if (wide !== null) this.#per48.remove(wide);
    this.#perIp.remove(key);
  }
}

/** The /48 an IPv6 /64 key (from ipKey) lies in, as `xxxx:xxxx:xxxx::/48`; null for IPv4 and 'unknown'. */
export function prefix48(key: string): string | null {
  if (!key.endsWith('::/64')) return null;
  return `${key.split(':').slice(0, 3).join(':')}::/48`;
}

/** Expands an IPv6 address to its eight 16-bit groups. */
function ipv6Groups(ip: string): string[] {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((g) => g.padStart(4, '0'));
}

/** An IPv6 address with a dotted IPv4 tail (::ffff:1.2.3.4) written with two hex groups instead (::ffff:102:304). */
function hexTail(ip: string): string {
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!dotted) return ip;
  const [a, b, c, d] = dotted.slice(2).map(Number) as [number, number, number, number];
  return `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/**
 * The key limits count a client under: its IPv4 address, or its IPv6 /64 — one household
 * or one cloud VM usually gets a whole /64, so per-address limits would mean nothing. An
 * IPv4-mapped IPv6 address (::ffff:1.2.3.4, as a dual-stack socket reports IPv4 peers) is its IPv4 address.
 */
export function ipKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const ip = address.split('%')[0]!.toLowerCase();
  if (!isIPv6(ip)) return ip;
  const groups = ipv6Groups(hexTail(ip));
  if (groups.slice(0, 5).every((g) => g === '0000') && groups[5] === 'ffff') {
    return groups
      .slice(6)
      .flatMap((g) => [parseInt(g.slice(0, 2), 16), parseInt(g.slice(2), 16)])
      .join('.');
  }
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The client's address: the socket peer, or behind a trusted proxy the last X-Forwarded-For entry (the one it added). */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)?.split(',').pop()?.trim();
    if (last) return ipKey(last);
  }
  return ipKey(req.socket.remoteAddress);
}
