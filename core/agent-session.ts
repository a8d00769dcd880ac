/**
 * The agent's side of a session: join by ID, feed the mirror, ask for a snapshot when
 * the mirror is out of step, and end. Knows nothing about how it is shown.
 */
import mitt, { type Emitter } from 'mitt';
import type { AssetLoading } from './dom/assets.js';
import type { Mirror } from './dom/mirror.js';
import {
  ErrorCode,
  PROTOCOL_VERSION,
  ProtocolError,
  SNAPSHOT_REQUEST_MS,
  normalizeSessionCode,
  parseFrameForAgent,
  type Action,
  type ControlFrame,
  type EndedBy,
  type HighlightFrame,
  type JoinedFrame,
  type Mode,
  type PlatformFrame,
  type ChunkFrame,
  type PatchFrame,
  type SnapshotFrame,
} from './protocol/index.js';
import { Inbox } from './reliable.js';
import { SUBPROTOCOL, bearerProtocol, webSocketConnection, type Connection, type ConnectionFactory } from './transport.js';
import { AGENT_TRANSITIONS, AgentState, type AgentTrigger } from './agent-states.js';
import { move } from './state-machine.js';

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
/** Acknowledgements of the mirror's stream go out at most this often. */
const ACK_MS = 100;
/**
 * Snapshot requests go out at most this often: the relay serves one per SNAPSHOT_REQUEST_MS (a little
 * more lets its clock and the network differ). One asked for and not come is asked for again after it.
 */
const RESYNC_RETRY_MS = SNAPSHOT_REQUEST_MS + 250;
/** After telling the customer where to resume, gaps are expected for this long: its replay fills them. */
const REPLAY_WAIT_MS = 2_000;

export { AgentState } from './agent-states.js';

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
  /** A numbered frame of the stream reached the mirror (for diagnostics: each number once, in order, a snapshot may jump). */
  applied: { s: number; type: 'snapshot' | 'patch' };
};

export interface AgentSessionOptions {
  relay: string;
  /** Shown to the customer (the relay prefers the name in the agent's token). */
  name?: string;
  /** The agent's JWT from the contact center's backend. */
  token?: string;
  mirror: Mirror;
  /** How to reach the relay; a WebSocket by default (Storybook's stories use an in-memory relay). */
  connection?: ConnectionFactory;
  /**
   * How the mirror loads the page's images, styles, fonts and media: through the relay's asset proxy
   * (default; nothing loads if the relay offers none), or 'direct' from wherever the customer's page says.
   */
  assets?: 'proxy' | 'direct';
}

