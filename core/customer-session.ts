/**
 * The customer's side of a session: create or resume it at the relay, record the page
 * while an agent is there, and end it. Knows nothing about how it is shown.
 */
import mitt, { type Emitter } from 'mitt';
import type { UseStore } from 'idb-keyval';
import { Masker } from './dom/mask.js';
import { record, type Recording } from './dom/recorder.js';
import { clearSession, loadSession, saveSession } from './persistence.js';
import { ErrorCode, Mode, PROTOCOL_VERSION, ProtocolError, parseFrameForCustomer, type EndedBy } from './protocol/index.js';
import { Transport } from './transport.js';

export const CustomerState = {
  Idle: 'idle',
  Starting: 'starting',
  /** The session exists; no agent has joined (or the agent left). */
  Waiting: 'waiting',
  /** An agent is viewing the page. */
  Connected: 'connected',
  /** The connection dropped; resuming. */
  Reconnecting: 'reconnecting',
  Ended: 'ended',
  Error: 'error',
} as const;
export type CustomerState = (typeof CustomerState)[keyof typeof CustomerState];

export type CustomerEvents = {
  state: CustomerState;
  created: { code: string };
  'agent-joined': { name: string };
  'agent-left': void;
  ended: { by: EndedBy };
  error: { code: string; message: string };
};

export interface CustomerSessionOptions {
  /** The relay's WebSocket URL. */
  relay: string;
  mode?: Mode;
  masker?: Masker;
  doc?: Document;
  store?: UseStore;
}

export class CustomerSession {
  readonly events: Emitter<CustomerEvents> = mitt<CustomerEvents>();
  state: CustomerState = CustomerState.Idle;
  /** The 9-digit session ID, once the relay gave one. */
  code = '';
  /** The display name of the agent viewing the page, if any. */
  agentName = '';
  readonly mode: Mode;
  private token = '';
  private transport: Transport | undefined;
  private recording: Recording | undefined;

  constructor(private readonly options: CustomerSessionOptions) {
    this.mode = options.mode ?? Mode.Full;
  }

  /** Starts a session, resuming the one this site already has if it is still alive. */
  async start(): Promise<void> {
    if (this.transport) return;
    if (!(await this.resume())) this.connect();
  }

  /** Resumes the stored session, if any; returns whether there was one. */
  async resume(): Promise<boolean> {
    if (this.transport) return true;
    const stored = await loadSession(this.options.store);
    if (!stored || stored.relay !== this.options.relay) return false;
    this.code = stored.code;
    this.token = stored.token;
    this.connect();
    return true;
  }

  /** Ends the session for both sides. */
  end(): void {
    if (!this.transport?.send({ t: 'end' })) this.finish('customer');
  }

  /** Lets go of the connection without ending the session (the page is going away). */
  dispose(): void {
    this.stopRecording();
    this.transport?.close();
    this.transport = undefined;
  }

  private connect(): void {
    this.setState(CustomerState.Starting);
    const transport = new Transport(this.options.relay);
    this.transport = transport;
    transport.events.on('open', () => {
      // After a drop the same session is resumed: the token is what proves it is ours.
      transport.send(
        this.token
          ? { t: 'resume', v: PROTOCOL_VERSION, code: this.code, token: this.token }
          : { t: 'create', v: PROTOCOL_VERSION, mode: this.mode },
      );
    });
    transport.events.on('message', (text) => this.receive(text));
    transport.events.on('close', ({ retrying }) => {
      if (this.transport !== transport) return; // disposed on purpose
      this.stopRecording();
      if (retrying) this.setState(CustomerState.Reconnecting);
      else if (this.state !== CustomerState.Ended) this.fail(ErrorCode.BadFrame, 'Lost the connection to the co-browsing service');
    });
    transport.connect();
  }

  private receive(text: string): void {
    let frame;
    try {
      frame = parseFrameForCustomer(text);
    } catch (error) {
      if (error instanceof ProtocolError) return; // a relay bug must not break the customer's page
      throw error;
    }
    switch (frame.t) {
      case 'created':
        this.code = frame.code;
        this.token = frame.token;
        void saveSession({ code: frame.code, token: frame.token, mode: frame.mode, relay: this.options.relay, paused: false }, this.options.store);
        this.setState(CustomerState.Waiting);
        this.events.emit('created', { code: frame.code });
        break;
      case 'resumed':
        if (frame.agent === null) this.setState(CustomerState.Waiting);
        else this.agentArrived(frame.agent);
        break;
      case 'peer':
        if (frame.role !== 'agent') break;
        if (frame.status === 'online') this.agentArrived(frame.name ?? 'Agent');
        else {
          this.stopRecording();
          this.agentName = '';
          this.setState(CustomerState.Waiting);
          this.events.emit('agent-left');
        }
        break;
      case 'request-snapshot':
        this.recording?.snapshot();
        break;
      case 'ended':
        this.finish(frame.by);
        break;
      case 'error':
        if (frame.code === ErrorCode.NotFound) this.finish('expired');
        else this.fail(frame.code, frame.message);
        break;
    }
  }

  /** An agent is (still) there: it gets a fresh snapshot, then live patches. */
  private agentArrived(name: string): void {
    this.agentName = name;
    this.stopRecording();
    this.recording = record({
      emit: (frame) => this.transport?.send(frame),
      doc: this.options.doc,
      masker: this.options.masker,
    });
    this.setState(CustomerState.Connected);
    this.events.emit('agent-joined', { name });
  }

  private stopRecording(): void {
    this.recording?.stop();
    this.recording = undefined;
  }

  private finish(by: EndedBy): void {
    this.dispose();
    this.token = '';
    void clearSession(this.options.store);
    this.setState(CustomerState.Ended);
    this.events.emit('ended', { by });
  }

  private fail(code: string, message: string): void {
    this.dispose();
    this.setState(CustomerState.Error);
    this.events.emit('error', { code, message });
  }

  private setState(state: CustomerState): void {
    if (state === this.state) return;
    this.state = state;
    this.events.emit('state', state);
  }
}
