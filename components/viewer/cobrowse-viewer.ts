import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { keyed } from 'lit/directives/keyed.js';
import { AgentSession, AgentState, Mirror, MIRROR_SANDBOX, type ConnectionFactory } from '../../core/index.js';
import { describePlatform, type PlatformDescription } from '../../core/index.js';
import { Action, normalizeSessionCode, type EndedBy, type Mode } from '../../core/protocol/index.js';
import type { HighlightChoice, NavigateDetail, ViewerChangeDetail } from '../events.js';
import { autoFitConverter } from '../internal/attributes.js';
import { emit } from '../internal/emit.js';
import '../toolbar/cobrowse-toolbar.js';
import type { ToolbarViewer } from '../toolbar/viewer-link.js';
import { renderMarks, type Mark } from '../internal/highlights.js';
import { RemoteControl, elementAt, type Target } from './remote-control.js';
import { viewerTextsFor, type ViewerStrings } from './strings.js';
import { viewerStyles } from './styles.js';

/** A field the agent is co-filling: an editor of the agent's own sits over the mirrored field. */
interface Editing {
  id: number;
  select: boolean;
  value: string;
  options: Array<[value: string, label: string]>;
  rect: DOMRect;
}

/**
 * The agent's view of a customer's tab: join a session by its ID, then see the page live,
 * scaled to fit. The page is rebuilt in a sandboxed iframe where nothing can run.
 *
 * @summary The agent's live view of a co-browsing session.
 *
 * Its texts, and its built-in toolbar's, follow `lang` (or the page's language: English, German,
 * Spanish and French ship; `registerViewerStrings` adds one) and `strings`.
 *
 * The built-in toolbar's requests (`cobrowse-close-request`, `cobrowse-zoom-request`…) bubble out of the
 * viewer: `preventDefault()` on one, listening on the viewer, refuses it.
 *
 * @fires cobrowse-session-joined - Joined a session; `detail.code` and `detail.mode`.
 * @fires cobrowse-state-change - The session's state changed; `detail.state` and `detail.previous`.
 * @fires cobrowse-ended - The session ended; `detail.by` says who ended it.
 * @fires cobrowse-viewer-change - What a toolbar shows changed (mode, state, link, zoom…); `detail` is `toolbarState`.
 * @fires cobrowse-joined - Deprecated (until 0.2): use `cobrowse-session-joined`.
 *
 * @csspart toolbar - The built-in `<cobrowse-toolbar>` (absent with `no-toolbar`).
 * @csspart stage - The area the mirror is fitted into.
 * @csspart mirror - The iframe showing the customer's page.
 * @csspart form - The "Session ID" form.
 * @csspart message - State messages shown over the mirror.
 * @csspart input-layer - The layer over the mirror that takes the agent's pointer.
 * @csspart customer-pointer - The customer's pointer drawn over the mirror.
 * @csspart editor - The agent's own field over a mirrored field while co-filling.
 * @csspart notice - Short notices (a refused command, locked forms).
 * @csspart highlights - The highlight marks drawn over the mirror.
 *
 * @cssprop --cobrowse-accent - Brand color of buttons.
 * @cssprop --cobrowse-stage-background - Background around the mirrored page.
 * @cssprop --cobrowse-surface - Background of cards.
 * @cssprop --cobrowse-text - Text color.
 * @cssprop --cobrowse-radius - Card corner radius.
 * @cssprop --cobrowse-font - Font family.
 * @cssprop --cobrowse-highlight - Color of highlight marks.
 * @cssprop --cobrowse-customer-pointer - Color of the customer's pointer.
 */
@customElement('cobrowse-viewer')
export class CobrowseViewer extends LitElement implements ToolbarViewer {
  static override styles = viewerStyles;

  /** WebSocket URL of the relay, e.g. `wss://cobrowse.example.com/relay`. */
  @property() accessor relay = '';

