/**
 * The customer's side of a session: create or resume it at the relay, record the page
 * while an agent is there, pause and resume sharing, and apply the agent's commands —
 * checked against the mode and the customer's consent. Knows nothing about how it is shown.
 */
import mitt, { type Emitter } from 'mitt';
import type { UseStore } from 'idb-keyval';
import { applyControl, refusal, type ControlContext } from './dom/control.js';
import { Masker } from './dom/mask.js';
import { record, type Recording } from './dom/recorder.js';
import { clearSession, loadSession, saveSession } from './persistence.js';
import { takeHandoff, watchNavigation, withHandoff } from './handoff.js';
import { allowsOrigin, domainRules } from './origins.js';
import { collectPlatform } from './platform.js';
import { Pacer, pageTimers, type Timers } from './pacer.js';
import { Outbox } from './reliable.js';
import {
  ErrorCode,
  MODE_ACTIONS,
  Mode,
  MAX_DOMAIN_RULES,
  PROTOCOL_VERSION,
  ProtocolError,
  SNAPSHOT_REQUEST_MS,
  parseFrameForCustomer,
  type ControlFrame,
  type EndedBy,
  type HighlightKind,
} from './protocol/index.js';
import { SUBPROTOCOL, webSocketConnection, type Connection, type ConnectionFactory } from './transport.js';
import { CUSTOMER_TRANSITIONS, CustomerState, type CustomerTrigger } from './customer-states.js';
import { move } from './state-machine.js';

export { CustomerState } from './customer-states.js';

/** Whether the agent may control the page now. */
export type Consent = 'none' | 'asking' | 'granted';

export type CustomerEvents = {
  state: CustomerState;
  created: { code: string };
  'agent-joined': { name: string };
  'agent-left': void;
  /** Another tab or window of this site took the session over; this one is idle now. */
  moved: void;
  /** The agent's pointer moved (or clicked) at this point of the viewport. */
  'agent-pointer': { x: number; y: number; click: boolean };
  consent: Consent;
  /** The agent marked an element (its mark follows the element) or cleared marks (`id` absent: all). */
  highlight: { id: number; kind: HighlightKind; points: number[]; ttl: number; anchor: Element };
  'highlight-clear': { id?: number };
  /** A command was applied or refused. */
  control: { action: string; ok: boolean; reason?: string };
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
  /**
   * Domains the agent may navigate to and the session follows the customer to (`shop.example`,
   * `*.bank.example` for sub-domains, `shop.example:8443` for another port), on this page's scheme
   * (or https) and port; this page's own origin always.
   */
  domains?: string[];
  /**
   * Asked before the agent's first command; resolves true to allow. Without it, control is
   * refused: a page never hands control over silently.
   */
  askConsent?(agentName: string): Promise<boolean>;
  /** How to reach the relay; a WebSocket by default (Storybook's stories use an in-memory relay). */
  connection?: ConnectionFactory;
  /** The clock of the consent backoff, in ms; `Date.now` by default (tests hand in their own). */
  now?(): number;
  /** The clock and timers that pace the agent's snapshot requests; the page's by default (tests hand in their own). */
  timers?: Timers;
}

/** How long the page keeps recording for an agent whose connection dropped (the relay holds its place as long). */
const AGENT_AWAY_MS = 60_000;
/** Tabs of a site say on this channel which of them holds a session (see #replaced), and wait this long for an answer. */
const TABS_CHANNEL = 'cobrowse-tabs';
const ASK_TABS_MS = 300;
/** After a Deny (or no answer) the agent is not asked for again for this long, doubling with each Deny in a row (to 32 min). */
const DECLINED_MS = 30_000;

