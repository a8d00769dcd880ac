/**
 * The in-page half of the latency benchmark, shared by both engines' bundles (ours.ts,
 * rrweb.ts): one clock for two pages, the customer's changes and keystrokes, and the agent's
 * watch on its mirror. run.js drives it through `window.__latency`.
 *
 * Every time is `performance.timeOrigin + performance.now()`: milliseconds on the browser's
 * clock, comparable between the customer's and the agent's pages (their offset is measured by
 * `syncClock()` and taken off by run.js).
 */

/** Now, on the clock both pages share. */
export const clock = (): number => performance.timeOrigin + performance.now();

const CLOCK_CHANNEL = 'latency-clock';

/** Agent side: answers every clock probe with its own time. */
export function answerClock(): void {
  const channel = new BroadcastChannel(CLOCK_CHANNEL);
  channel.onmessage = (e: MessageEvent<{ probe: number }>) => {
    if ('probe' in e.data) channel.postMessage({ probe: e.data.probe, agent: clock() });
  };
}

/**
 * Customer side: the agent's clock minus ours, from the probe with the shortest round trip
 * (NTP's estimate: the answer was made half way through the round trip).
 */
export async function syncClock(probes = 30): Promise<{ offset: number; rtt: number }> {
  const channel = new BroadcastChannel(CLOCK_CHANNEL);
  let best = { offset: 0, rtt: Infinity };
  for (let i = 0; i < probes; i++) {
    const sent = clock();
    const answer = await new Promise<{ probe: number; agent: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the agent page does not answer clock probes')), 2000);
      channel.onmessage = (e) => {
        if (e.data.probe === sent && 'agent' in e.data) {
          clearTimeout(timer);
          resolve(e.data);
        }
      };
      channel.postMessage({ probe: sent });
    });
    const back = clock();
    if (back - sent < best.rtt) best = { offset: answer.agent - (sent + back) / 2, rtt: back - sent };
  }
  channel.close();
  return best;
}

const SLOTS = 100;

/**
 * Customer side: `count` changes at `rate` per second, change i writing `base + i` into one of
 * 100 slots in turn (several changes in one task still each stay visible). Resolves with the
 * time each change was made. Changes are paced on a schedule, catching up after a late timer.
 */
export function changes(base: number, count: number, rate: number): Promise<number[]> {
  const slots = document.getElementById('slots')!.children;
  const made: number[] = [];
  const interval = 1000 / rate;
  const start = performance.now();
  return new Promise((resolve) => {
    const tick = (): void => {
      const due = performance.now() - start;
      while (made.length < count && made.length * interval <= due) {
        const i = made.length;
        made.push(clock());
        slots[i % SLOTS]!.textContent = String(base + i);
      }
      if (made.length >= count) return resolve(made);
      setTimeout(tick, Math.max(0, start + made.length * interval - performance.now()));
    };
    tick();
  });
}

/** Customer side: from now, the time of every keydown in the page (the k-th key makes the value k long). */
export function recordKeys(): { made: number[] } {
  const record = { made: [] as number[] };
  window.addEventListener('keydown', () => record.made.push(clock()), true);
  (document.getElementById('typing') as HTMLInputElement).focus();
  return record;
}

/** The agent's view of the mirror: when each slot value and each field value first showed. */
export interface Watch {
  slots: Map<number, number>;
  values: Map<number, number>;
}

/**
 * Agent side: watches the mirrored document. Slot values by a MutationObserver (its callback
 * runs right after the task that changed the DOM); the typing field's value by wrapping the
 * mirror realm's `value` setter (a property, which no observer sees), called by both engines.
 */
export function watchMirror(doc: Document): Watch {
  const watch: Watch = { slots: new Map(), values: new Map() };
  const slots = doc.getElementById('slots');
  if (slots) {
    const scan = (): void => {
      const t = clock();
      for (const slot of Array.from(slots.children)) {
        const v = Number(slot.textContent);
        if (slot.textContent && Number.isFinite(v) && !watch.slots.has(v)) watch.slots.set(v, t);
      }
    };
    new MutationObserver(scan).observe(slots, { childList: true, subtree: true, characterData: true });
  }
  const view = doc.defaultView as (Window & typeof globalThis) | null;
  if (view) {
    const proto = view.HTMLInputElement.prototype;
    const native = Object.getOwnPropertyDescriptor(proto, 'value')!;
    Object.defineProperty(proto, 'value', {
      ...native,
      set(this: HTMLInputElement, value: string) {
        native.set!.call(this, value);
        if (this.id === 'typing' && !watch.values.has(value.length)) watch.values.set(value.length, clock());
      },
    });
  }
  return watch;
}

/** Polls `check` every animation frame until it is truthy (or `ms` pass). */
export function until<T>(check: () => T, ms = 20_000, what = 'condition'): Promise<NonNullable<T>> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const value = check();
      if (value) return resolve(value as NonNullable<T>);
      if (performance.now() - start > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

export interface Latency {
  syncClock: typeof syncClock;
  changes: typeof changes;
  startKeys(): void;
  keys(): number[];
  arrivals(): { slots: Array<[number, number]>; values: Array<[number, number]> };
  /** Customer side: starts sharing (ours: resolves with the session ID). */
  share(url: string): Promise<string>;
  /** Agent side: joins and resolves once the mirror shows the page and the watch is on. */
  join(url: string, code: string): Promise<void>;
}

/** Installs `window.__latency` with an engine's share and join. */
export function install(engine: Pick<Latency, 'share'> & { join(url: string, code: string): Promise<Document> }): void {
  let keys: { made: number[] } | undefined;
  let watch: Watch | undefined;
  const latency: Latency = {
    syncClock,
    changes,
    startKeys: () => void (keys = recordKeys()),
    keys: () => keys?.made ?? [],
    arrivals: () => ({ slots: [...(watch?.slots ?? [])], values: [...(watch?.values ?? [])] }),
    share: (url) => engine.share(url),
    async join(url, code) {
      const doc = await engine.join(url, code);
      watch = watchMirror(doc);
    },
  };
  (window as unknown as { __latency: Latency }).__latency = latency;
  if (new URLSearchParams(location.search).get('role') === 'agent') answerClock();
}
