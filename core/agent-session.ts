/**
 * The agent's side of a session: join by ID, feed the mirror, ask for a snapshot when
 * the mirror is out of step, and end. Knows nothing about how it is shown.
 */
import mitt, { type Emitter } from 'mitt';
import type { Mirror } from './dom/mirror.js';
import {
  ErrorCode,
  PROTOCOL_VERSION,
  ProtocolError,
  normalizeSessionCode,
  parseFrameForAgent,
  type Action,
  type ControlFrame,
  type EndedBy,
  type HighlightFrame,
  type Mode,
  type PlatformFrame,
} from './protocol/index.js';

/** A command as the agent sends it (the session numbers it). */
export type Command = Omit<ControlFrame, 't' | 'n'> & { a: Action };
export type CommandResult = { ok: true } | { ok: false; reason: string };

/** The customer's connection, as the toolbar's status icon shows it. */
export type LinkStatus = 'good' | 'slow' | 'offline';
/** A ping every this many ms; no pong for two intervals means offline, a round trip past SLOW_MS slow. */
const PING_MS = 2_000;
const SLOW_MS = 300;

/** How long a command may wait for its result: the customer may be asked for consent (30 s). */
const COMMAND_TIMEOUT_MS = 35_000;
import { SUBPROTOCOL, Transport, bearerProtocol } from './transport.js';

export const AgentState = {
  Idle: 'idle',
  Joining: 'joining',
  /** Joined; the customer's page is on its way. */
  Waiting: 'waiting',
  /** The mirror shows the customer's page live. */
  Live: 'live',
  /** Joined, but the customer's connection is gone for now. */
  CustomerAway: 'customer-away',
  /** The customer stopped sharing; the session lives on. */
  Paused: 'paused',
  Reconnecting: 'reconnecting',
  Ended: 'ended',
  Error: 'error',
} as const;
export type AgentState = (typeof AgentState)[keyof typeof AgentState];

export type AgentEvents = {
  state: AgentState;
  /** The customer's pointer moved (or clicked) at this point of their viewport. */
  'customer-pointer': { x: number; y: number; click: boolean };
  /** The customer's browser, system and device (raw; see describePlatform). */
  platform: PlatformFrame;
  /** The customer's link as the agent sees it: round trip through the relay, in ms (null: no answer). */
  link: { status: LinkStatus; rtt: number | null };
  joined: { code: string; mode: Mode };
  ended: { by: EndedBy };
  error: { code: string; message: string };
};

export interface AgentSessionOptions {
  relay: string;
  /** Shown to the customer (the relay prefers the name in the agent's token). */
  name?: string;
  /** The agent's JWT from the contact center's backend. */
  token?: string;
  mirror: Mirror;
}

const MESSAGES: Record<string, string> = {
  [ErrorCode.NotFound]: 'No session with this ID. Check the number with the customer and try again.',
  [ErrorCode.Taken]: 'Another agent is already connected to this session.',
  [ErrorCode.UnsupportedVersion]: 'This console is out of date for the co-browsing service. Reload the page.',
};

export class AgentSession {
  readonly events: Emitter<AgentEvents> = mitt<AgentEvents>();
  state: AgentState = AgentState.Idle;
  code = '';
  /** The session's mode, known once joined. */
  mode: Mode | undefined;
  private transport: Transport | undefined;
  private commandCount = 0;
  private pingCount = 0;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private readonly pingsSent = new Map<number, number>();
  /** The last measured link to the customer. */
  link: { status: LinkStatus; rtt: number | null } = { status: 'offline', rtt: null };
  private readonly pending = new Map<number, (result: CommandResult) => void>();

  constructor(private readonly options: AgentSessionOptions) {}

