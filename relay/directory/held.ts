/**
 * What both directories keep of a session besides what routing reads, and its deadlines on the
 * relay's clock: one shape, so the two backends differ only in where the rules run.
 */
import type { Clock, ClockTimer } from '../clock.js';
import type { HandoffBinding } from '../origins.js';
import { Deadline, type Session } from './directory.js';

export interface Held<P> extends Session<P> {
  /** SHA-256 of each resume token (base64), oldest first: one per origin the session reached. */
  readonly tokenHashes: string[];
  /** The creating client's IP key, for the sessions-per-IP limit. */
  readonly ip: string;
  /** The Origin of the customer's latest create/resume (null: it sent none): the asset proxy fetches from it. */
  customerOrigin: string | null;
  /** SHA-256 of the bound agent's resume token: while set and `agent` is null, the place is held for it. */
  agentTokenHash: string | null;
  /** In memory: live hand-off tokens (SHA-256) and when each stops being good. */
  readonly handoffs: Array<{ hash: string; expiresAt: number; binding: HandoffBinding | null }>;
  /** In memory: when the client opened the connection holding each role, by its clock (0: unknown). */
  readonly openedAt: { customer: number; agent: number };
  /** One slot per deadline (a plain object: a Map would cost ~250 B per session). */
  readonly timers: Record<Deadline, ClockTimer | undefined>;
}

/** What a session is made of, without its parties and timers (what a shared record holds). */
export type HeldFields = Pick<
  Held<unknown>,
  'code' | 'mode' | 'ip' | 'tokenHashes' | 'agentTokenHash' | 'agentName' | 'seq' | 'customerOrigin' | 'assetSalt'
>;

/** A session with nobody here yet, as of monotonic `now`. */
export function hold<P>(fields: HeldFields, now: number): Held<P> {
  return {
    ...fields,
    tokenHashes: [...fields.tokenHashes],
    customer: null,
    agent: null,
    activeAt: now,
    snapshotAskedAt: -Infinity,
    remote: { customer: null, agent: null },
    handoffs: [],
    openedAt: { customer: 0, agent: 0 },
    timers: { unjoined: undefined, grace: undefined, agent: undefined },
  };
}

/** A session's timers: `fire` runs when one passes. */
export class Deadlines<P> {
  readonly #clock: Clock;
  readonly #fire: (session: Held<P>, why: Deadline) => void;

  constructor(clock: Clock, fire: (session: Held<P>, why: Deadline) => void) {
    this.#clock = clock;
    this.#fire = fire;
  }

  /** (Re)starts one of the session's deadlines. */
  arm(session: Held<P>, why: Deadline, ms: number): void {
    this.disarm(session, why);
    const timer = this.#clock.setTimeout(() => {
      session.timers[why] = undefined;
      this.#fire(session, why);
    }, ms);
    timer.unref(); // a pending expiry alone should not keep the process alive
    session.timers[why] = timer;
  }

  disarm(session: Held<P>, why: Deadline): void {
    this.#clock.clear(session.timers[why]);
    session.timers[why] = undefined;
  }

  disarmAll(session: Held<P>): void {
    for (const why of Object.values(Deadline)) this.disarm(session, why);
  }

  /** Whether any of the session's deadlines is running. */
  armed(session: Held<P>): boolean {
    return Object.values(session.timers).some((timer) => timer !== undefined);
  }
}

/** The deadline a departed party's place is held under. */
export const graceOf = (role: 'customer' | 'agent'): Deadline => (role === 'customer' ? Deadline.Grace : Deadline.AgentGrace);