/** The proxy's absolute URL: its path on the relay's host, over http(s) as the relay is over ws(s). */
function proxyUrl(relay: string, path: string): string | null {
  try {
    const url = new URL(path, relay.replace(/^ws(s?):/i, 'http$1:'));
    return /^https?:$/.test(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

const MESSAGES: Record<string, string> = {
  [ErrorCode.NotFound]: 'No session with this ID. Check the number with the customer and try again.',
  [ErrorCode.Taken]: 'Another agent is already connected to this session.',
  [ErrorCode.UnsupportedVersion]: 'This console is out of date for the co-browsing service. Reload the page.',
};

/**
 * The agent's resume token lives in this tab's sessionStorage, so a console that reloads takes its
 * place back (with the customer's consent) instead of finding it held for a minute.
 */
const tokenKey = (code: string) => `cobrowse-agent-token:${code}`;
function readToken(code: string): string {
  try {
    return globalThis.sessionStorage?.getItem(tokenKey(code)) ?? '';
  } catch {
    return ''; // storage denied (a sandboxed frame, privacy settings): a reload just waits for the place
  }
}
function saveToken(code: string, token: string | null): void {
  try {
    if (token) globalThis.sessionStorage?.setItem(tokenKey(code), token);
    else globalThis.sessionStorage?.removeItem(tokenKey(code));
  } catch {
    // as above
  }
}
export class AgentSession {
  readonly events: Emitter<AgentEvents> = mitt<AgentEvents>();
  state: AgentState = AgentState.Idle;
  code = '';
  /** The session's mode, known once joined. */
  mode: Mode | undefined;
  #transport: Connection | undefined;
  #commandCount = 0;
  #pingCount = 0;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  readonly #pingsSent = new Map<number, number>();
  /** The last measured link to the customer. */
  link: { status: LinkStatus; rtt: number | null } = { status: 'offline', rtt: null };
  readonly #pending = new Map<number, (result: CommandResult) => void>();
  /** The mirror's numbered stream: what was applied, and chunks on their way (see reliable.ts). */
  readonly #inbox = new Inbox();
  #acked = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #resyncAskedAt = -Infinity;
  /** The mirror needs a snapshot (asked for, or to ask for when the interval has passed). */
  #wantSnapshot = false;
  #snapshotTimer: ReturnType<typeof setTimeout> | undefined;
  #syncedAt = -Infinity;
  #gapTimer: ReturnType<typeof setTimeout> | undefined;
  /** From the relay's `joined`: reclaims this agent's place after a dropped connection. */
  #resumeToken = '';

  #token: string | undefined;

  readonly #options: AgentSessionOptions;

  constructor(options: AgentSessionOptions) {
    this.#options = options;
    this.#token = options.token;
  }

  /** How the mirror loads assets, given what the relay's `joined` offered. */
  #assetLoading(offered: JoinedFrame['assets']): AssetLoading {
    if (this.#options.assets === 'direct') return 'direct';
    const proxy = offered && proxyUrl(this.#options.relay, offered.path);
    return proxy ? { proxy, grant: offered.grant } : 'none';
  }

  /** Sends a command to the customer's page; resolves with what the page did (it may refuse). */
  command(command: Command): Promise<CommandResult> {
    const n = ++this.#commandCount;
    if (!this.#transport?.send({ ...command, t: 'control', n })) return Promise.resolve({ ok: false, reason: 'Not connected' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle({ ok: false, reason: 'The customer did not answer' }), COMMAND_TIMEOUT_MS);
      const settle = (result: CommandResult) => {
        clearTimeout(timer);
        this.#pending.delete(n);
        resolve(result);
      };
      this.#pending.set(n, settle);
    });
  }

  /** Draws a mark on the customer's page, anchored to mirror node `target` (allowed in every mode). */
  highlight(mark: Omit<HighlightFrame, 't'>): void {
    this.#transport?.send({ t: 'highlight', ...mark });
  }

  /** Removes one mark from the customer's page, or all of them. */
  clearHighlights(id?: number): void {
    this.#transport?.send(id === undefined ? { t: 'highlight-clear' } : { t: 'highlight-clear', id });
  }

  /** Shows the agent's pointer on the customer's page (coordinates in the customer's viewport). */
  pointer(x: number, y: number, click = false): void {
    this.#transport?.send(click ? { t: 'pointer', x, y, click } : { t: 'pointer', x, y });
  }

  /** Joins the session with this ID (spaces and dashes allowed); throws on a malformed ID. */
  join(input: string): void {
    const code = normalizeSessionCode(input);
    if (!code) throw new ProtocolError(ErrorCode.BadFrame, 'A session ID is 9 digits.');
    this.dispose();
    this.code = code;
    this.#inbox.reset();
    this.#acked = 0;
    this.#wantSnapshot = false;
    this.#resumeToken = readToken(code);
    this.#on('join');
    const protocols = () => (this.#token ? [SUBPROTOCOL, bearerProtocol(this.#token)] : [SUBPROTOCOL]);
    const transport = (this.#options.connection ?? webSocketConnection)(this.#options.relay, protocols);
    this.#transport = transport;
    transport.events.on('open', () => {
      const { name } = this.#options;
      transport.send(
        this.#resumeToken
          ? { t: 'join', v: PROTOCOL_VERSION, code, name, token: this.#resumeToken, at: Date.now() }
          : { t: 'join', v: PROTOCOL_VERSION, code, name, at: Date.now() },
      );
    });
    transport.events.on('message', (text) => this.#receive(text));
    transport.events.on('close', ({ retrying }) => {
      if (this.#transport !== transport) return;
      if (retrying) this.#on('dropped');
      else if (this.state !== AgentState.Ended && this.state !== AgentState.Error) {
        this.#fail(ErrorCode.BadFrame, 'Lost the connection to the co-browsing service.');
      }
    });
    transport.connect();
  }

  /** Ends the session for both sides. */
  end(): void {
    if (!this.#transport?.send({ t: 'end' })) this.#finish('agent');
  }

  /**
   * Measures the round trip to the customer's page, through the relay, every PING_MS; and says
   * again where the stream stands, so that a customer that missed an acknowledgement, or whose
   * frames were lost on the way, catches up (see Outbox.ack).
   */
  #startPinging(): void {
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      this.#sendAck();
      const oldest = Math.min(...this.#pingsSent.values());
      if (this.#pingsSent.size && performance.now() - oldest > 2 * PING_MS) this.#setLink({ status: 'offline', rtt: null });
      const n = ++this.#pingCount;
      if (this.#transport?.send({ t: 'ping', n })) this.#pingsSent.set(n, performance.now());
    }, PING_MS);
  }

  #setLink(link: { status: LinkStatus; rtt: number | null }): void {
    if (link.status === this.link.status && link.rtt === this.link.rtt) return;
    this.link = link;
    this.events.emit('link', link);
  }

  /**
   * Uses a renewed agent token from the next connection on (tokens are short-lived; a reconnect
   * with an expired one would be refused).
   */
  updateToken(token: string | undefined): void {
    this.#token = token;
  }

  /** Leaves the session, which lives on: another agent may join at once. */
  leave(): void {
    this.#transport?.send({ t: 'leave' });
    saveToken(this.code, null);
    this.dispose();
  }

  /** Lets go of the connection without a word (the console is closing); the relay holds this agent's place a while. */
  dispose(): void {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#ackTimer);
    clearTimeout(this.#gapTimer);
    clearTimeout(this.#snapshotTimer);
    this.#ackTimer = undefined;
    this.#snapshotTimer = undefined;
    this.#pingsSent.clear();
    this.#transport?.close();
    this.#transport = undefined;
  }

  #receive(text: string): void {
    let frame;
    try {
      frame = parseFrameForAgent(text);
    } catch (error) {
      // A malformed frame must not corrupt the mirror: drop it and resynchronise.
      if (!(error instanceof ProtocolError)) throw error;
      this.#requestSnapshot();
      return;
    }
    switch (frame.t) {
      case 'joined':
        this.mode = frame.mode;
        this.#resumeToken = frame.token;
        saveToken(frame.code, frame.token);
        this.#options.mirror.setAssets(this.#assetLoading(frame.assets));
        this.#sendSyncAck();
        this.#startPinging();
        this.#on(frame.online ? 'joined' : 'joined-alone');
        this.events.emit('joined', { code: frame.code, mode: frame.mode });
        break;
      case 'snapshot':
      case 'patch':
      case 'chunk':
        this.#content(frame);
        break;
      case 'peer':
        if (frame.role !== 'customer') break;
        if (frame.status === 'online') {
          this.#sendSyncAck();
          this.#on(this.#inbox.last ? 'customer-returned' : 'customer-online');
        } else {
          this.#on('customer-offline');
          this.#setLink({ status: 'offline', rtt: null });
        }
        break;
      case 'sharing':
        // Resumed sharing sends a fresh snapshot, which makes the view live again.
        this.#on(!frame.paused ? 'sharing-resumed' : frame.left ? 'customer-left' : 'sharing-paused');
        break;
      case 'platform':
        this.events.emit('platform', frame);
        break;
      case 'pong': {
        const sent = this.#pingsSent.get(frame.n);
        if (sent === undefined) break;
        this.#pingsSent.clear(); // older pings are answered by this one
        const rtt = Math.round(performance.now() - sent);
        this.#setLink({ status: rtt > SLOW_MS ? 'slow' : 'good', rtt });
        break;
      }
      case 'pointer':
        this.events.emit('customer-pointer', { x: frame.x, y: frame.y, click: frame.click ?? false });
        break;
      case 'control-result':
        this.#pending.get(frame.n)?.(frame.ok ? { ok: true } : { ok: false, reason: frame.reason ?? 'Refused' });
        break;
      case 'ended':
        this.#finish(frame.by);
        break;
      case 'error':
        // The relay dropped patches for a slow console and has asked for a snapshot: catch up, don't fail.
        if (frame.code === ErrorCode.ResyncRequired) this.#on('out-of-step');
        // A snapshot request came too soon for the relay (which did not count it): ask again when it will serve one.
        else if (frame.code === ErrorCode.Throttled) this.#snapshotRefused(frame.retryAfter ?? RESYNC_RETRY_MS);
        else if (frame.code === ErrorCode.Unavailable)
          break; // the close that follows is retried
        else this.#fail(frame.code, frame.message);
        break;
    }
  }

  /** A frame of the mirror's stream: applied once and in order, or a gap that asks for a snapshot. */
  #content(frame: SnapshotFrame | PatchFrame | ChunkFrame): void {
    const verdict = this.#inbox.accept(frame);
    if (!verdict.apply) {
      if (verdict.gap) this.#gap();
      return;
    }
    this.#scheduleAck();
    let whole: SnapshotFrame | PatchFrame | ChunkFrame = frame;
    if (verdict.text !== undefined) {
      try {
        whole = parseFrameForAgent(`{"s":${frame.s},${verdict.text.slice(1)}`) as SnapshotFrame | PatchFrame;
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
      }
      if (whole.t !== (frame as ChunkFrame).of) return this.#resync(); // a malformed whole: start over
    }
    const { mirror } = this.#options;
    if (whole.t === 'snapshot' || whole.t === 'patch') this.events.emit('applied', { s: frame.s, type: whole.t });
    if (whole.t === 'snapshot') {
      mirror.applySnapshot(whole);
      this.#wantSnapshot = false;
      clearTimeout(this.#snapshotTimer);
      this.#snapshotTimer = undefined;
      this.#on('snapshot');
    } else if (whole.t === 'patch') {
      if (!mirror.applyPatch(whole)) this.#resync();
      // A replay after this console reconnected continues the page it shows: live again without a snapshot.
      else this.#on('patch-continued');
    }
  }

  /**
   * Something is missing. Frames the customer sent before it heard of a reconnect may arrive
   * ahead of its replay: give the replay a moment, then ask for a snapshot if it did not fill the gap.
   */
  #gap(): void {
    const wait = this.#syncedAt + REPLAY_WAIT_MS - performance.now();
    if (wait <= 0) return this.#resync();
    const last = this.#inbox.last;
    clearTimeout(this.#gapTimer);
    this.#gapTimer = setTimeout(() => this.#inbox.last === last && this.#resync(), wait);
  }

  /** The mirror is out of step: ask for a fresh snapshot. */
  #resync(): void {
    this.#on('out-of-step');
    this.#requestSnapshot();
  }

  /**
   * Asks the customer for a snapshot: at once, or — within RESYNC_RETRY_MS of the last request, which
   * the relay would refuse — once that has passed, if none came meanwhile. Never dropped, never more often.
   */
  #requestSnapshot(): void {
    this.#wantSnapshot = true;
    if (this.#snapshotTimer !== undefined) return;
    const wait = this.#resyncAskedAt + RESYNC_RETRY_MS - performance.now();
    if (wait > 0) {
      this.#snapshotTimer = setTimeout(() => {
        this.#snapshotTimer = undefined;
        if (this.#wantSnapshot) this.#requestSnapshot();
      }, wait);
      return;
    }
    this.#resyncAskedAt = performance.now();
    this.#transport?.send({ t: 'request-snapshot' });
  }

  /** The relay refused a snapshot request as too soon: it did not count, so the next may go in `retryAfter` ms. */
  #snapshotRefused(retryAfter: number): void {
    this.#resyncAskedAt = performance.now() + retryAfter - RESYNC_RETRY_MS;
    if (!this.#wantSnapshot) return;
    clearTimeout(this.#snapshotTimer);
    this.#snapshotTimer = undefined;
    this.#requestSnapshot();
  }

  #scheduleAck(): void {
    this.#ackTimer ??= setTimeout(() => {
      this.#ackTimer = undefined;
      if (this.#inbox.last !== this.#acked) this.#sendAck();
    }, ACK_MS);
  }

  /** Tells the customer where the stream stands after a (re)connect on either side: it replays from there. */
  #sendSyncAck(): void {
    this.#syncedAt = performance.now();
    this.#sendAck();
  }

  #sendAck(): void {
    if (this.#transport?.send({ t: 'ack', s: this.#inbox.last })) this.#acked = this.#inbox.last;
  }

  #finish(by: EndedBy): void {
    saveToken(this.code, null);
    this.dispose();
    for (const settle of this.#pending.values()) settle({ ok: false, reason: 'The session ended' });
    this.#on('ended');
    this.events.emit('ended', { by });
  }

  /** Fails, saying why in the agent's words where there are some (MESSAGES). */
  #fail(code: string, message: string): void {
    this.dispose();
    this.#on('failed');
    this.events.emit('error', { code, message: MESSAGES[code] ?? message });
  }

  /** Moves the session as its table says (agent-states.ts). */
  #on(trigger: AgentTrigger): void {
    move(this, AGENT_TRANSITIONS, trigger);
  }
}
