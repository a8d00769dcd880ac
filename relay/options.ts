/**
 * Everything an operator can tune, its defaults, and the checks that turn impossible
 * combinations into a TypeError at start rather than a surprise in production.
 */
import { DEFAULT_ASSET_PATH, MAX_FRAME_BYTES } from '../core/protocol/index.js';
import type { AgentAuthOptions } from './auth.js';
import { systemClock, type Clock } from './clock.js';
import type { RedisClusterOptions } from './cluster.js';
import { normalizeOrigin } from './origins.js';
import type { WebhookOptions } from './webhook.js';

/** Abuse limits. `Infinity` switches one off. */
export interface RelayLimits {
  /** Frames a socket may send per second, with one second of burst; past it the relay stops reading the socket for a while (nothing is lost). Default 200. */
  framesPerSecond: number;
  /** Bytes a socket may send per second, with one second of burst; same throttling. Default 5 MiB. */
  bytesPerSecond: number;
  /** Open WebSockets per client IP (per /64 for IPv6); more get HTTP 429 at the upgrade. Default 256. */
  socketsPerIp: number;
  /**
   * Connections per client IP (IPv6: per /64) that have not upgraded to a WebSocket yet — a half-sent
   * request, a plain HTTP request; more are closed at once. Not applied with trustProxy (they all come
   * from the proxy). Default 64.
   */
  pendingPerIp: number;
  /** Live sessions created from one client IP; more get `rate-limited`/4029. Default 64. */
  sessionsPerIp: number;
  /**
   * An IPv6 /48 may hold this many times each per-IP cap (sockets, pending connections, sessions), on
   * top of its /64's own cap: someone with a /48 has 65,536 /64s. Mobile carriers may put many users in
   * one /48: raise it (or Infinity) if yours do. Sessions on Redis are counted per /64 only. Default 4.
   */
  per48Factor: number;
  /** Failed joins (unknown session ID) allowed per agent and per IP within `joinFailureWindowMs`; then `rate-limited`/4029. Default 5. */
  joinFailures: number;
  /** The sliding window for `joinFailures`; a success does not reset it. Default 15 min. */
  joinFailureWindowMs: number;
  /** Past this many bytes queued to an agent, the relay drops its patches and tells it `resync-required`. Default 2 MiB. */
  highWaterBytes: number;
  /** Past this many bytes queued to an agent, nothing more is queued, not even a snapshot. Default 8 MiB. */
  hardCapBytes: number;
}

/** The asset proxy: the agent's mirror loads the customer page's images, styles, fonts and media through the relay. */
export interface AssetProxyOptions {
  /** Where it is served on the relay's host; default '/asset'. */
  path?: string;
  /**
   * Exact origins it may fetch from for every session, besides each session's own customer origin. Only
   * these may be private or loopback addresses (or the relay's own origin): list your intranet CDN here.
   */
  origins?: readonly string[];
  /** Largest asset in bytes; past it the fetch is cut off (502). Default 8 MiB. */
  maxBytes?: number;
  /** The whole fetch, redirects included, within this (else 504); default 10 s. */
  timeoutMs?: number;
  /** In-memory cache of fetched assets, in bytes (0: none); default 32 MiB. */
  cacheBytes?: number;
  /** A grant (what joined gives the agent) works this long, and only while its session lives; default 12 h. */
  grantTtlMs?: number;
}

