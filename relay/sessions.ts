/**
 * The session store: live sessions by ID, their resume-token hashes and expiry timers.
 * It knows nothing of sockets beyond holding them, so it can be read (and swapped for a
 * shared store) on its own.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Mode } from '../core/protocol/index.js';
import type { Clock, ClockTimer } from './clock.js';
import { mayRedeem, type HandoffBinding } from './origins.js';

/** Why a session's timer is running: nobody joined yet, the customer dropped, or the agent dropped (its place is held). */
export const Deadline = { Unjoined: 'unjoined', Grace: 'grace', AgentGrace: 'agent' } as const;
export type Deadline = (typeof Deadline)[keyof typeof Deadline];

export interface Session<S> {
  readonly code: string;
  readonly mode: Mode;
  /**
   * SHA-256 of each resume token; tokens themselves are never kept. One per origin the session
   * reached (a hand-off gives the next domain its own), the oldest dropped past MAX_RESUME_TOKENS.
   */
  readonly tokenHashes: Buffer[];
  /** Live hand-off tokens (SHA-256) and when each stops being good: a few at most (a page keeps one ready per link followed). */
  readonly handoffs: Array<{ hash: string; expiresAt: number; binding: HandoffBinding | null }>;
  /** The creating client's IP key, for the sessions-per-IP limit. */
  readonly ip: string;
  /** The Origin of the customer's latest create/resume (null: it sent none): the asset proxy fetches from it. */
  customerOrigin: string | null;
  /** Random, per session: asset grants are signed over it, so they die with the session (see asset-grant.ts). */
  readonly assetSalt: string;
  customer: S | null;
  agent: S | null;
  agentName: string | null;
  /** SHA-256 of the bound agent's resume token: while set and `agent` is null, the place is held for it. */
  agentTokenHash: Buffer | null;
  /** The highest sequence number seen from the customer (a reloaded page numbers on from it). */
  seq: number;
  /** When a frame of page content or a command last passed (ms, performance.now()), for idle expiry. */
  activeAt: number;
  /** When the relay last forwarded an agent's `request-snapshot` (clock.monotonic()): one per SNAPSHOT_REQUEST_MS. */
  snapshotAskedAt: number;
  /** One slot per deadline (a plain object: a Map would cost ~250 B per session). */
  readonly timers: Record<Deadline, ClockTimer | undefined>;
  /**
   * On Redis, the nodes holding the other parties (null: none known, or on this node). In memory
   * only, both stay null.
   */
  readonly remote: { customer: string | null; agent: string | null };
  /** When the client opened the connection holding each role, by its clock (see ResumeFrame's `at`; 0: unknown). */
  readonly openedAt: { customer: number; agent: number };
  /** Counted against its IP's sessionsPerIp on this relay (the node that created it). */
  counted: boolean;
}

/** SHA-256 of a token: what the relay keeps instead of the token. */
export const hashToken = (text: string) => createHash('sha256').update(text).digest();
const sha256 = hashToken;
/** A fresh secret: 32 random bytes, base64url. */
export const newToken = () => randomBytes(32).toString('base64url');
/** A candidate session ID: 9 digits from a CSPRNG. */
export const newCode = () => String(randomInt(0, 1_000_000_000)).padStart(9, '0');
export const MAX_RESUME_TOKENS = 8;
const MAX_HANDOFFS = 4;
const noTimers = (): Record<Deadline, undefined> => ({ unjoined: undefined, grace: undefined, agent: undefined });

/** Shows enough of a session ID to correlate log lines, not enough to join: "123******". */
export const maskCode = (code: string) => `${code.slice(0, 3)}******`;

/** What a session is made of, without its sockets and timers (what a shared record holds). */
type SessionFields<S> = Pick<
  Session<S>,
  'code' | 'mode' | 'ip' | 'tokenHashes' | 'agentTokenHash' | 'agentName' | 'seq' | 'customerOrigin' | 'assetSalt'
>;

export class SessionStore<S> {
  readonly #sessions = new Map<string, Session<S>>();
  /** Live hand-off tokens, by hash (a map lookup is what makes a hash safe to compare here). */
  readonly #handoffs = new Map<string, Session<S>>();

  /** `onExpire` runs when a deadline passes; the caller ends the session. */
  constructor(
    private readonly clock: Clock,
    private readonly onExpire: (session: Session<S>, why: Deadline) => void,
  ) {}

  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Opens a session with a fresh 9-digit ID and returns the resume token once. On Redis the
   * cluster picked the ID (unique cluster-wide) and the token (its hash is in the record): `preset`.
   */
  create(
    mode: Mode,
    customer: S,
    ip: string,
    now: number,
    origin: string | null,
    preset?: { code: string; token: string; assetSalt: string },
  ): { session: Session<S>; token: string } {
    let code = preset?.code;
    if (code === undefined) {
      do code = newCode();
      while (this.#sessions.has(code));
    }
    const token = preset?.token ?? newToken();
    const session = this.#add(
      {
        code,
        mode,
        tokenHashes: [sha256(token)],
        ip,
        agentTokenHash: null,
        agentName: null,
        seq: 0,
        customerOrigin: origin,
        assetSalt: preset?.assetSalt ?? newToken(),
      },
      now,
    );
    session.customer = customer;
    session.counted = true;
    return { session, token };
  }

