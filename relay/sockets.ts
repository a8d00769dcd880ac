/**
 * The life of a socket once it is a WebSocket: its state, its per-socket rate limits, the heartbeat
 * that drops silent peers, and each message checked against the protocol — the first one a
 * handshake, the rest routed.
 */
import { WebSocket, type RawData } from 'ws';
import {
  CloseCode,
  ProtocolError,
  Role,
  parseAgentFrame,
  parseCustomerFrame,
  parseFrame,
  type CreateFrame,
  type Frame,
  type JoinFrame,
  type ResumeFrame,
} from '../core/protocol/index.js';
import type { AgentIdentity } from './auth.js';
import { partyOf, type Conn, type RelayContext } from './context.js';
import type { Handshakes } from './handshakes.js';
import { RateBudget } from './limits.js';
import type { Router } from './routing.js';

/** The only frames a socket may open with; they decide its role. */
const HANDSHAKE = new Set(['create', 'resume', 'join']);

export class Sockets {
  readonly #heartbeat;
  #serials = 0;
  // Socket handlers, shared by every socket (`this` is the socket): at 20,000 sockets,
  // four closures each would cost more memory than the relay's own state.
  readonly #onMessage: (this: WebSocket, data: RawData, isBinary: boolean) => void;
  readonly #onPong: (this: WebSocket) => void;
  readonly #onClose: (this: WebSocket) => void;
  readonly #onError: (this: WebSocket, err: NodeJS.ErrnoException) => void;

  readonly #ctx: RelayContext;
  readonly #handshakes: Handshakes;
  readonly #router: Router;

  constructor(ctx: RelayContext, handshakes: Handshakes, router: Router) {
    this.#ctx = ctx;
    this.#handshakes = handshakes;
    this.#router = router;
    const { conns, clock, metrics, log } = ctx;
    const message = (conn: Conn, data: RawData, isBinary: boolean) => this.#message(conn, data, isBinary);
    const closed = (conn: Conn) => this.#closed(conn);
    this.#onMessage = function (data, isBinary) {
      const conn = conns.get(this);
      if (!conn) return;
      try {
        message(conn, data, isBinary);
      } catch (err) {
        // A bug must cost one socket, not the process and every other session.
        log({ event: 'internal-error', error: String(err) });
        this.terminate();
      }
    };
    this.#onPong = function () {
      const conn = conns.get(this);
      if (!conn) return;
      conn.alive = true;
      if (conn.role && conn.pingAt) metrics.rtt(conn.role, (clock.monotonic() - conn.pingAt) / 1000);
    };
    this.#onClose = function () {
      const conn = conns.get(this);
      if (conn) closed(conn);
    };
    this.#onError = function (err) {
      log({ event: 'socket-error', role: conns.get(this)?.role ?? null, error: err.code ?? err.message });
    };
    this.#heartbeat = clock.setInterval(() => this.#beat(), ctx.o.heartbeatMs);
    this.#heartbeat.unref();
  }

  stop(): void {
    this.#ctx.clock.clear(this.#heartbeat);
  }

  /** A new WebSocket, its origin and agent already checked at the upgrade. */
  accept(ws: WebSocket, ip: string, origin: string | undefined, agent: AgentIdentity | null, authError: string | null): void {
    const { limits, clock } = this.#ctx;
    const unlimited = limits.framesPerSecond === Infinity && limits.bytesPerSecond === Infinity;
    this.#ctx.conns.set(ws, {
      ws,
      serial: ++this.#serials,
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
      rate: unlimited ? null : new RateBudget(limits, clock.monotonic()),
      throttled: false,
      behind: false,
      resyncAskedAt: 0,
    });
    ws.on('error', this.#onError);
    ws.on('pong', this.#onPong);
    ws.on('close', this.#onClose);
    ws.on('message', this.#onMessage);
  }

  #beat(): void {
    const { clock } = this.#ctx;
    for (const conn of this.#ctx.conns.values()) {
      // Silent since the last ping, or still anonymous a whole interval later: drop it.
      if (!conn.alive || (conn.role === null && conn.seen)) conn.ws.terminate();
      else {
        conn.alive = false;
        conn.seen = true;
        conn.pingAt = clock.monotonic();
        conn.ws.ping();
      }
    }
  }

  #message(conn: Conn, data: RawData, isBinary: boolean): void {
    const ctx = this.#ctx;
    if (conn.ws.readyState !== WebSocket.OPEN) return; // already refused or ended
    if (conn.queue) return void conn.queue.push([data, isBinary]); // its handshake waits for the directory
    const started = ctx.clock.monotonic();
    conn.alive = true;
    const raw = data as Buffer; // default binaryType 'nodebuffer': one Buffer per message
    ctx.metrics.frame('in', partyOf(conn), raw.length);
    this.#throttle(conn, raw.length, started);
    if (isBinary) {
      ctx.log({ event: 'refused', role: conn.role, error: 'binary', close: CloseCode.UnsupportedData });
      ctx.metrics.refused('binary');
      return conn.ws.close(CloseCode.UnsupportedData, 'text frames only');
    }
    let frame: Frame;
    try {
      const text = raw.toString();
      if (conn.role === null) frame = parseFrame(text, HANDSHAKE);
      else frame = conn.role === Role.Customer ? parseCustomerFrame(text) : parseAgentFrame(text);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return ctx.refuse(conn, err.code, err.message, CloseCode.PolicyViolation);
    }
    if (conn.role === null) return this.#handshake(conn, frame as CreateFrame | ResumeFrame | JoinFrame);
    const session = conn.session;
    if (!session) return;
    if (!this.#router.route(conn, session, frame, raw, started)) this.#handshakes.control(conn, session, frame);
  }

  /**
   * Runs a handshake, which waits for the directory. Frames the socket sends meanwhile wait too, and
   * are handled in order afterwards; if the socket closed meanwhile, what the handshake took is given back.
   */
  #handshake(conn: Conn, frame: CreateFrame | ResumeFrame | JoinFrame): void {
    conn.queue = [];
    this.#handshakes
      .open(conn, frame)
      .catch((err: unknown) => {
        this.#ctx.log({ event: 'internal-error', error: String(err) });
        this.#handshakes.unavailable(conn);
      })
      .finally(() => {
        const queued = conn.queue ?? [];
        conn.queue = null;
        if (conn.closed) return this.#handshakes.depart(conn);
        for (const [data, isBinary] of queued) this.#onMessage.call(conn.ws, data, isBinary);
      });
  }

  /** Pauses reading a socket that passed its frame or byte rate until its buckets refill: slower, but nothing is lost. */
  #throttle(conn: Conn, bytes: number, now: number): void {
    const wait = conn.rate?.take(bytes, now) ?? 0;
    if (wait === 0 || conn.throttled) return;
    conn.throttled = true;
    this.#ctx.metrics.throttled(partyOf(conn));
    conn.ws.pause();
    this.#ctx.clock
      .setTimeout(() => {
        conn.throttled = false;
        conn.ws.resume();
      }, Math.ceil(wait))
      .unref();
  }

  #closed(conn: Conn): void {
    this.#ctx.conns.delete(conn.ws);
    this.#ctx.socketsPerIp.remove(conn.ip);
    this.#router.lagging.delete(conn);
    conn.closed = true;
    if (!conn.queue) this.#handshakes.depart(conn); // else its handshake, still waiting, finishes first
  }
}
