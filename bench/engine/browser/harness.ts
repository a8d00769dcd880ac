/**
 * The in-page half of the engine benchmark. One copy of this file is bundled with each
 * engine's adapter (ours.ts, rrweb.ts, none.ts), so both engines run the very same
 * measuring code; only the adapter differs. run.js drives it through `window.__bench`.
 *
 * Every figure is taken the same way for both engines:
 *  - time: performance.now() around the engine's own calls, or from the start of a
 *    workload to the moment the engine hands its last event to `emit`;
 *  - bytes: UTF-8 length of JSON.stringify(event), summed, as a WebSocket text frame
 *    would carry it. Events are only collected while timing; they are stringified after.
 */
// The tests' seeded PRNG (mulberry32): the same mutations for both engines.
import { random } from '../../../test/helpers/random.js';

/** What the harness needs from a recording engine. */
export interface Recorder {
  /** Takes a fresh full snapshot now (ours: rec.snapshot(); rrweb: record.takeFullSnapshot(true)). */
  resnapshot(): void;
  stop(): void;
}

/** What the harness needs from a mirror/replayer. Times are ms spent inside the engine's apply code. */
export interface Applier {
  /** Applies the events that make the initial page (snapshot). Resolves with ms spent. */
  load(events: unknown[]): Promise<number>;
  /** Applies incremental events. Resolves with ms spent once all are applied. */
  apply(events: unknown[]): Promise<number>;
  /** The mirrored document (to check the result converged). */
  document(): Document | null;
  /** Ops the mirror reported it could not apply (ours: applyPatch returned false). */
  outOfStep(): number;
}

export interface Adapter {
  name: 'ours' | 'rrweb' | 'none';
  /** Starts recording `document`; the initial snapshot must be emitted before this returns. */
  start(emit: (event: unknown) => void): Recorder;
  createApplier(container: HTMLElement): Applier;
}

declare global {
  interface Window {
    workload?: () => void;
    gc?: () => void;
    __bench?: ReturnType<typeof makeBench>;
  }
}

const encoder = new TextEncoder();
const now = (): number => performance.now();

/** UTF-8 bytes of JSON texts. */
function utf8Bytes(texts: string[]): number {
  let total = 0;
  for (const t of texts) total += encoder.encode(t).length;
  return total;
}

/** After the next animation frame and a task: rAF-scheduled work and microtasks have run. */
export const settle = (): Promise<void> => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

const gc = (): void => window.gc?.();

/** Nodes in a document (all kinds), for the table's footnotes. */
export function countNodes(doc: Document): number {
  const walker = doc.createTreeWalker(doc, NodeFilter.SHOW_ALL);
  let n = 0;
  while (walker.nextNode()) n++;
  return n;
}

/** Elements under <body>: a cheap convergence check between source and mirror. */
function bodyElements(doc: Document | null): number {
  return doc?.body ? doc.body.getElementsByTagName('*').length : -1;
}

