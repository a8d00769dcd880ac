import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { CustomerSession, CustomerState, Masker, watchPasswords, type ConnectionFactory, type CustomerEvents } from '../../core/index.js';
import type { Mode } from '../../core/protocol/index.js';

export interface SessionHost extends ReactiveControllerHost, HTMLElement {
  relay: string;
  /** How to reach the relay. */
  connection: ConnectionFactory | undefined;
  mode: Mode;
  mask: string;
  block: string;
  maskAllInputs: boolean;
  preserveMaskLength: boolean;
  shareUrlQuery: boolean;
  /** Space-separated host names the agent may navigate to. */
  domains: string;
  /** Works inside an iframe too (a framed launcher is inert otherwise). */
  allowFramed: boolean;
  /** The clock of the rules about time, in ms. */
  clock(): number;
  /** Asks the customer (or the host page) whether the agent may control the page. */
  askConsent(agentName: string): Promise<boolean>;
}

/**
 * Owns the launcher's CustomerSession: resumes a stored one when the element connects,
 * forwards its events, and lets go (without ending the session) when it disconnects.
 */
export class CustomerSessionController implements ReactiveController {
  session: CustomerSession | undefined;
  #unsubscribe: (() => void) | undefined;

  readonly #host: SessionHost;
  readonly #onEvent: <K extends keyof CustomerEvents>(type: K, event: CustomerEvents[K]) => void;

  constructor(host: SessionHost, onEvent: <K extends keyof CustomerEvents>(type: K, event: CustomerEvents[K]) => void) {
    this.#host = host;
    this.#onEvent = onEvent;
    host.addController(this);
  }

  get state(): CustomerState {
    return this.session?.state ?? CustomerState.Idle;
  }

  /**
   * A launcher in a frame stays out of the way unless the site says otherwise: the frame shares
   * the top page's IndexedDB (same origin), and would otherwise take its session over.
   */
  get inert(): boolean {
    return !this.#host.allowFramed && window.top !== window.self;
  }

  hostConnected(): void {
    // From page load on, not from when sharing starts: a password shown before sharing stays masked.
    watchPasswords(document);
    // A reload or a navigation inside the site picks the session up again without a new ID.
    if (this.#host.relay && !this.inert) void this.#create().resume();
  }

  hostDisconnected(): void {
    this.#release();
  }

  /** Starts (or resumes) sharing. */
  async start(): Promise<void> {
    if (this.inert) return;
    // A session that never connected is made afresh, so attributes set since (mode, mask…) apply.
    const live = this.session && !([CustomerState.Idle, CustomerState.Ended, CustomerState.Error] as string[]).includes(this.session.state);
    const session = live ? this.session! : this.#create();
    await session.start();
  }

  end(): void {
    this.session?.end();
  }

  stopSharing(): void {
    this.session?.stopSharing();
  }

  startSharing(): void {
    this.session?.startSharing();
  }

  revokeControl(): void {
    this.session?.revokeConsent();
  }

  #create(): CustomerSession {
    this.#release();
    const session = new CustomerSession({
      relay: this.#host.relay,
      connection: this.#host.connection,
      mode: this.#host.mode,
      masker: new Masker({
        mask: this.#host.mask,
        block: this.#host.block,
        maskAllInputs: this.#host.maskAllInputs,
        preserveLength: this.#host.preserveMaskLength,
        shareUrlQuery: this.#host.shareUrlQuery,
      }),
      domains: this.#host.domains.split(/\s+/).filter(Boolean),
      askConsent: (name) => this.#host.askConsent(name),
      now: () => this.#host.clock(),
    });
    const forward = (type: keyof CustomerEvents, event: unknown) => {
      this.#onEvent(type, event as never);
      this.#host.requestUpdate();
    };
    session.events.on('*', forward);
    this.#unsubscribe = () => session.events.off('*', forward);
    this.session = session;
    return session;
  }

  #release(): void {
    this.#unsubscribe?.();
    this.session?.dispose();
    this.session = undefined;
  }
}
