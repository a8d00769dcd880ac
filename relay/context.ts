/**
 * What every part of the relay shares: the resolved options, the session directory, the open
 * sockets with their state, metrics and the one way to send a frame or refuse a socket.
 */
import type { RawData, WebSocket } from 'ws';
import { WebSocket as Socket } from 'ws';
import type { CloseCode, ErrorCode, RelayFrame, Role } from '../core/protocol/index.js';
import type { AssetProxy } from './assets.js';
import type { AgentAuth, AgentIdentity } from './auth.js';
import type { Session, SessionDirectory } from './directory/directory.js';
import { IpCounter, type RateBudget } from './limits.js';
import type { Party, RelayMetrics } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import type { OriginPolicy } from './origins.js';
import type { Webhook } from './webhook.js';

/** One open WebSocket and what the relay knows of it. */
export interface Conn {
  readonly ws: WebSocket;
  /** Numbers the relay's sockets; on Redis, `<node>:<serial>` names the connection holding a role. */
  readonly serial: number;
  /** Frames that arrived while its handshake waited for the directory, handled in order after it. */
  queue: Array<[RawData, boolean]> | null;
  /** The socket has closed (a handshake finishing late must undo what it took). */
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

export const partyOf = (conn: Conn): Party => conn.role ?? 'unknown';
/** The session's other role. */
export const otherRole = (role: Role): Role => (role === 'customer' ? 'agent' : 'customer');

export class RelayContext {
  /** Every open socket's state, by socket: the socket handlers are shared, not per-socket closures. */
  readonly conns = new Map<WebSocket, Conn>();
  readonly log: ResolvedOptions['log'];
  readonly clock: ResolvedOptions['clock'];
  readonly limits: ResolvedOptions['limits'];
  /** Open WebSockets per client IP, and the upgrades on their way to being one. */
  readonly socketsPerIp: IpCounter;
  /** Set once, right after the parts that take its events exist. */
  directory!: SessionDirectory<Conn>;
  /** The asset proxy (null: off); set once the directory, whose grant key it may need, exists. */
  assets: AssetProxy | null = null;
  shuttingDown = false;

  constructor(
    readonly o: ResolvedOptions,
    readonly metrics: RelayMetrics,
    readonly auth: AgentAuth | null,
    readonly customerOrigins: OriginPolicy,
    readonly agentOrigins: OriginPolicy,
    readonly webhook: Webhook | null,
  ) {
    this.log = o.log;
    this.clock = o.clock;
    this.limits = o.limits;
    this.socketsPerIp = new IpCounter(o.limits.socketsPerIp, o.limits.per48Factor);
  }

  send(conn: Conn | null, frame: RelayFrame): void {
    this.sendText(conn, JSON.stringify(frame));
  }

  sendText(conn: Conn | null, text: string): void {
    if (conn?.ws.readyState !== Socket.OPEN) return;
    conn.ws.send(text);
    this.metrics.frame('out', partyOf(conn), Buffer.byteLength(text));
  }

  /** Tells the socket why, and closes it. */
  refuse(conn: Conn, code: ErrorCode, message: string, close: CloseCode): void {
    this.log({ event: 'refused', role: conn.role, error: code, close });
    this.metrics.refused(code);
    this.send(conn, { t: 'error', code, message });
    conn.ws.close(close, code);
  }
}
