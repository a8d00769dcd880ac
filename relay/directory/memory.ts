/**
 * The session directory of one process: every rule of SessionDirectory on plain maps and the
 * relay's clock. It imports nothing of Node, so Storybook's loopback relay runs the very same rules
 * in the browser; the relay hands in its per-IP and failed-join counters (limits.ts).
 */
import type { Mode, Role } from '../../core/protocol/index.js';
import type { Clock, ClockTimer } from '../clock.js';
import { mayRedeem, type HandoffBinding } from '../origins.js';
import { Deadline, type SessionDirectory } from './directory.js';
import type {
  Created,
  DirectoryEvents,
  Joined,
  JoinRequest,
  Locked,
  Party,
  Refusal,
  Resumed,
  ResumeRequest,
  Session,
} from './directory.js';
import { Deadlines, graceOf, hold, type Held } from './held.js';
import { hashToken, newCode, newToken, sameHash } from './tokens.js';

/** Resume tokens kept per session: one per origin it reached (a hand-off gives the next domain its own). */
export const MAX_RESUME_TOKENS = 8;
/** Live hand-off tokens per session: a page keeps one ready per link followed. */
const MAX_HANDOFFS = 4;

/** Live things per key (sessions per IP), refusing past a cap. */
export interface KeyCount {
  tryAdd(key: string): boolean;
  remove(key: string): void;
}

/** Failures per key within a sliding window (see limits.ts FailureLimiter). */
export interface FailureCount {
  retryAfter(key: string, now: number): number;
  fail(key: string, now: number): void;
  sweep(now: number): void;
}

export interface MemoryDirectoryOptions {
  clock: Clock;
  unjoinedTtlMs: number;
  graceMs: number;
  /** Sessions per creating IP; default: unlimited. */
  sessionsPerIp?: KeyCount;
  /** Failed joins per key; default: not counted. */
  joinFailures?: FailureCount;
  /** How often `joinFailures` forgets keys with no recent failure. */
  sweepMs?: number;
}

const unlimited: KeyCount = { tryAdd: () => true, remove: () => {} };
const uncounted: FailureCount = { retryAfter: () => 0, fail: () => {}, sweep: () => {} };

export class MemoryDirectory<P extends Party> implements SessionDirectory<P> {
  readonly up = true;
  readonly describe = 'sessions in memory (one process; --redis to run several)';
  readonly #sessions = new Map<string, Held<P>>();
  /** Live hand-off tokens, by hash (a map lookup is what makes a hash safe to compare here). */
  readonly #handoffs = new Map<string, Held<P>>();
  readonly #clock: Clock;
  readonly #options: MemoryDirectoryOptions;
  readonly #perIp: KeyCount;
  readonly #failures: FailureCount;
  readonly #sweep: ClockTimer | undefined;
  readonly #deadlines: Deadlines<P>;
  readonly #events: Pick<DirectoryEvents<P>, 'ended' | 'released'>;

  constructor(options: MemoryDirectoryOptions, events: Pick<DirectoryEvents<P>, 'ended' | 'released'>) {
    this.#events = events;
    this.#options = options;
    this.#clock = options.clock;
    this.#perIp = options.sessionsPerIp ?? unlimited;
    this.#failures = options.joinFailures ?? uncounted;
    this.#deadlines = new Deadlines(this.#clock, (session, why) => this.#expire(session, why));
    if (options.sweepMs) {
      this.#sweep = this.#clock.setInterval(() => this.#failures.sweep(this.#clock.now()), options.sweepMs);
      this.#sweep.unref();
    }
  }

  get size(): number {
    return this.#sessions.size;
  }

  health(): Record<string, string> {
    return {};
  }

  ready(): Promise<boolean> {
    return Promise.resolve(true);
  }

  find(code: string): Session<P> | undefined {
    return this.#sessions.get(code);
  }

  values(): IterableIterator<Session<P>> {
    return this.#sessions.values();
  }

