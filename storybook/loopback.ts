/**
 * An in-memory relay for the stories: the session rules of relay/relay.ts a story needs — create,
 * resume (with its token or a hand-off token), join, leave, end, forwarding both ways — with no
 * network, no limits and no authentication.
 * Hand `relay.connection` to an element's `connection` property (and any `relay.url` to its `relay`).
 * It lives in storybook/, outside every bundle: nothing here ships.
 */
import mitt, { type Emitter } from 'mitt';
import {
  CloseCode,
  ErrorCode,
  FORWARDED,
  PROTOCOL_VERSION,
  Role,
  allowedInMode,
  type EndedBy,
  type Mode,
  type RelayFrame,
} from '../core/protocol/index.js';
import type { Connection, ConnectionFactory, TransportEvents } from '../core/transport.js';

/** The customer's link as the agent measures it: answers to the agent's pings pass, come late or are lost. */
export const Link = { Good: 'good', Slow: 'slow', Offline: 'offline' } as const;
export type Link = (typeof Link)[keyof typeof Link];

/** Past the agent's 300 ms "slow" threshold. */
const SLOW_PONG_MS = 600;
/** How soon a dropped connection dials again (the real Transport backs off from 500 ms). */
const REDIAL_MS = 800;
/** How long a hand-off token may wait to be redeemed (the relay's default). */
const HANDOFF_TTL_MS = 60_000;

interface Session {
  readonly code: string;
  readonly mode: Mode;
  /** Resume tokens: the creating page's, and one per page that arrived with a hand-off. */
  readonly tokens: Set<string>;
  /** The one unused hand-off token, if any. */
  handoff: string;
  customer: LoopbackConnection | null;
  agent: LoopbackConnection | null;
  agentName: string;
  /** The bound agent's token: while set, the place is the agent's (it reclaims it after a drop). */
  agentToken: string;
  /** The highest stream number the customer sent (a resumed page numbers on from it). */
  seq: number;
}

type FrameIn = {
  t: string;
  v?: number;
  mode?: Mode;
  code?: string;
  token?: string;
  handoff?: string;
  name?: string;
  s?: number;
  a?: string;
  n?: number;
};

const digits = (n: number) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b % 10).join('');
const randomToken = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))));
const randomHex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');

/** How long nextSession() waits for a customer to create a session. */
const NEXT_SESSION_MS = 5_000;

export class LoopbackRelay {
  /**
   * A URL of its own, so a session stored by another story's relay is never resumed here. Random, not
   * counted: IndexedDB outlives the page, and a count starts again at 1 on every load.
   */
  readonly url = `ws://loopback-${randomHex(8)}.invalid/relay`;
  /** What the agent's pings measure; change it at any time. */
  link: Link = Link.Good;
  /** `created`: a customer opened a session (its code). `ended`: a session ended. */
  readonly events: Emitter<{ created: string; ended: { code: string; by: EndedBy } }> = mitt();
  readonly sessions = new Map<string, Session>();
  private refusal: { code: ErrorCode; message: string; close: CloseCode } | null = null;
  private closed = false;

  /** The factory the sessions dial with: each call is one client's socket. */
  readonly connection: ConnectionFactory = () => new LoopbackConnection(this);

  /** Codes of sessions created that nextSession() has not handed out yet. */
  private readonly unclaimed: string[] = [];

  /**
   * The code of the oldest session not handed out yet, or of the next one a customer creates; rejects
   * after `ms` without one (a customer that resumed or failed instead), so a story fails rather than hangs.
   */
  nextSession(ms = NEXT_SESSION_MS): Promise<string> {
    const code = this.unclaimed.shift();
    if (code) return Promise.resolve(code);
    return new Promise((resolve, reject) => {
      const on = (code: string) => {
        clearTimeout(timer);
        this.events.off('created', on);
        this.unclaimed.splice(this.unclaimed.indexOf(code), 1);
        resolve(code);
      };
      const timer = setTimeout(() => {
        this.events.off('created', on);
        reject(new Error(`No session was created on ${this.url} within ${ms} ms`));
      }, ms);
      this.events.on('created', on);
    });
  }

  /** The next handshake (create, resume or join) is refused with this error, as a real relay would. */
  refuseNext(code: ErrorCode, message: string, close: CloseCode): void {
    this.refusal = { code, message, close };
  }

  /** Ends a session (every session without a code) as the relay's timers do: `ended` by `expired`. */
  expire(code?: string): void {
    for (const session of [...this.sessions.values()]) if (!code || session.code === code) this.end(session, 'expired');
  }

  /** One party's connection drops (as a network does): it dials again and resumes or rejoins. */
  drop(role: Role): void {
    for (const session of this.sessions.values()) session[role]?.hangUp(1006, 'dropped');
  }

  /** Story over: every connection closes for good, without a word to the sessions' other party. */
  close(): void {
    this.closed = true;
    for (const session of this.sessions.values()) {
      for (const conn of [session.customer, session.agent]) {
        if (!conn) continue;
        conn.session = null;
        conn.hangUp(CloseCode.Ended, 'relay closed');
      }
    }
    this.sessions.clear();
  }

