import { LitElement, html, nothing } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import { CustomerState, OWN_UI, type ConnectionFactory, type CustomerEvents } from '../../core/index.js';
import { Mode, type EndedBy } from '../../core/protocol/index.js';
import '../events.js';
import { emit } from '../internal/emit.js';
import { groupCode } from '../internal/format.js';
import { renderMarks, type Mark } from '../internal/highlights.js';
import { CustomerSessionController } from './session-controller.js';
import { launcherTranslations, type LauncherStrings } from './strings.js';
import { launcherStyles } from './styles.js';

/** How long the control prompt's Allow button ignores clicks after the prompt appears (as browsers' permission prompts do). */
const ALLOW_DELAY_MS = 500;

/**
 * Lets a customer share this tab with a support agent: a floating button opens a panel
 * that starts a session and shows the 9-digit session ID to read to the agent.
 *
 * @summary The customer's co-browsing launcher.
 *
 * @fires cobrowse-session-created - A session was created; `detail.code` is its 9-digit ID (send it to the agent by chat, for example).
 * @fires cobrowse-state-change - The session's state changed; `detail.state` is the new one, `detail.previous` the one before.
 * @fires cobrowse-agent-joined - An agent is now viewing the page; `detail.name` is their display name.
 * @fires cobrowse-ended - The session ended; `detail.by` says who ended it.
 * @fires cobrowse-control-request - The agent asks to control the page (cancelable): call `preventDefault()` to decide
 *   yourself with `detail.allow()` / `detail.deny()` instead of the built-in prompt. No answer in 30 s means no.
 *   After a no, the same agent's requests are refused unasked for 30 s, doubling with each no in a row.
 *
 * @csspart trigger - The floating button.
 * @csspart panel - The panel with the session ID and actions.
 * @csspart code - The session ID.
 * @csspart start - The "Start co-browsing" button.
 * @csspart end - The "End session" button.
 * @csspart shared-frame - The border drawn around the page while it is shared.
 * @csspart consent - The "wants to control this page" prompt.
 * @csspart agent-pointer - The agent's pointer drawn over the page.
 * @csspart pause - The "Stop sharing" / "Start sharing" button.
 * @csspart highlights - The agent's highlight marks drawn over the page.
 * @csspart moved - The line saying another tab or window of the site took the session over.
 *
 * @cssprop --cobrowse-accent - Brand color of buttons.
 * @cssprop --cobrowse-surface - Panel background.
 * @cssprop --cobrowse-text - Text color.
 * @cssprop --cobrowse-muted - Secondary text color.
 * @cssprop --cobrowse-radius - Panel corner radius.
 * @cssprop --cobrowse-shared-color - Color of the "you are being viewed" border and button.
 * @cssprop --cobrowse-font - Font family.
 * @cssprop --cobrowse-z-index - Stacking order of the launcher.
 * @cssprop --cobrowse-highlight - Color of the agent's highlight marks.
 */
export class CobrowseLauncher extends LitElement {
  static override styles = launcherStyles;

  // Declared without decorators: lowered decorators cost the customer's bundle about 2 KB.
  static override properties = {
    relay: {},
    connection: { attribute: false },
    mode: {},
    mask: {},
    block: {},
    maskAllInputs: { type: Boolean, attribute: 'mask-all-inputs' },
    preserveMaskLength: { type: Boolean, attribute: 'preserve-mask-length' },
    shareUrlQuery: { type: Boolean, attribute: 'share-url-query' },
    domains: {},
    allowFramed: { type: Boolean, attribute: 'allow-framed' },
    consentTimeoutMs: { type: Number, attribute: 'consent-timeout-ms' },
    consentTimeout: { type: Number, attribute: 'consent-timeout' },
    /**
     * The language of the launcher's texts (the page's `<html lang>` by default): picks a translation
     * registered with `registerLauncherStrings` (or imported from `cobrowse-sdk/strings/<lang>`); English otherwise.
     */
    lang: {},
    strings: { attribute: false },
    consentRequest: { state: true },
    agentPointer: { state: true },
    marks: { state: true },
    position: { reflect: true },
    open: { type: Boolean, reflect: true },
    endedBy: { state: true },
    errorMessage: { state: true },
    copied: { state: true },
    refused: { state: true },
    movedAway: { state: true },
  };