  /** How to reach the relay; a WebSocket by default (a story or a test may hand in an in-memory relay). */
  @property({ attribute: false }) accessor connection: ConnectionFactory | undefined;

  /** The session ID to join; setting it joins (a chat's "Join" button can set it). */
  @property() accessor code = '';

  /** The agent's display name, shown to the customer (a token's name wins at the relay). */
  @property() accessor name = 'Agent';

  /** The agent's JWT, issued by the contact center's backend; sent to the relay when joining. */
  @property() accessor token = '';

  /**
   * How the mirror loads the customer page's images, styles, fonts and media: `proxy` (default) only
   * through the relay's asset proxy, or `direct` from wherever the customer's page says — which lets that
   * page make the agent's browser fetch any address; only for deployments that chose it. Read at join.
   */
  @property() accessor assets: 'proxy' | 'direct' = 'proxy';

  /** Fit the customer's page to the space available (default); `auto-fit="false"` starts at `zoom`. */
  @property({ attribute: 'auto-fit', converter: autoFitConverter }) accessor autoFit = true;

  /** The scale used when auto-fit is off (1 = 100%). */
  @property({ type: Number }) accessor zoom = 1;

  /** How long a highlight mark stays on both screens, in ms. */
  @property({ type: Number, attribute: 'highlight-ms' }) accessor highlightMs = 180_000;

  /**
   * Deprecated (until 0.2): how long a highlight mark stays, in seconds; use `highlight-ms` / `highlightMs`, in ms.
   * @deprecated Use `highlight-ms` / `highlightMs` (in ms).
   */
  @property({ type: Number, attribute: 'highlight-seconds' })
  set highlightSeconds(seconds: number) {
    this.highlightMs = seconds * 1000;
  }
  get highlightSeconds(): number {
    return this.highlightMs / 1000;
  }

  /** Leaves out the built-in toolbar, for a `<cobrowse-toolbar for="…">` placed elsewhere in the page. */
  @property({ type: Boolean, attribute: 'no-toolbar' }) accessor noToolbar = false;

  /** Replaces any of the viewer's and its toolbar's texts (for localisation; over the `lang` translation); see `viewerStrings`. */
  @property({ attribute: false }) accessor strings: Partial<ViewerStrings> = {};

  static override properties = {
    /** The language of the viewer's texts (the page's `<html lang>` by default); English when none is registered. */
    lang: {},
  };

  @state() private accessor tool: HighlightChoice = '';
  @state() private accessor marks: Array<Mark & { target: number }> = [];
  /** The mark being drawn, in the mirror's page coordinates. */
  @state() private accessor drawing: Mark | null = null;
  #marksFrame = 0;
  #markCount = 0;

  @state() private accessor agentState: AgentState = AgentState.Idle;
  @state() private accessor mode: Mode | '' = '';
  @state() private accessor message = '';
  @state() private accessor endedBy: EndedBy | undefined;
  @state() private accessor viewport: [number, number] = [0, 0];
  @state() private accessor scale = 1;
  @state() private accessor hasPage = false;
  @state() private accessor customerPointer: { x: number; y: number } | null = null;
  @state() private accessor ripple: { x: number; y: number; key: number } | null = null;
  @state() private accessor editing: Editing | null = null;
  @state() private accessor notice = '';
  @state() private accessor platform: PlatformDescription | null = null;
  @state() private accessor link: { status: 'good' | 'slow' | 'offline'; rtt: number | null } | null = null;
  #noticeTimer: ReturnType<typeof setTimeout> | undefined;

  @query('iframe') private accessor iframe!: HTMLIFrameElement;
  @query('.stage') private accessor stage!: HTMLElement;

