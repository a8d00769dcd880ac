/**
 * The wire protocol: plain data only. This folder compiles without the DOM lib
 * (see ./tsconfig.json), so a DOM type leaking in here breaks the build.
 *
 * Every frame is a JSON object whose `t` names its type. Node trees and patches are
 * tuples of small integers and strings: compact on the wire, cheap to build.
 */

import type { AssetGrant } from './assets.js';
import type { DomainRule } from './origins.js';

/** Bumped on any incompatible change; peers send it in `create`, `resume` and `join`. */
export const PROTOCOL_VERSION = 1;

/** Largest frame a peer may send, in bytes; the relay closes with `CloseCode.TooBig` past it. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * Frames whose JSON text is longer than this (in UTF-16 units) travel as chunks. Escaped as a
 * string inside a chunk, a slice at most doubles, and a unit is at most 3 bytes of UTF-8: so a
 * chunk frame stays under MAX_FRAME_BYTES whatever the page's text.
 */
export const CHUNK_CHARS = 160 * 1024;

/** What the agent may do, fixed by the customer's page when the session is created. */
export const Mode = {
  Full: 'full-control',
  Partial: 'partial-control',
  None: 'no-control',
} as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

export const Role = { Customer: 'customer', Agent: 'agent' } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Who or what ended a session. */
export type EndedBy = 'customer' | 'agent' | 'expired' | 'relay';

/**
 * An agent's `request-snapshot` is served at most once per this long: the relay refuses more
 * (`throttled`, with `retryAfter`), and the customer's page answers those within it with one
 * snapshot when it has passed. A full snapshot is the most a page can be asked to do.
 */
export const SNAPSHOT_REQUEST_MS = 5_000;