  /** WebSocket URL of the relay, e.g. `wss://cobrowse.example.com/relay`. */
  declare relay: string;

  /** How to reach the relay; a WebSocket by default (a story or a test may hand in an in-memory relay). */
  declare connection: ConnectionFactory | undefined;

  /** What the agent may do: `full-control` (default), `partial-control` or `no-control`. */
  declare mode: Mode;

  /** Extra CSS selectors whose fields and text are masked before anything leaves the page. */
  declare mask: string;

  /** CSS selectors of elements replaced by an empty placeholder of the same size: nothing inside them is sent. */
  declare block: string;

  /** Privacy-first: mask every field unless it or an ancestor carries `data-cobrowse-unmask`. */
  declare maskAllInputs: boolean;

  /** Show masked values as one asterisk per character instead of a fixed run that hides the length. */
  declare preserveMaskLength: boolean;

  /** Show the agent the page URL's query string and fragment (hidden by default: they often hold tokens). */
  declare shareUrlQuery: boolean;

  /**
   * Space-separated domains the agent may navigate to and the session follows the customer to, besides this
   * page's own origin: `shop.example`, `*.bank.example` (sub-domains), `shop.example:8443` (another port). Only
   * on this page's scheme (or https from http: never down to http) and, unless the entry names one, its port.
   */
  declare domains: string;

  /**
   * Lets the launcher work inside an iframe (Storybook, an app embedded in a portal). Without it a
   * launcher that is not in the top window shows nothing and never starts or resumes a session, so
   * a frame (a widget, or the site framed by someone else) cannot take the top page's session over.
   */
  declare allowFramed: boolean;

  /** How long the customer has to answer a control request before it counts as Deny, in ms. */
  declare consentTimeoutMs: number;

  /**
   * Deprecated (until 0.2): the same as `consent-timeout-ms` / `consentTimeoutMs`, in ms.
   * @deprecated Use `consent-timeout-ms` / `consentTimeoutMs`.
   */
  get consentTimeout(): number {
    return this.consentTimeoutMs;
  }
  set consentTimeout(ms: number) {
    this.consentTimeoutMs = ms;
  }

  /** The clock of the launcher's rules about time (the Allow button's delay, the consent backoff), in ms; `Date.now` by default. */
  clock: () => number = Date.now;

  /** Replaces any of the launcher's texts (for localisation; over the `lang` translation); see `launcherStrings` for the keys. */
  declare strings: Partial<LauncherStrings>;

  /** The control request on screen, and when it was shown there (Allow works from ALLOW_DELAY_MS on). */
  declare private consentRequest: { name: string; answer: (allowed: boolean) => void; shown: number } | null;
  /** The agent's pointer the prompt last moved away from (it moves once per pointer position). */
  #dodged: object | null = null;
  declare private agentPointer: { x: number; y: number; click: number } | null;
  /** The agent's highlight marks, each anchored to an element of this page. */
  declare private marks: Array<Mark & { anchor: Element }>;
  #marksFrame = 0;

  /** Where the floating button sits: `bottom-right` (default) or `bottom-left`. */
  declare position: 'bottom-right' | 'bottom-left';

  /** Whether the panel is open. */
  declare open: boolean;

  declare private endedBy: EndedBy | undefined;
  /** The state `cobrowse-state-change` last reported. */
  #reportedState: CustomerState = CustomerState.Idle;
  declare private errorMessage: string;
  declare private copied: boolean;
  /** Start was refused before any session (insecure page, old browser): the panel says why. */
  declare private refused: boolean;
  /** Another tab or window took the session over: the idle panel says so. */
  declare private movedAway: boolean;

  constructor() {
    super();
    this.relay = '';
    this.mode = Mode.Full;
    this.mask = '';
    this.block = '';
    this.maskAllInputs = false;
    this.preserveMaskLength = false;
    this.shareUrlQuery = false;
    this.domains = '';
    this.allowFramed = false;
    this.consentTimeoutMs = 30_000;
    this.strings = {};
    this.consentRequest = null;
    this.agentPointer = null;
    this.marks = [];
    this.position = 'bottom-right';
    this.open = false;
    this.errorMessage = '';
    this.copied = false;
    this.refused = false;
    this.movedAway = false;
  }

