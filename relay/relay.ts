/**
 * The relay. The HTTP upgrade checks origin, per-IP limits and the agent's token before a
 * WebSocket exists (upgrade.ts); then a socket says who it is with its first frame (handshakes.ts),
 * and the relay checks every frame against the protocol (sockets.ts) and forwards the allowed ones,
 * untouched, to the other party of the same session (routing.ts) — within rate limits and, towards
 * a slow agent, within a memory budget. Sessions live in a SessionDirectory: in memory, or on Redis
 * for several relays; nothing else here knows which.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { CloseCode } from '../core/protocol/index.js';
import { AssetGrants, grantKeyFromSecret, randomGrantKey } from './asset-grant.js';
import { AssetProxy } from './assets.js';
import { createAgentAuth } from './auth.js';
import type { ClockTimer } from './clock.js';
import { RelayContext, type Conn } from './context.js';
import { maskCode, type DirectoryEvents } from './directory/directory.js';
import { MemoryDirectory } from './directory/memory.js';
import { RedisDirectory } from './directory/redis.js';
import { Handshakes } from './handshakes.js';
import { HttpEndpoints } from './http.js';
import { FailureLimiter, IpCounter } from './limits.js';
import { RelayMetrics } from './metrics.js';
import { resolveOptions, type ResolvedOptions, type RelayOptions } from './options.js';
import { OriginPolicy } from './origins.js';
import { Router } from './routing.js';
import { Sockets } from './sockets.js';
import { summarize, warnAtStart } from './summary.js';
import { Upgrades } from './upgrade.js';
import { Webhook } from './webhook.js';

export { RELAY_DEFAULTS, type RelayLimits, type RelayOptions } from './options.js';

export interface Relay {
  /** Live sessions, joined or not. */
  readonly sessionCount: number;
  /** Open WebSockets, including those that have not sent their first frame yet. */
  readonly socketCount: number;
  /** This relay's own Prometheus registry (add process metrics to it if you like). */
  readonly registry: Registry;
  /** The configuration in a few secret-free lines, for a start-up summary. */
  readonly summary: readonly string[];
  /**
   * Answers the relay's HTTP endpoints — GET /healthz, the asset proxy (GET /asset unless moved or off),
   * GET /metrics (when on, and not on its own port), and in dev mode GET /dev/agent-token?name=… — and
   * returns true; returns false for anything else.
   */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean;
  /** Answers GET /metrics when metrics are on (401 without the metricsToken, if one is set); false for anything else. */
  handleMetrics(req: IncomingMessage, res: ServerResponse): boolean;
  /** Stops accepting, closes every socket with 1001, waits for them (up to drainTimeoutMs); leaves the http server running. */
  close(): Promise<void>;
  /** On Redis: resolves true once Redis is reachable, false after `timeoutMs` without it. In memory: true at once. */
  ready(timeoutMs?: number): Promise<boolean>;
}

/** The session directory the options ask for, and the key asset grants are signed with (which every node must share). */
function openDirectory(o: ResolvedOptions, events: DirectoryEvents<Conn>) {
  const { limits, clock } = o;
  if (!o.redis) {
    const directory = new MemoryDirectory<Conn>(
      {
        clock,
        unjoinedTtlMs: o.unjoinedTtlMs,
        graceMs: o.graceMs,
        sessionsPerIp: new IpCounter(limits.sessionsPerIp, limits.per48Factor),
        joinFailures: new FailureLimiter(limits.joinFailures, limits.joinFailureWindowMs),
        sweepMs: Math.min(limits.joinFailureWindowMs, 60_000),
      },
      events,
    );
    return { directory, grantKey: () => randomGrantKey() };
  }
  const redis = typeof o.redis === 'string' ? { url: o.redis } : o.redis;
  const directory = new RedisDirectory<Conn>(
    {
      redis,
      clock,
      log: o.log,
      unjoinedTtlMs: o.unjoinedTtlMs,
      graceMs: o.graceMs,
      idleMs: o.idleMs,
      sessionsPerIp: limits.sessionsPerIp,
      joinFailures: limits.joinFailures,
      joinFailureWindowMs: limits.joinFailureWindowMs,
      touchMs: idleSweepMs(o),
    },
    events,
  );
  const secret = redis.secret;
  return { directory, grantKey: () => (secret ? grantKeyFromSecret(secret) : () => directory.sharedKey('asset-grants')) };
}

/** Idle sessions are looked for this often: one sweep rather than re-arming a timer on every frame. */
const idleSweepMs = (o: ResolvedOptions) => Math.min(o.idleMs / 4, 60_000);

