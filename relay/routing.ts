/**
 * Forwarding: a bound socket's frames go on, untouched, to the session's other party — on this
 * relay within the slow-agent budget, or through the directory to the node holding it. A lagging
 * agent gets nothing but a fresh snapshot, which the relay asks its customer for.
 */
import { WebSocket } from 'ws';
import {
  ErrorCode,
  FORWARDED,
  ProtocolError,
  Role,
  SEQUENCED,
  SNAPSHOT_REQUEST_MS,
  allowedInMode,
  parseAgentFrame,
  parseCustomerFrame,
  type Frame,
} from '../core/protocol/index.js';
import { otherRole, partyOf, type Conn, type RelayContext } from './context.js';
import { maskCode, type Session } from './directory/directory.js';
import type { DropReason } from './metrics.js';

/** Sent to a customer on a lagging agent's behalf. */
const REQUEST_SNAPSHOT = '{"t":"request-snapshot"}';
/** How often a lagging agent's buffer is checked, and how long before asking the customer again. */
const RESYNC_POLL_MS = 100;
const RESYNC_RETRY_MS = 5_000;
/** Dropped bus messages are logged at most this often. */
const BUS_LOG_MS = 10_000;

export class Router {
  /** Agents that fell behind and wait for a snapshot. */
  readonly lagging = new Set<Conn>();
  readonly #resync;
  #busRejections = 0;
  #busLoggedAt = -Infinity;

  readonly #ctx: RelayContext;

  constructor(ctx: RelayContext) {
    this.#ctx = ctx;
    this.#resync = ctx.clock.setInterval(() => this.#askForSnapshots(), RESYNC_POLL_MS);
    this.#resync.unref();
  }

  stop(): void {
    this.#ctx.clock.clear(this.#resync);
  }

  /** A bound socket's frame: forwarded (or refused, as the mode or the snapshot rate says); false if it is not a forwarded kind. */
  route(conn: Conn, session: Session<Conn>, frame: Frame, raw: Buffer, started: number): boolean {
    const ctx = this.#ctx;
    const role = conn.role!;
    if (frame.t !== 'ping' && frame.t !== 'pong' && frame.t !== 'ack') session.activeAt = started;
    // The mode is fixed at creation: a command it forbids never reaches the customer (whose page checks too).
    if (role === Role.Agent && frame.t === 'control' && !allowedInMode(session.mode, frame)) {
      ctx.metrics.refused('mode');
      ctx.sendText(conn, JSON.stringify({ t: 'control-result', n: frame.n, ok: false, reason: `Not allowed in ${session.mode} mode` }));
      return true;
    }
    // A full snapshot is the most a page can be asked for: one agent request per SNAPSHOT_REQUEST_MS reaches it.
    if (role === Role.Agent && frame.t === 'request-snapshot') {
      const wait = Math.ceil(session.snapshotAskedAt + SNAPSHOT_REQUEST_MS - started);
      if (wait > 0) return this.#refuseSnapshot(conn, wait);
      session.snapshotAskedAt = started;
    }
    if (!FORWARDED[role].has(frame.t)) return false;
    let kind: string = frame.t;
    if (SEQUENCED.has(frame.t) && role === Role.Customer) {
      const { s } = frame as { s: number };
      if (s > session.seq) {
        session.seq = s;
        ctx.directory.saveSeq(session);
      }
      if (frame.t === 'chunk') kind = frame.of === 'patch' ? 'patch' : frame.i === 0 ? 'snapshot' : 'snapshot-part';
    }
    if (this.#forward(conn, session, kind, raw)) ctx.metrics.forwarded((ctx.clock.monotonic() - started) / 1000);
    return true;
  }

  /** A snapshot request within SNAPSHOT_REQUEST_MS of the last one forwarded: not forwarded, not counted, and not fatal. */
  #refuseSnapshot(conn: Conn, retryAfter: number): true {
    this.#ctx.metrics.refused('snapshot-rate');
    const message = `One snapshot per ${SNAPSHOT_REQUEST_MS / 1000} s: ask again in ${(retryAfter / 1000).toFixed(1)} s`;
    this.#ctx.send(conn, { t: 'error', code: ErrorCode.Throttled, message, retryAfter });
    return true;
  }

  /** Sends a frame on to the session's other party — here, or to the node holding it; false if it was dropped (and counted). */
  #forward(from: Conn, session: Session<Conn>, type: string, raw: Buffer): boolean {
    const role = otherRole(from.role!);
    if (!session[role] && this.#ctx.directory.sendElsewhere(session, role, type, raw)) return true;
    return this.#deliver(session[role], type, raw);
  }