  readonly #controller = new CustomerSessionController(this, (type, event) => {
    switch (type) {
      case 'state':
        this.open ||= event === CustomerState.Waiting;
        emit(this, 'cobrowse-state-change', { state: event as CustomerState, previous: this.#reportedState });
        this.#reportedState = event as CustomerState;
        break;
      case 'created':
        emit(this, 'cobrowse-session-created', event as { code: string });
        break;
      case 'agent-joined':
        emit(this, 'cobrowse-agent-joined', event as { name: string });
        break;
      case 'ended':
        this.endedBy = (event as { by: EndedBy }).by;
        emit(this, 'cobrowse-ended', event as { by: EndedBy });
        break;
      case 'error':
        this.errorMessage = (event as { message: string }).message;
        break;
      case 'agent-pointer': {
        const { x, y, click } = event as { x: number; y: number; click: boolean };
        this.agentPointer = { x, y, click: click ? Date.now() : (this.agentPointer?.click ?? 0) };
        break;
      }
      case 'agent-left':
        this.agentPointer = null;
        break;
      case 'moved':
        this.movedAway = true;
        this.agentPointer = null;
        this.marks = [];
        break;
      case 'highlight': {
        const { id, kind, points, ttl, anchor } = event as CustomerEvents['highlight'];
        this.marks = [...this.marks.filter((m) => m.id !== id), { id, kind, points, anchor, expires: Date.now() + ttl }];
        this.#followMarks();
        break;
      }
      case 'highlight-clear': {
        const { id } = event as CustomerEvents['highlight-clear'];
        this.marks = id === undefined ? [] : this.marks.filter((m) => m.id !== id);
        break;
      }
    }
  });

