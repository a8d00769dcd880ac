/**
 * The fidelity test's in-browser half, bundled by fidelity.test.js with esbuild from the core sources.
 * The same bundle runs in both pages: `recordPage()` in the customer's (source) page, `mirrorFrames()`
 * in the agent's page, which holds a mirror iframe of the source's viewport size at (0, 0).
 */
import { record } from '../../core/dom/recorder.js';
import { Mirror } from '../../core/dom/mirror.js';
import type { AssetLoading } from '../../core/dom/assets.js';
import { checkFrame, FORWARDED } from '../../core/protocol/index.js';
import type { PatchFrame, SnapshotFrame } from '../../core/protocol/index.js';

/** After the next animation frame, and the task after it (a zero-delay yield, not a sleep). */
const nextFrame = (): Promise<void> => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

/**
 * Records the current page: the snapshot plus the patches the recorder's own late work sends (an
 * external sprite file is fetched, then its `<use>`s are sent again), as JSON text. The page settled
 * before this runs and its fixtures run no timers, so that work is all there is to wait for: the
 * recorder's fetches are watched until it has read each body.
 */
async function recordPage(): Promise<{ frames: string[]; error?: string }> {
  const frames: string[] = [];
  const pageFetch = window.fetch;
  const reads: Array<Promise<unknown>> = [];
  window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const response = pageFetch.call(window, input, init).then((r) => {
      const text = r.text.bind(r);
      r.text = () => {
        const body = text();
        reads.push(body.catch(() => {}));
        return body;
      };
      return r;
    });
    reads.push(response.catch(() => {}));
    return response;
  };
  try {
    const recording = record({ emit: (frame) => frames.push(JSON.stringify(frame)) });
    await nextFrame();
    await nextFrame();
    for (let seen = -1; seen !== reads.length;) {
      seen = reads.length;
      await Promise.all(reads);
      // A task later: the recorder's reactions to a body (promise callbacks, then its microtask flush) have run.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    recording.flush();
    recording.stop();
    return { frames };
  } catch (error) {
    return { frames, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  } finally {
    window.fetch = pageFetch;
  }
}

/** Resolves when an image or stylesheet link has loaded or failed (at once if it already has). */
function settled(el: HTMLImageElement | HTMLLinkElement): Promise<void> {
  if (el.localName === 'img' && (el as HTMLImageElement).complete) return Promise.resolve();
  return new Promise((resolve) => {
    el.addEventListener('load', () => resolve(), { once: true });
    el.addEventListener('error', () => resolve(), { once: true });
  });
}

/**
 * Feeds frames, as received from the wire (JSON, validated like the relay does), into a Mirror on
 * the page's `#mirror` iframe that loads its assets as `assets` says (the relay's proxy, as a
 * viewer does), then waits for the mirror's images, stylesheets and fonts.
 */
async function mirrorFrames(texts: string[], assets: AssetLoading): Promise<{ outOfStep: number; error?: string }> {
  const iframe = document.getElementById('mirror') as HTMLIFrameElement;
  let outOfStep = 0;
  try {
    const mirror = new Mirror(iframe, { assets });
    for (const [i, text] of texts.entries()) {
      // Numbered as the customer's outbox numbers them on the wire.
      const frame = checkFrame({ ...JSON.parse(text), s: i + 1 }, FORWARDED.customer) as SnapshotFrame | PatchFrame;
      if (frame.t === 'snapshot') mirror.applySnapshot(frame);
      else if (!mirror.applyPatch(frame)) outOfStep++;
    }
    // Listeners go on in the same task as the apply, before any load event can fire.
    const doc = mirror.document;
    const pending = Array.from(doc.querySelectorAll<HTMLImageElement | HTMLLinkElement>('img, link[rel~="stylesheet" i]'), settled);
    // A guard, not a wait: every image and sheet loads or fails, but a stuck one must not hang the page's comparison.
    await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, 3000))]);
    await doc.fonts.ready;
    await nextFrame();
    return { outOfStep };
  } catch (error) {
    return { outOfStep, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

(window as unknown as { __fidelity: unknown }).__fidelity = { recordPage, mirrorFrames };
