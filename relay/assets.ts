/**
 * The asset proxy. The agent's mirror shows a page a stranger wrote: were it to load that page's
 * images, styles, fonts and media itself, the page could make the agent's browser reach the
 * agent's own network (10.x, localhost) or the console's origin, with its cookies. So the mirror
 * loads them here, with a grant from joined, and the relay fetches them: only from the session's
 * customer origin and the listed origins, never from private addresses (unless listed), with no
 * credentials, under caps of size and time, and only of the content types the use expects.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { assetUrl, mapCssUrls, MAX_ASSET_URL, parseAssetQuery, type AssetKind } from '../core/protocol/index.js';
import type { AssetGrants } from './asset-grant.js';
import type { ResolvedAssetOptions } from './options.js';

/** What the proxy needs to know of a live session: its customer page's origin (null: none known) and its grant salt. */
export interface AssetSession {
  origin: string | null;
  salt: string;
}

/** How a request ended, for the metrics. */
export type AssetOutcome = 'ok' | 'cached' | 'bad-request' | 'forbidden' | 'type' | 'too-large' | 'timeout' | 'upstream' | 'unavailable';

export interface AssetProxyDeps {
  grants: AssetGrants;
  /** The live session of this ID, or null when it ended (or never was). May throw while the session store is away. */
  session(code: string): Promise<AssetSession | null>;
  outcome(outcome: AssetOutcome): void;
  log(event: Record<string, unknown>): void;
}

const MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'cobrowse-relay asset proxy';
const ACCEPT: Record<AssetKind, string> = {
  image: 'image/*',
  style: 'text/css',
  font: 'font/*, application/font-woff, application/octet-stream;q=0.5',
  media: 'video/*, audio/*, text/vtt;q=0.9, */*;q=0.5',
  css: 'image/*, font/*;q=0.9, */*;q=0.5',
};
/** Fresh for as long as the response says the browser may keep it. */
const CACHE_MS = 300_000;
const SERVED = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
  'cross-origin-resource-policy': 'cross-origin',
  // The mirror reads proxied stylesheets' rules (crossorigin=anonymous): no credentials, so * is safe.
  'access-control-allow-origin': '*',
  'referrer-policy': 'no-referrer',
};

/** Loopback, private, link-local, CGNAT, unique-local, multicast, unspecified and reserved: not the public internet. */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 96], // unspecified, loopback, and the old IPv4-compatible form
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

/** BlockList checks an IPv4-mapped IPv6 address (::ffff:10.0.0.1) against the IPv4 rules too. */
export const isPrivateAddress = (address: string): boolean => {
  const family = isIP(address);
  return family === 0 || PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
};

const isFont = (type: string) =>
  type.startsWith('font/') ||
  type.startsWith('application/font-') ||
  type.startsWith('application/x-font-') ||
  type === 'application/vnd.ms-fontobject' ||
  type === 'application/octet-stream';
const ACCEPTS: Record<AssetKind, (type: string) => boolean> = {
  style: (type) => type === 'text/css',
  image: (type) => type.startsWith('image/'),
  font: isFont,
  media: (type) => type.startsWith('video/') || type.startsWith('audio/') || type === 'text/vtt' || type === 'application/octet-stream',
  css: (type) => type.startsWith('image/') || isFont(type),
};

/** A refusal, with the status and the short reason the agent's browser gets. */
class AssetError extends Error {
  constructor(
    readonly status: number,
    readonly outcome: AssetOutcome,
    message: string,
  ) {
    super(message);
  }
}
const forbidden = (why: string) => new AssetError(403, 'forbidden', why);

/** Resolves like dns.lookup, but fails when any address is private: checked where the socket connects, so DNS rebinding cannot slip past. */
const publicOnlyLookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err);
    if (addresses.some((a) => isPrivateAddress(a.address))) return callback(forbidden(`${hostname} is a private address`));
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}) as unknown as LookupFunction;

/** What the proxy fetched: every URL on the way (redirects), the checked type, the body. */
interface Fetched {
  chain: string[];
  type: string;
  body: Buffer;
  lastModified?: string;
  etag?: string;
  fetchedAt: number;
}

/** The rules one request is held to: the asking session's origin, the listed ones, the relay's own. */
interface Rules {
  sessionOrigin: string | null;
  listed: ReadonlySet<string>;
  own: ReadonlySet<string>;
}

/** Why `url` may not be fetched for this session, or null. */
function refusal(url: URL, rules: Rules): string | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http and https';
  if (url.username || url.password) return 'no credentials in URLs';
  if (rules.listed.has(url.origin)) return null;
  if (rules.own.has(url.origin)) return "the relay's own origin";
  if (url.origin !== rules.sessionOrigin) return `${url.origin} is not this session's origin`;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isPrivateAddress(host)) return `${host} is a private address`;
  return null;
}

