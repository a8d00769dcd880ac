/** The public events of every element, typed for `addEventListener` in every user's code. */
import type { AgentState, CustomerState } from '../core/index.js';
import type { EndedBy, Mode } from '../core/protocol/index.js';

export interface SessionCreatedDetail {
  /** The 9-digit session ID the customer gives the agent. */
  code: string;
}
/** Highlight's drawing tools. */
export type HighlightTool = 'rect' | 'pen' | 'spot';
/** Highlight's state: a drawing tool, or '' when Highlight is off. */
export type HighlightChoice = HighlightTool | '';

/** `cobrowse-state-change`'s detail, of one shape on every element: the new state and the one before. */
export interface StateChangeDetail<S extends CustomerState | AgentState = CustomerState | AgentState> {
  /** The state now. */
  state: S;
  /** The state before (the element's first is idle). */
  previous: S;
}
export interface AgentJoinedDetail {
  /** The agent's display name. */
  name: string;
}
export interface JoinedDetail {
  code: string;
  mode: Mode;
}
export interface ControlRequestDetail {
  /** The agent's display name. */
  name: string;
  /** Grants control (when the host page decides, having called preventDefault()). */
  allow(): void;
  /** Refuses control. */
  deny(): void;
}
export interface HighlightToolDetail {
  /** The drawing tool chosen, or '' when Highlight is turned off. */
  tool: HighlightChoice;
}
export interface NavigateDetail {
  /** Back, forward, reload, or go to `url`. */
  action: 'back' | 'forward' | 'reload' | 'go';
  url?: string;
}
export interface ZoomDetail {
  /** The zoom asked for (1 = 100%); absent when only auto-fit changes. */
  zoom?: number;
  /** Whether the mirror should fit the space available. */
  autoFit: boolean;
}
/** What a `<cobrowse-toolbar>` shows for a viewer: `<cobrowse-viewer>`'s `toolbarState` and `cobrowse-viewer-change` detail. */
export interface ViewerChangeDetail {
  /** The session's mode, once joined. */
  mode: Mode | '';
  /** The agent session's state. */
  state: AgentState;
  /** The session ID being viewed ('' before joining). */
  code: string;
  /** The customer's browser, system and device in one line. */
  platform: string;
  /** The customer's connection ('' before any measure). */
  link: '' | 'good' | 'slow' | 'offline';
  /** The last round trip to the customer's page, in ms (null: no answer). */
  rtt: number | null;
  /** The mirror's current scale (1 = 100%). */
  zoom: number;
  /** Whether the mirror fits the space available. */
  autoFit: boolean;
  /** The highlight tool in use, or '' when Highlight is off. */
  highlightTool: HighlightChoice;
  /** The customer's page address ('' before a page shows). */
  url: string;
  /** Whether the session's mode lets the agent navigate. */
  canNavigate: boolean;
}
export interface EndedDetail {
  /** Who ended the session: 'customer', 'agent', 'expired' or 'relay'. */
  by: EndedBy;
}

/** `<cobrowse-toolbar>`'s requests: cancelable, and `preventDefault()` refuses them (the viewer it follows does not act). */
export interface RequestEvents {
  'cobrowse-close-request': CustomEvent<Record<string, never>>;
  'cobrowse-zoom-request': CustomEvent<ZoomDetail>;
  'cobrowse-navigate-request': CustomEvent<NavigateDetail>;
  'cobrowse-highlight-request': CustomEvent<HighlightToolDetail>;
  'cobrowse-highlight-clear-request': CustomEvent<Record<string, never>>;
}
export type RequestName = keyof RequestEvents;

/** Each request under its old name, without `-request` (deprecated: fired too, until 0.2). */
export type OldRequestEvents = { [K in RequestName as K extends `${infer Old}-request` ? Old : never]: RequestEvents[K] };

declare global {
  interface GlobalEventHandlersEventMap extends RequestEvents, OldRequestEvents {
    'cobrowse-session-created': CustomEvent<SessionCreatedDetail>;
    'cobrowse-state-change': CustomEvent<StateChangeDetail>;
    'cobrowse-agent-joined': CustomEvent<AgentJoinedDetail>;
    'cobrowse-session-joined': CustomEvent<JoinedDetail>;
    'cobrowse-ended': CustomEvent<EndedDetail>;
    'cobrowse-viewer-change': CustomEvent<ViewerChangeDetail>;
    /** Cancelable: `preventDefault()`, then `detail.allow()` or `detail.deny()`. */
    'cobrowse-control-request': CustomEvent<ControlRequestDetail>;
    /** @deprecated Use `cobrowse-session-joined`; fired too until 0.2. */
    'cobrowse-joined': CustomEvent<JoinedDetail>;
  }
  // emit() reads HTMLElementEventMap, which extends GlobalEventHandlersEventMap.
}