export interface RelayOptions {
  /** WebSocket path; default '/relay'. */
  path?: string;
  /** Largest accepted frame in bytes, at most MAX_FRAME_BYTES (larger ones close with 1009); default MAX_FRAME_BYTES. */
  maxPayload?: number;
  /** A session no agent ever joined expires after this; default 10 min. */
  unjoinedTtlMs?: number;
  /**
   * A customer whose socket dropped may resume within this, then the session expires; an agent
   * whose socket dropped keeps its place this long (another agent is refused meanwhile). Default 60 s.
   */
  graceMs?: number;
  /** A session through which no page content or command passed for this long ends ('expired'); default 30 min. */
  idleMs?: number;
  /** Ping interval; a peer silent for two intervals is terminated; default 30 s. */
  heartbeatMs?: number;
  /**
   * startRelay/CLI: how long a client may take to send a request's headers (slowloris); the whole
   * request gets twice this. Default 10 s. With attachRelay, set `headersTimeout`/`requestTimeout` on your server.
   */
  headersTimeoutMs?: number;
  /** How long close() waits for peers to finish their close handshake before cutting them off; default 5 s. */
  drainTimeoutMs?: number;
  /**
   * Agent authentication. A JWT verifier (`secret`, `publicKeyFile`, `jwksFile` or `jwksUrl`),
   * or `'dev'`: the relay issues its own tokens at GET /dev/agent-token. Absent: agents are
   * not authenticated and anyone with a session ID may join (a warning is logged).
   */
  agentAuth?: AgentAuthOptions | 'dev';
  /** Exact origins (e.g. 'https://shop.example') allowed for customer pages and agent consoles alike. */
  origins?: readonly string[];
  /** Exact origins allowed to create/resume sessions; overrides `origins` for customers. */
  customerOrigins?: readonly string[];
  /** Exact origins allowed to join sessions; overrides `origins` for agents. */
  agentOrigins?: readonly string[];
  /** Take the client IP from the last X-Forwarded-For entry (the one your own proxy appends). Only behind a proxy. */
  trustProxy?: boolean;
  /** Abuse limits; each falls back to RELAY_DEFAULTS.limits. */
  limits?: Partial<RelayLimits>;
  /** POST JSON to this URL on session created / agent joined / session ended. */
  webhook?: WebhookOptions;
  /** Serve GET /metrics (Prometheus text); default false. `metricsToken` or `metricsPort` switch it on. */
  metrics?: boolean;
  /** Require `Authorization: Bearer <metricsToken>` on GET /metrics (401 without it; compared in constant time). */
  metricsToken?: string;
  /** startRelay/CLI: serve GET /metrics alone on this port of the same host (0: any free one); handleHttp then does not serve it. */
  metricsPort?: number;
  /**
   * Share sessions with other relays through Redis (a redis:// URL, or { url, prefix }): any node
   * can take any peer, and a peer whose node dies resumes on another. Absent: one process, in memory.
   */
  redis?: string | RedisClusterOptions;
  /** The asset proxy (on unless `false`: then joined carries no `assets`, and the mirror loads assets itself). */
  assets?: false | AssetProxyOptions;
  /** Receives one JSON-able object per event; default: one JSON line on stdout. Never given frame bodies, tokens or full session IDs. */
  log?: (event: Record<string, unknown>) => void;
  /**
   * Where the relay's rules about time (TTLs, grace, lockouts, heartbeats, idle expiry) read and schedule; default
   * the system's. Tests pass a ManualClock. On Redis, what Redis itself expires keeps Redis's own time.
   */
  clock?: Clock;
}

/** What RelayOptions fall back to. */
export const RELAY_DEFAULTS = {
  path: '/relay',
  maxPayload: MAX_FRAME_BYTES,
  unjoinedTtlMs: 10 * 60_000,
  graceMs: 60_000,
  idleMs: 30 * 60_000,
  heartbeatMs: 30_000,
  drainTimeoutMs: 5_000,
  headersTimeoutMs: 10_000,
  assets: {
    path: DEFAULT_ASSET_PATH,
    maxBytes: 8 * 1024 * 1024,
    timeoutMs: 10_000,
    cacheBytes: 32 * 1024 * 1024,
    grantTtlMs: 12 * 3600_000,
  },
  limits: {
    framesPerSecond: 200,
    bytesPerSecond: 5 * 1024 * 1024,
    socketsPerIp: 256,
    pendingPerIp: 64,
    sessionsPerIp: 64,
    per48Factor: 4,
    joinFailures: 5,
    joinFailureWindowMs: 15 * 60_000,
    highWaterBytes: 2 * 1024 * 1024,
    hardCapBytes: 8 * 1024 * 1024,
  } satisfies RelayLimits as Readonly<RelayLimits>,
} as const;

export type ResolvedOptions = Required<
  Omit<
    RelayOptions,
    | 'agentAuth'
    | 'origins'
    | 'customerOrigins'
    | 'agentOrigins'
    | 'webhook'
    | 'limits'
    | 'redis'
    | 'metricsToken'
    | 'metricsPort'
    | 'assets'
  >