/** WebSocket close codes the relay uses (documented in docs/protocol.md). */
export const CloseCode = {
  /** The session ended; an `ended` frame preceded the close. */
  Ended: 1000,
  /** The relay is shutting down; reconnect. */
  GoingAway: 1001,
  /** A binary frame: the protocol is JSON text only. */
  UnsupportedData: 1003,
  /** A frame was not valid JSON, failed the schema, or is not allowed for the sender's role. */
  PolicyViolation: 1008,
  /** A frame exceeded MAX_FRAME_BYTES. */
  TooBig: 1009,
  /** The peer speaks a protocol version this relay does not. */
  UnsupportedVersion: 4000,
  /** A join without a valid agent token. */
  Unauthorized: 4001,
  /** No live session has this ID (or the resume token is wrong). */
  SessionNotFound: 4004,
  /** Another agent is already bound to this session. */
  SessionTaken: 4009,
  /** Too many failed joins, or too many sessions from one address; try again later. */
  RateLimited: 4029,
  /** The relay cannot reach its session store (Redis) just now; reconnect with backoff. */
  TryAgainLater: 1013,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Machine-readable reasons carried by `error` frames. */
export const ErrorCode = {
  BadFrame: 'bad-frame',
  NotAllowed: 'not-allowed',
  NotFound: 'session-not-found',
  Taken: 'session-taken',
  UnsupportedVersion: 'unsupported-version',
  Unauthorized: 'unauthorized',
  RateLimited: 'rate-limited',
  /** Not fatal: the relay dropped frames to a slow agent; a fresh snapshot follows. */
  ResyncRequired: 'resync-required',
  /** Not fatal: the relay cannot reach its session store (Redis); the socket closes with 1013 and the client reconnects. */
  Unavailable: 'unavailable',
  /** Not fatal: a request came too soon (a `request-snapshot` within SNAPSHOT_REQUEST_MS of the last); ask again after `retryAfter` ms. */
  Throttled: 'throttled',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

// ─── Serialized DOM ────────────────────────────────────────────────────────────

export const NodeKind = {
  Element: 1,
  Text: 3,
  Comment: 8,
  Document: 9,
  Doctype: 10,
  ShadowRoot: 11,
} as const;

/** State that lives in properties rather than attributes, and the element's namespace. */
export interface ElementExtra {
  /** 's' for SVG, 'm' for MathML; absent for HTML. */
  ns?: 's' | 'm';
  /** Current value of an input, textarea or select (already masked when it must be). */
  value?: string;
  checked?: boolean;
  selected?: boolean;
  /** An open shadow root attached to this element. */
  shadow?: SerializedShadowRoot;
  /** A `<style>` element's CSS, as its sheet holds it (children are not sent: CSSOM edits do not show in them). */
  css?: string;
  /** A same-origin iframe's document. */
  doc?: SerializedDocument;
  /** A cross-origin iframe: shown as a labelled placeholder of the same size. */
  xo?: 1;
  /** A `<dialog>` shown with showModal() (in the top layer, page behind it inert). */
  modal?: 1;
  /** An `<audio>`/`<video>`'s state: paused or not, and current time in seconds (coarse). */
  media?: [paused: boolean, time: number];
  /**
   * An SVG `<use>` whose target lives in an external sprite file (`icons.svg#id`): the target,
   * serialized by the customer's page, which may load the file (the mirror's origin may not). Its IDs
   * are not the page's; the mirror keeps a copy and points the `<use>` at it.
   */
  sprite?: SerializedElement;
}

/** [kind, id, tag (lower case for HTML), attributes as [name, value, name, value…], children, extra] */
export type SerializedElement = [kind: 1, id: number, tag: string, attrs: string[], children: SerializedNode[], extra?: ElementExtra];
export type SerializedText = [kind: 3, id: number, text: string];
export type SerializedComment = [kind: 8, id: number, text: string];
/** `quirks` is true when the source document renders in quirks mode; `adopted` lists its adopted sheets' IDs. */
export type SerializedDocument = [kind: 9, id: number, children: SerializedNode[], quirks?: boolean, adopted?: number[]];
export type SerializedShadowRoot = [kind: 11, id: number, children: SerializedNode[], adopted?: number[]];
export type SerializedDoctype = [kind: 10, id: number, name: string, publicId: string, systemId: string];
export type SerializedNode =
  SerializedElement | SerializedText | SerializedComment | SerializedDocument | SerializedDoctype | SerializedShadowRoot;

// ─── Patches ──────────────────────────────────────────────────────────────────

export const Op = {
  /** Insert a serialized subtree under parent, before `next` (null: append). */
  Add: 0,
  /** Remove a node and its subtree. */
  Remove: 1,
  /** Set (string) or remove (null) an attribute, on one node or on a list of nodes (the same change). */
  Attr: 2,
  /** Replace a text or comment node's data. */
  Text: 3,
  /** A form field's current value. */
  Value: 4,
  /** A checkbox/radio's checked state or an option's selected state. */
  Checked: 5,
  /** Scroll position of an element, or of the document when id is the document's. */
  Scroll: 6,
  /** The customer's viewport size in CSS pixels. */
  Viewport: 7,
  /** Define or replace a constructed stylesheet (for adoptedStyleSheets) by sheet ID. */
  Sheet: 8,
  /** Set the adopted stylesheets (sheet IDs) of a document or shadow root. */
  Adopted: 9,
  /** Replace a `<style>` element's CSS (changed through the CSSOM or its text). */
  StyleText: 10,
  /** A media element was played, paused or seeked. */
  Media: 11,
  /** A `<canvas>`'s content as an image data URL (opt-in, at a bounded rate). */
  Canvas: 12,
  /**
   * The customer's interaction state: the hovered element (deepest under the pointer), the focused
   * element (deepest, through shadow roots and iframes), the element held down by the mouse, and
   * whether the focus shows as :focus-visible. Sent when it changes, at most once a frame.
   */
  Pseudo: 13,
  /**
   * Changed declarations of inline styles: property names, and their values (with ` !important`, or
   * null to remove) — one row shared by every element, or one row per element, in order.
   */
  StyleDiff: 14,
  /**
   * The rules of a linked stylesheet whose selectors use :hover, :focus or :active, as the customer's
   * page reads them: the agent's page may not be allowed to read another origin's sheet to emulate them.
   */
  PseudoRules: 15,
} as const;

export type PatchOp =
  | [op: 0, parent: number, next: number | null, node: SerializedNode]
  | [op: 1, id: number]
  | [op: 2, id: number | number[], name: string, value: string | null]
  | [op: 3, id: number, text: string]
  | [op: 4, id: number, value: string]
  | [op: 5, id: number, checked: boolean]
  | [op: 6, id: number, x: number, y: number]
  | [op: 7, width: number, height: number]
  | [op: 8, sheet: number, css: string]
  | [op: 9, owner: number, sheets: number[]]
  | [op: 10, id: number, css: string]
  | [op: 11, id: number, paused: boolean, time: number]
  | [op: 12, id: number, image: string]
  | [op: 13, hover: number | null, focus: number | null, active: number | null, focusVisible: boolean]
  | [op: 14, id: number | number[], names: string[], values: Array<string | null>]
  | [op: 15, link: number, css: string];

// ─── Frames ───────────────────────────────────────────────────────────────────

/** Customer → relay: open a new session. */
export interface CreateFrame {
  t: 'create';
  v: number;
  mode: Mode;
}
/**
 * Customer → relay: reattach to a live session after a reload or a dropped connection (`code` and
 * its resume `token`), or on another of the session's domains with a one-time `handoff` token.
 */
/**
 * `at`, in `resume` and `join`: when the client opened this connection, by its clock (ms since the
 * epoch). A connection the client already gave up on may still deliver its handshake late (a
 * stalled route); one older than the connection holding the role is closed as replaced, so it
 * can never push out the newer one.
 */
export type ResumeFrame = ({ t: 'resume'; v: number; code: string; token: string } | { t: 'resume'; v: number; handoff: string }) & {
  at?: number;
};
/** Customer → relay: a one-time token to carry the session to another of its domains. */
export interface HandoffFrame {
  t: 'handoff';
  /** The session's listed domains: the token opens the session only on one of them (absent: any page). */
  domains?: DomainRule[];
}
/** Relay → customer: the hand-off token, good once within `ttl` ms; it travels in the next page's URL fragment. */
export interface HandoffTokenFrame {
  t: 'handoff-token';
  token: string;
  ttl: number;
}
/**
 * Agent → relay: join the session with this 9-digit ID. `token` (from an earlier `joined`)
 * reclaims this agent's place after a dropped connection, even while the relay still holds it.
 */
export interface JoinFrame {
  t: 'join';
  v: number;
  code: string;
  name?: string;
  token?: string;
  /** See ResumeFrame. */
  at?: number;
}
/** Agent → relay: leave the session (it lives on, and another agent may join at once). */
export interface LeaveFrame {
  t: 'leave';
}
/** Either side → relay: end the session for both. */
export interface EndFrame {
  t: 'end';
}

/** Relay → customer: the session exists; `token` resumes it and is never shown. */
export interface CreatedFrame {
  t: 'created';
  code: string;
  token: string;
  mode: Mode;
}
/**
 * Relay → customer: resumed; `agent` names the bound agent, if any; `seq` is the highest
 * sequence number the relay has seen from this session's customer (a reloaded page numbers on from it).
 */
export interface ResumedFrame {
  t: 'resumed';
  code: string;
  mode: Mode;
  agent: string | null;
  seq: number;
  token?: string;
}
/**
 * Relay → agent: joined; `online` says whether the customer is connected now; `token`
 * reclaims this place after a dropped connection (send it in the next `join`).
 */
export interface JoinedFrame {
  t: 'joined';
  code: string;
  mode: Mode;
  online: boolean;
  token: string;
  /** Present when the relay proxies the page's assets: where, and this agent's grant for this session. */
  assets?: AssetGrant;
}
/**
 * Relay → either side: the other party came or went. `resumed`: the same agent is back after
 * a dropped connection (the customer keeps its consent, and replays what the agent missed).
 */
export interface PeerFrame {
  t: 'peer';
  role: Role;
  status: 'online' | 'offline';
  name?: string;
  resumed?: boolean;
}
/** Relay → either side: the session is over; the socket closes with CloseCode.Ended. */
export interface EndedFrame {
  t: 'ended';
  by: EndedBy;
}
/** Relay → either side: something was refused. */
export interface ErrorFrame {
  t: 'error';
  code: ErrorCode;
  message: string;
  /** With `throttled`: ms until the request would be served. */
  retryAfter?: number;
}

/**
 * The mirror's stream — snapshots, patches and chunks of them — is numbered: `s` counts up by one
 * per frame within a session, across reconnects and page loads. The agent applies each number
 * once and in order, acknowledges with `ack`, and after a dropped connection the customer
 * replays what the agent has not acknowledged (or takes a fresh snapshot).
 */
export interface Sequenced {
  s: number;
}

/** Customer → agent: the whole page. A snapshot may skip numbers: it replaces everything before it. */
export interface SnapshotFrame extends Sequenced {
  t: 'snapshot';
  url: string;
  title: string;
  /** Viewport size in CSS pixels. */
  viewport: [width: number, height: number];
  /** Constructed stylesheets the tree adopts, by ID. */
  sheets?: Array<[id: number, css: string]>;
  doc: SerializedDocument;
}
/** Customer → agent: one batch of changes, applied in order. */
export interface PatchFrame extends Sequenced {
  t: 'patch';
  ops: PatchOp[];
}
/**
 * Customer → agent: one piece of a snapshot or patch too big for one frame (the relay takes
 * frames up to MAX_FRAME_BYTES). Pieces `i` = 0…n−1 have consecutive numbers; `d` is a slice of
 * the whole frame's JSON text (which carries no `s` of its own).
 */
export interface ChunkFrame extends Sequenced {
  t: 'chunk';
  of: 'snapshot' | 'patch';
  i: number;
  n: number;
  d: string;
}
/** A snapshot or patch as the recorder makes it and the mirror applies it; the Outbox numbers it. */
export type SnapshotContent = Omit<SnapshotFrame, 's'>;
export type PatchContent = Omit<PatchFrame, 's'>;
/** Agent → customer: every frame numbered up to `s` is applied (0: none yet, the agent needs a snapshot). */
export interface AckFrame {
  t: 'ack';
  s: number;
}
/** Agent → customer: please send a fresh snapshot. */
export interface RequestSnapshotFrame {
  t: 'request-snapshot';
}

/** Either way: where that party's pointer is, in the customer's viewport (CSS px); `click` shows a ripple. */
export interface PointerFrame {
  t: 'pointer';
  x: number;
  y: number;
  click?: boolean;
}
/** Agent → customer: an application-level ping (browsers cannot send WebSocket pings); `n` numbers it. */
export interface PingFrame {
  t: 'ping';
  n: number;
}
/** Customer → agent: the answer to ping `n`; the agent measures the round trip through the relay. */
export interface PongFrame {
  t: 'pong';
  n: number;
}

/** Highlight tools: a rectangle, a freehand pen stroke, a spotlight around a point. */
export const HighlightKind = { Rect: 'rect', Pen: 'pen', Spot: 'spot' } as const;
export type HighlightKind = (typeof HighlightKind)[keyof typeof HighlightKind];

/**
 * Agent → customer: a mark anchored to element `target`: `points` are (x, y) pairs in CSS px
 * from the element's top-left corner, so the mark stays on it through scrolling and reflow.
 * Allowed in every mode. It disappears after `ttl` ms, on `highlight-clear`, or on navigation.
 */
export interface HighlightFrame {
  t: 'highlight';
  id: number;
  kind: HighlightKind;
  target: number;
  points: number[];
  ttl: number;
}
/** Agent → customer: remove one mark, or all when `id` is absent. */
export interface HighlightClearFrame {
  t: 'highlight-clear';
  id?: number;
}

/** Customer → agent: the customer's browser and device, for the agent's toolbar. */
export interface PlatformFrame {
  t: 'platform';
  /** The User-Agent string (the agent parses it; the customer's bundle stays small). */
  ua: string;
  /** User-Agent Client Hints, where the browser has them: brands with full versions, OS and its version, mobile. */
  hints?: { brands: Array<[brand: string, version: string]>; platform: string; platformVersion: string; mobile: boolean };
  screen: [width: number, height: number];
  viewport: [width: number, height: number];
  dpr: number;
  language: string;
  timeZone: string;
}
/**
 * Customer → agent: sharing paused (nothing more is sent) or resumed (a snapshot follows). `left`:
 * paused because the customer went to a site outside the session's domains.
 */
export interface SharingFrame {
  t: 'sharing';
  paused: boolean;
  left?: boolean;
}

/** What an agent may ask the customer's page to do. */
export const Action = {
  /** Click the element `id` at viewport point (x, y). */
  Click: 'click',
  /** Set field `id`'s value (co-fill), as if typed. */
  Input: 'input',
  /** Check or uncheck checkbox/radio `id`. */
  Check: 'check',
  /** Choose option `value` of select `id`. */
  Select: 'select',
  /** Scroll element `id` (or the document, when `id` is the document's) to (x, y). */
  Scroll: 'scroll',
  /** Go to `url` (within the session's domains). */
  Navigate: 'navigate',
  /** Go back (-1) or forward (1) in history. */
  History: 'history',
  Reload: 'reload',
} as const;
export type Action = (typeof Action)[keyof typeof Action];

/** Agent → customer: one command; `n` numbers it so the result can name it. */
export interface ControlFrame {
  t: 'control';
  n: number;
  a: Action;
  id?: number;
  x?: number;
  y?: number;
  value?: string;
  checked?: boolean;
  url?: string;
  delta?: -1 | 1;
}
/** Customer → agent: what became of control command `n`; `reason` says why it was refused. */
export interface ControlResultFrame {
  t: 'control-result';
  n: number;
  ok: boolean;
  reason?: string;
}

export type CustomerFrame =
  | CreateFrame
  | ResumeFrame
  | HandoffFrame
  | EndFrame
  | SnapshotFrame
  | PatchFrame
  | ChunkFrame
  | PointerFrame
  | SharingFrame
  | ControlResultFrame
  | PlatformFrame
  | PongFrame;
export type AgentFrame =
  | JoinFrame
  | LeaveFrame
  | EndFrame
  | RequestSnapshotFrame
  | AckFrame
  | PointerFrame
  | ControlFrame
  | HighlightFrame
  | HighlightClearFrame
  | PingFrame;
export type RelayFrame = CreatedFrame | ResumedFrame | HandoffTokenFrame | JoinedFrame | PeerFrame | EndedFrame | ErrorFrame;
export type Frame = CustomerFrame | AgentFrame | RelayFrame;

/** Frames the relay forwards untouched from one role to the other. */
export const FORWARDED: Record<Role, ReadonlySet<string>> = {
  customer: new Set(['snapshot', 'patch', 'chunk', 'pointer', 'sharing', 'control-result', 'platform', 'pong']),
  agent: new Set(['request-snapshot', 'ack', 'pointer', 'control', 'highlight', 'highlight-clear', 'ping']),
};

/** Frames of the mirror's numbered stream. */
export const SEQUENCED: ReadonlySet<string> = new Set(['snapshot', 'patch', 'chunk']);

/** Actions each mode allows; pointer and highlight are allowed in every mode. */
export const MODE_ACTIONS: Record<Mode, ReadonlySet<Action>> = {
  'full-control': new Set(Object.values(Action)),
  'partial-control': new Set([Action.Click, Action.Scroll, Action.Navigate, Action.History, Action.Reload]),
  'no-control': new Set(),
};

/** Whether a session in `mode` lets an agent send this frame (the relay and the customer's page both ask). */
export function allowedInMode(mode: Mode, frame: { t: string; a?: string }): boolean {
  return frame.t !== 'control' || MODE_ACTIONS[mode].has(frame.a as Action);
}