/** An Origin header as URL.origin writes it (a client may send ::ffff:192.168.0.1 for ::ffff:c0a8:1); null for none or "null". */
function serialized(origin: string | null): string | null {
  try {
    return origin ? new URL(origin).origin : null;
  } catch {
    return null;
  }
}

/** The relay's own origin as reached (its Host), by either scheme. */
function ownOrigins(host: string | undefined): Set<string> {
  const own = new Set<string>();
  if (!host) return own;
  for (const scheme of ['http', 'https']) {
    try {
      own.add(new URL(`${scheme}://${host}`).origin);
    } catch {
      // a Host that is no host: nothing to compare with
    }
  }
  return own;
}

/** A byte-capped LRU of fetched assets (a Map keeps insertion order: the first entry is the oldest used). */
class AssetCache {
  readonly #entries = new Map<string, Fetched>();
  #bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string, now: number): Fetched | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (now - entry.fetchedAt > CACHE_MS) {
      this.#bytes -= entry.body.length;
      return undefined;
    }
    this.#entries.set(key, entry);
    return entry;
  }

  set(key: string, entry: Fetched): void {
    if (entry.body.length > this.maxBytes / 4) return; // one big video must not flush everything else
    const old = this.#entries.get(key);
    if (old) this.#bytes -= old.body.length;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    this.#bytes += entry.body.length;
    for (const [oldest, { body }] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= body.length;
    }
  }
}

/** How often the proxy says again that it refused an origin: often enough to be seen, never a flood. */
const REFUSAL_LOG_MS = 10 * 60_000;

export class AssetProxy {
  readonly #listed: ReadonlySet<string>;
  readonly #cache: AssetCache | null;
  /** When each refused origin was last logged (bounded: a hostile page can name any number of origins). */
  readonly #refusalsLogged = new Map<string, number>();

  constructor(
    private readonly options: ResolvedAssetOptions,
    private readonly deps: AssetProxyDeps,
  ) {
    this.#listed = new Set(options.origins);
    this.#cache = options.cacheBytes > 0 ? new AssetCache(options.cacheBytes) : null;
  }

  get path(): string {
    return this.options.path;
  }

  get grants(): AssetGrants {
    return this.deps.grants;
  }