  /** @internal A client's socket opened; false when the relay is gone. */
  accept(): boolean {
    return !this.closed;
  }

  /** @internal One text frame from a client. */
  receive(conn: LoopbackConnection, text: string): void {
    let frame: FrameIn;
    try {
      frame = JSON.parse(text);
    } catch {
      return this.refuse(conn, ErrorCode.BadFrame, 'Not JSON', CloseCode.PolicyViolation);
    }
    if (!conn.role) return this.handshake(conn, frame);
    const session = conn.session;
    if (!session) return;
    const other = conn.role === Role.Customer ? session.agent : session.customer;
    if (conn.role === Role.Agent && !allowedInMode(session.mode, frame)) {
      return conn.deliver(JSON.stringify({ t: 'control-result', n: frame.n, ok: false, reason: `Not allowed in ${session.mode} mode` }));
    }
    if (FORWARDED[conn.role].has(frame.t)) {
      if (conn.role === Role.Customer && typeof frame.s === 'number') session.seq = Math.max(session.seq, frame.s);
      if (frame.t === 'pong' && this.link === Link.Offline) return;
      if (frame.t === 'pong' && this.link === Link.Slow) return void setTimeout(() => other?.deliver(text), SLOW_PONG_MS);
      return other?.deliver(text);
    }
    if (frame.t === 'end') return this.end(session, conn.role);
    if (frame.t === 'handoff' && conn.role === Role.Customer) {
      session.handoff = randomToken();
      return this.send(conn, { t: 'handoff-token', token: session.handoff, ttl: HANDOFF_TTL_MS });
    }
    if (frame.t === 'leave' && conn.role === Role.Agent) {
      session.agent = null;
      session.agentToken = '';
      conn.session = null;
      this.send(session.customer, { t: 'peer', role: Role.Agent, status: 'offline' });
      return conn.hangUp(CloseCode.Ended, 'left');
    }
    this.refuse(conn, ErrorCode.NotAllowed, `"${frame.t}" is not allowed here`, CloseCode.PolicyViolation);
  }

  /** @internal A client's socket closed (either side): its peer hears it went offline. */
  detach(conn: LoopbackConnection): void {
    const session = conn.session;
    conn.session = null;
    if (!session) return;
    if (session.customer === conn) {
      session.customer = null;
      this.send(session.agent, { t: 'peer', role: Role.Customer, status: 'offline' });
    } else if (session.agent === conn) {
      session.agent = null; // its place stays held for it: it may come back with its token
      this.send(session.customer, { t: 'peer', role: Role.Agent, status: 'offline' });
    }
  }

  private handshake(conn: LoopbackConnection, frame: FrameIn): void {
    const refusal = this.refusal;
    this.refusal = null;
    if (refusal) return this.refuse(conn, refusal.code, refusal.message, refusal.close);
    if (frame.v !== PROTOCOL_VERSION) {
      return this.refuse(
        conn,
        ErrorCode.UnsupportedVersion,
        `This relay speaks protocol version ${PROTOCOL_VERSION}`,
        CloseCode.UnsupportedVersion,
      );
    }
    if (frame.t === 'create') return this.create(conn, frame.mode!);
    if (frame.t === 'resume' && frame.handoff) {
      // A page on another of the site's origins, carrying the token its predecessor asked for: used once.
      const session = [...this.sessions.values()].find((s) => s.handoff === frame.handoff);
      if (!session)
        return this.refuse(conn, ErrorCode.NotFound, 'This hand-off link has expired or was already used', CloseCode.SessionNotFound);
      session.handoff = '';
      const token = randomToken();
      session.tokens.add(token);
      return this.resume(conn, session, token);
    }
    const session = this.sessions.get(frame.code ?? '');
    if (frame.t === 'resume') {
      if (!session || !session.tokens.has(frame.token ?? '')) {
        return this.refuse(conn, ErrorCode.NotFound, 'No session with this ID, or the resume token is wrong', CloseCode.SessionNotFound);
      }
      return this.resume(conn, session);
    }
    if (frame.t === 'join') {
      if (!session) return this.refuse(conn, ErrorCode.NotFound, 'No session with this ID', CloseCode.SessionNotFound);
      return this.join(conn, session, frame.name?.trim() || 'Agent', frame.token);
    }
    this.refuse(conn, ErrorCode.NotAllowed, 'The first frame is create, resume or join', CloseCode.PolicyViolation);
  }

  private create(conn: LoopbackConnection, mode: Mode): void {
    let code: string;
    do code = digits(9);
    while (this.sessions.has(code));
    const token = randomToken();
    const session: Session = {
      code,
      mode,
      tokens: new Set([token]),
      handoff: '',
      customer: conn,
      agent: null,
      agentName: '',
      agentToken: '',
      seq: 0,
    };
    this.sessions.set(code, session);
    conn.bind(Role.Customer, session);
    this.send(conn, { t: 'created', code, token, mode });
    this.unclaimed.push(code);
    this.events.emit('created', code);
  }