  async create(customer: P, request: { mode: Mode; ip: string; origin: string | undefined }): Promise<Created<P> | Refusal> {
    const token = newToken();
    const tokenHash = await hashToken(token);
    if (!this.#perIp.tryAdd(request.ip)) return 'too-many-sessions';
    let code: string;
    do code = newCode();
    while (this.#sessions.has(code));
    const session = hold<P>(
      {
        code,
        mode: request.mode,
        ip: request.ip,
        tokenHashes: [tokenHash],
        agentTokenHash: null,
        agentName: null,
        seq: 0,
        customerOrigin: request.origin ?? null,
        assetSalt: newToken(),
      },
      this.#clock.monotonic(),
    );
    session.customer = customer;
    this.#sessions.set(code, session);
    this.#deadlines.arm(session, Deadline.Unjoined, this.#options.unjoinedTtlMs);
    return { session, token };
  }

  async resume(customer: P, request: ResumeRequest): Promise<Resumed<P> | Refusal> {
    const handoff = 'handoff' in request;
    const hash = await hashToken(handoff ? request.handoff : request.token);
    const resumeToken = handoff ? newToken() : undefined;
    const resumeHash = resumeToken === undefined ? null : await hashToken(resumeToken);
    // From here to the end, no await: the checks and the change are one step.
    const session = handoff ? this.#redeem(hash, request.origin) : this.#sessions.get(request.code);
    if (!session) return handoff ? 'handoff-spent' : 'not-found';
    if (!handoff && !session.tokenHashes.some((known) => sameHash(known, hash))) return 'not-found';
    if (request.at !== undefined && request.at < session.openedAt.customer) return 'stale';
    session.openedAt.customer = request.at ?? 0;
    session.customerOrigin = request.origin ?? null; // a hand-off brings the page to another of its domains
    const previous = session.customer;
    session.customer = customer;
    this.#deadlines.disarm(session, Deadline.Grace);
    if (resumeHash === null) return { session, previous };
    session.tokenHashes.push(resumeHash);
    if (session.tokenHashes.length > MAX_RESUME_TOKENS) session.tokenHashes.shift();
    return { session, previous, token: resumeToken };
  }

  /** The session a hand-off token opens for a page at `origin`, once: the token is spent either way. */
  #redeem(hash: string, origin: string | undefined): Held<P> | undefined {
    const session = this.#handoffs.get(hash);
    if (!session) return undefined;
    this.#handoffs.delete(hash);
    const i = session.handoffs.findIndex((handoff) => handoff.hash === hash);
    const handoff = session.handoffs[i];
    if (i >= 0) session.handoffs.splice(i, 1);
    const live = !!handoff && handoff.expiresAt > this.#clock.monotonic() && mayRedeem(handoff.binding, origin);
    return live && this.#sessions.get(session.code) === session ? session : undefined;
  }

  async join(agent: P, request: JoinRequest): Promise<Joined<P> | Refusal | Locked> {
    const offered = request.token === undefined ? null : await hashToken(request.token);
    const fresh = newToken();
    const freshHash = await hashToken(fresh);
    // From here on, no await: parallel guesses cannot both pass the check before either is counted.
    const now = this.#clock.now();
    const wait = Math.max(0, ...request.failureKeys.map((key) => this.#failures.retryAfter(key, now)));
    if (wait > 0) return { retryAfterMs: wait };
    const session = this.#sessions.get(request.code);
    if (!session) {
      for (const key of request.failureKeys) this.#failures.fail(key, now);
      return 'not-found';
    }
    // The place is taken while an agent is bound, and held for it a while after its connection drops.
    const reclaim = offered !== null && session.agentTokenHash !== null && sameHash(session.agentTokenHash, offered);
    if (session.agentTokenHash !== null && !reclaim) return 'taken';
    if (reclaim && request.at !== undefined && request.at < session.openedAt.agent) return 'stale';
    session.openedAt.agent = request.at ?? 0;
    const previous = session.agent;
    session.agent = agent;
    session.agentName = request.name;
    // A reclaim keeps its token: were a new one lost with this frame, the agent could never come back.
    if (!reclaim) session.agentTokenHash = freshHash;
    this.#deadlines.disarm(session, Deadline.Unjoined);
    this.#deadlines.disarm(session, Deadline.AgentGrace);
    return { session, previous, token: reclaim ? request.token! : fresh, reclaim };
  }

  depart(session: Session<P>, role: Role, party: P): boolean {
    const held = this.#sessions.get(session.code);
    if (held !== session || session[role] !== party) return false;
    session[role] = null;
    this.#deadlines.arm(held, graceOf(role), this.#options.graceMs);
    return true;
  }

  leave(session: Session<P>, agent: P): void {
    if (session.agent === agent) session.agent = null;
    const held = this.#sessions.get(session.code);
    if (held === session) this.#release(held);
  }

  /** The agent's place is free again: no token reclaims it. */
  #release(session: Held<P>): void {
    this.#deadlines.disarm(session, Deadline.AgentGrace);
    session.agentTokenHash = null;
    session.agentName = null;
  }

  async issueHandoff(session: Session<P>, binding: HandoffBinding | null, ttlMs: number): Promise<string | null> {
    const token = newToken();
    const hash = await hashToken(token);
    const held = this.#sessions.get(session.code);
    if (held !== session) return null;
    held.handoffs.push({ hash, expiresAt: this.#clock.monotonic() + ttlMs, binding });
    this.#handoffs.set(hash, held);
    if (held.handoffs.length > MAX_HANDOFFS) this.#handoffs.delete(held.handoffs.shift()!.hash);
    return token;
  }

  end(session: Session<P>): void {
    const held = this.#sessions.get(session.code);
    if (held === session) this.#delete(held);
  }

  saveSeq(): void {} // session.seq is the record

  sendElsewhere(): boolean {
    return false; // there is no elsewhere
  }

  async assetSession(code: string): Promise<{ origin: string | null; salt: string } | null> {
    const session = this.#sessions.get(code);
    return session ? { origin: session.customerOrigin, salt: session.assetSalt } : null;
  }

  close(): Promise<void> {
    this.#clock.clear(this.#sweep);
    for (const session of [...this.#sessions.values()]) this.#delete(session);
    return Promise.resolve();
  }

  #expire(session: Held<P>, why: Deadline): void {
    if (why === Deadline.AgentGrace) {
      this.#release(session);
      return this.#events.released(session);
    }
    this.#delete(session);
    this.#events.ended(session, 'expired', why);
  }

  #delete(session: Held<P>): void {
    if (this.#sessions.get(session.code) !== session) return;
    this.#deadlines.disarmAll(session);
    for (const { hash } of session.handoffs) this.#handoffs.delete(hash);
    this.#sessions.delete(session.code);
    this.#perIp.remove(session.ip);
  }
}