  /** Answers a request for the proxy's path (true), or leaves it alone (false). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.url?.split('?')[0] !== this.options.path) return false;
    this.#serve(req, res).catch((err: unknown) => {
      const known = err instanceof AssetError;
      if (!known) this.deps.log({ event: 'asset-error', error: String(err) });
      this.deps.outcome(known ? err.outcome : 'unavailable');
      if (res.headersSent) return void res.destroy();
      res.writeHead(known ? err.status : 503, { 'content-type': 'application/json', 'cache-control': 'no-store', ...SERVED });
      res.end(JSON.stringify({ ok: false, error: known ? err.message : 'unavailable' }));
    });
    return true;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET') throw new AssetError(405, 'bad-request', 'GET only');
    const query = parseAssetQuery(new URL(req.url ?? '/', 'http://relay.invalid').searchParams);
    if (!query) throw new AssetError(400, 'bad-request', 'expected ?g=<grant>&as=<kind>&u=<http(s) URL>');
    const rules = await this.#rules(query.grant, req.headers.host);
    let url: URL;
    try {
      url = new URL(query.url);
    } catch {
      throw new AssetError(400, 'bad-request', 'not a URL');
    }
    const why = refusal(url, rules);
    if (why) {
      this.#logRefusal(url.origin, why);
      throw forbidden(why);
    }
    // The origin check above ran for this session first; a cached copy must also have come only by allowed ways.
    const key = `${query.kind} ${url.href}`;
    const cached = this.#cache?.get(key, Date.now());
    if (cached && cached.chain.every((href) => !refusal(new URL(href), rules))) {
      this.deps.outcome('cached');
      return this.#send(res, cached, query.kind, query.grant);
    }
    const fetched = await this.#fetch(url, query.kind, rules);
    this.#cache?.set(key, fetched);
    this.deps.outcome('ok');
    this.#send(res, fetched, query.kind, query.grant);
  }

  /**
   * The operator's one clue when the mirror lacks a site's CDN images or fonts: which origin was refused
   * and why (the origin only: a URL's path and query are the customer's).
   */
  #logRefusal(origin: string, reason: string): void {
    const now = Date.now();
    if (now - (this.#refusalsLogged.get(origin) ?? -Infinity) < REFUSAL_LOG_MS) return;
    if (this.#refusalsLogged.size >= 1000) this.#refusalsLogged.clear();
    this.#refusalsLogged.set(origin, now);
    this.deps.log({
      event: 'asset-refused',
      origin,
      reason,
      hint: 'if the mirror should show assets from this origin, list it in assets.origins (--asset-origin)',
    });
  }

  /** The rules of the session whose grant this is: 403 unless the grant is genuine, unexpired, and its session lives. */
  async #rules(grant: string, host: string | undefined): Promise<Rules> {
    const parsed = this.deps.grants.parse(grant);
    if (!parsed) throw forbidden('not a grant');
    await this.deps.grants.ready();
    const session = await this.deps.session(parsed.code);
    if (!session || !this.deps.grants.valid(parsed, session.salt))
      throw forbidden('the grant is not valid (forged, expired, or its session ended)');
    return { sessionOrigin: serialized(session.origin), listed: this.#listed, own: ownOrigins(host) };
  }

  /** GET with no credentials, redirects followed here (each checked like the first URL), within the caps. */
  async #fetch(start: URL, kind: AssetKind, rules: Rules): Promise<Fetched> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.options.timeoutMs);
    const chain: string[] = [];
    try {
      let url = start;
      for (;;) {
        chain.push(url.href);
        const response = await this.#get(url, kind, rules, abort.signal);
        const location = response.headers.location;
        if (REDIRECTS.has(response.statusCode!) && location) {
          response.destroy();
          if (chain.length > MAX_REDIRECTS) throw new AssetError(502, 'upstream', 'too many redirects');
          url = new URL(location, url);
          const why = refusal(url, rules);
          if (why) throw forbidden(`redirected: ${why}`);
          continue;
        }
        return await this.#read(response, kind, chain, abort.signal);
      }
    } catch (err) {
      if (abort.signal.aborted) throw new AssetError(504, 'timeout', `no answer within ${this.options.timeoutMs} ms`);
      if (err instanceof AssetError) throw err;
      throw new AssetError(502, 'upstream', `fetch failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  #get(url: URL, kind: AssetKind, rules: Rules, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
        method: 'GET',
        // Nothing of the agent's request: no cookies, no Authorization, no Referer.
        headers: { accept: ACCEPT[kind], 'user-agent': USER_AGENT },
        agent: false,
        // A listed origin may be private (an intranet CDN); anything else must resolve to public addresses.
        lookup: rules.listed.has(url.origin) ? undefined : publicOnlyLookup,
        signal,
      });
      request.once('response', resolve);
      request.once('error', reject);
      request.end();
    });
  }

  async #read(response: IncomingMessage, kind: AssetKind, chain: string[], signal: AbortSignal): Promise<Fetched> {
    const { statusCode, headers } = response;
    if (statusCode !== 200) {
      response.destroy();
      throw new AssetError(502, 'upstream', `upstream answered ${statusCode}`);
    }
    const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!ACCEPTS[kind](type)) {
      response.destroy();
      throw new AssetError(415, 'type', `${type || 'no content type'} is not a ${kind}`);
    }
    const max = this.options.maxBytes;
    const tooLarge = () => new AssetError(502, 'too-large', `larger than ${max} bytes`);
    if (Number(headers['content-length']) > max) {
      response.destroy();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) {
        response.destroy();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
    if (signal.aborted || !response.complete) throw new Error('cut off');
    const charset = /charset=([\w-]+)/i.exec(headers['content-type'] ?? '')?.[1];
    const body = kind === 'style' ? Buffer.from(decode(Buffer.concat(chunks), charset)) : Buffer.concat(chunks);
    return {
      chain,
      type,
      body,
      fetchedAt: Date.now(),
      ...(typeof headers['last-modified'] === 'string' ? { lastModified: headers['last-modified'] } : {}),
      ...(typeof headers.etag === 'string' ? { etag: headers.etag } : {}),
    };
  }

  /** The asset, with only the headers the proxy vouches for; a stylesheet's URLs lead back here, under the same grant. */
  #send(res: ServerResponse, asset: Fetched, kind: AssetKind, grant: string): void {
    let body = asset.body;
    let type = asset.type;
    if (kind === 'style') {
      body = Buffer.from(this.#rewriteCss(body.toString('utf8'), asset.chain.at(-1)!, grant));
      type = 'text/css; charset=utf-8';
    }
    res.writeHead(200, {
      'content-type': type,
      'content-length': body.length,
      'cache-control': 'private, max-age=300',
      ...SERVED,
      ...(asset.lastModified ? { 'last-modified': asset.lastModified } : {}),
      ...(asset.etag ? { etag: asset.etag } : {}),
    });
    res.end(body);
  }

  /** Every url() and @import of the sheet, resolved against where it was finally fetched from, as a proxy URL (relative: this host). */
  #rewriteCss(css: string, base: string, grant: string): string {
    return mapCssUrls(css, (href, isImport) => {
      let url: URL;
      try {
        url = new URL(href, base);
      } catch {
        return null;
      }
      if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.href.length > MAX_ASSET_URL) return null;
      return assetUrl(this.options.path, grant, url.href, isImport ? 'style' : 'css');
    });
  }
}

/** Text in the sheet's declared charset (utf-8 when none, or one Node does not know). */
function decode(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}