  private resume(conn: LoopbackConnection, session: Session, token?: string): void {
    this.replace(session.customer);
    session.customer = conn;
    conn.bind(Role.Customer, session);
    const resumed = {
      t: 'resumed',
      code: session.code,
      mode: session.mode,
      agent: session.agent ? session.agentName : null,
      seq: session.seq,
    } as const;
    this.send(conn, token ? { ...resumed, token } : resumed);
    this.send(session.agent, { t: 'peer', role: Role.Customer, status: 'online' });
  }

  private join(conn: LoopbackConnection, session: Session, name: string, token: string | undefined): void {
    const reclaim = !!token && token === session.agentToken;
    if ((session.agent || session.agentToken) && !reclaim) {
      return this.refuse(conn, ErrorCode.Taken, 'Another agent is already in this session', CloseCode.SessionTaken);
    }
    this.replace(session.agent);
    session.agent = conn;
    session.agentName = name;
    session.agentToken = reclaim ? token : randomToken();
    conn.bind(Role.Agent, session);
    this.send(conn, { t: 'joined', code: session.code, mode: session.mode, online: !!session.customer, token: session.agentToken });
    this.send(
      session.customer,
      reclaim
        ? { t: 'peer', role: Role.Agent, status: 'online', name, resumed: true }
        : { t: 'peer', role: Role.Agent, status: 'online', name },
    );
  }

  /** A half-open socket its own party replaces: the other party hears nothing. */
  private replace(previous: LoopbackConnection | null): void {
    if (!previous) return;
    previous.session = null;
    previous.hangUp(CloseCode.Ended, 'replaced');
  }

  private end(session: Session, by: EndedBy): void {
    this.sessions.delete(session.code);
    for (const conn of [session.customer, session.agent]) {
      if (!conn) continue;
      conn.session = null;
      this.send(conn, { t: 'ended', by });
      conn.hangUp(CloseCode.Ended, 'ended');
    }
    this.events.emit('ended', { code: session.code, by });
  }

  private refuse(conn: LoopbackConnection, code: ErrorCode, message: string, close: CloseCode): void {
    this.send(conn, { t: 'error', code, message });
    conn.hangUp(close, code);
  }

  private send(conn: LoopbackConnection | null, frame: RelayFrame): void {
    conn?.deliver(JSON.stringify(frame));
  }
}

/** One client's end of an in-memory socket: frames cross in order, one task later, as on a network. */
class LoopbackConnection implements Connection {
  readonly events: Emitter<TransportEvents> = mitt<TransportEvents>();
  connected = false;
  role: Role | null = null;
  session: Session | null = null;
  private closedByUs = false;
  private redialTimer: ReturnType<typeof setTimeout> | undefined;
  /** Everything crossing this socket, both ways, in the order it was sent. */
  private readonly wire: Array<() => void> = [];

  constructor(private readonly relay: LoopbackRelay) {}

  connect(): void {
    this.closedByUs = false;
    clearTimeout(this.redialTimer);
    this.post(() => {
      if (this.closedByUs) return;
      if (!this.relay.accept()) return this.events.emit('close', { code: 1006, reason: '', retrying: false });
      this.connected = true;
      this.role = null;
      this.events.emit('open');
    });
  }

  send(frame: object): boolean {
    return this.sendText(JSON.stringify(frame));
  }

  sendText(text: string): boolean {
    if (!this.connected) return false;
    this.post(() => this.relay.receive(this, text));
    return true;
  }

  /** Closes for good: no redial. */
  close(code = 1000): void {
    this.closedByUs = true;
    clearTimeout(this.redialTimer);
    if (!this.connected) return;
    this.connected = false;
    this.post(() => {
      this.relay.detach(this);
      this.events.emit('close', { code, reason: '', retrying: false });
    });
  }

  /** @internal The relay's side: a frame for this client (none reaches a client that closed). */
  deliver(text: string): void {
    this.post(() => !this.closedByUs && this.events.emit('message', text));
  }

  /** @internal The relay's side: closes the socket; after a drop (1006) or a restart (1001) the client dials again. */
  hangUp(code: number, reason: string): void {
    if (!this.connected) return;
    this.connected = false;
    this.relay.detach(this);
    const retrying = !this.closedByUs && (code === 1006 || code === CloseCode.GoingAway);
    if (retrying) this.redialTimer = setTimeout(() => this.connect(), REDIAL_MS);
    this.post(() => !this.closedByUs && this.events.emit('close', { code, reason, retrying }));
  }

  /** @internal */
  bind(role: Role, session: Session): void {
    this.role = role;
    this.session = session;
  }

  private post(job: () => void): void {
    this.wire.push(job);
    if (this.wire.length > 1) return;
    setTimeout(() => {
      for (const next of this.wire.splice(0)) next();
    });
  }
}
