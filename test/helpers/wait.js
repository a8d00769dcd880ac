// Waiting for a state instead of sleeping: the one `until` of every suite (Node and browser alike).

/**
 * Resolves with the first truthy value `check()` returns (it may be async), polling every `every` ms;
 * rejects after `ms` with `what` (a string, or a function giving one, for state worth printing then).
 * @template T
 * @param {() => T | Promise<T>} check
 * @param {string | (() => string | Promise<string>)} [what]
 * @param {{ ms?: number, every?: number }} [options]
 * @returns {Promise<NonNullable<Awaited<T>>>}
 */
export async function until(check, what = 'a condition', { ms = 5000, every = 10 } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? await what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

/** A pause: for pacing and fault schedules on purpose (say so where it is used), never to synchronise. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
