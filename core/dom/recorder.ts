/**
 * Watches the customer's document and emits a snapshot, then patches.
 * One sink in, one handle out: `const rec = record({ emit }); …; rec.stop()`.
 *
 * The parts: the serializer takes snapshots (serializer.ts), PageObserver notes changes (observe.ts),
 * a Patcher turns each batch into ops (batch.ts), and the privacy rules (mask.ts) decide what of it
 * may leave the page. The recorder wires them and decides when a patch goes.
 */
import { Op, type PatchContent, type PatchOp, type SnapshotContent } from '../protocol/index.js';
import { newPatcher, type Patcher } from './batch.js';
import { Masker, sendableId, watchPasswords, type Sent } from './mask.js';
import { observePage } from './observe.js';
import { forEachInTree, snapshotDocument } from './serializer.js';
import { spriteLookup } from './sprites.js';

export interface RecordOptions {
  /** Receives every frame, in order. */
  emit(frame: SnapshotContent | PatchContent): void;
  /** The document to record; the current one by default. */
  doc?: Document;
  /** Masking rules; the defaults mask passwords, payment fields and `[data-cobrowse-mask]`. */
  masker?: Masker;
  /** Send `<canvas>` content as images at most this many times a second (off when absent: it costs CPU and bytes). */
  canvasFps?: number;
}

export interface Recording {
  /** Sends a fresh full snapshot (an agent joined or asked for one). */
  snapshot(): void;
  /** Sends what is pending now instead of at the end of the task. */
  flush(): void;
  /** Stops observing; nothing more is emitted. */
  stop(): void;
  /** The live node the mirror knows by this ID (for the agent's commands). */
  nodeById(id: number): Node | undefined;
}

/** Starts recording: emits a snapshot at once, then a patch per batch of changes. */
export function record(options: RecordOptions): Recording {
  const doc = options.doc ?? document;
  const view = doc.defaultView as Window & typeof globalThis;
  const masker = options.masker ?? new Masker();
  const { emit } = options;
  watchPasswords(doc);
  /** What the mirror holds since the last snapshot. */
  let patcher: Patcher;
  let frameRequest = 0;
  let flushQueued = false;
  let stopped = false;
  const page = observePage(doc, { soon: queueFlush, nextFrame: scheduleFrameFlush }, emitPatch);
  const sprite = spriteLookup(view, () => {
    // A sprite file arrived: send the page's `<use>`s again, now with their targets.
    if (stopped) return;
    forEachInTree(doc, (node) => {
      if ((node as Element).localName === 'use' && patcher.ctx.ids.has(node)) page.pending.resend.add(node as Element);
    });
    queueFlush();
  });
  const canvasImages = new WeakMap<HTMLCanvasElement, string>();
  const canvasTimer = options.canvasFps
    ? setInterval(() => emitOps(canvasOps(doc, patcher.ctx, canvasImages)), 1000 / Math.min(options.canvasFps, 10))
    : undefined;

  function emitOps(ops: PatchOp[]): void {
    if (ops.length) emit({ t: 'patch', ops });
  }

  function emitPatch(records: MutationRecord[]): void {
    emitOps(patcher.diff(records));
  }

  function flush(): void {
    flushQueued = false;
    if (stopped) return;
    emitPatch(page.takeRecords());
    page.forgetGoneDocuments();
  }

  /** Changes seen outside the MutationObserver are sent at the end of the task. */
  function queueFlush(): void {
    if (flushQueued) return;
    flushQueued = true;
    queueMicrotask(flush);
  }

  /** Scroll and resize are coalesced to one flush per animation frame. */
  function scheduleFrameFlush(): void {
    if (frameRequest) return;
    frameRequest = view.requestAnimationFrame(() => {
      frameRequest = 0;
      flush();
    });
  }

  function snapshot(): void {
    if (stopped) return;
    page.takeRecords(); // the snapshot supersedes anything pending
    page.pending.clear();
    patcher = newPatcher(doc, masker, page, sprite);
    const frame = snapshotDocument(doc, patcher.ctx);
    const sheets = patcher.takeDefinitions().map((op) => [op[1], op[2]] as [number, string]);
    emit(sheets.length ? { ...frame, sheets } : frame);
    emitOps(patcher.stateOps());
  }

  snapshot();

  return {
    snapshot,
    flush,
    nodeById: (id) => patcher.ctx.ids.find(doc, id),
    stop() {
      if (stopped) return;
      stopped = true;
      page.stop();
      if (frameRequest) view.cancelAnimationFrame(frameRequest);
      clearInterval(canvasTimer);
    },
  };
}

/** Canvas pixels change without any event: the ops for the canvases whose image changed since `images` saw them. */
function canvasOps(doc: Document, sent: Sent, images: WeakMap<HTMLCanvasElement, string>): PatchOp[] {
  const ops: PatchOp[] = [];
  for (const canvas of Array.from(doc.querySelectorAll('canvas'))) {
    const id = sendableId(sent, canvas);
    if (id === undefined || !canvas.width || !canvas.height) continue;
    try {
      const image = canvas.toDataURL('image/webp', 0.7);
      if (images.get(canvas) !== image) ops.push([Op.Canvas, id, image]);
      images.set(canvas, image);
    } catch {
      // A canvas tainted by another origin's image cannot be read.
    }
  }
  return ops;
}