export class CustomerSession {
  readonly events: Emitter<CustomerEvents> = mitt<CustomerEvents>();
  state: CustomerState = CustomerState.Idle;
  /** The 9-digit session ID, once the relay gave one. */
  code = '';
  /** The display name of the agent viewing the page, if any. */
  agentName = '';
  /** The session's mode: as created, or as the relay says when resuming (the session's, not this page's). */
  mode: Mode;
  consent: Consent = 'none';
  #token = '';
  #paused = false;
  #transport: Connection | undefined;
  #recording: Recording | undefined;
  #masker: Masker;
  #doc: Document;
  #pointerFrame = 0;
  /** The mirror's numbered stream, kept until the agent has it (see reliable.ts). */
  #outbox = new Outbox((text) => this.#transport?.sendText(text) ?? false);
  /**
   * The agent's `request-snapshot`s: one served at once, any more within SNAPSHOT_REQUEST_MS answered
   * by one snapshot when it has passed — an agent asking in a loop cannot freeze the page.
   */
  #snapshotRequests: Pacer;
  #agentAwayTimer: ReturnType<typeof setTimeout> | undefined;
  #detachNavigation: (() => void) | undefined;
  /** start() resumed a stored session: should the relay not know it, make a new one rather than end. */
  #newIfGone = false;
  /** The hand-off token this page arrived with, until the relay takes it. */
  #handoff = '';
  /** A fresh hand-off token for the next link to another of the session's domains, and when to renew it. */
  #handoffToken = '';
  #handoffTimer: ReturnType<typeof setTimeout> | undefined;
  /** The agent whose connection dropped, while its place is held (it keeps the consent it had if it comes back). */
  #awayAgent = '';
  #detach: Array<() => void> = [];
  #disposed = false;
  #tabs: BroadcastChannel | undefined;
  /** The consent question being asked, so commands arriving meanwhile wait for the same answer. */
  #pendingConsent: Promise<boolean> | undefined;
  /** The agent the customer last declined control, how many times in a row, and until when it is not asked again. */
  #declined = { agent: '', count: 0, until: 0 };

  readonly #options: CustomerSessionOptions;

  constructor(options: CustomerSessionOptions) {
    this.#options = options;
    this.mode = options.mode ?? Mode.Full;
    this.#masker = options.masker ?? new Masker();
    this.#doc = options.doc ?? document;
    this.#snapshotRequests = new Pacer(() => this.#recording?.snapshot(), SNAPSHOT_REQUEST_MS, options.timers ?? pageTimers);
  }

