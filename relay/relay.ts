/**
 * The relay's routing: a socket says who it is with its first frame, then the relay
 * checks every frame against the protocol and forwards the allowed ones, untouched, to
 * the other party of the same session.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import {
  CloseCode, ErrorCode, FORWARDED, MAX_FRAME_BYTES, PROTOCOL_VERSION, ProtocolError, Role,
  parseAgentFrame, parseCustomerFrame, parseFrame,
  type CreateFrame, type EndedBy, type Frame, type JoinFrame, type RelayFrame, type ResumeFrame,
} from '../core/protocol/index.js';
import { Deadline, SessionStore, maskCode, type Session } from './sessions.js';

export interface RelayOptions {
  /** WebSocket path; default '/relay'. */
  path?: string;
  /** Largest accepted frame in bytes (larger ones close with 1009); default MAX_FRAME_BYTES. */
  maxPayload?: number;
  /** A session no agent ever joined expires after this; default 10 min. */
  unjoinedTtlMs?: number;
  /** A customer whose socket dropped may resume within this, then the session expires; default 60 s. */
  graceMs?: number;
  /** Ping interval; a peer silent for two intervals is terminated; default 30 s. */
  heartbeatMs?: number;
  /** Receives one JSON-able object per event; default: one JSON line on stdout. Never given frame bodies, tokens or full session IDs. */
  log?: (event: Record<string, unknown>) => void;
}

export interface Relay {
  /** Live sessions, joined or not. */
  readonly sessionCount: number;
  /** Open WebSockets, including those that have not sent their first frame yet. */
  readonly socketCount: number;
  /** Closes every socket with 1001 and stops all timers; leaves the http server running. */
  close(): Promise<void>;
}

/** What RelayOptions fall back to. */
export const RELAY_DEFAULTS = {
  path: '/relay',
  maxPayload: MAX_FRAME_BYTES,
  unjoinedTtlMs: 10 * 60_000,
  graceMs: 60_000,
  heartbeatMs: 30_000,
} as const;

const writeJsonLine = (event: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);

/** The only frames a socket may open with; they decide its role. */
const HANDSHAKE = new Set(['create', 'resume', 'join']);

interface Conn {
  readonly ws: WebSocket;
  role: Role | null;
  session: Session<Conn> | null;
  /** Answered the last ping (or sent anything) since the previous heartbeat. */
  alive: boolean;
  /** Has lived through at least one heartbeat. */
  seen: boolean;
}

const pathOf = (req: IncomingMessage) => req.url?.split('?')[0];

function resolveOptions(options: RelayOptions) {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o: Required<RelayOptions> = { ...RELAY_DEFAULTS, log: writeJsonLine, ...given };
  for (const key of ['maxPayload', 'unjoinedTtlMs', 'graceMs', 'heartbeatMs'] as const) {
    if (!(Number.isFinite(o[key]) && o[key] > 0)) throw new TypeError(`${key} must be a positive number`);
  }
  if (!o.path.startsWith('/')) throw new TypeError('path must start with "/"');
  return o;
}

