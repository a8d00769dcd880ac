import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { AgentState } from '../../core/index.js';
import type { Mode } from '../../core/protocol/index.js';
import type { HighlightChoice, NavigateDetail, RequestName } from '../events.js';
import { autoFitConverter } from '../internal/attributes.js';
import { emitRequest, type DetailOf } from '../internal/emit.js';
import { groupCode } from '../internal/format.js';
import { viewerTextsFor, type ViewerStrings } from '../viewer/strings.js';
import { ViewerLink, type ToolbarViewer } from './viewer-link.js';

export type { ToolbarViewer } from './viewer-link.js';

const TOOLS = ['rect', 'pen', 'spot'] as const;

/** Each zoom step multiplies or divides by this; zoom stays between 25% and 400%. */
const ZOOM_STEP = 1.25;
const clampZoom = (zoom: number) => Math.min(4, Math.max(0.25, Math.round(zoom * 100) / 100));

/**
 * The agent's controls for a co-browsing session: what it is, its mode and status, and Close session.
 * `<cobrowse-viewer>` shows one at its top. Placed anywhere else in the page, it follows and
 * controls a viewer named by `for="viewer-id"` (or set as `.viewer`) exactly as the built-in one
 * does (give the viewer `no-toolbar` to hide that one); with neither, it only shows its
 * properties and fires its events.
 *
 * @summary The agent's session toolbar.
 *
 * Every event below is a cancelable request: when the toolbar follows a viewer, `preventDefault()`
 * stops the viewer acting on it. Each is fired under its old name too (deprecated, until 0.2), unless
 * it was cancelled; cancelling either refuses the request.
 *
 * Its texts follow `lang` (or the page's language) and `strings`, as the viewer's do.
 *
 * @fires cobrowse-close-request - The agent pressed "Close session".
 * @fires cobrowse-highlight-request - Highlight was turned on with a tool, or off; `detail.tool` ('' for off).
 * @fires cobrowse-highlight-clear-request - The agent asked to clear every mark.
 * @fires cobrowse-navigate-request - The agent asked the customer's page to go back, forward, reload or to `detail.url`.
 * @fires cobrowse-zoom-request - The agent changed the zoom or auto-fit; `detail.zoom`, `detail.autoFit`.
 * @fires cobrowse-close - Deprecated (until 0.2): use `cobrowse-close-request`.
 * @fires cobrowse-highlight - Deprecated (until 0.2): use `cobrowse-highlight-request`.
 * @fires cobrowse-highlight-clear - Deprecated (until 0.2): use `cobrowse-highlight-clear-request`.
 * @fires cobrowse-navigate - Deprecated (until 0.2): use `cobrowse-navigate-request`.
 * @fires cobrowse-zoom - Deprecated (until 0.2): use `cobrowse-zoom-request`.
 *
 * @csspart bar - The toolbar row.
 * @csspart label - The "Co-browsing" label.
 * @csspart mode - The mode badge.
 * @csspart status - The session's status.
 * @csspart link - The customer's connection: good / slow / offline, with the round trip.
 * @csspart close - The "Close session" button.
 * @csspart highlight - The Highlight toggle and its tools.
 * @csspart navigation - Back, Forward, Reload and the address of the customer's page.
 * @csspart zoom - The zoom controls (−, level, +, 100%, Auto-fit).
 *
 * @cssprop --cobrowse-toolbar-background - Toolbar background.
 * @cssprop --cobrowse-toolbar-text - Toolbar text color.
 * @cssprop --cobrowse-accent - Accent color of badges.
 * @cssprop --cobrowse-font - Font family.
 */