function makeBench(adapter: Adapter) {
  return {
    name: adapter.name,

    /**
     * Snapshot of the current (generated) page: first = record() start up to the snapshot
     * being emitted (cold: what a page pays when sharing starts); again = a resnapshot with
     * the engine warm (an agent joining later).
     */
    async snapshot() {
      await settle();
      gc();
      const events: unknown[] = [];
      const t0 = now();
      const rec = adapter.start((e) => events.push(e));
      const firstMs = now() - t0;
      const initial = events.length;
      await settle();
      gc();
      const t1 = now();
      rec.resnapshot();
      const againMs = now() - t1;
      rec.stop();
      const frames = events.slice(0, initial).map((e) => JSON.stringify(e));
      return {
        firstMs,
        againMs,
        bytes: utf8Bytes(frames),
        events: initial,
        nodes: countNodes(document),
        elements: bodyElements(document),
        frames,
      };
    },

    /**
     * One mutation-bench workload (the page defines window.workload). Time runs from the
     * workload's start to the last event the engine emits for it; both engines emit from
     * their MutationObserver callback, a microtask at the end of the workload's task.
     * callbackMs isolates that callback: from the workload's return to the next microtask.
     */
    async workload() {
      await settle();
      gc();
      const events: unknown[] = [];
      let last = 0;
      const rec = adapter.start((e) => {
        events.push(e);
        last = now();
      });
      await settle();
      const first = events.length;
      gc();
      const t0 = now();
      window.workload!();
      const t1 = now();
      await Promise.resolve(); // runs after the MutationObserver microtask queued by the workload
      const t2 = now();
      await settle();
      await settle();
      rec.stop();
      const frames = events.map((e) => JSON.stringify(e));
      return {
        timeMs: events.length > first ? last - t0 : NaN,
        callbackMs: t2 - t1,
        workloadMs: t1 - t0,
        bytes: utf8Bytes(frames.slice(first)),
        patches: events.length - first,
        firstPatch: first,
        elements: bodyElements(document),
        frames,
      };
    },

    /** Applies recorded frames (JSON text, as received) into a fresh mirror in this page. */
    async apply(frames: string[], firstPatch: number) {
      const events = frames.map((f) => JSON.parse(f) as unknown);
      // Not rendered: apply figures are the engines' DOM work, not the browser's layout of the result.
      const stage = document.createElement('div');
      stage.style.display = 'none';
      document.body.append(stage);
      const applier = adapter.createApplier(stage);
      await settle();
      gc();
      const loadMs = await applier.load(events.slice(0, firstPatch));
      await settle();
      const loaded = bodyElements(applier.document());
      if (firstPatch >= events.length)
        return { loadMs, applyMs: 0, loadedElements: loaded, elements: loaded, outOfStep: applier.outOfStep() };
      gc();
      const applyMs = await applier.apply(events.slice(firstPatch));
      await settle();
      return { loadMs, applyMs, loadedElements: loaded, elements: bodyElements(applier.document()), outOfStep: applier.outOfStep() };
    },

    /**
     * Attribute storm: every `.dot` moves (style.left/top) on every animation frame.
     * recorderMs sums, per frame, the time from the end of the frame's updates to the next
     * microtask, which is exactly the engines' MutationObserver callbacks (queued at the
     * first update of the frame, so they run first).
     */
    async storm(durationMs: number) {
      const dots = Array.from(document.querySelectorAll<HTMLElement>('.dot'));
      const events: unknown[] = [];
      const rec = adapter.start((e) => events.push(e));
      await settle();
      await settle();
      const first = events.length;
      gc();
      let frames = 0;
      let recorderMs = 0;
      let updateMs = 0;
      const start = now();
      await new Promise<void>((resolve) => {
        const tick = (): void => {
          const t = (now() - start) / 1000;
          const a = now();
          for (let i = 0; i < dots.length; i++) {
            const style = dots[i]!.style;
            style.left = `${Math.round(480 + 420 * Math.sin(t * 1.7 + i * 0.31))}px`;
            style.top = `${Math.round(300 + 260 * Math.cos(t * 2.3 + i * 0.17))}px`;
          }
          const b = now();
          queueMicrotask(() => {
            recorderMs += now() - b;
            updateMs += b - a;
          });
          frames++;
          if (now() - start < durationMs) requestAnimationFrame(tick);
          else queueMicrotask(() => queueMicrotask(resolve));
        };
        requestAnimationFrame(tick);
      });
      const seconds = (now() - start) / 1000;
      await settle();
      rec.stop();
      const patches = events.slice(first);
      const bytes = utf8Bytes(patches.map((e) => JSON.stringify(e)));
      return {
        recorderMsPerSec: recorderMs / seconds,
        updateMsPerSec: updateMs / seconds,
        bytesPerSec: bytes / seconds,
        fps: frames / seconds,
        events: patches.length,
        seconds,
      };
    },

    /** Heap tests: start recording and keep nothing that is emitted (frames are sent and dropped). */
    recording: null as Recorder | null,
    sentBytes: 0,
    async startDiscarding() {
      this.sentBytes = 0;
      this.recording = adapter.start((e) => {
        this.sentBytes += JSON.stringify(e).length;
      });
      await settle();
      await settle();
    },
    stopRecording() {
      this.recording?.stop();
      this.recording = null;
    },

    /**
     * `count` DOM mutations in batches of 100 (one task each): insertions, removals,
     * attribute and text changes, seeded. The page ends as it began, so what the heap
     * keeps afterwards is what the recorder keeps.
     */
    async mutations(count: number, seed = 7) {
      const rand = random(seed);
      const boxes = Array.from(document.querySelectorAll<HTMLElement>('#heap-root > .box'));
      const added: HTMLElement[] = [];
      for (let done = 0; done < count;) {
        for (let i = 0; i < 100 && done < count; i++, done++) {
          const r = rand();
          if (r < 0.35 || added.length === 0) {
            const el = document.createElement(rand() < 0.5 ? 'div' : 'span');
            el.className = `item i${done % 13}`;
            el.setAttribute('data-n', String(done));
            el.textContent = `item ${done}`;
            const box =
              rand() < 0.3 && added.length ? added[Math.floor(rand() * added.length)]! : boxes[Math.floor(rand() * boxes.length)]!;
            box.append(el);
            added.push(el);
          } else if (r < 0.6) {
            const k = Math.floor(rand() * added.length);
            const el = added[k]!;
            el.remove();
            // Its descendants went with it.
            for (let j = added.length - 1; j >= 0; j--) if (!added[j]!.isConnected) added.splice(j, 1);
          } else if (r < 0.85) {
            const target =
              rand() < 0.5 && added.length ? added[Math.floor(rand() * added.length)]! : boxes[Math.floor(rand() * boxes.length)]!;
            target.setAttribute('data-state', `s${done % 17}`);
          } else {
            const el = added[Math.floor(rand() * added.length)]!;
            if (el.firstChild?.nodeType === Node.TEXT_NODE) (el.firstChild as Text).data = `text ${done}`;
            else el.prepend(`text ${done}`);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      for (const el of added) el.remove();
      for (const box of boxes) box.removeAttribute('data-state');
      await settle();
      await settle();
      return { sentBytes: this.sentBytes };
    },

    /** Mounts a same-origin iframe (srcdoc: `html`), lets it load and change once, and unmounts it; `count` times. */
    async iframes(count: number, html: string) {
      for (let i = 0; i < count; i++) {
        const frame = document.createElement('iframe');
        frame.srcdoc = html;
        frame.style.cssText = 'width:300px;height:200px;border:0';
        const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
        document.body.append(frame);
        await loaded;
        await new Promise((resolve) => setTimeout(resolve, 0));
        const doc = frame.contentDocument;
        doc?.body.append(Object.assign(doc.createElement('p'), { textContent: `changed ${i}` }));
        await new Promise((resolve) => setTimeout(resolve, 0));
        frame.remove();
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      await settle();
      await settle();
      return { sentBytes: this.sentBytes };
    },
  };
}

/** Called by each entry: exposes the bench for run.js. */
export function install(adapter: Adapter): void {
  window.__bench = makeBench(adapter);
}
