/**
 * rrweb 2.2.1 behind the harness, with its defaults: `record({ emit })` (masks password
 * inputs, inlines stylesheets, records same-origin iframes and shadow DOM), and a
 * `Replayer` in live mode (`liveMode: true`, `startLive()`, `addEvent()`), as its docs show.
 */
import { record, Replayer } from 'rrweb';
import { install, type Applier } from './harness.js';

interface RREvent {
  type: number;
  timestamp: number;
  delay?: number;
}

install({
  name: 'rrweb',
  start(emit) {
    const stop = record({ emit: (e) => emit(e) });
    if (!stop) throw new Error('rrweb record() did not start');
    return { resnapshot: () => record.takeFullSnapshot(true), stop };
  },
  createApplier(container): Applier {
    const replayer = new Replayer([], { liveMode: true, root: container });
    // Time spent inside rrweb's own apply code: the two methods its live-mode timer calls
    // for full snapshots and incremental events (patched on the instance, not the class).
    const r = replayer as unknown as Record<string, (...args: unknown[]) => unknown>;
    let spent = 0;
    for (const method of ['rebuildFullSnapshot', 'applyIncremental']) {
      const original = r[method]!;
      r[method] = function (this: unknown, ...args: unknown[]) {
        const t = performance.now();
        try {
          return original.apply(this, args);
        } finally {
          spent += performance.now() - t;
        }
      };
    }
    let baseline = 0;
    /**
     * Live mode casts an event once the live clock reaches its timestamp (in the next
     * animation frame), so every event gets the baseline timestamp: none is delayed,
     * none is "in the past" (that path builds a virtual DOM only `play()` flushes).
     */
    const feed = (events: unknown[]): Promise<number> =>
      new Promise((resolve) => {
        const list = events as RREvent[];
        if (!list.length) return resolve(0);
        const last = list[list.length - 1];
        const before = spent;
        const onCast = (e: unknown): void => {
          if (e === last) {
            replayer.off('event-cast', onCast);
            resolve(spent - before);
          }
        };
        replayer.on('event-cast', onCast);
        for (const e of list) {
          e.timestamp = baseline;
          replayer.addEvent(e as never);
        }
      });
    return {
      load(events) {
        baseline = (events[0] as RREvent | undefined)?.timestamp ?? Date.now();
        replayer.startLive(baseline);
        return feed(events);
      },
      apply: feed,
      document: () => replayer.iframe.contentDocument,
      outOfStep: () => 0,
    };
  },
});