@customElement('cobrowse-toolbar')
export class CobrowseToolbar extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font: 14px/1.4 var(--cobrowse-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
      color: var(--cobrowse-toolbar-text, #14213d);
    }
    .bar {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 8px 12px;
      padding: 8px 12px;
      background: var(--cobrowse-toolbar-background, #f3f5f9);
      border-bottom: 1px solid rgb(0 0 0 / 0.08);
    }
    .label {
      font-weight: 600;
    }
    .badge {
      padding: 2px 10px;
      border-radius: 999px;
      background: color-mix(in srgb, var(--cobrowse-accent, #0b5fff) 14%, transparent);
      color: #0a3a9c;
      font-size: 12px;
      font-weight: 600;
    }
    .status::before {
      content: '';
      display: inline-block;
      width: 8px;
      height: 8px;
      margin-right: 6px;
      border-radius: 50%;
      background: #8a93a3;
    }
    .status[data-state='live']::before {
      background: #1f9d55;
    }
    .status[data-state='customer-away']::before,
    .status[data-state='paused']::before,
    .status[data-state='reconnecting']::before {
      background: #d97706;
    }
    .platform {
      overflow: hidden;
      max-width: 28ch;
      color: #5b6474;
      font-size: 12px;
      white-space: nowrap;
      text-overflow: ellipsis;
    }
    .link {
      font-size: 12px;
      font-variant-numeric: tabular-nums;
    }
    .link::before {
      content: '';
      display: inline-block;
      width: 10px;
      height: 10px;
      margin-right: 4px;
      border-radius: 2px;
      vertical-align: -1px;
      background: #1f9d55;
    }
    .link[data-link='slow']::before {
      background: #d97706;
    }
    .link[data-link='offline']::before {
      background: #b4232a;
    }
    .nav {
      display: inline-flex;
      align-items: center;
      gap: 4px;
      min-width: 24ch;
      flex: 1 1 24ch;
    }
    .nav input {
      flex: 1;
      min-width: 10ch;
      padding: 4px 8px;
      border: 1px solid rgb(0 0 0 / 0.2);
      border-radius: 6px;
      font: inherit;
      font-size: 12px;
    }
    .spacer {
      flex: 1;
    }
    button {
      font: inherit;
      cursor: pointer;
      padding: 6px 12px;
      border-radius: 8px;
      border: 1px solid #e5484d;
      background: transparent;
      color: #b4232a;
    }
    .zoom {
      display: inline-flex;
      align-items: center;
      gap: 4px;
    }
    .zoom output {
      min-width: 4ch;
      text-align: center;
      font-variant-numeric: tabular-nums;
    }
    button.plain {
      border-color: rgb(0 0 0 / 0.2);
      color: inherit;
      padding: 4px 8px;
    }
    button.plain[aria-pressed='true'] {
      background: color-mix(in srgb, var(--cobrowse-accent, #0b5fff) 14%, transparent);
      border-color: var(--cobrowse-accent, #0b5fff);
    }
    button:disabled {
      opacity: 0.5;
      cursor: default;
    }
    button:focus-visible {
      outline: 3px solid rgb(11 95 255 / 0.45);
      outline-offset: 2px;
    }
  `;

  /** The session's mode, once joined. */
  @property() accessor mode: Mode | '' = '';

  /** The agent session's state (as `<cobrowse-viewer>` reports it). */
  @property() accessor state: AgentState = AgentState.Idle;

  /** The session ID being viewed. */
  @property() accessor code = '';

  /** The customer's browser, system and device in one line (the label's tooltip). */
  @property() accessor platform = '';

  /** The mirror's current scale (1 = 100%), shown as a percentage. */
  @property({ type: Number }) accessor zoom = 1;

  /** The customer's page address (without query or fragment unless the site shares them). */
  @property() accessor url = '';

  /** Whether the session's mode lets the agent navigate (full or partial control). */
  @property({ type: Boolean, attribute: 'can-navigate' }) accessor canNavigate = false;

  /** The customer's connection as measured by the viewer: good, slow or offline ('' before any measure). */
  @property() accessor link: '' | 'good' | 'slow' | 'offline' = '';

  /** The last round trip to the customer's page through the relay, in ms. */
  @property({ type: Number }) accessor rtt: number | null = null;

  /** The highlight tool in use, or '' when Highlight is off (a removed attribute too). */
  @property({ attribute: 'highlight-tool', converter: { fromAttribute: (value: string | null) => value ?? '' } })
  accessor highlightTool: HighlightChoice = '';

  /** Whether the mirror fits the space available (zoom buttons turn it off); on unless `auto-fit="false"`. */
  @property({ attribute: 'auto-fit', converter: autoFitConverter }) accessor autoFit = true;

  /** The id of the `<cobrowse-viewer>` to follow and control, in this toolbar's document or shadow root. */
  @property({ attribute: 'for' }) accessor htmlFor = '';

  /** The viewer to follow and control; wins over `for`. */
  @property({ attribute: false }) accessor viewer: ToolbarViewer | null = null;

  /** Replaces any of the toolbar's texts (for localisation; over the `lang` translation); see `viewerStrings` for the keys. */
  @property({ attribute: false }) accessor strings: Partial<ViewerStrings> = {};

  static override properties = {
    /** The language of the toolbar's texts (the page's `<html lang>` by default); English when none is registered. */
    lang: {},
  };

  readonly #viewerLink = new ViewerLink(this, (state) => Object.assign(this, state));

  /** The viewer this toolbar follows now (from `viewer` or `for`), or null. */
  get control(): ToolbarViewer | null {
    return this.#viewerLink.viewer;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#wire();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('viewer') || changed.has('htmlFor')) this.#wire();
  }

  /** Follows `viewer`, else the element `for` names (once the document has parsed it). */
  #wire(): void {
    if (this.viewer || !this.htmlFor) return this.#viewerLink.follow(this.viewer);
    const root = this.getRootNode() as Document | ShadowRoot;
    const found = root.getElementById?.(this.htmlFor) ?? null;
    if (!found && document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => this.#wire(), { once: true });
    this.#viewerLink.follow(found as ToolbarViewer | null);
  }

  /** Fires a request event; unless the page cancels it, the followed viewer acts on it. */
  #request<K extends RequestName>(name: K, detail: DetailOf<K>, act: (viewer: ToolbarViewer) => void): void {
    const viewer = this.#viewerLink.viewer;
    if (emitRequest(this, name, detail) && viewer) act(viewer);
  }

  #highlight(tool: HighlightChoice): void {
    this.#request('cobrowse-highlight-request', { tool }, (viewer) => viewer.highlight(tool));
  }

  #navigate(detail: NavigateDetail): void {
    this.#request('cobrowse-navigate-request', detail, (viewer) => void viewer.navigate(detail));
  }

  #setAutoFit(autoFit: boolean): void {
    this.#request('cobrowse-zoom-request', { autoFit }, (viewer) => (viewer.autoFit = autoFit));
  }

  override render() {
    const t = viewerTextsFor(this);
    const open = this.state !== AgentState.Idle && this.state !== AgentState.Ended && this.state !== AgentState.Error;
    const status = t.status[this.state];
    return html`<div class="bar" part="bar" role="toolbar" aria-label=${t.toolbar}>
      <span class="label" part="label" title=${this.platform || nothing} aria-describedby="platform">${t.title}${this.code ? html` · <span>${groupCode(this.code)}</span>` : nothing}</span>
      ${this.platform ? html`<span id="platform" class="platform" part="platform">${this.platform}</span>` : nothing}
      ${this.mode ? html`<span class="badge" part="mode">${t.modes[this.mode]}</span>` : nothing}
      ${status ? html`<span class="status" part="status" data-state=${this.state}>${status}</span>` : nothing}
      ${open && this.link ? this.#renderLink(t) : nothing}
      ${
        open && this.url
          ? html`<form class="nav" part="navigation" @submit=${this.#go}>
          ${
            this.canNavigate
              ? html`
            <button type="button" class="plain" aria-label=${t.back} @click=${() => this.#navigate({ action: 'back' })}>←</button>
            <button type="button" class="plain" aria-label=${t.forward} @click=${() => this.#navigate({ action: 'forward' })}>→</button>
            <button type="button" class="plain" aria-label=${t.reload} @click=${() => this.#navigate({ action: 'reload' })}>↻</button>`
              : nothing
          }
          <input name="url" aria-label=${t.address} .value=${this.url} ?readonly=${!this.canNavigate} autocomplete="off" />
        </form>`
          : nothing
      }
      <span class="spacer"></span>
      <span class="zoom" part="highlight" role="group" aria-label=${t.highlight}>
        <button class="plain" aria-pressed=${Boolean(this.highlightTool)} ?disabled=${!open}
          @click=${() => this.#highlight(this.highlightTool ? '' : 'rect')}>${t.highlight}</button>
        ${
          this.highlightTool
            ? html`${TOOLS.map(
                (tool) => html`<button class="plain" aria-pressed=${this.highlightTool === tool}
                @click=${() => this.#highlight(tool)}>${t.tools[tool]}</button>`,
              )}
              <button class="plain" @click=${() => this.#request('cobrowse-highlight-clear-request', {}, (viewer) => viewer.clearHighlights())}>${t.clear}</button>`
            : nothing
        }
      </span>
      <span class="zoom" part="zoom" role="group" aria-label=${t.zoom}>
        <button class="plain" aria-label=${t.zoomOut} ?disabled=${!open} @click=${() => this.#setZoom(this.zoom / ZOOM_STEP)}>−</button>
        <output aria-live="polite">${Math.round(this.zoom * 100)}%</output>
        <button class="plain" aria-label=${t.zoomIn} ?disabled=${!open} @click=${() => this.#setZoom(this.zoom * ZOOM_STEP)}>+</button>
        <button class="plain" ?disabled=${!open} @click=${() => this.#setZoom(1)}>100%</button>
        <button class="plain" aria-pressed=${this.autoFit} ?disabled=${!open}
          @click=${() => this.#setAutoFit(!this.autoFit)}>${t.autoFit}</button>
      </span>
      <button part="close" ?disabled=${!open} @click=${() => this.#request('cobrowse-close-request', {}, (viewer) => viewer.end())}>${t.close}</button>
    </div>`;
  }

  /** The customer's connection: good, slow or offline, with the last round trip. */
  #renderLink(t: ViewerStrings) {
    const link = t.link[this.link as 'good' | 'slow' | 'offline'];
    const rtt = this.rtt === null ? '' : `${this.rtt} ms`;
    return html`<span class="link" part="link" data-link=${this.link} role="img" aria-label=${t.connection(rtt ? `${link}, ${rtt}` : link)}
      title=${t.roundTrip(rtt)}>${link}${rtt && html` · ${rtt}`}</span>`;
  }

  #go = (event: SubmitEvent): void => {
    event.preventDefault();
    const url = ((event.currentTarget as HTMLFormElement).elements.namedItem('url') as HTMLInputElement).value.trim();
    if (this.canNavigate && url && url !== this.url) this.#navigate({ action: 'go', url });
  };

  #setZoom(value: number): void {
    const zoom = clampZoom(value);
    this.#request('cobrowse-zoom-request', { zoom, autoFit: false }, (viewer) => {
      viewer.zoom = zoom;
      viewer.autoFit = false;
    });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'cobrowse-toolbar': CobrowseToolbar;
  }
}