/** Attaches to an existing http.Server: handles its 'upgrade' for `path`, leaves other paths alone. */
export function attachRelay(server: Server, options: RelayOptions = {}): Relay {
  const o = resolveOptions(options);
  const log = o.log;
  const conns = new Set<Conn>();
  const store = new SessionStore<Conn>((session, why) => {
    log({ event: 'session-expired', session: maskCode(session.code), why });
    endSession(session, 'expired');
  });
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false, // `conns` tracks them, with their state
    maxPayload: o.maxPayload,
    perMessageDeflate: false, // compression costs CPU per frame and invites zip bombs
  });

  const send = (conn: Conn | null, frame: RelayFrame) => {
    if (conn?.ws.readyState === WebSocket.OPEN) conn.ws.send(JSON.stringify(frame));
  };

  function refuse(conn: Conn, code: ErrorCode, message: string, close: CloseCode) {
    log({ event: 'refused', role: conn.role, error: code, close });
    send(conn, { t: 'error', code, message });
    conn.ws.close(close, code);
  }

  function endSession(session: Session<Conn>, by: EndedBy) {
    store.delete(session);
    for (const conn of [session.customer, session.agent]) {
      if (!conn) continue;
      conn.session = null; // its close is then no news to anyone
      send(conn, { t: 'ended', by });
      conn.ws.close(CloseCode.Ended, 'ended');
    }
    session.customer = session.agent = null;
    log({ event: 'session-ended', session: maskCode(session.code), by });
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
    if (frame.t === 'create') {
      const { session, token } = store.create(frame.mode, conn);
      bind(conn, Role.Customer, session);
      store.arm(session, Deadline.Unjoined, o.unjoinedTtlMs);
      send(conn, { t: 'created', code: session.code, token, mode: session.mode });
      return log({ event: 'session-created', session: maskCode(session.code), mode: session.mode });
    }
    const session = store.find(frame.code);
    if (frame.t === 'resume') {
      if (!session || !store.verify(session, frame.token)) {
        const message = 'No session with this ID, or the resume token is wrong';
        return refuse(conn, ErrorCode.NotFound, message, CloseCode.SessionNotFound);
      }
      const previous = session.customer;
      if (previous) {
        previous.session = null; // replaced, not gone: the agent hears nothing
        previous.ws.close(CloseCode.Ended, 'replaced');
      }
      session.customer = conn;
      bind(conn, Role.Customer, session);
      store.disarm(session, Deadline.Grace);
      send(conn, { t: 'resumed', code: session.code, mode: session.mode, agent: session.agentName });
      send(session.agent, { t: 'peer', role: Role.Customer, status: 'online' });
      return log({ event: 'session-resumed', session: maskCode(session.code) });
    }
    if (!session) return refuse(conn, ErrorCode.NotFound, 'No session with this ID', CloseCode.SessionNotFound);
    if (session.agent) {
      return refuse(conn, ErrorCode.Taken, 'Another agent is already in this session', CloseCode.SessionTaken);
    }
    const name = frame.name?.trim() || 'Agent';
    session.agent = conn;
    session.agentName = name;
    bind(conn, Role.Agent, session);
    store.disarm(session, Deadline.Unjoined);
    const online = session.customer?.ws.readyState === WebSocket.OPEN;
    send(conn, { t: 'joined', code: session.code, mode: session.mode, online });
    send(session.customer, { t: 'peer', role: Role.Agent, status: 'online', name });
    log({ event: 'agent-joined', session: maskCode(session.code), customerOnline: online });
  }

  function onMessage(conn: Conn, data: RawData, isBinary: boolean) {
    if (conn.ws.readyState !== WebSocket.OPEN) return; // already refused or ended
    conn.alive = true;
    if (isBinary) {
      log({ event: 'refused', role: conn.role, error: 'binary', close: CloseCode.UnsupportedData });
      return conn.ws.close(CloseCode.UnsupportedData, 'text frames only');
    }
    const raw = data as Buffer; // default binaryType 'nodebuffer': one Buffer per message
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
    if (FORWARDED[conn.role].has(frame.t)) {
      const other = conn.role === Role.Customer ? session.agent : session.customer;
      // The original bytes, as text: no re-serialization on the hot path.
      if (other?.ws.readyState === WebSocket.OPEN) other.ws.send(raw, { binary: false });
      return;
    }
    if (frame.t === 'end') return endSession(session, conn.role);
    refuse(conn, ErrorCode.NotAllowed, `"${frame.t}" is only allowed as the first frame`, CloseCode.PolicyViolation);
  }

  function onClose(conn: Conn) {
    conns.delete(conn);
    const session = conn.session;
    conn.session = null;
    if (!session) return;
    if (session.customer === conn) {
      session.customer = null;
      send(session.agent, { t: 'peer', role: Role.Customer, status: 'offline' });
      store.arm(session, Deadline.Grace, o.graceMs);
    } else if (session.agent === conn) {
      session.agent = session.agentName = null; // free for another agent
      send(session.customer, { t: 'peer', role: Role.Agent, status: 'offline' });
    }
    log({ event: 'peer-offline', role: conn.role, session: maskCode(session.code) });
  }

  function onConnection(ws: WebSocket) {
    const conn: Conn = { ws, role: null, session: null, alive: true, seen: false };
    conns.add(conn);
    ws.on('error', (err: NodeJS.ErrnoException) => log({ event: 'socket-error', role: conn.role, error: err.code ?? err.message }));
    ws.on('pong', () => (conn.alive = true));
    ws.on('close', () => onClose(conn));
    ws.on('message', (data, isBinary) => {
      try {
        onMessage(conn, data, isBinary);
      } catch (err) {
        // A bug must cost one socket, not the process and every other session.
        log({ event: 'internal-error', error: String(err) });
        ws.terminate();
      }
    });
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathOf(req) !== o.path) return; // someone else's, e.g. the demo server's
    wss.handleUpgrade(req, socket, head, onConnection);
  };
  server.on('upgrade', onUpgrade);

  const heartbeat = setInterval(() => {
    for (const conn of conns) {
      // Silent since the last ping, or still anonymous a whole interval later: drop it.
      if (!conn.alive || (conn.role === null && conn.seen)) conn.ws.terminate();
      else {
        conn.alive = false;
        conn.seen = true;
        conn.ws.ping();
      }
    }
  }, o.heartbeatMs);
  heartbeat.unref();

  let closing: Promise<void> | undefined;
  return {
    get sessionCount() {
      return store.size;
    },
    get socketCount() {
      return conns.size;
    },
    close() {
      closing ??= (async () => {
        server.off('upgrade', onUpgrade);
        clearInterval(heartbeat);
        store.clear();
        const closed = [...conns].map((conn) => new Promise((resolve) => conn.ws.once('close', resolve)));
        for (const conn of conns) {
          conn.session = null; // shutting down is not a peer going offline
          conn.ws.close(CloseCode.GoingAway, 'relay shutting down');
        }
        const force = setTimeout(() => conns.forEach((conn) => conn.ws.terminate()), 2000);
        await Promise.all(closed);
        clearTimeout(force);
        wss.close();
        log({ event: 'relay-closed' });
      })();
      return closing;
    },
  };
}