  /** Starts a session, resuming the one this site already has if it is still alive. */
  async start(): Promise<void> {
    if (this.#transport) return;
    // The customer asked for a session: if the stored one is gone (the relay restarted, it expired), a new one.
    if (await this.resume()) this.#newIfGone = true;
    else this.#connect();
  }

  /** Resumes the session this page was handed (from another of its domains) or has stored; returns whether there was one. */
  async resume(): Promise<boolean> {
    if (this.#transport) return true;
    const arrival = takeHandoff(this.#doc.defaultView!);
    if (arrival) {
      this.#handoff = arrival.token;
      this.#paused = arrival.paused;
      this.#connect();
      return true;
    }
    const stored = await loadSession(this.#options.store);
    if (this.#disposed) return false; // let go while IndexedDB answered
    if (!stored || stored.relay !== this.#options.relay) return false;
    this.code = stored.code;
    this.#token = stored.token;
    this.#paused = stored.paused; // a paused session stays paused across a reload
    this.#connect();
    return true;
  }

  /** Stops sharing: nothing more leaves the page until startSharing(); the session and its ID live on. */
  stopSharing(): void {
    if (this.#paused || !this.#transport) return;
    this.#paused = true;
    this.#stopRecording();
    this.#outbox.forget();
    this.revokeConsent();
    this.events.emit('highlight-clear', {});
    this.#sayPaused();
    void this.#persist();
    this.#on('stop-sharing');
  }

  /** Shares again under the same ID, starting with a fresh snapshot. */
  startSharing(): void {
    if (!this.#paused || !this.#transport) return;
    this.#paused = false;
    this.#transport.send({ t: 'sharing', paused: false });
    void this.#persist();
    if (!this.agentName) return this.#on('share');
    this.#startRecording(); // its snapshot goes out at once, or when the agent says where it is
    this.#on('share-with-agent');
  }

  /** Takes back control from the agent; the next command asks again. */
  revokeConsent(): void {
    this.#setConsent('none');
  }

  /** Ends the session for both sides. */
  end(): void {
    if (!this.#send({ t: 'end' })) this.#finish('customer');
  }

  /** Lets go of the connection without ending the session (the page is going away). */
  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#agentAwayTimer);
    clearTimeout(this.#handoffTimer);
    this.#snapshotRequests.cancel();
    this.#detachNavigation?.();
    this.#detachNavigation = undefined;
    this.#stopRecording();
    this.#transport?.close();
    this.#transport = undefined;
    this.#tabs?.close();
    this.#tabs = undefined;
  }

  /** From the session's start: links to its other domains carry it there; links away pause it for the agent. */
  #followNavigation(): void {
    this.#detachNavigation ??= watchNavigation(this.#doc, {
      classify: (url) => this.#classify(url),
      carry: (url) => this.#carry(url),
      left: () => this.#send({ t: 'sharing', paused: true, left: true }),
    });
  }

  #persist(): Promise<void> {
    return saveSession(
      { code: this.code, token: this.#token, mode: this.mode, relay: this.#options.relay, paused: this.#paused },
      this.#options.store,
    );
  }

  #connect(): void {
    this.#on('connect');
    this.#followNavigation();
    const transport = (this.#options.connection ?? webSocketConnection)(this.#options.relay, () => [SUBPROTOCOL]);
    this.#transport = transport;
    this.#answerTabs();
    transport.events.on('open', () => {
      // After a drop the same session is resumed: the token is what proves it is ours.
      transport.send(
        this.#handoff
          ? { t: 'resume', v: PROTOCOL_VERSION, handoff: this.#handoff, at: Date.now() }
          : this.#token
            ? { t: 'resume', v: PROTOCOL_VERSION, code: this.code, token: this.#token, at: Date.now() }
            : { t: 'create', v: PROTOCOL_VERSION, mode: this.mode },
      );
    });
    transport.events.on('message', (text) => this.#receive(text));
    transport.events.on('close', ({ retrying, reason }) => {
      if (this.#transport !== transport) return; // disposed on purpose
      // Recording goes on into the outbox: after the resume the agent gets what it missed.
      this.#outbox.unsync();
      this.#handoffToken = '';
      clearTimeout(this.#handoffTimer);
      if (reason === 'replaced') return void this.#replaced(transport);
      if (retrying) this.#on('dropped');
      else if (this.state !== CustomerState.Ended) this.#fail(ErrorCode.BadFrame, 'Lost the connection to the co-browsing service');
    });
    transport.connect();
  }

  /**
   * The relay closed this connection as replaced. Another tab or window of this site took the
   * session over: this one lets go, quietly. But if no tab says so, what replaced it was a late
   * handshake of an older connection of this page (a relay race): it takes the session back.
   */
  async #replaced(transport: Connection): Promise<void> {
    this.#on('dropped');
    const moved = await this.#anotherTabHolds();
    if (this.#transport !== transport) return; // disposed meanwhile
    if (!moved) return transport.connect();
    this.dispose();
    this.#on('moved');
    this.events.emit('moved');
  }

  #anotherTabHolds(): Promise<boolean> {
    const tabs = this.#tabs;
    if (!tabs) return Promise.resolve(true); // no way to ask: the relay is believed
    return new Promise((resolve) => {
      const answer = (event: MessageEvent<{ holds?: string }>) => {
        if (event.data?.holds === this.code) done(true);
      };
      const done = (moved: boolean) => {
        clearTimeout(timer);
        tabs.removeEventListener('message', answer);
        resolve(moved);
      };
      const timer = setTimeout(() => done(false), ASK_TABS_MS);
      tabs.addEventListener('message', answer);
      tabs.postMessage({ ask: this.code });
    });
  }

  /** Answers other tabs asking whether this one holds a session. */
  #answerTabs(): void {
    if (this.#tabs || typeof BroadcastChannel === 'undefined') return;
    const tabs = (this.#tabs = new BroadcastChannel(TABS_CHANNEL));
    tabs.addEventListener('message', (event: MessageEvent<{ ask?: string }>) => {
      if (this.code && event.data?.ask === this.code && this.#transport) tabs.postMessage({ holds: this.code });
    });
  }

  #receive(text: string): void {
    let frame;
    try {
      frame = parseFrameForCustomer(text);
    } catch (error) {
      if (error instanceof ProtocolError) return; // a relay bug must not break the customer's page
      throw error;
    }
    switch (frame.t) {
      case 'created':
        this.#newIfGone = false;
        this.code = frame.code;
        this.#token = frame.token;
        void this.#persist();
        this.#requestHandoff();
        this.#on('created');
        this.events.emit('created', { code: frame.code });
        break;
      case 'resumed':
        this.#newIfGone = false;
        if (this.#handoff) {
          // Handed over from another domain: this one keeps the session (and its own resume token) too.
          this.#handoff = '';
          this.code = frame.code;
          this.#token = frame.token ?? '';
          this.mode = frame.mode;
          void this.#persist();
        }
        this.#requestHandoff();
        // Number on from what the relay has seen (this page may be a new one), and hold the
        // stream until the agent, told we are back, says what it has.
        this.#outbox.continueFrom(frame.seq);
        this.#outbox.unsync();
        if (this.#paused) {
          this.agentName = frame.agent ?? '';
          this.#sayPaused();
          this.#on('resumed-paused');
        } else if (frame.agent === null) {
          if (this.#recording) this.#expectAgentBack(); // it dropped while we were away too
          this.#on('resumed-alone');
        } else this.#agentArrived(frame.agent, true);
        break;
      case 'peer':
        if (frame.role !== 'agent') break;
        if (frame.status === 'offline') this.#agentAway();
        else if (!this.#paused) this.#agentArrived(frame.name ?? 'Agent', frame.resumed ?? false);
        else {
          if (!frame.resumed) this.revokeConsent();
          this.agentName = frame.name ?? 'Agent';
          this.#sayPaused();
          this.events.emit('agent-joined', { name: this.agentName });
        }
        break;
      case 'ack':
        this.#catchUp(frame.s);
        break;
      case 'handoff-token':
        this.#handoffToken = frame.token;
        clearTimeout(this.#handoffTimer);
        this.#handoffTimer = setTimeout(() => this.#requestHandoff(), frame.ttl * 0.75);
        break;
      case 'request-snapshot':
        this.#snapshotRequests.request();
        break;
      case 'ping':
        this.#send({ t: 'pong', n: frame.n });
        break;
      case 'pointer':
        if (!this.#paused) this.events.emit('agent-pointer', { x: frame.x, y: frame.y, click: frame.click ?? false });
        break;
      case 'control':
        void this.#control(frame);
        break;
      case 'highlight': {
        const node = this.#paused ? undefined : this.#recording?.nodeById(frame.target);
        const anchor = node?.nodeType === Node.ELEMENT_NODE ? (node as Element) : node?.parentElement;
        if (anchor) this.events.emit('highlight', { id: frame.id, kind: frame.kind, points: frame.points, ttl: frame.ttl, anchor });
        break;
      }
      case 'highlight-clear':
        this.events.emit('highlight-clear', frame.id === undefined ? {} : { id: frame.id });
        break;
      case 'ended':
        this.#finish(frame.by);
        break;
      case 'error':
        if (frame.code === ErrorCode.NotFound && this.#newIfGone) this.#startOver();
        else if (frame.code === ErrorCode.NotFound) this.#finish('expired');
        else if (frame.code === ErrorCode.Unavailable)
          break; // the close that follows is retried
        else this.#fail(frame.code, frame.message);
        break;
    }
  }

  /** Tells the agent sharing is paused (it may have just arrived). */
  #sayPaused(): void {
    this.#send({ t: 'sharing', paused: true });
  }

  #send(frame: object): boolean {
    return this.#transport?.send(frame) ?? false;
  }

  /** Applies one agent command after the mode, sharing and consent checks, and reports the outcome. */
  async #control(frame: ControlFrame): Promise<void> {
    const reply = (ok: boolean, reason?: string) => {
      const outcome = reason ? { ok, reason } : { ok };
      this.#send({ t: 'control-result', n: frame.n, ...outcome });
      this.events.emit('control', { action: frame.a, ...outcome });
    };
    // The mode first: a command the mode forbids never even reaches the consent prompt.
    if (!MODE_ACTIONS[this.mode].has(frame.a)) return reply(false, `Not allowed in ${this.mode} mode`);
    const recording = this.#recording;
    if (this.#paused || !recording) return reply(false, 'The customer is not sharing the page');
    const ctx: ControlContext = {
      doc: this.#doc,
      mode: this.mode,
      masker: this.#masker,
      nodeById: (id) => recording.nodeById(id),
      allowsUrl: (url) => this.#allowsUrl(url),
    };
    const refused = refusal(frame, ctx);
    if (refused) return reply(false, refused);
    // A declined agent is refused unasked for a while: a customer cannot be bombed with prompts.
    const wait = this.#declined.agent === this.agentName ? this.#declined.until - this.#now() : 0;
    if (this.consent !== 'granted' && wait > 0)
      return reply(false, `The customer declined control; ask again in ${Math.ceil(wait / 1000)} s`);
    if (!(await this.#ensureConsent())) return reply(false, 'The customer did not allow control');
    if (this.#recording !== recording) return reply(false, 'The customer is not sharing the page');
    const result = applyControl(frame, ctx);
    reply(result.ok, result.ok ? undefined : result.reason);
  }

  #ensureConsent(): Promise<boolean> {
    if (this.consent === 'granted') return Promise.resolve(true);
    if (!this.#options.askConsent) return Promise.resolve(false);
    this.#pendingConsent ??= (async () => {
      this.#setConsent('asking');
      const agent = this.agentName;
      const granted = await this.#options.askConsent!(agent || 'Agent').catch(() => false);
      // Allowed, the count starts over; declined again, the wait doubles (another agent starts at 30 s).
      const count = granted ? 0 : this.#declined.agent === agent ? this.#declined.count + 1 : 1;
      this.#declined = { agent, count, until: granted ? 0 : this.#now() + DECLINED_MS * 2 ** Math.min(count - 1, 6) };
      this.#setConsent(granted ? 'granted' : 'none');
      this.#pendingConsent = undefined;
      return granted;
    })();
    return this.#pendingConsent;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  #setConsent(consent: Consent): void {
    if (consent === this.consent) return;
    this.consent = consent;
    this.events.emit('consent', consent);
  }

  /** Keeps a hand-off token ready, so a link to another of the session's domains can carry the session at once. */
  #requestHandoff(): void {
    this.#handoffToken = '';
    // The token will open the session only on one of its domains, wherever else it turns up.
    this.#send({ t: 'handoff', domains: domainRules(this.#options.domains ?? []).slice(0, MAX_DOMAIN_RULES) });
  }

  /** Where a link leads: this origin, another of the session's domains, or away from them. */
  #classify(url: URL): 'here' | 'listed' | 'away' {
    if (url.origin === this.#doc.location.origin) return 'here';
    return this.#allowsUrl(url) ? 'listed' : 'away';
  }

  /** Gives a link to another of the session's domains the hand-off token (each token serves one page). */
  #carry(url: URL): string | null {
    const token = this.#handoffToken;
    if (!token) return null;
    this.#requestHandoff();
    return withHandoff(url, token, this.#paused);
  }

  /** This page's origin, and the session's listed domains on its scheme (or https) and port (see origins.ts). */
  #allowsUrl(url: URL): boolean {
    return allowsOrigin(url, this.#doc.location, this.#options.domains ?? []);
  }

  /**
   * An agent is there: a new one gets the page from its start; one back from a dropped connection
   * (`resumed`, or this page resumed) keeps its consent and gets what it missed once it says what it has.
   */
  #agentArrived(name: string, resumed: boolean): void {
    clearTimeout(this.#agentAwayTimer);
    if (!resumed || name !== (this.agentName || this.#awayAgent)) this.revokeConsent();
    this.agentName = name;
    this.#awayAgent = '';
    this.#outbox.unsync();
    if (resumed) this.#startRecording();
    else this.#catchUp(0);
    void collectPlatform(this.#doc.defaultView ?? window).then((frame) => this.#recording && this.#send(frame));
    this.#on('agent-joined');
    this.events.emit('agent-joined', { name });
  }

  /** The agent's connection dropped or it left: keep recording a while, in case it comes back. */
  #agentAway(): void {
    this.#outbox.unsync();
    this.#awayAgent = this.agentName;
    this.agentName = '';
    this.events.emit('highlight-clear', {});
    if (!this.#paused) this.#on('agent-left');
    this.events.emit('agent-left');
    this.#expectAgentBack();
  }

  /** Keeps recording while the relay holds the agent's place; then lets go of it all. */
  #expectAgentBack(): void {
    clearTimeout(this.#agentAwayTimer);
    this.#agentAwayTimer = setTimeout(() => {
      this.#stopRecording();
      this.#outbox.forget();
      this.revokeConsent();
      this.#awayAgent = '';
    }, AGENT_AWAY_MS);
  }

  /** The agent has applied the stream up to `s`: replay what it misses, or send a fresh snapshot. */
  #catchUp(s: number): void {
    if (this.#outbox.ack(s) || this.#paused) return;
    if (this.#recording) this.#recording.snapshot();
    else this.#startRecording();
  }

  /** Records into the outbox (a snapshot first), with the customer's pointer; no-op if already recording. */
  #startRecording(): void {
    if (this.#recording || this.#paused) return;
    this.#recording = record({
      emit: (frame) => {
        // Any snapshot answers a request waiting for its interval: it goes out after the request came.
        if (frame.t === 'snapshot') this.#snapshotRequests.cancel();
        this.#outbox.push(frame);
      },
      doc: this.#doc,
      masker: this.#masker,
    });
    this.#listen();
  }

  /** The customer's pointer (coalesced per animation frame), and a hidden tab ending the control grant. */
  #listen(): void {
    const view = this.#doc.defaultView!;
    let last: MouseEvent | undefined;
    const onMove = (event: MouseEvent) => {
      last = event;
      this.#pointerFrame ||= view.requestAnimationFrame(() => {
        this.#pointerFrame = 0;
        if (last) this.#send({ t: 'pointer', x: last.clientX, y: last.clientY });
      });
    };
    const onClick = (event: MouseEvent) => {
      if (event.isTrusted) this.#send({ t: 'pointer', x: event.clientX, y: event.clientY, click: true });
    };
    const onVisibility = () => {
      if (this.#doc.visibilityState === 'hidden') this.revokeConsent();
    };
    this.#doc.addEventListener('mousemove', onMove, { passive: true, capture: true });
    this.#doc.addEventListener('click', onClick, { passive: true, capture: true });
    this.#doc.addEventListener('visibilitychange', onVisibility);
    this.#detach.push(() => {
      this.#doc.removeEventListener('mousemove', onMove, true);
      this.#doc.removeEventListener('click', onClick, true);
      this.#doc.removeEventListener('visibilitychange', onVisibility);
      view.cancelAnimationFrame(this.#pointerFrame);
      this.#pointerFrame = 0;
    });
  }

  #stopRecording(): void {
    this.#recording?.stop();
    this.#recording = undefined;
    for (const undo of this.#detach.splice(0)) undo();
  }

  #finish(by: EndedBy): void {
    this.dispose();
    this.#forget();
    this.revokeConsent();
    this.#on('ended');
    this.events.emit('ended', { by });
  }

  /** The stored session is gone: forget it and create a new one, on a new connection. */
  #startOver(): void {
    const old = this.#transport;
    this.#transport = undefined; // its close is no news
    old?.close();
    this.#forget();
    this.code = '';
    this.#stopRecording();
    this.#outbox.forget();
    this.#connect();
  }

  /** The session is over for this page: nothing left to resume it with. */
  #forget(): void {
    this.#token = '';
    this.#paused = false;
    void clearSession(this.#options.store);
  }

  #fail(code: string, message: string): void {
    this.dispose();
    this.#on('failed');
    this.events.emit('error', { code, message });
  }

  /** Moves the session as its table says (customer-states.ts). */
  #on(trigger: CustomerTrigger): void {
    move(this, CUSTOMER_TRANSITIONS, trigger);
  }
}