  /** Redraws the marks every frame while there are any: they follow their elements through scrolling and reflow. */
  #followMarks(): void {
    if (this.#marksFrame) return;
    const tick = () => {
      const now = Date.now();
      this.marks = this.marks.filter((m) => m.expires > now && m.anchor.isConnected);
      this.#marksFrame = this.marks.length ? requestAnimationFrame(tick) : 0;
    };
    this.#marksFrame = requestAnimationFrame(tick);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // The recorder sends our element as an empty placeholder: the agent sees where it is, not the customer's panel.
    if (!this.hasAttribute(OWN_UI)) this.setAttribute(OWN_UI, '');
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    cancelAnimationFrame(this.#marksFrame);
    this.#marksFrame = 0;
  }

  /**
   * Asks whether the agent may control the page: the host page decides when it cancels
   * `cobrowse-control-request`, the customer otherwise. Silence is a no.
   */
  askConsent(name: string): Promise<boolean> {
    return new Promise((resolve) => {
      let settled = false;
      const answer = (allowed: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.consentRequest = null;
        this.removeAttribute('dodge');
        resolve(allowed);
      };
      const timer = setTimeout(() => answer(false), this.consentTimeoutMs);
      const hostDecides = !emit(
        this,
        'cobrowse-control-request',
        { name, allow: () => answer(true), deny: () => answer(false) },
        { cancelable: true },
      );
      if (!hostDecides && !settled) {
        this.consentRequest = { name, answer, shown: this.clock() };
        this.open = true;
        setTimeout(() => this.requestUpdate(), ALLOW_DELAY_MS); // Allow looks enabled from then on
      }
    });
  }

  /**
   * Keeps the control prompt from under the agent's pointer: if the agent points at it (to have the
   * customer click there), it moves to the opposite corner, and Allow waits its delay again.
   */
  override updated(): void {
    const request = this.consentRequest;
    const p = this.agentPointer;
    if (!request || !p || p === this.#dodged) return;
    const r = this.getBoundingClientRect();
    if (p.x < r.left - 40 || p.x > r.right + 40 || p.y < r.top - 40 || p.y > r.bottom + 40) return;
    this.#dodged = p;
    this.toggleAttribute('dodge');
    request.shown = this.clock();
    this.requestUpdate();
  }

  /** Pauses sharing: nothing leaves the page until startSharing(); the session ID stays the same. */
  stopSharing(): void {
    this.#controller.stopSharing();
  }

  /** Shares the page again under the same session ID. */
  startSharing(): void {
    this.#controller.startSharing();
  }

  /** The session ID (9 digits), or '' before one exists. */
  get code(): string {
    return this.#controller.session?.code ?? '';
  }

  /** The session's state: idle, starting, waiting, connected, reconnecting, ended or error. */
  get state(): CustomerState {
    return this.#controller.state;
  }

  get #text(): LauncherStrings {
    return launcherTranslations.textsFor(this);
  }

  /** Starts sharing this tab (or resumes the session this site already has). */
  async start(): Promise<void> {
    if (this.#controller.inert) return void console.warn('<cobrowse-launcher>: inert inside a frame (see the allow-framed attribute)');
    if (!this.relay) throw new TypeError('<cobrowse-launcher> needs a relay URL (the "relay" attribute)');
    // A page served over plain http could be read or altered on the way: sharing it is refused.
    if (!window.isSecureContext || !('WebSocket' in window) || !('indexedDB' in window)) {
      this.errorMessage = window.isSecureContext ? this.#text.unsupported : this.#text.insecure;
      console.error(`<cobrowse-launcher>: ${this.errorMessage}`);
      this.open = true;
      this.refused = true;
      return;
    }
    this.refused = false;
    this.movedAway = false;
    this.endedBy = undefined;
    this.errorMessage = '';
    this.open = true;
    await this.#controller.start();
  }

  /** Ends the session for the customer and the agent. */
  end(): void {
    this.#controller.end();
  }

  override render() {
    if (this.#controller.inert) return nothing;
    const t = this.#text;
    const shared = this.state === CustomerState.Connected;
    const pointer = shared ? this.agentPointer : null;
    return html`
      ${shared ? html`<div class="frame" part="shared-frame" aria-hidden="true"></div>` : nothing}
      ${
        shared && this.marks.length
          ? html`<div class="marks-layer">${renderMarks(
              this.marks,
              (m) => {
                const box = (m as Mark & { anchor: Element }).anchor.getBoundingClientRect();
                return [box.left, box.top];
              },
              1,
            )}</div>`
          : nothing
      }
      ${
        pointer
          ? html`<div class="agent-pointer" part="agent-pointer" aria-hidden="true" style="left:${pointer.x}px;top:${pointer.y}px">
          <span class="arrow"></span><span class="name">${this.#agentName(t)}</span>
          ${pointer.click ? keyed(pointer.click, html`<span class="ripple"></span>`) : nothing}
        </div>`
          : nothing
      }
      <div class="visually-hidden" role="status" aria-live="polite">${this.#statusText(t)}</div>
      ${this.open ? html`<section class="panel" part="panel" aria-label=${t.title}>${this.#renderPanel(t)}</section>` : nothing}
      <button class="trigger" part="trigger" ?data-shared=${shared} aria-expanded=${this.open} @click=${() => (this.open = !this.open)}>
        ${shared ? t.triggerShared : t.trigger}
      </button>
    `;
  }

  #renderPanel(t: LauncherStrings) {
    const code = this.code;
    const codeBlock = code
      ? html`<strong class="code" part="code" aria-label=${t.codeLabel(code.split('').join(' '))}>${groupCode(code)}</strong>`
      : nothing;
    if (this.refused) {
      return html`<h2>${t.errorTitle}</h2><p class="error">${this.errorMessage}</p>`;
    }
    switch (this.state) {
      case CustomerState.Idle:
        return html`<h2>${t.title}</h2>
          <p part=${this.movedAway ? 'moved' : nothing}>${this.movedAway ? t.moved : t.intro}</p>
          <button class="primary" part="start" @click=${() => this.start()}>${t.start}</button>`;
      case CustomerState.Starting:
        return html`<h2>${t.title}</h2><p>${t.connecting}</p>`;
      case CustomerState.Waiting:
      case CustomerState.Reconnecting:
        return html`<h2>${t.codeTitle}</h2>
          ${codeBlock}
          <p>${this.state === CustomerState.Reconnecting ? t.reconnecting : t.readToAgent}</p>
          <div class="actions">
            <button class="secondary" @click=${this.#copy}>${this.copied ? t.copied : t.copy}</button>
            ${this.#endButton(t)}
          </div>`;
      case CustomerState.Connected: {
        const name = this.#agentName(t);
        if (this.consentRequest) {
          return html`<div part="consent" role="alertdialog" aria-labelledby="consent-title">
            <h2 id="consent-title">${t.consentTitle(this.consentRequest.name)}</h2>
            <p>${t.consentBody}</p>
            <div class="actions">
              <button class="primary" aria-disabled=${this.clock() - this.consentRequest.shown < ALLOW_DELAY_MS} title=${t.allowWait}
                @click=${this.#allow}>${t.allow}</button>
              <button class="secondary" @click=${() => this.consentRequest?.answer(false)}>${t.deny}</button>
            </div></div>`;
        }
        const controlling = this.#controller.session?.consent === 'granted';
        return html`<h2>${t.viewing(name)}</h2>
          ${codeBlock}
          <p>${controlling ? t.controlling(name) : t.hiddenFields}</p>
          <div class="actions">
            ${controlling ? html`<button class="secondary" @click=${() => this.#controller.revokeControl()}>${t.takeBack}</button>` : nothing}
            <button class="secondary" part="pause" @click=${() => this.stopSharing()}>${t.stopSharing}</button>
            ${this.#endButton(t)}
          </div>`;
      }
      case CustomerState.Paused:
        return html`<h2>${t.pausedTitle}</h2>
          ${codeBlock}
          <p>${t.pausedBody}</p>
          <div class="actions">
            <button class="primary" part="pause" @click=${() => this.startSharing()}>${t.startSharing}</button>
            ${this.#endButton(t)}
          </div>`;
      case CustomerState.Ended:
        return html`<h2>${t.endedTitle}</h2>
          <p>${t.endedBy[this.endedBy ?? 'customer']}</p>
          <button class="primary" part="start" @click=${() => this.start()}>${t.startNew}</button>`;
      case CustomerState.Error:
        return html`<h2>${t.errorTitle}</h2>
          <p class="error">${this.errorMessage || t.errorFallback}</p>
          <button class="primary" part="start" @click=${() => this.start()}>${t.retry}</button>`;
    }
  }

  /** Allow ignores clicks (and Enter or Space) until the prompt has been on screen ALLOW_DELAY_MS: no click meant for the page lands on it. */
  #allow = (): void => {
    const request = this.consentRequest;
    if (request && this.clock() - request.shown >= ALLOW_DELAY_MS) request.answer(true);
  };

  #endButton(t: LauncherStrings) {
    return html`<button class="danger" part="end" @click=${() => this.end()}>${t.endSession}</button>`;
  }

  #agentName(t: LauncherStrings): string {
    return this.#controller.session?.agentName || t.defaultAgent;
  }

  #statusText(t: LauncherStrings): string {
    switch (this.state) {
      case CustomerState.Waiting:
        return `${t.codeLabel(groupCode(this.code))}. ${t.readToAgent}`;
      case CustomerState.Connected:
        return `${t.viewing(this.#agentName(t))}.`;
      case CustomerState.Reconnecting:
        return t.reconnecting;
      case CustomerState.Paused:
        return t.pausedTitle;
      case CustomerState.Ended:
        return t.endedBy[this.endedBy ?? 'customer'];
      case CustomerState.Error:
        return this.errorMessage;
      default:
        return '';
    }
  }

  #copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(this.code);
      this.copied = true;
      setTimeout(() => (this.copied = false), 2000);
    } catch {
      // Clipboard refused (no permission): the number is on screen to read.
    }
  };
}

customElements.define('cobrowse-launcher', CobrowseLauncher);

declare global {
  interface HTMLElementTagNameMap {
    'cobrowse-launcher': CobrowseLauncher;
  }
}
