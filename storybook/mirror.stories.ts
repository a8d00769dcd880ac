import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { MIRROR_SANDBOX, Mirror } from '../core/dom/mirror.js';
import { record } from '../core/dom/recorder.js';
import type { PatchFrame, SnapshotFrame } from '../core/protocol/index.js';

/** A small customer page: a form with fields the default rules mask, and text that changes. */
const DEMO_PAGE = `<!doctype html>
<html lang="en"><head><style>
  body { margin: 16px; font: 14px/1.4 system-ui, sans-serif; color: #14213d; background: #fff; }
  h1 { margin: 0 0 4px; font-size: 18px; }
  .muted { margin: 0 0 12px; color: #5b6474; }
  label { display: block; margin: 8px 0 2px; font-weight: 600; }
  input { font: inherit; padding: 4px 6px; width: 220px; }
  .tick { color: #0b5fff; }
</style></head>
<body>
  <h1>Loan application</h1>
  <p class="muted">Updated <span id="clock" class="tick">just now</span></p>
  <label for="name">Full name</label><input id="name" value="Ada Lovelace">
  <label for="password">Password (always masked)</label><input id="password" type="password">
  <label for="ssn">SSN (data-cobrowse-mask)</label><input id="ssn" data-cobrowse-mask>
  <ol id="steps"></ol>
</body></html>`;

const STEPS = ['Personal details', 'Income and employment', 'Documents', 'Review'];

/** What the running demo holds on to; stopped before the next render and when the story is left. */
const running = new Set<() => void>();
const stopAll = (): void => {
  for (const stop of running) stop();
  running.clear();
};

/** Records the demo page with the real recorder and rebuilds it in a sandboxed mirror, frames passed as JSON. */
function recordIntoMirror(): HTMLElement {
  stopAll();
  const root = document.createElement('div');
  root.style.cssText = 'display:grid; grid-template-columns:repeat(2, max-content); gap:8px 24px; align-items:start';
  root.innerHTML = `<strong>Customer's page (type here)</strong><strong>Agent's mirror</strong>`;

  const page = document.createElement('iframe');
  page.title = "Customer's page";
  page.style.cssText = 'width:380px; height:320px; border:1px solid #aab2c0; background:#fff';
  page.srcdoc = DEMO_PAGE;

  const mirrorFrame = document.createElement('iframe');
  mirrorFrame.title = 'Mirror';
  mirrorFrame.setAttribute('sandbox', MIRROR_SANDBOX);
  mirrorFrame.dataset.cobrowseMirror = '';
  mirrorFrame.style.cssText = 'border:1px solid #aab2c0; background:#fff';

  const stats = document.createElement('p');
  stats.style.gridColumn = '1 / -1';
  stats.setAttribute('role', 'status');
  root.append(page, mirrorFrame, stats);

  const mirror = new Mirror(mirrorFrame, {
    onViewport: (width, height) => Object.assign(mirrorFrame.style, { width: `${width}px`, height: `${height}px` }),
  });
  let frames = 0;
  let bytes = 0;
  const deliver = (frame: SnapshotFrame | PatchFrame): void => {
    const wire = JSON.stringify(frame); // what the relay would carry
    frames += 1;
    bytes += wire.length;
    stats.textContent = `${frames} frames, ${(bytes / 1024).toFixed(1)} KiB of JSON`;
    const received = JSON.parse(wire) as SnapshotFrame | PatchFrame;
    if (received.t === 'snapshot') mirror.applySnapshot(received);
    else if (!mirror.applyPatch(received)) recording?.snapshot(); // out of step: ask for a snapshot, as the agent does
  };

  let recording: ReturnType<typeof record> | undefined;
  const onLoad = (): void => {
    const doc = page.contentDocument!;
    recording = record({ doc, emit: deliver });
    // Typed values reach the mirror masked: the recorder replaces them before they are serialized.
    for (const [id, value] of [
      ['password', 'hunter2'],
      ['ssn', '078-05-1120'],
    ] as const) {
      const field = doc.getElementById(id) as HTMLInputElement;
      field.value = value;
      field.dispatchEvent(new Event('input', { bubbles: true }));
    }
    const started = Date.now();
    const timer = setInterval(() => {
      const seconds = Math.round((Date.now() - started) / 1000);
      doc.getElementById('clock')!.textContent = `${seconds} s ago`;
      const steps = doc.getElementById('steps')!;
      if (steps.children.length < STEPS.length)
        steps.append(Object.assign(doc.createElement('li'), { textContent: STEPS[steps.children.length] }));
    }, 1000);
    running.add(() => clearInterval(timer));
    running.add(() => recording?.stop());
  };
  page.addEventListener('load', onLoad, { once: true });
  running.add(() => page.removeEventListener('load', onLoad));
  return root;
}

/**
 * The engine without a relay or a session: `record()` watches a page in one iframe and `Mirror`
 * rebuilds it in a sandboxed iframe (no scripts), the frames passing through JSON as on the wire.
 * The password and the SSN arrive masked.
 */
const meta = {
  title: 'Engine/Mirror',
  tags: ['autodocs'],
  beforeEach: () => stopAll,
} satisfies Meta;

export default meta;

export const RecordedPage: StoryObj = {
  name: 'Recorded page → mirror',
  render: () => recordIntoMirror(),
};