  /** Sends a command to the customer's page; resolves with what the page did (it may refuse). */
  command(command: Command): Promise<CommandResult> {
    const n = ++this.commandCount;
    if (!this.transport?.send({ ...command, t: 'control', n })) return Promise.resolve({ ok: false, reason: 'Not connected' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle({ ok: false, reason: 'The customer did not answer' }), COMMAND_TIMEOUT_MS);
      const settle = (result: CommandResult) => {
        clearTimeout(timer);
        this.pending.delete(n);
        resolve(result);
      };
      this.pending.set(n, settle);
    });
  }

  /** Draws a mark on the customer's page, anchored to mirror node `target` (allowed in every mode). */
  highlight(mark: Omit<HighlightFrame, 't'>): void {
    this.transport?.send({ t: 'highlight', ...mark });
  }

  /** Removes one mark from the customer's page, or all of them. */
  clearHighlights(id?: number): void {
    this.transport?.send(id === undefined ? { t: 'highlight-clear' } : { t: 'highlight-clear', id });
  }

  /** Shows the agent's pointer on the customer's page (coordinates in the customer's viewport). */
  pointer(x: number, y: number, click = false): void {
    this.transport?.send(click ? { t: 'pointer', x, y, click } : { t: 'pointer', x, y });
  }

  /** Joins the session with this ID (spaces and dashes allowed); throws on a malformed ID. */
  join(input: string): void {
    const code = normalizeSessionCode(input);
    if (!code) throw new ProtocolError(ErrorCode.BadFrame, 'A session ID is 9 digits.');
    this.dispose();
    this.code = code;
    this.setState(AgentState.Joining);
    const { token } = this.options;
    const transport = new Transport(this.options.relay, { protocols: token ? [SUBPROTOCOL, bearerProtocol(token)] : [SUBPROTOCOL] });
    this.transport = transport;
    transport.events.on('open', () => transport.send({ t: 'join', v: PROTOCOL_VERSION, code, name: this.options.name }));
    transport.events.on('message', (text) => this.receive(text));
    transport.events.on('close', ({ retrying }) => {
      if (this.transport !== transport) return;
      if (retrying) this.setState(AgentState.Reconnecting);
      else if (this.state !== AgentState.Ended && this.state !== AgentState.Error) {
        this.fail(ErrorCode.BadFrame, 'Lost the connection to the co-browsing service.');
      }
    });
    transport.connect();
  }

  /** Ends the session for both sides. */
  end(): void {
    if (!this.transport?.send({ t: 'end' })) this.finish('agent');
  }

  /** Measures the round trip to the customer's page, through the relay, every PING_MS. */
  private startPinging(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      const oldest = Math.min(...this.pingsSent.values());
      if (this.pingsSent.size && performance.now() - oldest > 2 * PING_MS) this.setLink({ status: 'offline', rtt: null });
      const n = ++this.pingCount;
      if (this.transport?.send({ t: 'ping', n })) this.pingsSent.set(n, performance.now());
    }, PING_MS);
  }

  private setLink(link: { status: LinkStatus; rtt: number | null }): void {
    if (link.status === this.link.status && link.rtt === this.link.rtt) return;
    this.link = link;
    this.events.emit('link', link);
  }

  /** Leaves without ending the session (the console is closing). */
  dispose(): void {
    clearInterval(this.pingTimer);
    this.pingsSent.clear();
    this.transport?.close();
    this.transport = undefined;
  }

  private receive(text: string): void {
    let frame;
    try {
      frame = parseFrameForAgent(text);
    } catch (error) {
      // A malformed frame must not corrupt the mirror: drop it and resynchronise.
      if (!(error instanceof ProtocolError)) throw error;
      this.transport?.send({ t: 'request-snapshot' });
      return;
    }
    const { mirror } = this.options;
    switch (frame.t) {
      case 'joined':
        this.mode = frame.mode;
        this.startPinging();
        this.setState(frame.online ? AgentState.Waiting : AgentState.CustomerAway);
        this.events.emit('joined', { code: frame.code, mode: frame.mode });
        break;
      case 'snapshot':
        mirror.applySnapshot(frame);
        this.setState(AgentState.Live);
        break;
      case 'patch':
        if (this.state !== AgentState.Live) break; // nothing to patch until a snapshot arrives
        if (!mirror.applyPatch(frame)) {
          this.setState(AgentState.Waiting);
          this.transport?.send({ t: 'request-snapshot' });
        }
        break;
      case 'peer':
        if (frame.role === 'customer') this.setState(frame.status === 'online' ? AgentState.Waiting : AgentState.CustomerAway);
        if (frame.role === 'customer' && frame.status === 'offline') this.setLink({ status: 'offline', rtt: null });
        break;
      case 'sharing':
        // Resumed sharing sends a fresh snapshot, which makes the view live again.
        this.setState(frame.paused ? AgentState.Paused : AgentState.Waiting);
        break;
      case 'platform':
        this.events.emit('platform', frame);
        break;
      case 'pong': {
        const sent = this.pingsSent.get(frame.n);
        if (sent === undefined) break;
        this.pingsSent.clear(); // older pings are answered by this one
        const rtt = Math.round(performance.now() - sent);
        this.setLink({ status: rtt > SLOW_MS ? 'slow' : 'good', rtt });
        break;
      }
      case 'pointer':
        this.events.emit('customer-pointer', { x: frame.x, y: frame.y, click: frame.click ?? false });
        break;
      case 'control-result':
        this.pending.get(frame.n)?.(frame.ok ? { ok: true } : { ok: false, reason: frame.reason ?? 'Refused' });
        break;
      case 'ended':
        this.finish(frame.by);
        break;
      case 'error':
        // The relay dropped patches for a slow console and has asked for a snapshot: catch up, don't fail.
        if (frame.code === ErrorCode.ResyncRequired) this.setState(AgentState.Waiting);
        else this.fail(frame.code, MESSAGES[frame.code] ?? frame.message);
        break;
    }
  }

  private finish(by: EndedBy): void {
    this.dispose();
    for (const settle of this.pending.values()) settle({ ok: false, reason: 'The session ended' });
    this.setState(AgentState.Ended);
    this.events.emit('ended', { by });
  }

  private fail(code: string, message: string): void {
    this.dispose();
    this.setState(AgentState.Error);
    this.events.emit('error', { code, message });
  }

  private setState(state: AgentState): void {
    if (state === this.state) return;
    this.state = state;
    this.events.emit('state', state);
  }
}
