/**
 * Watches the customer's document and emits a snapshot, then patches.
 * One sink in, one handle out: `const rec = record({ emit }); …; rec.stop()`.
 */
import { Op, type PatchFrame, type PatchOp, type SnapshotFrame } from '../protocol/index.js';
import { MASK, Masker } from './mask.js';
import { CONTENT_DROPPED, NodeIds, fieldValue, serializeAttribute, serializeNode, snapshotDocument, type SerializeContext } from './serializer.js';

export interface RecordOptions {
  /** Receives every frame, in order. */
  emit(frame: SnapshotFrame | PatchFrame): void;
  /** The document to record; the current one by default. */
  doc?: Document;
  /** Masking rules; the defaults mask passwords, payment fields and `[data-cobrowse-mask]`. */
  masker?: Masker;
}

export interface Recording {
  /** Sends a fresh full snapshot (an agent joined or asked for one). */
  snapshot(): void;
  /** Sends what is pending now instead of at the end of the task. */
  flush(): void;
  /** Stops observing; nothing more is emitted. */
  stop(): void;
}

type Field = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

/** Starts recording: emits a snapshot at once, then a patch per batch of changes. */
export function record(options: RecordOptions): Recording {
  const doc = options.doc ?? document;
  const view = doc.defaultView!;
  const masker = options.masker ?? new Masker();
  let ctx: SerializeContext = { ids: new NodeIds(), masker };
  const changedFields = new Set<Field>();
  const scrolled = new Set<Node>();
  let viewportChanged = false;
  let frameRequest = 0;
  let stopped = false;

  const observer = new MutationObserver((records) => emitPatch(records));

  function emitPatch(records: MutationRecord[]): void {
    const ops = diff(records);
    if (ops.length) options.emit({ t: 'patch', ops });
  }

  /** Turns a batch of records (plus pending field, scroll and viewport changes) into ops. */
  function diff(records: MutationRecord[]): PatchOp[] {
    const { ids } = ctx;
    const ops: PatchOp[] = [];
    const added = new Set<Node>();
    const removed = new Set<Node>();
    const attributes = new Map<Element, Set<string>>();
    const texts = new Set<CharacterData>();

    for (const r of records) {
      if (r.type === 'childList') {
        for (const n of Array.from(r.removedNodes)) if (ids.has(n)) removed.add(n);
        for (const n of Array.from(r.addedNodes)) added.add(n);
      } else if (r.type === 'attributes') {
        const el = r.target as Element;
        if (!ids.has(el)) continue;
        if (masker.affectsMasking(r.attributeName!)) {
          removed.add(el); // re-sent whole below, masked by the new rules
          added.add(el);
        } else {
          let names = attributes.get(el);
          if (!names) attributes.set(el, (names = new Set()));
          names.add(r.attributeName!);
        }
      } else if (ids.has(r.target)) {
        texts.add(r.target as CharacterData);
      }
    }

    // Removed first: a node moved in this batch is removed here and re-added below with fresh IDs.
    // All IDs are read before any is forgotten: a removed node may sit inside another one now.
    for (const n of removed) ops.push([Op.Remove, ids.get(n)!]);
    for (const n of removed) ids.forgetSubtree(n);

    // Nodes still known were already in the mirror, so these ops reach existing nodes only.
    for (const [el, names] of attributes) {
      const id = ids.get(el);
      if (id === undefined) continue;
      for (const name of names) {
        const raw = el.getAttribute(name);
        const value = raw === null ? null : serializeAttribute(el, name, raw, masker);
        if (raw === null || value !== null) ops.push([Op.Attr, id, name, value]);
      }
    }
    for (const text of texts) {
      const id = ids.get(text);
      if (id !== undefined && text.nodeType === Node.TEXT_NODE) {
        ops.push([Op.Text, id, masker.isMaskedText(text) ? MASK : text.data]);
      }
    }
    for (const field of changedFields) {
      const id = ids.get(field);
      if (id === undefined) continue;
      const type = field.localName === 'input' ? (field as HTMLInputElement).type : '';
      if (type === 'checkbox' || type === 'radio') ops.push([Op.Checked, id, (field as HTMLInputElement).checked]);
      else if (field.localName === 'select') {
        if (masker.isMaskedField(field)) continue;
        for (const option of Array.from((field as HTMLSelectElement).options)) {
          const optionId = ids.get(option);
          if (optionId !== undefined) ops.push([Op.Checked, optionId, option.selected]);
        }
      } else {
        const value = fieldValue(field, masker);
        if (value !== undefined) ops.push([Op.Value, id, value]);
      }
    }
    changedFields.clear();

    // Added: each new node whose parent the mirror knows, inserted before a sibling it knows.
    // Walking a parent's children from the end makes every `next` known by the time it is used.
    const parents = new Set<Node>();
    for (const n of added) {
      const parent = n.parentNode;
      if (!parent || ids.has(n) || !ids.has(parent) || !n.isConnected || n.ownerDocument !== doc) continue;
      // A script filled after insertion: its code stays in the page like any script's.
      if (!CONTENT_DROPPED.has((parent as Element).localName)) parents.add(parent);
    }
    for (const parent of parents) {
      const parentId = ids.get(parent)!;
      let next: number | null = null;
      for (let child = parent.lastChild; child; child = child.previousSibling) {
        let id = ids.get(child);
        if (id === undefined) {
          const node = serializeNode(child, ctx);
          if (!node) continue;
          ops.push([Op.Add, parentId, next, node]);
          id = node[1];
        }
        next = id;
      }
    }

    for (const target of scrolled) {
      const id = ids.get(target);
      if (id === undefined) continue;
      if (target === doc) ops.push([Op.Scroll, id, view.scrollX, view.scrollY]);
      else ops.push([Op.Scroll, id, (target as Element).scrollLeft, (target as Element).scrollTop]);
    }
    scrolled.clear();
    if (viewportChanged) {
      ops.push([Op.Viewport, view.innerWidth, view.innerHeight]);
      viewportChanged = false;
    }
    return ops;
  }

  function flush(): void {
    if (stopped) return;
    emitPatch(observer.takeRecords());
  }

  /** Input, scroll and resize are coalesced to one flush per animation frame. */
  function scheduleFlush(): void {
    if (!frameRequest) {
      frameRequest = view.requestAnimationFrame(() => {
        frameRequest = 0;
        flush();
      });
    }
  }

  const onInput = (event: Event): void => {
    const target = event.composedPath()[0];
    if (target instanceof view.HTMLElement && /^(input|textarea|select)$/.test(target.localName)) {
      changedFields.add(target as Field);
      // A radio's neighbours are unchecked without events of their own.
      if ((target as HTMLInputElement).type === 'radio' && (target as HTMLInputElement).name) {
        for (const radio of Array.from(doc.getElementsByName((target as HTMLInputElement).name))) {
          changedFields.add(radio as HTMLInputElement);
        }
      }
      queueMicrotask(flush); // typing shows at once; several fields changed in one task share a patch
    }
  };
  const onScroll = (event: Event): void => {
    scrolled.add(event.target === doc || event.target === view ? doc : (event.target as Node));
    scheduleFlush();
  };
  const onResize = (): void => {
    viewportChanged = true;
    scheduleFlush();
  };

  function snapshot(): void {
    if (stopped) return;
    observer.takeRecords(); // the snapshot supersedes anything pending
    changedFields.clear();
    scrolled.clear();
    ctx = { ids: new NodeIds(), masker };
    options.emit(snapshotDocument(doc, ctx));
    const docId = ctx.ids.get(doc)!;
    if (view.scrollX || view.scrollY) options.emit({ t: 'patch', ops: [[Op.Scroll, docId, view.scrollX, view.scrollY]] });
  }

  observer.observe(doc, { childList: true, subtree: true, attributes: true, characterData: true });
  doc.addEventListener('input', onInput, true);
  doc.addEventListener('change', onInput, true);
  doc.addEventListener('scroll', onScroll, { capture: true, passive: true });
  view.addEventListener('resize', onResize);
  snapshot();

  return {
    snapshot,
    flush,
    stop() {
      if (stopped) return;
      stopped = true;
      observer.disconnect();
      doc.removeEventListener('input', onInput, true);
      doc.removeEventListener('change', onInput, true);
      doc.removeEventListener('scroll', onScroll, true);
      view.removeEventListener('resize', onResize);
      if (frameRequest) view.cancelAnimationFrame(frameRequest);
    },
  };
}