  /** A frame from a party on another node, for this relay's party of the session: checked as if it came from a socket. */
  fromNode(code: string, role: Role, kind: string, raw: Buffer): void {
    const sender = otherRole(role);
    try {
      const frame = sender === Role.Customer ? parseCustomerFrame(raw.toString()) : parseAgentFrame(raw.toString());
      if (!FORWARDED[sender].has(frame.t)) return this.rejected('invalid');
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return this.rejected('invalid');
    }
    const session = this.#ctx.directory.find(code);
    if (!session) return this.#ctx.metrics.dropped('no-peer');
    session.activeAt = this.#ctx.clock.monotonic();
    this.#deliver(session[role], kind, raw);
  }

  /** A message between nodes was dropped: counted every time, logged at most once per interval with the count since. */
  rejected(reason: 'mac' | 'invalid'): void {
    this.#ctx.metrics.busRejected(reason);
    this.#busRejections++;
    const now = this.#ctx.clock.monotonic();
    if (now - this.#busLoggedAt < BUS_LOG_MS) return;
    this.#busLoggedAt = now;
    this.#ctx.log({ event: 'bus-message-dropped', reason, count: this.#busRejections });
    this.#busRejections = 0;
  }

  /** Hands a frame to a party on this relay, within the slow-agent budget; false if it was dropped (and counted). */
  #deliver(to: Conn | null, type: string, raw: Buffer): boolean {
    const drop: DropReason | null =
      to?.ws.readyState !== WebSocket.OPEN
        ? 'no-peer'
        : to.role === Role.Agent
          ? this.#admitToAgent(to, type, raw.length)
          : to.ws.bufferedAmount > this.#ctx.limits.highWaterBytes
            ? 'backpressure'
            : null;
    if (drop) {
      this.#ctx.metrics.dropped(drop);
      return false;
    }
    // The original bytes, as text: no re-serialization on the hot path.
    to!.ws.send(raw, { binary: false });
    this.#ctx.metrics.frame('out', partyOf(to!), raw.length);
    return true;
  }

  /**
   * Whether a frame may be queued for an agent, or why not. Keeps a stalled agent's queue
   * under hardCapBytes, and never lets a patch through whose base the agent missed.
   */
  #admitToAgent(agent: Conn, type: string, size: number): DropReason | null {
    const { highWaterBytes, hardCapBytes } = this.#ctx.limits;
    const queued = agent.ws.bufferedAmount;
    switch (type) {
      case 'snapshot': // replaces everything before it: the one frame that brings a lagging agent back
        if (queued + size <= hardCapBytes) {
          agent.behind = false;
          return null;
        }
        return this.#fallBehind(agent, queued);
      case 'patch':
        if (agent.behind) return 'behind'; // a patch on a mirror that missed patches would corrupt it
        return queued <= highWaterBytes ? null : this.#fallBehind(agent, queued);
      case 'snapshot-part': // the rest of a chunked snapshot: like a snapshot, but only its first piece brings an agent back
        if (agent.behind) return 'behind';
        return queued + size <= hardCapBytes ? null : this.#fallBehind(agent, queued);
      case 'pointer': // the next one supersedes it: dropping is coalescing
        return queued <= highWaterBytes ? null : 'backpressure';
      default: // small state frames (sharing, control results, platform) do not depend on the mirror: keep them, in order
        return queued + size <= hardCapBytes ? null : 'backpressure';
    }
  }

  #fallBehind(agent: Conn, queued: number): 'backpressure' {
    if (agent.behind) return 'backpressure';
    agent.behind = true;
    agent.resyncAskedAt = -Infinity;
    this.lagging.add(agent);
    const message = 'This connection fell behind; a fresh snapshot will follow';
    this.#ctx.send(agent, { t: 'error', code: ErrorCode.ResyncRequired, message });
    this.#ctx.log({ event: 'agent-behind', session: agent.session ? maskCode(agent.session.code) : null, queued });
    return 'backpressure';
  }

  // Once a lagging agent has drained enough to take a snapshot, ask its customer for one
  // (and again if none came, e.g. the customer was away).
  #askForSnapshots(): void {
    const now = this.#ctx.clock.monotonic();
    for (const agent of this.lagging) {
      const session = agent.session;
      const customer = session?.customer ?? null;
      if (!agent.behind || agent.ws.readyState !== WebSocket.OPEN) this.lagging.delete(agent);
      else if (
        agent.ws.bufferedAmount <= this.#ctx.limits.highWaterBytes / 2 &&
        now - agent.resyncAskedAt >= RESYNC_RETRY_MS &&
        (customer || session?.remote.customer)
      ) {
        agent.resyncAskedAt = now;
        if (customer) this.#ctx.sendText(customer, REQUEST_SNAPSHOT);
        else this.#ctx.directory.sendElsewhere(session!, Role.Customer, 'request-snapshot', Buffer.from(REQUEST_SNAPSHOT));
      }
    }
  }
}
