/**
 * How a socket gets into a session and out of it: the opening frame (create, resume, join) asks the
 * directory and tells the parties what changed; so do leave, end and a socket's close. News the
 * directory brings (a deadline passed, a party elsewhere came or went) reaches the parties here.
 * None of it knows which backend the directory has.
 */
import { WebSocket } from 'ws';
import {
  CloseCode,
  ErrorCode,
  PROTOCOL_VERSION,
  Role,
  type CreateFrame,
  type EndedBy,
  type Frame,
  type JoinFrame,
  type PeerFrame,
  type RelayFrame,
  type ResumeFrame,
} from '../core/protocol/index.js';
import { otherRole, type Conn, type RelayContext } from './context.js';
import { replyTo } from './directory/replies.js';
import { maskCode, refused, type Refusal, type Deadline, type DirectoryEvents, type Locked, type Session } from './directory/directory.js';

/** A hand-off token is good once, for this long: it only has to outlive one page load. */
const HANDOFF_TTL_MS = 60_000;

export class Handshakes implements Omit<DirectoryEvents<Conn>, 'frame' | 'rejected'> {
  readonly #ctx: RelayContext;

  constructor(ctx: RelayContext) {
    this.#ctx = ctx;
  }

  /** A socket's first frame: it decides the socket's role. */
  async open(conn: Conn, frame: CreateFrame | ResumeFrame | JoinFrame): Promise<void> {
    const ctx = this.#ctx;
    if (frame.v !== PROTOCOL_VERSION) {
      const message = `This relay speaks protocol version ${PROTOCOL_VERSION}`;
      return ctx.refuse(conn, ErrorCode.UnsupportedVersion, message, CloseCode.UnsupportedVersion);
    }
    if (frame.t === 'join') return this.#join(conn, frame);
    if (!ctx.customerOrigins.allows(conn.origin)) {
      return ctx.refuse(conn, ErrorCode.NotAllowed, 'Pages on this origin may not share through this relay', CloseCode.PolicyViolation);
    }
    return frame.t === 'create' ? this.#create(conn, frame) : this.#resume(conn, frame);
  }

  /** Refuses a handshake the directory turned down. */
  unavailable(conn: Conn): void {
    this.#refused(conn, 'unavailable');
  }