  // Not #private: test/chaos and test/e2e/privacy.test.js reach the session through the element.
  private session: AgentSession | undefined;
  #shown: ViewerChangeDetail | undefined;
  #mirror: Mirror | undefined;
  readonly #resizeObserver = new ResizeObserver(() => this.#fit());
  readonly #remote = new RemoteControl(
    () => this.session,
    () => this.#mirror,
    () => this.mode,
  );

  /** The session's state: idle, joining, waiting, live, customer-away, reconnecting, ended or error. */
  get state(): AgentState {
    return this.agentState;
  }

  /** Joins the session with this ID; spaces and dashes are ignored. */
  join(input: string): void {
    const code = normalizeSessionCode(input);
    if (!code) {
      this.message = this.#text.badCode;
      this.agentState = AgentState.Error;
      return;
    }
    if (!this.relay) throw new TypeError('<cobrowse-viewer> needs a relay URL (the "relay" attribute)');
    if (!this.#mirror) {
      this.code = code; // joins once the mirror's iframe exists (see updated)
      return;
    }
    this.session?.leave();
    this.code = code;
    this.message = '';
    this.endedBy = undefined;
    this.hasPage = false;
    const session = new AgentSession({
      relay: this.relay,
      connection: this.connection,
      name: this.name,
      token: this.token || undefined,
      mirror: this.#mirror!,
      assets: this.assets === 'direct' ? 'direct' : 'proxy',
    });
    this.session = session;
    session.events.on('state', (s) => {
      const previous = this.agentState;
      this.agentState = s;
      // A new page (or none) is coming: marks belong to the page they were drawn on.
      if (s !== AgentState.Live) this.marks = [];
      this.hasPage ||= s === AgentState.Live;
      emit(this, 'cobrowse-state-change', { state: s, previous });
    });
    session.events.on('joined', (detail) => {
      this.mode = detail.mode;
      emit(this, 'cobrowse-session-joined', detail);
      emit(this, 'cobrowse-joined', detail); // deprecated, until 0.2
    });
    session.events.on('ended', (detail) => {
      this.endedBy = detail.by;
      emit(this, 'cobrowse-ended', detail);
    });
    session.events.on('error', (detail) => (this.message = detail.message));
    session.events.on('platform', (frame) => (this.platform = describePlatform(frame)));
    session.events.on('link', (link) => (this.link = link));
    session.events.on('customer-pointer', ({ x, y, click }) => {
      this.customerPointer = { x, y };
      if (click) this.#showRipple(x, y);
    });
    session.join(code);
  }

  /** Ends the session for the agent and the customer. */
  end(): void {
    this.session?.end();
  }

  /** What a toolbar shows for this viewer, now; `cobrowse-viewer-change` fires when it changes. */
  get toolbarState(): ViewerChangeDetail {
    return {
      mode: this.mode,
      state: this.agentState,
      code: this.session ? this.code : '',
      platform: this.platform?.summary ?? '',
      link: this.link?.status ?? '',
      rtt: this.link?.rtt ?? null,
      zoom: this.scale,
      autoFit: this.autoFit,
      highlightTool: this.tool,
      url: this.hasPage ? (this.#mirror?.url ?? '') : '',
      canNavigate: this.#remote.allows(Action.Navigate),
    };
  }

  /** Turns Highlight on with a drawing tool, or off ('', or null: deprecated until 0.2), which clears every mark. */
  highlight(tool: HighlightChoice | null): void {
    this.tool = tool ?? '';
    if (!tool) this.#clearMarks();
  }

  /** Clears every highlight mark, on both sides. */
  clearHighlights(): void {
    this.#clearMarks();
  }

  /** Asks the customer's page to go back, forward, reload or to `url`; a refusal shows as a notice. */
  async navigate({ action, url }: NavigateDetail): Promise<void> {
    const command =
      action === 'go'
        ? { a: Action.Navigate, url }
        : action === 'reload'
          ? { a: Action.Reload }
          : { a: Action.History, delta: action === 'back' ? -1 : 1 };
    this.#report(await this.#remote.send(command as Parameters<RemoteControl['send']>[0]));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hasUpdated) this.#resizeObserver.observe(this.stage);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    cancelAnimationFrame(this.#marksFrame);
    this.#marksFrame = 0;
    this.#resizeObserver.disconnect();
    this.session?.leave();
    this.session = undefined;
    this.#remote.dispose();
    this.agentState = AgentState.Idle;
  }

  protected override firstUpdated(): void {
    this.#mirror = new Mirror(this.iframe, {
      onViewport: (width, height) => {
        this.viewport = [width, height];
        this.#fit();
      },
    });
    this.#resizeObserver.observe(this.stage);
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('autoFit') || changed.has('zoom')) this.#fit();
    if (changed.has('code') && this.code && this.code !== this.session?.code) this.join(this.code);
    if (changed.has('token')) this.session?.updateToken(this.token || undefined);
    const state = this.toolbarState;
    const before = this.#shown;
    if (before && (Object.keys(state) as Array<keyof ViewerChangeDetail>).every((key) => state[key] === before[key])) return;
    this.#shown = state;
    emit(this, 'cobrowse-viewer-change', state);
  }

  /** Scales the customer's viewport to the space available, aspect kept. */
  #fit(): void {
    const [width, height] = this.viewport;
    if (!this.autoFit) {
      this.scale = this.zoom;
      return;
    }
    if (!width || !height || !this.stage) return;
    // Whole pixels: a stage of 663.5 px fitted exactly would overflow by the half pixel once rounded.
    const box = this.stage.getBoundingClientRect();
    this.scale = Math.min(Math.floor(box.width) / width, Math.floor(box.height) / height) || 1;
  }

  override render() {
    const t = this.#text;
    const [width, height] = this.viewport;
    const s = this.scale;
    // Known gap: clicking into the customer's page has no keyboard equivalent yet (the input layer is pointer-only).
    /* eslint-disable lit-a11y/click-events-have-key-events */
    return html`
      ${this.noToolbar ? nothing : html`<cobrowse-toolbar part="toolbar" .viewer=${this} .lang=${this.lang} .strings=${this.strings}></cobrowse-toolbar>`}
      <div class="stage" part="stage" ?data-zoomed=${!this.autoFit}>
        <div class="screen" ?hidden=${!this.hasPage} style="width:${width * s}px;height:${height * s}px">
          <iframe part="mirror" title=${t.mirrorTitle} sandbox=${MIRROR_SANDBOX} tabindex="-1"
            style="width:${width}px;height:${height}px;transform:scale(${s})"></iframe>
          ${renderMarks(this.drawing ? [...this.marks, this.drawing] : this.marks, (m) => this.#anchorAt(m), s)}
          <div class="input-layer" part="input-layer" ?data-drawing=${Boolean(this.tool)} @mousemove=${this.#onMove} @click=${this.#onClick}
            @mousedown=${this.#onDrawStart} @mouseup=${this.#onDrawEnd} @wheel=${this.#onWheel}></div>
          ${
            this.customerPointer
              ? html`<div class="pointer customer" part="customer-pointer" aria-hidden="true"
            style="left:${this.customerPointer.x * s}px;top:${this.customerPointer.y * s}px"></div>`
              : nothing
          }
          ${
            this.ripple
              ? keyed(
                  this.ripple.key,
                  html`<div class="ripple" aria-hidden="true"
            style="left:${this.ripple.x * s}px;top:${this.ripple.y * s}px"></div>`,
                )
              : nothing
          }
          ${this.#renderEditor()}
        </div>
        ${this.notice ? html`<div class="notice" part="notice" role="status">${this.notice}</div>` : nothing}
        ${this.#renderOverlay()}
      </div>
    `;
    /* eslint-enable lit-a11y/click-events-have-key-events */
  }

  /** The agent's own field over the mirrored one: the agent's keystrokes never enter the mirror. */
  #renderEditor() {
    const edit = this.editing;
    if (!edit) return nothing;
    const s = this.scale;
    const style = `left:${edit.rect.left * s}px;top:${edit.rect.top * s}px;width:${edit.rect.width * s}px;height:${edit.rect.height * s}px;font-size:${Math.max(11, 14 * s)}px`;
    if (edit.select) {
      return html`<select class="editor" part="editor" aria-label=${this.#text.chooseForCustomer} style=${style}
        @change=${(e: Event) => this.#cofill((e.target as HTMLSelectElement).value)} @blur=${() => (this.editing = null)}>
        ${edit.options.map(([value, label]) => html`<option .value=${value} ?selected=${value === edit.value}>${label}</option>`)}
      </select>`;
    }
    return html`<input class="editor" part="editor" aria-label=${this.#text.typeForCustomer} autocomplete="off" style=${style}
      .value=${edit.value} @input=${(e: Event) => this.#cofill((e.target as HTMLInputElement).value)}
      @keydown=${(e: KeyboardEvent) => (e.key === 'Enter' || e.key === 'Escape') && (this.editing = null)}
      @blur=${() => (this.editing = null)} />`;
  }

  #point(event: MouseEvent): [number, number] {
    return [event.offsetX / this.scale, event.offsetY / this.scale];
  }

  #onMove = (event: MouseEvent): void => {
    if (this.agentState !== AgentState.Live) return;
    const [x, y] = this.#point(event);
    this.#remote.move(x, y);
    const drawing = this.drawing;
    if (!drawing) return;
    if (drawing.kind === 'pen') this.drawing = { ...drawing, points: [...drawing.points, x, y] };
    else if (drawing.kind === 'rect') this.drawing = { ...drawing, points: [drawing.points[0]!, drawing.points[1]!, x, y] };
  };

  /** Where a mark's anchor is, in the screen's (scaled) coordinates; the mark being drawn is in page coordinates. */
  #anchorAt(mark: Mark & { target?: number }): [number, number] | null {
    if (mark.target === undefined) return [0, 0];
    const el = this.#mirror?.node(mark.target) as Element | undefined;
    if (!el?.isConnected) return null;
    const box = el.getBoundingClientRect();
    return [box.left * this.scale, box.top * this.scale];
  }

  #onDrawStart = (event: MouseEvent): void => {
    if (!this.tool || this.agentState !== AgentState.Live) return;
    const [x, y] = this.#point(event);
    this.drawing = { id: 0, kind: this.tool, points: this.tool === 'rect' ? [x, y, x, y] : [x, y], expires: Infinity };
  };

  /** A finished mark is anchored to the element under it, sent, and kept until it expires. */
  #onDrawEnd = (): void => {
    const drawing = this.drawing;
    this.drawing = null;
    const mirror = this.#mirror;
    if (!drawing || !mirror || !this.session) return;
    const [x1, y1, x2 = x1!, y2 = y1!] = drawing.points;
    const anchor = elementAt(mirror.document, (x1! + x2) / 2, (y1! + y2) / 2) ?? mirror.document.body;
    const target = anchor ? mirror.idOfNode(anchor) : undefined;
    if (!anchor || target === undefined) return;
    const box = anchor.getBoundingClientRect();
    const points = drawing.points.map((v, i) => Math.round((v - (i % 2 ? box.top : box.left)) * 10) / 10);
    const ttl = this.highlightMs;
    const mark = { id: ++this.#markCount, kind: drawing.kind, points, target, ttl };
    this.session.highlight(mark);
    this.marks = [...this.marks, { ...mark, expires: Date.now() + ttl }];
    this.#followMarks();
  };

  #clearMarks(): void {
    if (this.marks.length) this.session?.clearHighlights();
    this.marks = [];
  }

  /** Redraws every frame while marks exist: they follow their elements as the customer scrolls. */
  #followMarks(): void {
    if (this.#marksFrame) return;
    const tick = () => {
      const now = Date.now();
      this.marks = this.marks.filter((m) => m.expires > now);
      this.#marksFrame = this.marks.length ? requestAnimationFrame(tick) : 0;
    };
    this.#marksFrame = requestAnimationFrame(tick);
  }

  #onWheel = (event: WheelEvent): void => {
    if (this.agentState !== AgentState.Live || !this.#remote.allows(Action.Scroll)) return;
    event.preventDefault();
    this.#remote.wheel(...this.#point(event), event.deltaX, event.deltaY);
  };

  #onClick = async (event: MouseEvent): Promise<void> => {
    if (this.agentState !== AgentState.Live || this.tool) return; // while highlighting, clicks draw
    const [x, y] = this.#point(event);
    this.#showRipple(x, y);
    const target = this.#remote.targetAt(x, y);
    if (!target || !this.#remote.allows(Action.Click)) {
      this.session?.pointer(x, y, true); // pointing is allowed in every mode
      return;
    }
    if (target.kind !== 'element' && !this.#remote.allows(Action.Input)) {
      this.session?.pointer(x, y, true);
      this.#showNotice(this.#text.formsLocked);
      return;
    }
    this.#report(await this.#act(target, x, y));
  };

  async #act(target: Target, x: number, y: number) {
    switch (target.kind) {
      case 'toggle':
        return this.#remote.send({ a: Action.Check, id: target.id, checked: !target.checked });
      case 'field': {
        const select = target.el.localName === 'select';
        const options = select ? Array.from((target.el as HTMLSelectElement).options, (o) => [o.value, o.text] as [string, string]) : [];
        this.editing = { id: target.id, select, value: target.el.value, options, rect: target.rect };
        await this.updateComplete;
        (this.renderRoot.querySelector('.editor') as HTMLElement | null)?.focus();
        return this.#remote.click(x, y, target.id);
      }
      default:
        return this.#remote.click(x, y, target.id);
    }
  }

  async #cofill(value: string): Promise<void> {
    const edit = this.editing;
    if (!edit) return;
    edit.value = value;
    this.#report(await this.#remote.send({ a: edit.select ? Action.Select : Action.Input, id: edit.id, value }));
  }

  #report(result: { ok: boolean; reason?: string }): void {
    if (!result.ok) this.#showNotice(result.reason ?? this.#text.refused);
  }

  #showNotice(text: string): void {
    this.notice = text;
    clearTimeout(this.#noticeTimer);
    this.#noticeTimer = setTimeout(() => (this.notice = ''), 4000);
  }

  #showRipple(x: number, y: number): void {
    this.ripple = { x, y, key: Date.now() };
  }

  /** The texts shown: English, under the `lang` translation, under `strings`. */
  get #text(): ViewerStrings {
    return viewerTextsFor(this);
  }

  #renderOverlay() {
    const t = this.#text;
    const waiting = t.waiting[this.agentState];
    if (waiting) return html`<div class="overlay"><div class="card" part="message" role="status">${waiting}</div></div>`;
    if (this.agentState === AgentState.Live) return nothing;
    const ended = this.agentState === AgentState.Ended;
    return html`<div class="overlay"><div class="card">
      ${ended ? html`<p part="message" role="status">${t.endedBy[this.endedBy ?? 'agent']}</p>` : nothing}
      <form part="form" @submit=${this.#onSubmit}>
        <label for="code">${t.codeLabel}</label>
        <input id="code" name="code" inputmode="numeric" autocomplete="off" placeholder="123 456 789" maxlength="15"
          aria-describedby="error" .value=${ended ? '' : this.code} />
        ${this.message ? html`<p id="error" class="error" role="alert">${this.message}</p>` : nothing}
        <button type="submit">${t.join}</button>
      </form>
    </div></div>`;
  }

  #onSubmit = (event: SubmitEvent): void => {
    event.preventDefault();
    const input = (event.currentTarget as HTMLFormElement).elements.namedItem('code') as HTMLInputElement;
    this.join(input.value);
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'cobrowse-viewer': CobrowseViewer;
  }
}
