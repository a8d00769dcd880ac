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
  type EndedBy,
  type Mode,
} from './protocol/index.js';
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
  Reconnecting: 'reconnecting',
  Ended: 'ended',
  Error: 'error',
} as const;
export type AgentState = (typeof AgentState)[keyof typeof AgentState];

export type AgentEvents = {
  state: AgentState;
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

  constructor(private readonly options: AgentSessionOptions) {}

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

  /** Leaves without ending the session (the console is closing). */
  dispose(): void {
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
        break;
      case 'ended':
        this.finish(frame.by);
        break;
      case 'error':
        this.fail(frame.code, MESSAGES[frame.code] ?? frame.message);
        break;
    }
  }

  private finish(by: EndedBy): void {
    this.dispose();
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
