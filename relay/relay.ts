/**
 * The relay's routing. The HTTP upgrade checks origin, per-IP limits and the agent's token
 * before a WebSocket exists; then a socket says who it is with its first frame, and the
 * relay checks every frame against the protocol and forwards the allowed ones, untouched,
 * to the other party of the same session — within rate limits and, towards a slow agent,
 * within a memory budget.
 */
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import {
  CloseCode,
  ErrorCode,
  FORWARDED,
  PROTOCOL_VERSION,
  ProtocolError,
  Role,
  SEQUENCED,
  SNAPSHOT_REQUEST_MS,
  allowedInMode,
  parseAgentFrame,
  parseCustomerFrame,
  parseFrame,
  type CreateFrame,
  type EndedBy,
  type Frame,
  type JoinFrame,
  type RelayFrame,
  type ResumeFrame,
} from '../core/protocol/index.js';
import { AssetGrants, grantKeyFromSecret, randomGrantKey } from './asset-grant.js';
import { AssetProxy, type AssetSession } from './assets.js';
import { AuthError, bearerMatches, bearerToken, chooseProtocol, createAgentAuth, type AgentIdentity } from './auth.js';
import { ClusterUnavailable, RedisCluster, nodeOf, type ClusterEvent, type Holder, type JoinGuard, type SessionRecord } from './cluster.js';
import { capPendingConnections } from './connections.js';
import { FailureLimiter, IpCounter, RateBudget, clientIp, ipKey } from './limits.js';
import { RelayMetrics, type DropReason, type Party } from './metrics.js';
import { resolveOptions, type RelayOptions } from './options.js';
import { mayRedeem, OriginPolicy } from './origins.js';
import { Deadline, MAX_RESUME_TOKENS, SessionStore, hashToken, maskCode, newCode, newToken, type Session } from './sessions.js';
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

/** The only frames a socket may open with; they decide its role. */
const HANDSHAKE = new Set(['create', 'resume', 'join']);
/** Sent to a customer on a lagging agent's behalf. */
const REQUEST_SNAPSHOT = '{"t":"request-snapshot"}';
/** How often a lagging agent's buffer is checked, and how long before asking the customer again. */
const RESYNC_POLL_MS = 100;
const RESYNC_RETRY_MS = 5_000;
/** A hand-off token is good once, for this long: it only has to outlive one page load. */
const HANDOFF_TTL_MS = 60_000;
/** Dropped bus messages are logged at most this often. */
const BUS_LOG_MS = 10_000;
/** How often a node on Redis checks that the nodes holding its sessions' other parties are alive. */
const WATCH_MS = 1_000;

interface Conn {
  readonly ws: WebSocket;
  /** Numbers the relay's sockets; on Redis, `<node>:<serial>` names the connection holding a role. */
  readonly serial: number;
  /** On Redis, frames that arrived while the handshake waited for Redis, handled in order after it. */
  queue: Array<[RawData, boolean]> | null;
  /** The socket has closed (an async handshake finishing late must undo what it took). */
  closed: boolean;
  /** The client's IP key (IPv4, or IPv6 /64). */
  readonly ip: string;
  readonly origin: string | undefined;
  /** The agent its token proved, checked at the upgrade; null without a valid token. */
  readonly agent: AgentIdentity | null;
  /** Why an offered token was refused (sent with `unauthorized` if it tries to join). */
  readonly authError: string | null;
  role: Role | null;
  session: Session<Conn> | null;
  /** Answered the last ping (or sent anything) since the previous heartbeat. */
  alive: boolean;
  /** Has lived through at least one heartbeat. */
  seen: boolean;
  pingAt: number;
  /** Null when both rates are unlimited. */
  readonly rate: RateBudget | null;
  /** Reading is paused until its rate buckets refill. */
  throttled: boolean;
  /** An agent whose frames were dropped: nothing but a fresh snapshot may reach it now. */
  behind: boolean;
  resyncAskedAt: number;
}

const pathOf = (req: IncomingMessage) => req.url?.split('?')[0];
const partyOf = (conn: Conn): Party => conn.role ?? 'unknown';
const ignore = () => {};

const mib = (bytes: number) => (Number.isFinite(bytes) ? `${+(bytes / 1048576).toFixed(2)} MiB` : 'unlimited');
const count = (n: number, unit: string) => `${Number.isFinite(n) ? n : 'unlimited'} ${unit}`;
function duration(ms: number): string {
  if (ms < 90_000) return `${Math.ceil(ms / 1000)} s`;
  return `${Math.ceil(ms / 60_000)} min`;
}