  /** On Redis: a session this relay learns of from its shared record (a party arrived here), or the one it has. */
  adopt(record: SessionFields<S>, now: number): Session<S> {
    const known = this.#sessions.get(record.code);
    if (!known) return this.#add(record, now);
    // The record is the truth for what any node may have changed.
    known.tokenHashes.splice(0, known.tokenHashes.length, ...record.tokenHashes);
    known.agentTokenHash = record.agentTokenHash;
    known.agentName = record.agentName;
    known.seq = Math.max(known.seq, record.seq);
    known.customerOrigin = record.customerOrigin;
    return known;
  }

  #add(r: SessionFields<S>, now: number): Session<S> {
    const session: Session<S> = {
      code: r.code,
      mode: r.mode,
      tokenHashes: [...r.tokenHashes],
      handoffs: [],
      ip: r.ip,
      customerOrigin: r.customerOrigin,
      assetSalt: r.assetSalt,
      customer: null,
      agent: null,
      agentName: r.agentName,
      agentTokenHash: r.agentTokenHash,
      seq: r.seq,
      activeAt: now,
      snapshotAskedAt: -Infinity,
      timers: noTimers(),
      remote: { customer: null, agent: null },
      openedAt: { customer: 0, agent: 0 },
      counted: false,
    };
    this.#sessions.set(r.code, session);
    return session;
  }

  /** Whether any of the session's deadlines is running here. */
  armed(session: Session<S>): boolean {
    return Object.values(session.timers).some((timer) => timer !== undefined);
  }

  find(code: string): Session<S> | undefined {
    return this.#sessions.get(code);
  }

  /** Constant-time check of a resume token (hashing first makes the lengths equal). */
  verify(session: Session<S>, token: string): boolean {
    const hash = sha256(token);
    return session.tokenHashes.some((known) => timingSafeEqual(known, hash));
  }

  /** A resume token for one more origin (after a hand-off); returns it once. */
  addResumeToken(session: Session<S>): string {
    const token = newToken();
    session.tokenHashes.push(sha256(token));
    if (session.tokenHashes.length > MAX_RESUME_TOKENS) session.tokenHashes.shift();
    return token;
  }

  /** A one-time token that carries the session to another domain (past MAX_HANDOFFS, the oldest stops working). */
  issueHandoff(session: Session<S>, ttlMs: number, now: number, binding: HandoffBinding | null): string {
    const token = newToken();
    const hash = sha256(token).toString('base64');
    session.handoffs.push({ hash, expiresAt: now + ttlMs, binding });
    this.#handoffs.set(hash, session);
    if (session.handoffs.length > MAX_HANDOFFS) this.#handoffs.delete(session.handoffs.shift()!.hash);
    return token;
  }

  /** The session a hand-off token opens for a page at `origin`, once: the token is spent either way. */
  redeemHandoff(token: string, now: number, origin: string | undefined): Session<S> | undefined {
    const hash = sha256(token).toString('base64');
    const session = this.#handoffs.get(hash);
    if (!session) return undefined;
    this.#handoffs.delete(hash);
    const i = session.handoffs.findIndex((handoff) => handoff.hash === hash);
    const live = i >= 0 && session.handoffs[i]!.expiresAt > now && mayRedeem(session.handoffs[i]!.binding, origin);
    if (i >= 0) session.handoffs.splice(i, 1);
    return live && this.#sessions.get(session.code) === session ? session : undefined;
  }

  /** Gives the agent now bound a resume token of its own; returns it once. */
  issueAgentToken(session: Session<S>): string {
    const token = newToken();
    session.agentTokenHash = sha256(token);
    return token;
  }

  /** Whether `token` is the bound (or held) agent's resume token. */
  verifyAgent(session: Session<S>, token: string | undefined): boolean {
    return !!session.agentTokenHash && token !== undefined && timingSafeEqual(session.agentTokenHash, sha256(token));
  }

  /** (Re)starts one of the session's deadlines. */
  arm(session: Session<S>, why: Deadline, ms: number): void {
    this.disarm(session, why);
    const timer = this.clock.setTimeout(() => {
      session.timers[why] = undefined;
      this.onExpire(session, why);
    }, ms);
    timer.unref(); // a pending expiry alone should not keep the process alive
    session.timers[why] = timer;
  }

  disarm(session: Session<S>, why: Deadline): void {
    this.clock.clear(session.timers[why]);
    session.timers[why] = undefined;
  }

  delete(session: Session<S>): void {
    for (const why of Object.values(Deadline)) this.disarm(session, why);
    for (const { hash } of session.handoffs) this.#handoffs.delete(hash);
    if (this.#sessions.get(session.code) === session) this.#sessions.delete(session.code);
  }

  values(): IterableIterator<Session<S>> {
    return this.#sessions.values();
  }

  clear(): void {
    for (const session of [...this.#sessions.values()]) this.delete(session);
  }
}