/** Ends sessions idle for idleMs: one sweep rather than re-arming a timer on every frame. */
function sweepIdle(ctx: RelayContext, handshakes: Handshakes): ClockTimer {
  const { o, clock } = ctx;
  const idle = clock.setInterval(() => {
    const now = clock.monotonic();
    for (const session of [...ctx.directory.values()]) {
      if (now - session.activeAt < o.idleMs) continue;
      ctx.log({ event: 'session-expired', session: maskCode(session.code), why: 'idle' });
      handshakes.end(session, 'expired');
    }
  }, idleSweepMs(o));
  idle.unref();
  return idle;
}

/** Stops the timers, closes every socket with 1001 and waits for them (up to drainTimeoutMs), then lets go of the store. */
async function shutDown(ctx: RelayContext, upgrades: Upgrades, stopTimers: () => void): Promise<void> {
  ctx.shuttingDown = true;
  stopTimers();
  // Every session is forgotten here at once: no deadline fires while the sockets close.
  const directoryClosed = ctx.directory.close();
  const closed = [...ctx.conns.keys()].map((ws) => new Promise((resolve) => ws.once('close', resolve)));
  for (const conn of ctx.conns.values()) {
    conn.session = null; // shutting down is not a peer going offline
    conn.ws.close(CloseCode.GoingAway, 'relay shutting down');
  }
  // Real time, whatever the clock: shutting down must end even while a test's clock stands still.
  const force = setTimeout(() => ctx.conns.forEach((conn) => conn.ws.terminate()), ctx.o.drainTimeoutMs);
  await Promise.all(closed);
  clearTimeout(force);
  upgrades.detach();
  await directoryClosed;
  await ctx.webhook?.settle();
  ctx.log({ event: 'relay-closed' });
}

/** Attaches to an existing http.Server: handles its 'upgrade' for `path`, leaves other paths alone. */
export function attachRelay(server: Server, options: RelayOptions = {}): Relay {
  const o = resolveOptions(options);
  const { log, clock } = o;
  const auth = o.agentAuth ? createAgentAuth(o.agentAuth) : null;
  const dev = auth?.mode === 'dev';
  const customerOrigins = new OriginPolicy(o.customerOrigins ?? o.origins, dev);
  const agentOrigins = new OriginPolicy(o.agentOrigins ?? o.origins, dev);
  const metrics = new RelayMetrics({
    sessions: (): number => ctx.directory.size,
    sockets: () => {
      const counts = { pending: 0, customer: 0, agent: 0 };
      for (const conn of ctx.conns.values()) counts[conn.role ?? 'pending']++;
      return counts;
    },
  });
  const webhook = o.webhook
    ? new Webhook(o.webhook, (result, detail) => {
        metrics.webhook(result);
        if (result !== 'ok') log({ event: 'webhook-failed', result, detail });
      })
    : null;
  warnAtStart(o, { auth, customerOrigins, agentOrigins });

  // The parts that take the directory's news exist first; the asset proxy needs the directory's grant key.
  const ctx: RelayContext = new RelayContext(o, metrics, auth, customerOrigins, agentOrigins, webhook);
  const handshakes = new Handshakes(ctx);
  const router = new Router(ctx);
  const opened = openDirectory(o, {
    ended: (session, by, expired) => handshakes.ended(session, by, expired),
    released: (session) => handshakes.released(session),
    replaced: (party) => handshakes.replaced(party),
    peer: (session, frame) => handshakes.peer(session, frame),
    frame: (code, role, kind, raw) => router.fromNode(code, role, kind, raw),
    rejected: (reason) => router.rejected(reason),
  });
  ctx.directory = opened.directory;
  if (o.assets) {
    const assetOptions = o.assets;
    ctx.assets = new AssetProxy(assetOptions, {
      grants: new AssetGrants(opened.grantKey(), assetOptions.grantTtlMs, () => clock.now()),
      session: (code) => opened.directory.assetSession(code),
      outcome: (outcome) => metrics.asset(outcome),
      log,
    });
  }

  const sockets = new Sockets(ctx, handshakes, router);
  const upgrades = new Upgrades(ctx, server, (ws, ip, origin, agent, authError) => sockets.accept(ws, ip, origin, agent, authError));
  const http = new HttpEndpoints(ctx);
  const summary = summarize(o, { auth, customerOrigins, agentOrigins, webhook, sessions: opened.directory.describe });

  const idle = sweepIdle(ctx, handshakes);

  let closing: Promise<void> | undefined;
  return {
    get sessionCount() {
      return opened.directory.size;
    },
    get socketCount() {
      return ctx.conns.size;
    },
    registry: metrics.registry,
    summary,
    ready(timeoutMs = 5_000) {
      return opened.directory.ready(timeoutMs);
    },
    handleHttp(req, res) {
      return http.handle(req, res);
    },
    handleMetrics(req, res) {
      return http.metrics(req, res);
    },
    close() {
      closing ??= shutDown(ctx, upgrades, () => {
        sockets.stop();
        router.stop();
        clock.clear(idle);
      });
      return closing;
    },
  };
}
