/**
 * Every session rule in one interface: create, resume (with its token or a hand-off token), join,
 * the place held for a dropped agent, hand-offs bound to origins, stale handshakes, failed-join
 * accounting, deadlines and the end. Two backends implement it — MemoryDirectory (one process; it
 * runs in the browser too, for Storybook's loopback relay) and RedisDirectory (several relays on one
 * Redis) — and pass one contract suite (test/helpers/directory-contract.js). The relay holds the
 * sockets; a directory holds them only as opaque party handles.
 */
import type { EndedBy, Mode, PeerFrame, Role } from '../../core/protocol/index.js';
import type { HandoffBinding } from '../origins.js';

/** Why a session's timer is running: nobody joined yet, the customer dropped, or the agent dropped (its place is held). */
export const Deadline = { Unjoined: 'unjoined', Grace: 'grace', AgentGrace: 'agent' } as const;
export type Deadline = (typeof Deadline)[keyof typeof Deadline];

/**
 * Why a handshake was refused: no session with this ID, or a wrong resume token ('not-found'); a hand-off
 * token expired, used, or not for this origin ('handoff-spent'); another agent holds the place ('taken'); a
 * connection older than the one holding the role ('stale', see ResumeFrame's `at`); the creating IP's
 * live sessions are at their cap ('too-many-sessions'); the store cannot answer now ('unavailable').
 */
export type Refusal = 'not-found' | 'handoff-spent' | 'taken' | 'stale' | 'too-many-sessions' | 'unavailable';

/** Too many failed joins from one of the join's keys: the ms until it may try again. */
export interface Locked {
  readonly retryAfterMs: number;
}

/** One party's connection as a directory sees it: a handle, named among this relay's connections by `serial`. */
export interface Party {
  readonly serial: number;
}

/** A session as this relay knows it: its parties here and what routing reads on every frame. */
export interface Session<P> {
  readonly code: string;
  readonly mode: Mode;
  customer: P | null;
  agent: P | null;
  agentName: string | null;
  /** The highest sequence number seen from the customer (a reloaded page numbers on from it). */
  seq: number;
  /** When a frame of page content or a command last passed (monotonic ms), for idle expiry. */
  activeAt: number;
  /** When the relay last forwarded an agent's `request-snapshot` (monotonic ms): one per SNAPSHOT_REQUEST_MS. */
  snapshotAskedAt: number;
  /** Random, per session: asset grants are signed over it, so they die with the session (see asset-grant.ts). */
  readonly assetSalt: string;
  /** The relay nodes holding each role elsewhere (null: none known, or here; always null in memory). */
  readonly remote: { customer: string | null; agent: string | null };
}

export interface Created<P> {
  readonly session: Session<P>;
  /** The resume token, given out once. */
  readonly token: string;
}

export interface Resumed<P> {
  readonly session: Session<P>;
  /** The connection that held the role here before (to close as replaced). */
  readonly previous: P | null;
  /** After a hand-off: the new domain's own resume token. */
  readonly token?: string;
}

export interface Joined<P> {
  readonly session: Session<P>;
  readonly previous: P | null;
  /** The agent's resume token: the one it came back with (a reclaim), or a new one. */
  readonly token: string;
  /** The agent took its held place back. */
  readonly reclaim: boolean;
}

/** A customer's resume: with its ID and resume token, or with a hand-off token on another domain. */
export type ResumeRequest = ({ code: string; token: string } | { handoff: string }) & {
  /** When the client opened this connection, by its clock (see ResumeFrame's `at`). */
  at?: number;
  /** The page's Origin (undefined: it sent none). */
  origin: string | undefined;
};

export interface JoinRequest {
  code: string;
  /** The agent's resume token, when it comes back for its place. */
  token?: string;
  name: string;
  at?: number;
  /** What failed joins are counted under (an IP, an agent): each gets only so many within a window. */
  failureKeys: readonly string[];
}

