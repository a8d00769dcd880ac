/**
 * The session store: live sessions by ID, their resume-token hashes and expiry timers.
 * It knows nothing of sockets beyond holding them, so it can be read (and swapped for a
 * shared store) on its own.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Mode } from '../core/protocol/index.js';

/** Why a session's timer is running: nobody joined yet, the customer dropped, or the agent dropped (its place is held). */
export const Deadline = { Unjoined: 'unjoined', Grace: 'grace', AgentGrace: 'agent' } as const;
export type Deadline = (typeof Deadline)[keyof typeof Deadline];

export interface Session<S> {
  readonly code: string;
  readonly mode: Mode;
  /** SHA-256 of the resume token (base64); the token itself is never kept. */
  readonly tokenHash: string;
  /** The creating client's IP key, for the sessions-per-IP limit. */
  readonly ip: string;
  customer: S | null;
  agent: S | null;
  agentName: string | null;
  /** SHA-256 of the bound agent's resume token: while set and `agent` is null, the place is held for it. */
  agentTokenHash: Buffer | null;
  /** The highest sequence number seen from the customer (a reloaded page numbers on from it). */
  seq: number;
  /** When a frame of page content or a command last passed (ms, performance.now()), for idle expiry. */
  activeAt: number;
  /** One slot per deadline (a plain object: a Map would cost ~250 B per session). */
  readonly timers: Record<Deadline, NodeJS.Timeout | undefined>;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();
const newToken = () => randomBytes(32).toString('base64url');
const noTimers = (): Record<Deadline, undefined> => ({ unjoined: undefined, grace: undefined, agent: undefined });

/** Shows enough of a session ID to correlate log lines, not enough to join: "123******". */
export const maskCode = (code: string) => `${code.slice(0, 3)}******`;

export class SessionStore<S> {
  readonly #sessions = new Map<string, Session<S>>();

  /** `onExpire` runs when a deadline passes; the caller ends the session. */
  constructor(private readonly onExpire: (session: Session<S>, why: Deadline) => void) {}

  get size(): number {
    return this.#sessions.size;
  }

  /** Opens a session with a fresh 9-digit ID and returns the resume token once. */
  create(mode: Mode, customer: S, ip: string, now: number): { session: Session<S>; token: string } {
    let code: string;
    do code = String(randomInt(0, 1_000_000_000)).padStart(9, '0');
    while (this.#sessions.has(code));
    const token = newToken();
    const session: Session<S> = {
      code, mode, tokenHash: sha256(token).toString('base64'), ip, customer, agent: null, agentName: null,
      agentTokenHash: null, seq: 0, activeAt: now, timers: noTimers(),
    };
    this.#sessions.set(code, session);
    return { session, token };
  }

  find(code: string): Session<S> | undefined {
    return this.#sessions.get(code);
  }

  /** Constant-time check of a resume token (hashing first makes the lengths equal). */
  verify(session: Session<S>, token: string): boolean {
    return timingSafeEqual(Buffer.from(session.tokenHash, 'base64'), sha256(token));
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
    const timer = setTimeout(() => {
      session.timers[why] = undefined;
      this.onExpire(session, why);
    }, ms);
    timer.unref(); // a pending expiry alone should not keep the process alive
    session.timers[why] = timer;
  }

  disarm(session: Session<S>, why: Deadline): void {
    clearTimeout(session.timers[why]);
    session.timers[why] = undefined;
  }

  delete(session: Session<S>): void {
    for (const why of Object.values(Deadline)) this.disarm(session, why);
    if (this.#sessions.get(session.code) === session) this.#sessions.delete(session.code);
  }

  values(): IterableIterator<Session<S>> {
    return this.#sessions.values();
  }

  clear(): void {
    for (const session of [...this.#sessions.values()]) this.delete(session);
  }
}