/** Attaches to an existing http.Server: handles its 'upgrade' for `path`, leaves other paths alone. */
export function attachRelay(server: Server, options: RelayOptions = {}): Relay {
  const o = resolveOptions(options);
  const { log, limits, clock } = o;
  const auth = o.agentAuth ? createAgentAuth(o.agentAuth) : null;
  const dev = auth?.mode === 'dev';
  const customerOrigins = new OriginPolicy(o.customerOrigins ?? o.origins, dev);
  const agentOrigins = new OriginPolicy(o.agentOrigins ?? o.origins, dev);
  const joinLimiter = new FailureLimiter(limits.joinFailures, limits.joinFailureWindowMs);
  const socketsPerIp = new IpCounter(limits.socketsPerIp, limits.per48Factor);
  const sessionsPerIp = new IpCounter(limits.sessionsPerIp, limits.per48Factor);
  /** Every open socket's state, by socket: the socket handlers below are shared, not per-socket closures. */
  const conns = new Map<WebSocket, Conn>();
  /** Agents that fell behind and wait for a snapshot. */
  const lagging = new Set<Conn>();
  const store = new SessionStore<Conn>(clock, (session, why) => {
    if (cluster) return expireShared(session, why);
    if (why === Deadline.AgentGrace) return releaseAgent(session, 'agent-expired');
    log({ event: 'session-expired', session: maskCode(session.code), why });
    endSession(session, 'expired');
  });
  /** Several relays on one Redis: the shared session records and the bus between nodes; null in memory. */
  const cluster = o.redis
    ? new RedisCluster(typeof o.redis === 'string' ? { url: o.redis } : o.redis, {
        frame: onBusFrame,
        event: onBusEvent,
        health: (up) => {
          log({
            event: up ? 'redis-up' : 'redis-down',
            ...(up ? {} : { message: 'Redis is unreachable: new sessions are refused until it is back' }),
          });
          if (up) {
            retryOfflines();
            restoreAll('redis-back'); // it may have restarted empty, or lost writes while away
          }
        },
        lost: () => restoreAll('node-key-lost'),
        rejected: busRejected,
      })
    : null;
  /** A record outlives its last frame by the idle timeout and a grace period; nodes holding a party keep it fresh. */
  const recordTtlMs = Math.max(o.idleMs, o.unjoinedTtlMs) + o.graceMs;
  let serials = 0;
  const metrics = new RelayMetrics({
    sessions: () => store.size,
    sockets: () => {
      const counts = { pending: 0, customer: 0, agent: 0 };
      for (const conn of conns.values()) counts[conn.role ?? 'pending']++;
      return counts;
    },
  });
  const assets = o.assets ? createAssetProxy(o.assets) : null;
  const webhook = o.webhook
    ? new Webhook(o.webhook, (result, detail) => {
        metrics.webhook(result);
        if (result !== 'ok') log({ event: 'webhook-failed', result, detail });
      })
    : null;
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false, // `conns` tracks them, with their state
    maxPayload: o.maxPayload,
    perMessageDeflate: false, // compression costs CPU per frame and invites zip bombs
    handleProtocols: chooseProtocol,
  });
  let shuttingDown = false;

  /** The asset proxy, with grants every node of a cluster can check: see asset-grant.ts. */
  function createAssetProxy(options: Exclude<typeof o.assets, false>): AssetProxy {
    const secret = typeof o.redis === 'object' ? o.redis.secret : undefined;
    const key = secret ? grantKeyFromSecret(secret) : cluster ? () => cluster.sharedKey('asset-grants') : randomGrantKey();
    const find = async (code: string): Promise<AssetSession | null> => {
      if (cluster) return cluster.assetSession(code); // the session may live on another node only
      const session = store.find(code);
      return session ? { origin: session.customerOrigin, salt: session.assetSalt } : null;
    };
    return new AssetProxy(options, {
      grants: new AssetGrants(key, options.grantTtlMs, () => clock.now()),
      session: find,
      outcome: (outcome) => metrics.asset(outcome),
      log,
    });
  }

  const metricsTokenSet = o.metricsToken !== undefined;
  const summary = [
    `agents: ${auth ? auth.summary : 'NOT AUTHENTICATED: anyone with a session ID may join'}`,
    `customer origins: ${customerOrigins.describe()}; agent origins: ${agentOrigins.describe()}`,
    `per socket: ${count(limits.framesPerSecond, 'frames/s')}, ${mib(limits.bytesPerSecond)}/s, frames up to ${o.maxPayload} B; ` +
      `per IP: ${count(limits.socketsPerIp, 'sockets')}, ${count(o.trustProxy ? Infinity : limits.pendingPerIp, 'connections not upgraded')}, ${count(limits.sessionsPerIp, 'sessions')}, ` +
      `${count(limits.joinFailures, 'failed joins')} per ${duration(limits.joinFailureWindowMs)} (also per agent)`,
    o.assets
      ? `asset proxy: GET ${o.assets.path}, from each session's customer origin${o.assets.origins.length ? ` and ${o.assets.origins.join(', ')}` : ''}; ` +
        `up to ${mib(o.assets.maxBytes)} within ${duration(o.assets.timeoutMs)}, cache ${mib(o.assets.cacheBytes)}`
      : 'asset proxy: off (agents load page assets from their origins themselves)',
    `slow agents: drop patches past ${mib(limits.highWaterBytes)} queued, nothing past ${mib(limits.hardCapBytes)}`,
    `sessions: unjoined TTL ${duration(o.unjoinedTtlMs)}, resume grace ${duration(o.graceMs)}, idle ${duration(o.idleMs)}, heartbeat ${duration(o.heartbeatMs)}`,
    `client IP from: ${o.trustProxy ? 'X-Forwarded-For (last entry)' : 'the socket'}; ` +
      `metrics: ${!o.metrics ? 'off' : `GET /metrics${o.metricsPort !== undefined ? ' on its own port' : ''}${metricsTokenSet ? ' (bearer token)' : ''}`}; webhook: ${webhook ? `${new URL(webhook.url).origin}/…${o.webhook?.secret ? ' (signed)' : ''}` : 'off'}`,
    cluster
      ? `sessions shared on Redis ${cluster.describe}; every limit per IP but sockets counted cluster-wide; bus messages ${typeof o.redis === 'object' && o.redis.secret ? 'signed (HMAC-SHA256)' : 'NOT signed'}`
      : 'sessions in memory (one process; --redis to run several)',
  ];
  if (dev) log({ event: 'warning', message: 'DEV MODE: anyone can get an agent token at GET /dev/agent-token. Never expose this relay.' });
  else if (!auth)
    log({ event: 'warning', message: 'Agents are not authenticated: anyone with a session ID can join. Configure agentAuth.' });
  if (cluster && !(typeof o.redis === 'object' && o.redis.secret)) {
    log({
      event: 'warning',
      message:
        "Insecure cluster (no secret): anyone who can PUBLISH on this Redis can send frames to this node's parties. Configure redis.secret (--cluster-secret).",
    });
  }
  if (customerOrigins.open || agentOrigins.open) {
    log({ event: 'warning', message: 'No origin allowlist: pages on any site may use this relay. Configure origins.' });
  }

  const send = (conn: Conn | null, frame: RelayFrame) => sendText(conn, JSON.stringify(frame));

  function sendText(conn: Conn | null, text: string) {
    if (conn?.ws.readyState !== WebSocket.OPEN) return;
    conn.ws.send(text);
    metrics.frame('out', partyOf(conn), Buffer.byteLength(text));
  }

  function refuse(conn: Conn, code: ErrorCode, message: string, close: CloseCode) {
    log({ event: 'refused', role: conn.role, error: code, close });
    metrics.refused(code);
    send(conn, { t: 'error', code, message });
    conn.ws.close(close, code);
  }

  /** Ends a session for everyone; on Redis the record goes, and the script tells the other parties' nodes. */
  function endSession(session: Session<Conn>, by: EndedBy) {
    cluster?.end(session.code, by).catch((err: unknown) => log({ event: 'redis-error', error: String(err) }));
    endHere(session, by);
    log({ event: 'session-ended', session: maskCode(session.code), by });
    webhook?.post({ event: 'session.ended', session: session.code, by });
  }

  /** Ends the session's parties on this relay and forgets it here. */
  function endHere(session: Session<Conn>, by: EndedBy) {
    store.delete(session);
    if (session.counted) sessionsPerIp.remove(session.ip);
    session.counted = false;
    for (const conn of [session.customer, session.agent]) {
      if (!conn) continue;
      conn.session = null; // its close is then no news to anyone
      send(conn, { t: 'ended', by });
      conn.ws.close(CloseCode.Ended, 'ended');
    }
    session.customer = session.agent = null;
  }

  function bind(conn: Conn, role: Role, session: Session<Conn>) {
    conn.role = role;
    conn.session = session;
  }

  function handshake(conn: Conn, frame: CreateFrame | ResumeFrame | JoinFrame) {
    if (frame.v !== PROTOCOL_VERSION) {
      const message = `This relay speaks protocol version ${PROTOCOL_VERSION}`;
      return refuse(conn, ErrorCode.UnsupportedVersion, message, CloseCode.UnsupportedVersion);
    }
    if (frame.t === 'join') return join(conn, frame);
    if (!customerOrigins.allows(conn.origin)) {
      return refuse(conn, ErrorCode.NotAllowed, 'Pages on this origin may not share through this relay', CloseCode.PolicyViolation);
    }
    if (cluster) return shared(conn, () => (frame.t === 'create' ? createShared(conn, frame) : resumeShared(conn, frame)));
    return frame.t === 'create' ? create(conn, frame) : resume(conn, frame);
  }

  function create(conn: Conn, frame: CreateFrame) {
    if (!sessionsPerIp.tryAdd(conn.ip)) {
      return refuse(conn, ErrorCode.RateLimited, 'Too many live sessions from this address', CloseCode.RateLimited);
    }
    const { session, token } = store.create(frame.mode, conn, conn.ip, clock.monotonic(), conn.origin ?? null);
    bind(conn, Role.Customer, session);
    store.arm(session, Deadline.Unjoined, o.unjoinedTtlMs);
    send(conn, { t: 'created', code: session.code, token, mode: session.mode });
    log({ event: 'session-created', session: maskCode(session.code), mode: session.mode });
    webhook?.post({ event: 'session.created', session: session.code, mode: session.mode });
  }

  function resume(conn: Conn, frame: ResumeFrame) {
    // On another of the session's domains, a one-time hand-off token stands in for the ID and resume token.
    const handoff = 'handoff' in frame;
    const session = handoff ? store.redeemHandoff(frame.handoff, clock.monotonic(), conn.origin) : store.find(frame.code);
    if (!session || (!handoff && !store.verify(session, frame.token))) {
      const message = handoff
        ? 'This hand-off link has expired or was already used'
        : 'No session with this ID, or the resume token is wrong';
      return refuse(conn, ErrorCode.NotFound, message, CloseCode.SessionNotFound);
    }
    if (isStale(conn, session, Role.Customer, frame.at)) return;
    session.openedAt.customer = frame.at ?? 0;
    session.customerOrigin = conn.origin ?? null; // a hand-off brings the page to another of its domains
    const previous = session.customer;
    if (previous) {
      previous.session = null; // replaced, not gone: the agent hears nothing
      previous.ws.close(CloseCode.Ended, 'replaced');
    }
    session.customer = conn;
    bind(conn, Role.Customer, session);
    store.disarm(session, Deadline.Grace);
    // A held (dropped) agent is not there yet: the customer hears `peer … resumed` when it is back.
    const resumed: RelayFrame = {
      t: 'resumed',
      code: session.code,
      mode: session.mode,
      agent: session.agent ? session.agentName : null,
      seq: session.seq,
    };
    // The new domain keeps its own resume token, for its own reloads.
    send(conn, handoff ? { ...resumed, token: store.addResumeToken(session) } : resumed);
    send(session.agent, { t: 'peer', role: Role.Customer, status: 'online' });
    log({ event: handoff ? 'session-handed-off' : 'session-resumed', session: maskCode(session.code) });
  }

  function join(conn: Conn, frame: JoinFrame) {
    const fail = (reason: string, code: ErrorCode, message: string, close: CloseCode) => {
      metrics.joinFailed(reason);
      refuse(conn, code, message, close);
    };
    if (!agentOrigins.allows(conn.origin)) {
      return fail('origin', ErrorCode.NotAllowed, 'Consoles on this origin may not join through this relay', CloseCode.PolicyViolation);
    }
    if (auth && !conn.agent) {
      return fail('unauthorized', ErrorCode.Unauthorized, conn.authError ?? 'Joining needs an agent token', CloseCode.Unauthorized);
    }
    // Guessing is limited per address and per agent, so neither many agents on one
    // address nor one agent on many addresses gets more than `joinFailures` tries.
    const now = clock.now();
    const keys = [`ip:${conn.ip}`, ...(conn.agent ? [`agent:${conn.agent.id}`] : [])];
    if (cluster) return shared(conn, () => joinShared(conn, frame, keys, fail));
    // In memory the check and the count below run in one go (no await between): parallel guesses cannot both pass.
    const wait = Math.max(...keys.map((key) => joinLimiter.retryAfter(key, now)));
    if (wait > 0) {
      const message = `Too many failed attempts to join; try again in ${duration(wait)}`;
      return fail('rate-limited', ErrorCode.RateLimited, message, CloseCode.RateLimited);
    }
    const session = store.find(frame.code);
    if (!session) {
      for (const key of keys) joinLimiter.fail(key, now);
      return fail('not-found', ErrorCode.NotFound, 'No session with this ID', CloseCode.SessionNotFound);
    }
    // The place is taken while an agent is bound, and held for it a while after its connection drops.
    const reclaim = store.verifyAgent(session, frame.token);
    if ((session.agent || session.agentTokenHash) && !reclaim) {
      return fail('taken', ErrorCode.Taken, 'Another agent is already in this session', CloseCode.SessionTaken);
    }
    if (reclaim && isStale(conn, session, Role.Agent, frame.at)) return;
    session.openedAt.agent = frame.at ?? 0;
    const previous = session.agent;
    if (previous) {
      previous.session = null; // a half-open socket the same agent replaces: the customer hears nothing
      previous.ws.close(CloseCode.Ended, 'replaced');
    }
    // With authentication on, the customer sees the name the contact center vouched for.
    const name = conn.agent?.name ?? (frame.name?.trim() || 'Agent');
    session.agent = conn;
    session.agentName = name;
    // A reclaim keeps its token: were a new one lost with this frame, the agent could never come back.
    const token = reclaim ? frame.token! : store.issueAgentToken(session);
    welcomeAgent(conn, session, name, token, reclaim, session.customer?.ws.readyState === WebSocket.OPEN);
  }

  /**
   * A handshake from a connection older than the one holding the role (see ResumeFrame's `at`) is a
   * late frame of a connection its client gave up: closed as replaced.
   */
  function isStale(conn: Conn, session: Session<Conn>, role: Role, at: number | undefined): boolean {
    if (at === undefined || at >= session.openedAt[role]) return false;
    closeStale(conn, session, role);
    return true;
  }
  function closeStale(conn: Conn, session: { code: string }, role: Role) {
    log({ event: 'stale-handshake', role, session: maskCode(session.code) });
    conn.ws.close(CloseCode.Ended, 'replaced');
  }

  /** The agent is in: it hears `joined`, its customer `peer online` (`resumed` when it took its place back). */
  function welcomeAgent(conn: Conn, session: Session<Conn>, name: string, token: string, reclaim: boolean, online: boolean) {
    bind(conn, Role.Agent, session);
    store.disarm(session, Deadline.Unjoined);
    store.disarm(session, Deadline.AgentGrace);
    // The grant lets this agent's mirror load the page's assets through the relay (see assets.ts).
    const grant = assets ? { assets: { path: assets.path, grant: assets.grants.issue(session.code, session.assetSalt) } } : {};
    send(conn, { t: 'joined', code: session.code, mode: session.mode, online, token, ...grant });
    send(
      session.customer,
      reclaim
        ? { t: 'peer', role: Role.Agent, status: 'online', name, resumed: true }
        : { t: 'peer', role: Role.Agent, status: 'online', name },
    );
    log({
      event: reclaim ? 'agent-resumed' : 'agent-joined',
      session: maskCode(session.code),
      agent: conn.agent?.id ?? null,
      customerOnline: online,
    });
    if (!reclaim) webhook?.post({ event: 'agent.joined', session: session.code, agent: { id: conn.agent?.id ?? null, name } });
  }

  /** The agent's place is free again (it left, or did not come back in time). */
  function releaseAgent(session: Session<Conn>, event: string) {
    store.disarm(session, Deadline.AgentGrace);
    session.agentTokenHash = null;
    session.agentName = null;
    log({ event, session: maskCode(session.code) });
  }

  // ─── On Redis: the same handshakes against the shared record ─────────────────────────────

  const holderOf = (conn: Conn): Holder => `${cluster!.node}:${conn.serial}`;
  /** The node of a holder, unless it is this one (or nobody). */
  const remoteNode = (holder: Holder) => (holder && nodeOf(holder) !== cluster!.node ? nodeOf(holder) : null);

  function unavailable(conn: Conn) {
    refuse(conn, ErrorCode.Unavailable, 'The relay cannot reach its session store (Redis); try again shortly', CloseCode.TryAgainLater);
  }

  /**
   * Runs a handshake that waits for Redis. Frames the socket sends meanwhile wait too, and are
   * handled in order afterwards; if the socket closed meanwhile, what the handshake took is given back.
   */
  function shared(conn: Conn, handshake: () => Promise<void>) {
    if (!cluster!.up) return unavailable(conn);
    conn.queue = [];
    handshake()
      .catch((err: unknown) => {
        if (!(err instanceof ClusterUnavailable)) log({ event: 'internal-error', error: String(err) });
        else log({ event: 'redis-error', error: err.message });
        unavailable(conn);
      })
      .finally(() => {
        const queued = conn.queue ?? [];
        conn.queue = null;
        if (conn.closed) return depart(conn);
        for (const [data, isBinary] of queued) onSocketMessage.call(conn.ws, data, isBinary);
      });
  }

  /** A different ID than any this relay holds, for the cluster to try. */
  const freshCode = () => {
    let code: string;
    do code = newCode();
    while (store.find(code));
    return code;
  };

  async function createShared(conn: Conn, frame: CreateFrame) {
    const token = newToken();
    const assetSalt = newToken();
    const code = await cluster!.create(freshCode, {
      mode: frame.mode,
      ip: conn.ip,
      tokenHash: hashToken(token),
      unjoinedUntil: clock.now() + o.unjoinedTtlMs,
      ttlMs: recordTtlMs,
      holder: holderOf(conn),
      maxPerIp: limits.sessionsPerIp,
      customerOrigin: conn.origin ?? null,
      assetSalt,
    });
    if (code === null) return refuse(conn, ErrorCode.RateLimited, 'Too many live sessions from this address', CloseCode.RateLimited);
    const { session } = store.create(frame.mode, conn, conn.ip, clock.monotonic(), conn.origin ?? null, { code, token, assetSalt });
    session.counted = false; // counted in Redis, cluster-wide, until the record goes
    bind(conn, Role.Customer, session);
    store.arm(session, Deadline.Unjoined, o.unjoinedTtlMs);
    send(conn, { t: 'created', code, token, mode: session.mode });
    log({ event: 'session-created', session: maskCode(code), mode: session.mode });
    webhook?.post({ event: 'session.created', session: code, mode: session.mode });
  }

  /** A party arrived here: this relay's copy of the session, with what the record says. */
  function adopt(record: SessionRecord): Session<Conn> {
    const session = store.adopt(record, clock.monotonic());
    session.remote.customer = remoteNode(record.customer);
    session.remote.agent = remoteNode(record.agent);
    // An unjoined session keeps its deadline wherever its customer goes.
    if (!record.joined && !session.timers.unjoined) store.arm(session, Deadline.Unjoined, Math.max(1, record.unjoinedUntil - clock.now()));
    return session;
  }

  /** Closes this relay's socket for a role another connection took (here or, by an event, elsewhere). */
  function replaceHere(session: Session<Conn>, role: Role) {
    const previous = session[role];
    if (!previous) return;
    previous.session = null; // replaced, not gone: the other party hears nothing
    previous.ws.close(CloseCode.Ended, 'replaced');
    session[role] = null;
  }

  async function resumeShared(conn: Conn, frame: ResumeFrame) {
    const handoff = 'handoff' in frame;
    const redeemed = handoff ? await cluster!.redeemHandoff(hashToken(frame.handoff).toString('base64')) : null;
    const code = !handoff ? frame.code : redeemed && mayRedeem(redeemed.binding, conn.origin) ? redeemed.code : null;
    const record =
      code &&
      (await cluster!.resume(code, handoff ? null : hashToken(frame.token), holderOf(conn), recordTtlMs, frame.at, conn.origin ?? null));
    if (record === 'stale') return closeStale(conn, { code: code as string }, Role.Customer);
    if (!record) {
      if (!handoff && cluster!.settling) return unavailable(conn); // its record may not be written back yet
      const message = handoff
        ? 'This hand-off link has expired or was already used'
        : 'No session with this ID, or the resume token is wrong';
      return refuse(conn, ErrorCode.NotFound, message, CloseCode.SessionNotFound);
    }
    const session = adopt(record);
    replaceHere(session, Role.Customer);
    session.customer = conn;
    bind(conn, Role.Customer, session);
    store.disarm(session, Deadline.Grace);
    const agent = session.agent || session.remote.agent ? session.agentName : null;
    const resumed: RelayFrame = { t: 'resumed', code: session.code, mode: session.mode, agent, seq: session.seq };
    if (handoff) {
      const token = newToken();
      await cluster!.addToken(session.code, hashToken(token), MAX_RESUME_TOKENS);
      send(conn, { ...resumed, token });
    } else send(conn, resumed);
    send(session.agent, { t: 'peer', role: Role.Customer, status: 'online' }); // an agent elsewhere heard it from the script
    log({ event: handoff ? 'session-handed-off' : 'session-resumed', session: maskCode(session.code) });
  }

  async function joinShared(
    conn: Conn,
    frame: JoinFrame,
    keys: string[],
    fail: (reason: string, code: ErrorCode, message: string, close: CloseCode) => void,
  ) {
    const name = conn.agent?.name ?? (frame.name?.trim() || 'Agent');
    await assets?.grants.ready(); // without a cluster secret, the grant key is in Redis
    const offered = frame.token === undefined ? null : hashToken(frame.token);
    const token = newToken();
    // The lockout is checked, and a miss counted, inside the join script: one atomic step cluster-wide.
    const guard: JoinGuard = {
      keys: keys.map((key) => [key, limits.joinFailures]),
      windowMs: limits.joinFailureWindowMs,
      now: clock.now(),
      count: !cluster!.settling, // a missing record may just not be written back yet
    };
    const record = await cluster!.join(frame.code, offered, hashToken(token), name, holderOf(conn), recordTtlMs, frame.at, guard);
    if (record === 'stale') return closeStale(conn, frame, Role.Agent);
    if (record !== null && typeof record === 'object' && 'retryAfterMs' in record) {
      const message = `Too many failed attempts to join; try again in ${duration(record.retryAfterMs)}`;
      return fail('rate-limited', ErrorCode.RateLimited, message, CloseCode.RateLimited);
    }
    if (record === null) {
      if (!guard.count || cluster!.settling) return unavailable(conn);
      return fail('not-found', ErrorCode.NotFound, 'No session with this ID', CloseCode.SessionNotFound);
    }
    if (record === 'taken') return fail('taken', ErrorCode.Taken, 'Another agent is already in this session', CloseCode.SessionTaken);
    const reclaim = !!offered && !!record.agentTokenHash?.equals(offered);
    const session = adopt(record);
    replaceHere(session, Role.Agent);
    session.agent = conn;
    const online = session.customer?.ws.readyState === WebSocket.OPEN || !!session.remote.customer;
    welcomeAgent(conn, session, name, reclaim ? frame.token! : token, reclaim, online);
  }

  /** A deadline fired here: the record decides whether it still applies (a party may be back on another node). */
  function expireShared(session: Session<Conn>, why: Deadline) {
    cluster!.expire(session.code, why, o.graceMs).then(
      (result) => {
        if (result === 'gone' && cluster!.settling) return store.arm(session, why, 1_000); // not written back yet
        if (result === 'released') releaseAgent(session, 'agent-expired');
        else if (result === 'ended' || result === 'gone') {
          if (result === 'ended') {
            log({ event: 'session-expired', session: maskCode(session.code), why });
            webhook?.post({ event: 'session.ended', session: session.code, by: 'expired' });
          }
          endHere(session, 'expired');
        }
        forgetIfUnused(session);
      },
      () => store.arm(session, why, 1_000), // Redis is away: ask again shortly
    );
  }

  /** On Redis, a session with no party and no deadline here lives on in Redis and on other nodes only. */
  function forgetIfUnused(session: Session<Conn>) {
    if (!cluster || session.customer || session.agent || store.armed(session) || store.find(session.code) !== session) return;
    store.delete(session);
    if (session.counted) sessionsPerIp.remove(session.ip);
    session.counted = false;
  }

  /**
   * Marks a departed party's place vacant in the record. Redis may be away just then: the record
   * would name a socket that is gone, and no grace period would ever end it; so it is tried again
   * once Redis is back.
   */
  const offlineLater: Array<[code: string, role: Role, holder: Holder]> = [];
  function goOffline(code: string, role: Role, holder: Holder) {
    cluster!.offline(code, role, holder).catch((err: unknown) => {
      log({ event: 'redis-error', error: String(err) });
      if (offlineLater.length < 100_000) offlineLater.push([code, role, holder]);
    });
  }
  function retryOfflines() {
    for (const [code, role, holder] of offlineLater.splice(0)) goOffline(code, role, holder);
  }

  /** Redis lost what this node wrote (it restarted empty, or took this node for dead): write back the sessions held here. */
  function restoreAll(why: string) {
    const sessions = [...store.values()];
    if (!sessions.length) return;
    log({ event: 'redis-restore', why, sessions: sessions.length });
    const writes = sessions.map((session) => {
      const record = {
        code: session.code,
        mode: session.mode,
        ip: session.ip,
        tokenHashes: session.tokenHashes,
        agentTokenHash: session.agentTokenHash,
        agentName: session.agentName,
        seq: session.seq,
        joined: !session.timers.unjoined,
        unjoinedUntil: clock.now() + o.unjoinedTtlMs,
        customer: session.customer ? holderOf(session.customer) : '',
        agent: session.agent ? holderOf(session.agent) : '',
        customerOrigin: session.customerOrigin,
        assetSalt: session.assetSalt,
      };
      return cluster!.restore(record, recordTtlMs).then(
        // Another connection holds the role now: the socket here is stale, as if replaced.
        (roles) => roles.forEach((role) => replaceHere(session, role as Role)),
        (err: unknown) => log({ event: 'redis-error', error: String(err) }),
      );
    });
    // Parties may resume on any node from here on.
    void Promise.all(writes).then(() => log({ event: 'redis-restored', why, sessions: sessions.length }));
  }

  /** The other parties of sessions here, on nodes that died: gone, as if their sockets had closed (their grace period starts). */
  let watching = false;
  async function watchNodes() {
    if (watching) return; // the last check still waits for Redis (a stalled connection): one at a time
    watching = true;
    try {
      await checkNodes();
    } finally {
      watching = false;
    }
  }
  async function checkNodes() {
    const nodes = new Set<string>();
    for (const session of store.values()) {
      if (session.remote.customer) nodes.add(session.remote.customer);
      if (session.remote.agent) nodes.add(session.remote.agent);
    }
    const dead = await cluster!.deadNodes([...nodes]);
    if (!dead.size) return;
    log({ event: 'nodes-dead', nodes: [...dead] });
    const orphans = [];
    for (const session of [...store.values()]) {
      for (const role of [Role.Customer, Role.Agent]) {
        const node = session.remote[role];
        if (node && dead.has(node)) orphans.push(orphan(session, role, node));
      }
    }
    await Promise.all(orphans);
  }

  async function orphan(session: Session<Conn>, role: Role, node: string) {
    const holder = await cluster!.orphan(session.code, role, node);
    if (store.find(session.code) !== session) return;
    if (holder === null) {
      // Ended on the dead node before it could say so (or, Redis just back, not written back yet).
      if (!cluster!.settling) endHere(session, 'expired');
      return;
    }
    session.remote[role] = remoteNode(holder);
    if (holder !== '') return; // back already, on another node
    const other = role === Role.Customer ? Role.Agent : Role.Customer;
    send(session[other], { t: 'peer', role, status: 'offline' });
    store.arm(session, role === Role.Customer ? Deadline.Grace : Deadline.AgentGrace, o.graceMs);
    log({ event: 'peer-offline', role, session: maskCode(session.code), why: 'node-dead' });
  }

  /** A bus message was dropped: counted every time, logged at most once per interval with the count since. */
  let busRejections = 0;
  let busLoggedAt = -Infinity;
  function busRejected(reason: 'mac' | 'invalid') {
    metrics.busRejected(reason);
    busRejections++;
    const now = clock.monotonic();
    if (now - busLoggedAt < BUS_LOG_MS) return;
    busLoggedAt = now;
    log({ event: 'bus-message-dropped', reason, count: busRejections });
    busRejections = 0;
  }

  /** A frame from a party on another node, for this relay's party of the session: checked as if it came from a socket. */
  function onBusFrame(code: string, role: Role, kind: string, raw: Buffer) {
    const sender = role === Role.Agent ? Role.Customer : Role.Agent;
    try {
      const frame = sender === Role.Customer ? parseCustomerFrame(raw.toString()) : parseAgentFrame(raw.toString());
      if (!FORWARDED[sender].has(frame.t)) return busRejected('invalid');
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return busRejected('invalid');
    }
    const session = store.find(code);
    if (!session) return metrics.dropped('no-peer');
    session.activeAt = clock.monotonic();
    deliver(session[role], kind, raw);
  }

  /** News from another node about a session with a party here. */
  /**
   * News from other nodes, handled in the order it came, session by session: `online` news may have to ask
   * Redis first (see outdated), and the news after it waits for it.
   */
  const news = new Map<string, Promise<void>>();
  function onBusEvent(code: string, event: ClusterEvent) {
    const handled = (news.get(code) ?? Promise.resolve()).then(() => onNews(code, event));
    news.set(code, handled);
    void handled.then(() => {
      if (news.get(code) === handled) news.delete(code);
    });
  }

  /**
   * Whether `online` news is older than this node's own party of the role. The news is published as the
   * other node took the role, but may arrive after this node took it back (a slow subscriber, a client
   * that redialled elsewhere while Redis stalled): then Redis names the connection here, which must not be
   * closed as replaced. Without an answer from Redis the news counts, as it always did.
   */
  async function outdated(code: string, role: Role, party: Conn): Promise<boolean> {
    try {
      return (await cluster!.currentHolder(code, role)) === holderOf(party);
    } catch {
      return false;
    }
  }

  async function onNews(code: string, event: ClusterEvent) {
    if (event.ev === 'online') {
      const { role } = event;
      const local = store.find(code)?.[role];
      if (local && (await outdated(code, role, local))) return;
      // Taken here again while Redis was asked: newer than the news too.
      const now = store.find(code)?.[role];
      if (local && now && now !== local) return;
    }
    const session = store.find(code);
    if (!session) return;
    if (event.ev === 'ended') {
      endHere(session, event.by as EndedBy);
      return;
    }
    const other = event.role === Role.Customer ? Role.Agent : Role.Customer;
    if (event.ev === 'online') {
      replaceHere(session, event.role);
      session.remote[event.role] = nodeOf(event.holder);
      // Its deadlines are the other node's business now.
      store.disarm(session, event.role === Role.Customer ? Deadline.Grace : Deadline.AgentGrace);
      store.disarm(session, Deadline.Unjoined);
      if (event.role === Role.Agent) session.agentName = event.name ?? session.agentName;
      const peer: RelayFrame =
        event.role === Role.Agent
          ? { t: 'peer', role: Role.Agent, status: 'online', name: event.name ?? 'Agent', ...(event.resumed ? { resumed: true } : {}) }
          : { t: 'peer', role: Role.Customer, status: 'online' };
      send(session[other], peer);
    } else {
      if (session.remote[event.role] === nodeOf(event.holder)) session.remote[event.role] = null;
      send(session[other], { t: 'peer', role: event.role, status: 'offline' });
    }
    forgetIfUnused(session);
  }

  /** Pauses reading a socket that passed its frame or byte rate until its buckets refill: slower, but nothing is lost. */
  function throttle(conn: Conn, bytes: number, now: number) {
    const wait = conn.rate?.take(bytes, now) ?? 0;
    if (wait === 0 || conn.throttled) return;
    conn.throttled = true;
    metrics.throttled(partyOf(conn));
    conn.ws.pause();
    clock
      .setTimeout(() => {
        conn.throttled = false;
        conn.ws.resume();
      }, Math.ceil(wait))
      .unref();
  }

  /**
   * Whether a frame may be queued for an agent, or why not. Keeps a stalled agent's queue
   * under hardCapBytes, and never lets a patch through whose base the agent missed.
   */
  function admitToAgent(agent: Conn, type: string, size: number): DropReason | null {
    const queued = agent.ws.bufferedAmount;
    switch (type) {
      case 'snapshot': // replaces everything before it: the one frame that brings a lagging agent back
        if (queued + size <= limits.hardCapBytes) {
          agent.behind = false;
          return null;
        }
        fallBehind(agent, queued);
        return 'backpressure';
      case 'patch':
        if (agent.behind) return 'behind'; // a patch on a mirror that missed patches would corrupt it
        if (queued <= limits.highWaterBytes) return null;
        fallBehind(agent, queued);
        return 'backpressure';
      case 'snapshot-part': // the rest of a chunked snapshot: like a snapshot, but only its first piece brings an agent back
        if (agent.behind) return 'behind';
        if (queued + size <= limits.hardCapBytes) return null;
        fallBehind(agent, queued);
        return 'backpressure';
      case 'pointer': // the next one supersedes it: dropping is coalescing
        return queued <= limits.highWaterBytes ? null : 'backpressure';
      default: // small state frames (sharing, control results, platform) do not depend on the mirror: keep them, in order
        return queued + size <= limits.hardCapBytes ? null : 'backpressure';
    }
  }

  function fallBehind(agent: Conn, queued: number) {
    if (agent.behind) return;
    agent.behind = true;
    agent.resyncAskedAt = -Infinity;
    lagging.add(agent);
    send(agent, { t: 'error', code: ErrorCode.ResyncRequired, message: 'This connection fell behind; a fresh snapshot will follow' });
    log({ event: 'agent-behind', session: agent.session ? maskCode(agent.session.code) : null, queued });
  }

  /** Sends a frame on to the session's other party — here, or on Redis to its node; false if it was dropped (and counted). */
  function forward(from: Conn, session: Session<Conn>, type: string, raw: Buffer): boolean {
    const role = from.role === Role.Customer ? Role.Agent : Role.Customer;
    const node = session[role] ? null : session.remote[role];
    if (node) {
      cluster!.sendFrame(node, session.code, role, type, raw); // that node applies the slow-agent rules
      return true;
    }
    return deliver(session[role], type, raw);
  }

  /** Hands a frame to a party on this relay, within the slow-agent budget; false if it was dropped (and counted). */
  function deliver(to: Conn | null, type: string, raw: Buffer): boolean {
    const drop: DropReason | null =
      to?.ws.readyState !== WebSocket.OPEN
        ? 'no-peer'
        : to.role === Role.Agent
          ? admitToAgent(to, type, raw.length)
          : to.ws.bufferedAmount > limits.highWaterBytes
            ? 'backpressure'
            : null;
    if (drop) {
      metrics.dropped(drop);
      return false;
    }
    // The original bytes, as text: no re-serialization on the hot path.
    to!.ws.send(raw, { binary: false });
    metrics.frame('out', partyOf(to!), raw.length);
    return true;
  }

  function onMessage(conn: Conn, data: RawData, isBinary: boolean) {
    if (conn.ws.readyState !== WebSocket.OPEN) return; // already refused or ended
    if (conn.queue) return void conn.queue.push([data, isBinary]); // its handshake waits for Redis
    const started = clock.monotonic();
    conn.alive = true;
    const raw = data as Buffer; // default binaryType 'nodebuffer': one Buffer per message
    metrics.frame('in', partyOf(conn), raw.length);
    throttle(conn, raw.length, started);
    if (isBinary) {
      log({ event: 'refused', role: conn.role, error: 'binary', close: CloseCode.UnsupportedData });
      metrics.refused('binary');
      return conn.ws.close(CloseCode.UnsupportedData, 'text frames only');
    }
    let frame: Frame;
    try {
      const text = raw.toString();
      if (conn.role === null) frame = parseFrame(text, HANDSHAKE);
      else frame = conn.role === Role.Customer ? parseCustomerFrame(text) : parseAgentFrame(text);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return refuse(conn, err.code, err.message, CloseCode.PolicyViolation);
    }
    if (conn.role === null) return handshake(conn, frame as CreateFrame | ResumeFrame | JoinFrame);
    const session = conn.session;
    if (!session) return;
    if (frame.t !== 'ping' && frame.t !== 'pong' && frame.t !== 'ack') session.activeAt = started;
    // The mode is fixed at creation: a command it forbids never reaches the customer (whose page checks too).
    if (conn.role === Role.Agent && frame.t === 'control' && !allowedInMode(session.mode, frame)) {
      metrics.refused('mode');
      return sendText(conn, JSON.stringify({ t: 'control-result', n: frame.n, ok: false, reason: `Not allowed in ${session.mode} mode` }));
    }
    // A full snapshot is the most a page can be asked for: one agent request per SNAPSHOT_REQUEST_MS reaches it.
    if (conn.role === Role.Agent && frame.t === 'request-snapshot') {
      const wait = Math.ceil(session.snapshotAskedAt + SNAPSHOT_REQUEST_MS - started);
      if (wait > 0) return refuseSnapshot(conn, wait);
      session.snapshotAskedAt = started;
    }
    if (FORWARDED[conn.role].has(frame.t)) {
      let kind: string = frame.t;
      if (SEQUENCED.has(frame.t) && conn.role === Role.Customer) {
        const { s } = frame as { s: number };
        if (s > session.seq) {
          session.seq = s;
          cluster?.saveSeq(session.code, s);
        }
        if (frame.t === 'chunk') kind = frame.of === 'patch' ? 'patch' : frame.i === 0 ? 'snapshot' : 'snapshot-part';
      }
      if (forward(conn, session, kind, raw)) metrics.forwarded((clock.monotonic() - started) / 1000);
      return;
    }
    if (frame.t === 'end') return endSession(session, conn.role);
    if (frame.t === 'handoff' && conn.role === Role.Customer) {
      // Bound to the page's listed domains, from the origin the browser vouches for.
      const binding = frame.domains && conn.origin ? { origin: conn.origin, rules: frame.domains } : null;
      if (!cluster)
        return send(conn, {
          t: 'handoff-token',
          token: store.issueHandoff(session, HANDOFF_TTL_MS, clock.monotonic(), binding),
          ttl: HANDOFF_TTL_MS,
        });
      const token = newToken(); // redeemed on whichever node the next domain reaches
      cluster.issueHandoff(hashToken(token).toString('base64'), session.code, HANDOFF_TTL_MS, binding).then(
        () => send(conn, { t: 'handoff-token', token, ttl: HANDOFF_TTL_MS }),
        (err: unknown) => log({ event: 'redis-error', error: String(err) }),
      );
      return;
    }
    if (frame.t === 'leave' && conn.role === Role.Agent) return leave(conn, session);
    refuse(conn, ErrorCode.NotAllowed, `"${frame.t}" is only allowed as the first frame`, CloseCode.PolicyViolation);
  }

  /** A snapshot request within SNAPSHOT_REQUEST_MS of the last one forwarded: not forwarded, not counted, and not fatal. */
  function refuseSnapshot(conn: Conn, retryAfter: number) {
    metrics.refused('snapshot-rate');
    const message = `One snapshot per ${SNAPSHOT_REQUEST_MS / 1000} s: ask again in ${(retryAfter / 1000).toFixed(1)} s`;
    send(conn, { t: 'error', code: ErrorCode.Throttled, message, retryAfter });
  }

  /** An agent leaves on purpose: its place is free at once, and the session lives on. */
  function leave(conn: Conn, session: Session<Conn>) {
    conn.session = null;
    session.agent = null;
    releaseAgent(session, 'agent-left');
    send(session.customer, { t: 'peer', role: Role.Agent, status: 'offline' });
    cluster?.leave(session.code, holderOf(conn)).catch((err: unknown) => log({ event: 'redis-error', error: String(err) }));
    forgetIfUnused(session);
    conn.ws.close(CloseCode.Ended, 'left');
  }

  function onClose(conn: Conn) {
    conns.delete(conn.ws);
    socketsPerIp.remove(conn.ip);
    lagging.delete(conn);
    conn.closed = true;
    if (!conn.queue) depart(conn); // else its handshake, still waiting for Redis, finishes first
  }

  /** A party's socket is gone: the other party hears it, and its place is held for the grace period. */
  function depart(conn: Conn) {
    const session = conn.session;
    conn.session = null;
    if (!session) return;
    if (session.customer === conn) {
      session.customer = null;
      send(session.agent, { t: 'peer', role: Role.Customer, status: 'offline' });
      store.arm(session, Deadline.Grace, o.graceMs);
    } else if (session.agent === conn) {
      session.agent = null; // its place is held for it until the grace period ends
      store.arm(session, Deadline.AgentGrace, o.graceMs);
      send(session.customer, { t: 'peer', role: Role.Agent, status: 'offline' });
    }
    // On Redis the place is vacant from now on (unless another connection took it), and the other party's node hears it.
    if (cluster) goOffline(session.code, conn.role!, holderOf(conn));
    log({ event: 'peer-offline', role: conn.role, session: maskCode(session.code) });
  }

  // Socket handlers, shared by every socket (`this` is the socket): at 20,000 sockets,
  // four closures each would cost more memory than the relay's own state.
  function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean) {
    const conn = conns.get(this);
    if (!conn) return;
    try {
      onMessage(conn, data, isBinary);
    } catch (err) {
      // A bug must cost one socket, not the process and every other session.
      log({ event: 'internal-error', error: String(err) });
      this.terminate();
    }
  }
  function onSocketPong(this: WebSocket) {
    const conn = conns.get(this);
    if (!conn) return;
    conn.alive = true;
    if (conn.role && conn.pingAt) metrics.rtt(conn.role, (clock.monotonic() - conn.pingAt) / 1000);
  }
  function onSocketClose(this: WebSocket) {
    const conn = conns.get(this);
    if (conn) onClose(conn);
  }
  function onSocketError(this: WebSocket, err: NodeJS.ErrnoException) {
    log({ event: 'socket-error', role: conns.get(this)?.role ?? null, error: err.code ?? err.message });
  }

  function onConnection(ws: WebSocket, ip: string, origin: string | undefined, agent: AgentIdentity | null, authError: string | null) {
    const { framesPerSecond: fps, bytesPerSecond: bps } = limits;
    conns.set(ws, {
      ws,
      serial: ++serials,
      queue: null,
      closed: false,
      ip,
      origin,
      agent,
      authError,
      role: null,
      session: null,
      alive: true,
      seen: false,
      pingAt: 0,
      rate: fps === Infinity && bps === Infinity ? null : new RateBudget(limits, clock.monotonic()),
      throttled: false,
      behind: false,
      resyncAskedAt: 0,
    });
    ws.on('error', onSocketError);
    ws.on('pong', onSocketPong);
    ws.on('close', onSocketClose);
    ws.on('message', onSocketMessage);
  }

  function rejectUpgrade(socket: Duplex, status: number, reason: string) {
    metrics.refused(reason);
    log({ event: 'upgrade-refused', status, reason });
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  /** Everything that can be decided before a WebSocket exists is decided here. */
  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    if (shuttingDown) return rejectUpgrade(socket, 503, 'shutting-down');
    const origin = req.headers.origin;
    if (!customerOrigins.allows(origin) && !agentOrigins.allows(origin)) return rejectUpgrade(socket, 403, 'origin');
    const ip = clientIp(req, o.trustProxy);
    if (!socketsPerIp.tryAdd(ip)) return rejectUpgrade(socket, 429, 'ip-limit');
    // Until a WebSocket owns the socket (and onClose releases the slot), a socket that dies releases it here.
    const release = () => socketsPerIp.remove(ip);
    socket.once('close', release);
    socket.on('error', ignore); // a reset while the token is checked must not crash the process
    let agent: AgentIdentity | null = null;
    let authError: string | null = null;
    const token = auth ? bearerToken(req) : undefined;
    if (token !== undefined) {
      try {
        agent = await auth!.verify(token);
      } catch (err) {
        if (!(err instanceof AuthError)) throw err;
        authError = err.message; // told to the socket if it tries to join; it may still act as a customer
      }
    }
    socket.off('error', ignore);
    if (socket.destroyed) return;
    if (shuttingDown) return rejectUpgrade(socket, 503, 'shutting-down');
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', release);
      onConnection(ws, ip, origin, agent, authError);
    });
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathOf(req) !== o.path) return; // someone else's, e.g. the demo server's
    upgrade(req, socket, head).catch((err: unknown) => {
      log({ event: 'internal-error', error: String(err) });
      socket.destroy();
    });
  };
  server.on('upgrade', onUpgrade);
  const detachPending =
    o.trustProxy || limits.pendingPerIp === Infinity
      ? ignore
      : capPendingConnections(
          server,
          limits.pendingPerIp,
          (socket) => ipKey(socket.remoteAddress),
          () => metrics.refused('pending-limit'),
          limits.per48Factor,
        );

  const heartbeat = clock.setInterval(() => {
    for (const conn of conns.values()) {
      // Silent since the last ping, or still anonymous a whole interval later: drop it.
      if (!conn.alive || (conn.role === null && conn.seen)) conn.ws.terminate();
      else {
        conn.alive = false;
        conn.seen = true;
        conn.pingAt = clock.monotonic();
        conn.ws.ping();
      }
    }
  }, o.heartbeatMs);
  heartbeat.unref();

  // Once a lagging agent has drained enough to take a snapshot, ask its customer for one
  // (and again if none came, e.g. the customer was away).
  const resync = clock.setInterval(() => {
    const now = clock.monotonic();
    for (const agent of lagging) {
      const session = agent.session;
      const customer = session?.customer ?? null;
      const elsewhere = !customer && session?.remote.customer;
      if (!agent.behind || agent.ws.readyState !== WebSocket.OPEN) lagging.delete(agent);
      else if (
        agent.ws.bufferedAmount <= limits.highWaterBytes / 2 &&
        now - agent.resyncAskedAt >= RESYNC_RETRY_MS &&
        (customer || elsewhere)
      ) {
        agent.resyncAskedAt = now;
        if (customer) sendText(customer, REQUEST_SNAPSHOT);
        else cluster!.sendFrame(session!.remote.customer!, session!.code, Role.Customer, 'request-snapshot', Buffer.from(REQUEST_SNAPSHOT));
      }
    }
  }, RESYNC_POLL_MS);
  resync.unref();

  const watch = cluster
    ? clock.setInterval(() => void watchNodes().catch((err: unknown) => log({ event: 'redis-error', error: String(err) })), WATCH_MS)
    : undefined;
  watch?.unref();

  const sweep = clock.setInterval(() => joinLimiter.sweep(clock.now()), Math.min(limits.joinFailureWindowMs, 60_000));
  sweep.unref();

  // Idle sessions end; one sweep rather than re-arming a timer on every frame.
  const idle = clock.setInterval(
    () => {
      const now = clock.monotonic();
      for (const session of [...store.values()]) {
        if (now - session.activeAt < o.idleMs) continue;
        log({ event: 'session-expired', session: maskCode(session.code), why: 'idle' });
        endSession(session, 'expired');
      }
      // Records of sessions in use here must not expire in Redis under them.
      cluster?.touch(
        [...store.values()].filter((s) => s.customer || s.agent),
        recordTtlMs,
      );
    },
    Math.min(o.idleMs / 4, 60_000),
  );
  idle.unref();

  const metricsToken = o.metricsToken === undefined ? null : hashToken(o.metricsToken);

  function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
    res.end(JSON.stringify(body));
  }

  let closing: Promise<void> | undefined;
  return {
    get sessionCount() {
      return store.size;
    },
    get socketCount() {
      return conns.size;
    },
    registry: metrics.registry,
    summary,
    ready(timeoutMs = 5_000) {
      return cluster ? cluster.ready(timeoutMs) : Promise.resolve(true);
    },
    handleHttp(req, res) {
      if (assets?.handle(req, res)) return true;
      if (req.method !== 'GET') return false;
      const url = new URL(req.url ?? '/', 'http://relay.invalid');
      if (url.pathname === '/healthz') {
        // On Redis, a node that cannot reach it is not healthy: a load balancer should send new peers elsewhere.
        const ok = !shuttingDown && (!cluster || cluster.up);
        const redis = cluster ? { redis: cluster.up ? 'up' : 'down', node: cluster.node } : {};
        json(res, ok ? 200 : 503, { ok, sessions: store.size, sockets: conns.size, ...redis });
        return true;
      }
      if (o.metricsPort === undefined && this.handleMetrics(req, res)) return true;
      if (url.pathname === '/dev/agent-token' && auth?.issueDevToken) {
        // Dev consoles on other localhost ports may fetch a token too.
        const origin = req.headers.origin;
        const cors: Record<string, string> =
          origin && agentOrigins.allows(origin) ? { 'access-control-allow-origin': origin, vary: 'origin' } : {};
        auth.issueDevToken(url.searchParams.get('name') ?? '').then(
          (token) => {
            log({ event: 'dev-token-issued' });
            json(res, 200, { token }, cors);
          },
          (err: unknown) => {
            log({ event: 'internal-error', error: String(err) });
            json(res, 500, { ok: false });
          },
        );
        return true;
      }
      return false;
    },
    handleMetrics(req, res) {
      if (req.method !== 'GET' || !o.metrics || pathOf(req) !== '/metrics') return false;
      if (metricsToken && !bearerMatches(req, metricsToken)) {
        json(res, 401, { ok: false }, { 'www-authenticate': 'Bearer' });
        return true;
      }
      metrics.text().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
          res.end(text);
        },
        (err: unknown) => {
          log({ event: 'internal-error', error: String(err) });
          json(res, 500, { ok: false });
        },
      );
      return true;
    },
    close() {
      closing ??= (async () => {
        shuttingDown = true;
        clock.clear(heartbeat);
        clock.clear(resync);
        clock.clear(sweep);
        clock.clear(watch);
        clock.clear(idle);
        store.clear();
        const closed = [...conns.keys()].map((ws) => new Promise((resolve) => ws.once('close', resolve)));
        for (const conn of conns.values()) {
          conn.session = null; // shutting down is not a peer going offline
          conn.ws.close(CloseCode.GoingAway, 'relay shutting down');
        }
        // Real time, whatever the clock: shutting down must end even while a test's clock stands still.
        const force = setTimeout(() => conns.forEach((conn) => conn.ws.terminate()), o.drainTimeoutMs);
        await Promise.all(closed);
        clearTimeout(force);
        server.off('upgrade', onUpgrade);
        detachPending();
        wss.close();
        await cluster?.close();
        await webhook?.settle();
        log({ event: 'relay-closed' });
      })();
      return closing;
    },
  };
}
