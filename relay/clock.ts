/**
 * The relay's sense of time, in one place: every rule about time (TTLs, grace periods,
 * lockout windows, heartbeats, idle expiry, hand-off lifetimes) reads and schedules through
 * a Clock, so a test moves time forward instead of waiting for it.
 */
import { performance } from 'node:perf_hooks';

/** What a clock's timers return: something to clear, which need not keep the process alive. */
export interface ClockTimer {
  unref(): unknown;
}

export interface Clock {
  /** Wall-clock ms since the epoch (shared with other nodes through Redis). */
  now(): number;
  /** Monotonic ms, for durations. */
  monotonic(): number;
  setTimeout(run: () => void, ms: number): ClockTimer;
  setInterval(run: () => void, ms: number): ClockTimer;
  /** Clears a timer of either kind; `undefined` is ignored. */
  clear(timer: ClockTimer | undefined): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  setInterval: (run, ms) => setInterval(run, ms),
  clear: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout> | undefined),
};

interface Scheduled {
  at: number;
  readonly every: number | null;
  readonly run: () => void;
}

/**
 * A clock that stands still until `advance()` moves it, running the timers that fall due in
 * order. For tests of a relay (yours or ours): `createRelay({ clock })`, then `clock.advance(ms)`.
 */
export class ManualClock implements Clock {
  readonly #timers = new Map<ClockTimer, Scheduled>();
  #elapsed = 0;

  constructor(readonly startedAt = Date.now()) {}

  now(): number {
    return this.startedAt + this.#elapsed;
  }

  monotonic(): number {
    return this.#elapsed;
  }

  setTimeout(run: () => void, ms: number): ClockTimer {
    return this.#schedule(run, ms, null);
  }

  setInterval(run: () => void, ms: number): ClockTimer {
    return this.#schedule(run, ms, Math.max(1, ms));
  }

  clear(timer: ClockTimer | undefined): void {
    if (timer) this.#timers.delete(timer);
  }

  /** Moves time on by `ms`, running every timer due meanwhile at its own time (ties in the order they were set). */
  advance(ms: number): void {
    const end = this.#elapsed + ms;
    for (;;) {
      let due: [ClockTimer, Scheduled] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      const [timer, scheduled] = due;
      this.#elapsed = scheduled.at;
      if (scheduled.every === null) this.#timers.delete(timer);
      else scheduled.at += scheduled.every;
      scheduled.run();
    }
    this.#elapsed = end;
  }

  #schedule(run: () => void, ms: number, every: number | null): ClockTimer {
    const timer: ClockTimer = { unref: () => timer };
    this.#timers.set(timer, { at: this.#elapsed + Math.max(0, ms), every, run });
    return timer;
  }
}
