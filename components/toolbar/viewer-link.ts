import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { HighlightChoice, NavigateDetail, ViewerChangeDetail } from '../events.js';

/** What a toolbar needs from the viewer it follows: `<cobrowse-viewer>` is one. */
export interface ToolbarViewer extends HTMLElement {
  /** What the toolbar shows, now; `cobrowse-viewer-change` says when it changes. */
  readonly toolbarState: ViewerChangeDetail;
  /** The scale used when auto-fit is off (1 = 100%). */
  zoom: number;
  /** Whether the mirror fits the space available. */
  autoFit: boolean;
  /** Turns Highlight on with a tool, or off (''), which clears the marks. */
  highlight(tool: HighlightChoice): void;
  /** Clears every highlight mark on both sides. */
  clearHighlights(): void;
  /** Asks the customer's page to go back, forward, reload or to a URL. */
  navigate(detail: NavigateDetail): Promise<void>;
  /** Ends the session for the agent and the customer. */
  end(): void;
}

/**
 * Keeps a toolbar showing one viewer's state: reads `toolbarState` when it starts following,
 * then every `cobrowse-viewer-change`, while the toolbar is connected.
 */
export class ViewerLink implements ReactiveController {
  /** The viewer followed, or null. */
  viewer: ToolbarViewer | null = null;
  #connected = false;

  readonly #show: (state: ViewerChangeDetail) => void;

  constructor(host: ReactiveControllerHost, show: (state: ViewerChangeDetail) => void) {
    this.#show = show;
    host.addController(this);
  }

  /** Follows `viewer` instead (null: none). */
  follow(viewer: ToolbarViewer | null): void {
    if (viewer === this.viewer) return;
    this.#unlisten();
    this.viewer = viewer;
    if (this.#connected) this.#listen();
  }

  hostConnected(): void {
    this.#connected = true;
    this.#listen();
  }

  hostDisconnected(): void {
    this.#connected = false;
    this.#unlisten();
  }

  readonly #onChange = (event: CustomEvent<ViewerChangeDetail>): void => {
    if (event.target === this.viewer) this.#show(event.detail);
  };

  #listen(): void {
    if (!this.viewer) return;
    this.viewer.addEventListener('cobrowse-viewer-change', this.#onChange);
    // An element not upgraded yet has no state: its first render fires the event.
    if (this.viewer.toolbarState) this.#show(this.viewer.toolbarState);
  }

  #unlisten(): void {
    this.viewer?.removeEventListener('cobrowse-viewer-change', this.#onChange);
  }
}