> &
  Pick<
    RelayOptions,
    'agentAuth' | 'origins' | 'customerOrigins' | 'agentOrigins' | 'webhook' | 'redis' | 'metricsToken' | 'metricsPort'
  > & {
    limits: RelayLimits;
    assets: false | ResolvedAssetOptions;
  };

export type ResolvedAssetOptions = Required<AssetProxyOptions>;

const writeJsonLine = (event: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);

const defined = <T extends object>(value: T) => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;

const positive = (x: number) => typeof x === 'number' && x > 0 && !Number.isNaN(x);

export function resolveOptions(options: RelayOptions): ResolvedOptions {
  const { limits, assets, ...rest } = options;
  const o: ResolvedOptions = {
    path: RELAY_DEFAULTS.path,
    maxPayload: RELAY_DEFAULTS.maxPayload,
    unjoinedTtlMs: RELAY_DEFAULTS.unjoinedTtlMs,
    graceMs: RELAY_DEFAULTS.graceMs,
    idleMs: RELAY_DEFAULTS.idleMs,
    heartbeatMs: RELAY_DEFAULTS.heartbeatMs,
    drainTimeoutMs: RELAY_DEFAULTS.drainTimeoutMs,
    headersTimeoutMs: RELAY_DEFAULTS.headersTimeoutMs,
    trustProxy: false,
    metrics: options.metricsToken !== undefined || options.metricsPort !== undefined,
    log: writeJsonLine,
    clock: systemClock,
    ...defined(rest),
    limits: { ...RELAY_DEFAULTS.limits, ...defined(limits ?? {}) },
    assets: assets === false ? false : resolveAssets(assets ?? {}),
  };
  for (const key of ['maxPayload', 'unjoinedTtlMs', 'graceMs', 'idleMs', 'heartbeatMs', 'drainTimeoutMs', 'headersTimeoutMs'] as const) {
    if (!(Number.isFinite(o[key]) && o[key] > 0)) throw new TypeError(`${key} must be a positive number`);
  }
  // Bigger frames would let one peer pin megabytes per message; large snapshots are chunked instead.
  if (o.maxPayload > MAX_FRAME_BYTES) throw new TypeError(`maxPayload must be at most ${MAX_FRAME_BYTES}`);
  for (const [key, value] of Object.entries(o.limits)) {
    if (!positive(value)) throw new TypeError(`limits.${key} must be a positive number (or Infinity)`);
  }
  if (o.limits.hardCapBytes < o.limits.highWaterBytes) throw new TypeError('limits.hardCapBytes must be at least limits.highWaterBytes');
  if (!o.path.startsWith('/')) throw new TypeError('path must start with "/"');
  if (o.assets && o.assets.path === o.path) throw new TypeError('assets.path must differ from path');
  if (!o.metrics && (o.metricsToken !== undefined || o.metricsPort !== undefined)) {
    throw new TypeError('metricsToken and metricsPort need metrics: true');
  }
  if (o.metricsToken !== undefined && o.metricsToken.length < 16) throw new TypeError('metricsToken must be at least 16 characters');
  if (o.metricsPort !== undefined && !(Number.isInteger(o.metricsPort) && o.metricsPort >= 0 && o.metricsPort <= 65535)) {
    throw new TypeError('metricsPort must be a port number');
  }
  return o;
}

function resolveAssets(assets: AssetProxyOptions): ResolvedAssetOptions {
  const a = { ...RELAY_DEFAULTS.assets, origins: [], ...defined(assets) };
  for (const key of ['maxBytes', 'timeoutMs', 'grantTtlMs'] as const) {
    if (!(Number.isFinite(a[key]) && a[key] > 0)) throw new TypeError(`assets.${key} must be a positive number`);
  }
  if (!(Number.isFinite(a.cacheBytes) && a.cacheBytes >= 0)) throw new TypeError('assets.cacheBytes must be a number, at least 0');
  // What joined may carry (see core/protocol/validate.ts): a peer would refuse anything else.
  if (!/^\/(?!\/)[\w\-./]*$/.test(a.path) || a.path.length > 256) throw new TypeError('assets.path must be a path like "/asset"');
  return { ...a, origins: a.origins.map(normalizeOrigin) };
}
