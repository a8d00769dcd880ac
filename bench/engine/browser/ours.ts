/** Our engine behind the harness: core/dom's recorder (default Masker) and Mirror. */
import { record } from '../../../core/dom/recorder.js';
import { Mirror } from '../../../core/dom/mirror.js';
import type { PatchFrame, SnapshotFrame } from '../../../core/protocol/index.js';
import { install, type Applier } from './harness.js';

type Frame = SnapshotFrame | PatchFrame;

install({
  name: 'ours',
  start(emit) {
    const rec = record({ emit, doc: document });
    return { resnapshot: () => rec.snapshot(), stop: () => rec.stop() };
  },
  createApplier(container): Applier {
    const iframe = document.createElement('iframe');
    iframe.setAttribute('sandbox', 'allow-same-origin');
    iframe.style.cssText = 'width:1024px;height:768px;border:0';
    container.append(iframe);
    const mirror = new Mirror(iframe);
    let outOfStep = 0;
    const run = (events: unknown[]): number => {
      let ms = 0;
      for (const e of events as Frame[]) {
        const t = performance.now();
        const ok = e.t === 'snapshot' ? (mirror.applySnapshot(e), true) : mirror.applyPatch(e);
        ms += performance.now() - t;
        if (!ok) outOfStep++;
      }
      return ms;
    };
    return {
      load: async (events) => run(events),
      apply: async (events) => run(events),
      document: () => iframe.contentDocument,
      outOfStep: () => outOfStep,
    };
  },
});
