/**
 * Pacing for work someone else asks for: at most one run per interval, the first at once, and any
 * asked for within the interval coalesced into one run when it has passed. So a request is never
 * lost (the last one is always answered) and a flood of them costs one run per interval. DOM-free.
 */

/** The clock and timers a Pacer runs on: the page's by default; tests hand in their own. */
export interface Timers {
  /** Monotonic ms. */
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

/** The page's clock and timers. */
export const pageTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

export class Pacer {
  /** When `run` last ran for a request. */
  #ranAt = -Infinity;
  /** A run waiting for the interval to pass (one at most, however many asked). */
  #timer: unknown;
  #waiting = false;

  /** What to run for a request. */
  readonly #work: () => void;
  readonly #intervalMs: number;
  readonly #timers: Timers;

  constructor(run: () => void, intervalMs: number, timers: Timers = pageTimers) {
    this.#work = run;
    this.#intervalMs = intervalMs;
    this.#timers = timers;
  }

  /** Whether a run is waiting for its interval. */
  get waiting(): boolean {
    return this.#waiting;
  }

  /** Runs now if the interval since the last run has passed; else once when it has (coalescing every request meanwhile). */
  request(): void {
    if (this.#waiting) return;
    const wait = this.#ranAt + this.#intervalMs - this.#timers.now();
    if (wait <= 0) return this.#run();
    this.#waiting = true;
    this.#timer = this.#timers.setTimeout(() => this.#run(), wait);
  }

  /** What a waiting run would do happened anyway (or is no longer wanted): it does not run. The interval still counts. */
  cancel(): void {
    if (!this.#waiting) return;
    this.#timers.clearTimeout(this.#timer);
    this.#waiting = false;
    this.#timer = undefined;
  }

  #run(): void {
    this.#waiting = false;
    this.#timer = undefined;
    this.#ranAt = this.#timers.now();
    this.#work();
  }
}