/** What a directory tells the relay it holds: things that happened away from the relay's own calls. */
export interface DirectoryEvents<P> {
  /**
   * The session is over and forgotten here; its parties here are still bound to it. `expired`: the
   * deadline that ended it here (log it and say so); null: it ended elsewhere, or vanished.
   */
  ended(session: Session<P>, by: EndedBy, expired: Deadline | null): void;
  /** A dropped agent did not come back in time: its place is free again. */
  released(session: Session<P>): void;
  /** Another connection took this party's role elsewhere: close it as replaced (the other party hears nothing). */
  replaced(party: P): void;
  /** A party came or went elsewhere: tell the session's other party here. */
  peer(session: Session<P>, frame: PeerFrame): void;
  /** A frame from a party on another node, for the `role` party here; `raw` is its original text. */
  frame(code: string, role: Role, kind: string, raw: Buffer): void;
  /** A message from another node was dropped: its MAC was missing or wrong, or it did not parse. */
  rejected(reason: 'mac' | 'invalid'): void;
}

export interface SessionDirectory<P extends Party> {
  /** Sessions this relay knows: every live one in memory; on Redis, those with a party or a deadline here. */
  readonly size: number;
  /** Whether the store answers now (false: handshakes are refused as unavailable). */
  readonly up: boolean;
  /** One secret-free line for the start-up summary. */
  readonly describe: string;
  /** Extra fields for GET /healthz. */
  health(): Record<string, string>;
  /** Resolves true once the store answers, false after `timeoutMs` without it. */
  ready(timeoutMs: number): Promise<boolean>;

  find(code: string): Session<P> | undefined;
  values(): IterableIterator<Session<P>>;

  /** Opens a session with a fresh 9-digit ID, `customer` holding it; its unjoined deadline starts. */
  create(customer: P, request: { mode: Mode; ip: string; origin: string | undefined }): Promise<Created<P> | Refusal>;
  /** The customer's role goes to `customer` if its token (or hand-off token) fits; its grace deadline stops. */
  resume(customer: P, request: ResumeRequest): Promise<Resumed<P> | Refusal>;
  /** The agent's place goes to `agent` unless another agent holds it; a miss counts as a failed join. */
  join(agent: P, request: JoinRequest): Promise<Joined<P> | Refusal | Locked>;
  /** `party`'s connection is gone: its role is vacant and its grace deadline starts; false if it no longer held it. */
  depart(session: Session<P>, role: Role, party: P): boolean;
  /** The agent leaves on purpose: its place is free at once. */
  leave(session: Session<P>, agent: P): void;
  /** A one-time token that opens the session on another of its domains; null if none could be issued now. */
  issueHandoff(session: Session<P>, binding: HandoffBinding | null, ttlMs: number): Promise<string | null>;
  /** Ends the session everywhere and forgets it here (the caller tells its parties here). */
  end(session: Session<P>, by: EndedBy): void;
  /** The customer's sequence number rose (session.seq): remember it for a page that resumes elsewhere. */
  saveSeq(session: Session<P>): void;
  /** Sends a frame to `role`'s party on another node; false when nobody holds it elsewhere (always, in memory). */
  sendElsewhere(session: Session<P>, role: Role, kind: string, raw: Buffer): boolean;
  /** What the asset proxy needs of a session, wherever it lives; null once it ended. */
  assetSession(code: string): Promise<{ origin: string | null; salt: string } | null>;
  /** Forgets every session here at once (no deadline fires after), then lets go of the store. */
  close(): Promise<void>;
}

/** Shows enough of a session ID to correlate log lines, not enough to join: "123******". */
export const maskCode = (code: string) => `${code.slice(0, 3)}******`;

/** Whether a directory answer is a refusal (or a lockout) rather than a handshake's result. */
export const refused = <T extends object>(outcome: T | Refusal | Locked): outcome is Refusal | Locked =>
  typeof outcome === 'string' || 'retryAfterMs' in outcome;