  async #create(conn: Conn, frame: CreateFrame): Promise<void> {
    const ctx = this.#ctx;
    const created = await ctx.directory.create(conn, { mode: frame.mode, ip: conn.ip, origin: conn.origin });
    if (refused(created)) return this.#refused(conn, created);
    const { session, token } = created;
    this.#bind(conn, Role.Customer, session);
    ctx.send(conn, { t: 'created', code: session.code, token, mode: session.mode });
    ctx.log({ event: 'session-created', session: maskCode(session.code), mode: session.mode });
    ctx.webhook?.post({ event: 'session.created', session: session.code, mode: session.mode });
  }

  async #resume(conn: Conn, frame: ResumeFrame): Promise<void> {
    const ctx = this.#ctx;
    // On another of the session's domains, a one-time hand-off token stands in for the ID and resume token.
    const handoff = 'handoff' in frame;
    const { at } = frame;
    const resumed = await ctx.directory.resume(
      conn,
      handoff ? { handoff: frame.handoff, at, origin: conn.origin } : { code: frame.code, token: frame.token, at, origin: conn.origin },
    );
    if (refused(resumed)) return this.#refused(conn, resumed, Role.Customer, handoff ? undefined : frame.code);
    const { session, previous, token } = resumed;
    this.replaced(previous);
    this.#bind(conn, Role.Customer, session);
    // A held (dropped) agent is not there yet: the customer hears `peer … resumed` when it is back.
    const agent = session.agent || session.remote.agent ? session.agentName : null;
    const reply: RelayFrame = { t: 'resumed', code: session.code, mode: session.mode, agent, seq: session.seq };
    // The new domain keeps its own resume token, for its own reloads.
    ctx.send(conn, token === undefined ? reply : { ...reply, token });
    ctx.send(session.agent, { t: 'peer', role: Role.Customer, status: 'online' }); // an agent elsewhere heard it from its node
    ctx.log({ event: handoff ? 'session-handed-off' : 'session-resumed', session: maskCode(session.code) });
  }

  async #join(conn: Conn, frame: JoinFrame): Promise<void> {
    const ctx = this.#ctx;
    if (!ctx.agentOrigins.allows(conn.origin)) {
      return this.#joinFailed(conn, 'origin', [
        ErrorCode.NotAllowed,
        'Consoles on this origin may not join through this relay',
        CloseCode.PolicyViolation,
      ]);
    }
    if (ctx.auth && !conn.agent) {
      const message = conn.authError ?? 'Joining needs an agent token';
      return this.#joinFailed(conn, 'unauthorized', [ErrorCode.Unauthorized, message, CloseCode.Unauthorized]);
    }
    if (!ctx.directory.up) return this.unavailable(conn);
    try {
      await ctx.assets?.grants.ready(); // on a cluster without a secret, the grant key is in Redis
    } catch {
      return this.unavailable(conn); // the directory logged why
    }
    // Guessing is limited per address and per agent, so neither many agents on one
    // address nor one agent on many addresses gets more than `joinFailures` tries.
    const failureKeys = [`ip:${conn.ip}`, ...(conn.agent ? [`agent:${conn.agent.id}`] : [])];
    // With authentication on, the customer sees the name the contact center vouched for.
    const name = conn.agent?.name ?? (frame.name?.trim() || 'Agent');
    const joined = await ctx.directory.join(conn, { code: frame.code, token: frame.token, name, at: frame.at, failureKeys });
    if (refused(joined)) return this.#refused(conn, joined, Role.Agent, frame.code);
    const { session, previous, token, reclaim } = joined;
    this.replaced(previous); // a half-open socket the same agent replaces: the customer hears nothing
    const online = session.customer?.ws.readyState === WebSocket.OPEN || !!session.remote.customer;
    this.#welcome(conn, session, name, token, reclaim, online);
  }

  /** The agent is in: it hears `joined`, its customer `peer online` (`resumed` when it took its place back). */
  #welcome(conn: Conn, session: Session<Conn>, name: string, token: string, reclaim: boolean, online: boolean): void {
    const ctx = this.#ctx;
    this.#bind(conn, Role.Agent, session);
    // The grant lets this agent's mirror load the page's assets through the relay (see assets.ts).
    const { assets } = ctx;
    const grant = assets ? { assets: { path: assets.path, grant: assets.grants.issue(session.code, session.assetSalt) } } : {};
    ctx.send(conn, { t: 'joined', code: session.code, mode: session.mode, online, token, ...grant });
    const peer: PeerFrame = { t: 'peer', role: Role.Agent, status: 'online', name };
    ctx.send(session.customer, reclaim ? { ...peer, resumed: true } : peer);
    ctx.log({
      event: reclaim ? 'agent-resumed' : 'agent-joined',
      session: maskCode(session.code),
      agent: conn.agent?.id ?? null,
      customerOnline: online,
    });
    if (!reclaim) ctx.webhook?.post({ event: 'agent.joined', session: session.code, agent: { id: conn.agent?.id ?? null, name } });
  }

  #bind(conn: Conn, role: Role, session: Session<Conn>): void {
    conn.role = role;
    conn.session = session;
  }

  /** Tells a socket why the directory refused its handshake (an agent's failures are counted in metrics). */
  #refused(conn: Conn, outcome: Refusal | Locked, role: Role = Role.Customer, code?: string): void {
    if (outcome === 'stale') return this.#closeStale(conn, role, code);
    const reply = replyTo(outcome, role === Role.Agent);
    if (role === Role.Customer || outcome === 'unavailable') return this.#ctx.refuse(conn, ...reply);
    this.#joinFailed(conn, typeof outcome === 'string' ? outcome : 'rate-limited', reply);
  }

  #joinFailed(conn: Conn, reason: string, [code, message, close]: readonly [ErrorCode, string, CloseCode]): void {
    this.#ctx.metrics.joinFailed(reason);
    this.#ctx.refuse(conn, code, message, close);
  }

  /**
   * A handshake from a connection older than the one holding the role (see ResumeFrame's `at`) is a
   * late frame of a connection its client gave up: closed as replaced.
   */
  #closeStale(conn: Conn, role: Role, code: string | undefined): void {
    this.#ctx.log({ event: 'stale-handshake', role, session: code === undefined ? null : maskCode(code) });
    conn.ws.close(CloseCode.Ended, 'replaced');
  }

  /** The frames of a bound socket that are not forwarded: end, handoff and leave. */
  control(conn: Conn, session: Session<Conn>, frame: Frame): void {
    const ctx = this.#ctx;
    if (frame.t === 'end') return this.end(session, conn.role!);
    if (frame.t === 'handoff' && conn.role === Role.Customer) {
      // Bound to the page's listed domains, from the origin the browser vouches for.
      const binding = frame.domains && conn.origin ? { origin: conn.origin, rules: frame.domains } : null;
      void ctx.directory.issueHandoff(session, binding, HANDOFF_TTL_MS).then((token) => {
        if (token !== null) ctx.send(conn, { t: 'handoff-token', token, ttl: HANDOFF_TTL_MS });
      });
      return;
    }
    if (frame.t === 'leave' && conn.role === Role.Agent) return this.#leave(conn, session);
    ctx.refuse(conn, ErrorCode.NotAllowed, `"${frame.t}" is only allowed as the first frame`, CloseCode.PolicyViolation);
  }

  /** An agent leaves on purpose: its place is free at once, and the session lives on. */
  #leave(conn: Conn, session: Session<Conn>): void {
    const ctx = this.#ctx;
    conn.session = null;
    ctx.directory.leave(session, conn);
    ctx.log({ event: 'agent-left', session: maskCode(session.code) });
    ctx.send(session.customer, { t: 'peer', role: Role.Agent, status: 'offline' });
    conn.ws.close(CloseCode.Ended, 'left');
  }

  /** Ends a session for everyone (the directory tells the parties' nodes elsewhere). */
  end(session: Session<Conn>, by: EndedBy): void {
    this.#ctx.directory.end(session, by);
    this.#endHere(session, by);
  }

  /** Tells the session's parties here it is over, and says so in the log and the webhook. */
  #endHere(session: Session<Conn>, by: EndedBy): void {
    this.#closeParties(session, by);
    this.#ctx.log({ event: 'session-ended', session: maskCode(session.code), by });
    this.#ctx.webhook?.post({ event: 'session.ended', session: session.code, by });
  }

  #closeParties(session: Session<Conn>, by: EndedBy): void {
    for (const conn of [session.customer, session.agent]) {
      if (!conn) continue;
      conn.session = null; // its close is then no news to anyone
      this.#ctx.send(conn, { t: 'ended', by });
      conn.ws.close(CloseCode.Ended, 'ended');
    }
    session.customer = session.agent = null;
  }

  /** A party's socket is gone: the other party hears it, and its place is held for the grace period. */
  depart(conn: Conn): void {
    const session = conn.session;
    conn.session = null;
    if (!session) return;
    const role = conn.role!;
    if (this.#ctx.directory.depart(session, role, conn)) this.#ctx.send(session[otherRole(role)], { t: 'peer', role, status: 'offline' });
    this.#ctx.log({ event: 'peer-offline', role, session: maskCode(session.code) });
  }

  // ─── What the directory brings ──────────────────────────────────────────────────────────

  ended(session: Session<Conn>, by: EndedBy, expired: Deadline | null): void {
    // Ended elsewhere, that node told its own log and webhook: the parties here only hear it.
    if (!expired) return this.#closeParties(session, by);
    this.#ctx.log({ event: 'session-expired', session: maskCode(session.code), why: expired });
    this.#endHere(session, by);
  }

  released(session: Session<Conn>): void {
    this.#ctx.log({ event: 'agent-expired', session: maskCode(session.code) });
  }

  /** Closes a socket whose role another connection took: replaced, not gone, so the other party hears nothing. */
  replaced(previous: Conn | null): void {
    if (!previous) return;
    previous.session = null;
    previous.ws.close(CloseCode.Ended, 'replaced');
  }

  peer(session: Session<Conn>, frame: PeerFrame): void {
    this.#ctx.send(session[otherRole(frame.role)], frame);
  }
}
