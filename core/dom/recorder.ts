/**
 * Watches the customer's document and emits a snapshot, then patches.
 * One sink in, one handle out: `const rec = record({ emit }); …; rec.stop()`.
 */
import { Op, type PatchContent, type PatchOp, type SnapshotContent } from '../protocol/index.js';
import { watchHooks, type HookListener } from './hooks.js';
import { CONTENT_DROPPED, Masker, fieldValue, watchPasswords } from './mask.js';
import { nativeMutationObserver } from './native.js';
import { PseudoTracker, flatParent, pseudoRules } from './pseudo.js';
import {
  NodeIds,
  SheetIds,
  absoluteCss,
  cssomTouched,
  forEachInTree,
  serializeAttribute,
  serializeNode,
  sheetText,
  snapshotDocument,
  styleText,
  type SerializeContext,
} from './serializer.js';
import { declarations, styleDiff } from './style-diff.js';

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

type Field = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

const MEDIA_EVENTS = ['play', 'pause', 'seeked', 'ratechange'];

/** Whether every row of `width` values equals the first. */
function sameRows(values: Array<string | null>, width: number): boolean {
  for (let i = width; i < values.length; i++) if (values[i] !== values[i % width]) return false;
  return true;
}

/** Nothing hovered, focused or held down. */
const NO_PSEUDO = 'null,null,null,false';

const OBSERVE: MutationObserverInit = { childList: true, subtree: true, attributes: true, characterData: true };

/** Sprite files larger than this are not sent (an icon sprite is a few KB to a few hundred). */
const MAX_SPRITE_CHARS = 512 * 1024;

/** Starts recording: emits a snapshot at once, then a patch per batch of changes. */
export function record(options: RecordOptions): Recording {
  const doc = options.doc ?? document;
  const view = doc.defaultView!;
  const masker = options.masker ?? new Masker();
  watchPasswords(doc);
  let sheetDefinitions: PatchOp[] = [];
  let ctx = newContext();
  const changedFields = new Set<Field>();
  const scrolled = new Set<Node>();
  /** Elements to send again whole: their shadow root, masking or iframe document changed. */
  const resend = new Set<Element>();
  const changedSheets = new Set<CSSStyleSheet>();
  const changedStyles = new Set<Element>();
  const changedAdoptions = new Set<Document | ShadowRoot>();
  const changedMedia = new Set<HTMLMediaElement>();
  const canvasImages = new WeakMap<HTMLCanvasElement, string>();
  /** Each observed document's listeners, removed on stop. */
  const documents = new Map<Document, () => void>();
  let viewportChanged = false;
  /** Interaction state (hover, focus, active) as last sent; pointer and focus events ask for a frame flush. */
  const pseudo = new PseudoTracker(doc, () => scheduleFrameFlush());
  let sentPseudo = NO_PSEUDO;
  /** Linked stylesheets (loaded since the last patch) whose :hover & co. rules the mirror may not be able to read; and what was sent of each. */
  const loadedLinks = new Set<Element>();
  let sentPseudoRules = new WeakMap<Element, string>();
  /** Per element, the inline style the mirror holds, when it is in the CSSOM's form: later changes travel as diffs. */
  let sentStyles = new WeakMap<Element, [id: number, css: string, declarations: string[]]>();
  /** External SVG sprite files by URL: pending (undefined), loaded, or unusable (null). Kept across snapshots. */
  const sprites = new Map<string, Document | null | undefined>();
  let frameRequest = 0;
  let flushQueued = false;
  let stopped = false;

  const observer = new (nativeMutationObserver(doc))((records) => emitPatch(records));

  function newContext(): SerializeContext {
    return {
      ids: new NodeIds(),
      masker,
      sheets: new SheetIds(),
      blocked: new WeakSet(),
      // Constructed sheets resolve relative URLs against their document's base; the mirror has another.
      defineSheet: (id, css) => sheetDefinitions.push([Op.Sheet, id, absoluteCss(css, doc.baseURI)]),
      observeRoot,
      sprite: spriteOf,
    };
  }

  function spriteOf(file: string, id: string): Element | null | undefined {
    if (!sprites.has(file)) loadSprite(file);
    const sprite = sprites.get(file);
    return sprite === undefined ? undefined : (sprite?.getElementById(id) ?? null);
  }

  /**
   * Loads a sprite file a `<use>` points into — from the page's own origin only, as the page itself
   * may — then sends the page's `<use>`s again, now with their targets.
   */
  function loadSprite(file: string): void {
    sprites.set(file, undefined);
    const done = (sprite: Document | null) => {
      sprites.set(file, sprite);
      if (!sprite || stopped) return;
      forEachInTree(doc, (node) => {
        if ((node as Element).localName === 'use' && ctx.ids.has(node)) resend.add(node as Element);
      });
      queueFlush();
    };
    if (new URL(file).origin !== view.location.origin) return done(null);
    view
      .fetch(file, { credentials: 'same-origin' })
      .then((response) => (response.ok ? response.text() : ''))
      .then(
        (text) => {
          const parsed = text && text.length <= MAX_SPRITE_CHARS ? new view.DOMParser().parseFromString(text, 'image/svg+xml') : null;
          done(parsed && !parsed.querySelector('parsererror') ? parsed : null);
        },
        () => done(null),
      );
  }

  /** Sheet definitions collected while serializing; they must reach the mirror before their users. */
  function takeSheetDefinitions(): PatchOp[] {
    const taken = sheetDefinitions;
    sheetDefinitions = [];
    return taken;
  }

  function observeRoot(root: ShadowRoot | Document): void {
    observer.observe(root, OBSERVE);
    if (root.nodeType === Node.DOCUMENT_NODE) listenTo(root as Document);
  }

  function emitPatch(records: MutationRecord[]): void {
    const ops = diff(records);
    if (ops.length) options.emit({ t: 'patch', ops });
  }

  /** Turns a batch of records (plus changes seen through events and hooks) into ops. */
  function diff(records: MutationRecord[]): PatchOp[] {
    const { ids } = ctx;
    const ops: PatchOp[] = [];
    const added = new Set<Node>();
    const removed = new Set<Node>();
    // One name per element is the common case; a Set only when a second name shows up.
    const attributes = new Map<Element, string | Set<string>>();
    const texts = new Set<CharacterData>();

    for (const r of records) {
      const target = r.target;
      // A <style>'s children are not sent: any change inside it resends its CSS.
      const style = target.nodeType === Node.ELEMENT_NODE ? target : target.parentNode;
      if (style && (style as Element).localName === 'style' && r.type !== 'attributes') {
        if (ids.has(style)) changedStyles.add(style as Element);
        continue;
      }
      if (r.type === 'childList') {
        const { removedNodes, addedNodes } = r;
        for (let i = 0; i < removedNodes.length; i++) if (ids.has(removedNodes[i]!)) removed.add(removedNodes[i]!);
        for (let i = 0; i < addedNodes.length; i++) added.add(addedNodes[i]!);
      } else if (r.type === 'attributes') {
        const el = target as Element;
        if (!ids.has(el)) continue;
        // A blocked placeholder shows nothing of its element; only a change of the block itself matters.
        if (ctx.blocked.has(el) && !masker.affectsMasking(r.attributeName!)) continue;
        // A dialog opened with showModal() and one opened with show() differ only in state: send it whole.
        if (masker.affectsMasking(r.attributeName!) || (el.localName === 'dialog' && r.attributeName === 'open')) resend.add(el);
        else {
          const names = attributes.get(el);
          const name = r.attributeName!;
          if (names === undefined) attributes.set(el, name);
          else if (typeof names === 'string') {
            if (names !== name) attributes.set(el, new Set([names, name]));
          } else names.add(name);
        }
      } else if (ids.has(target)) {
        texts.add(target as CharacterData);
      }
    }
    for (const el of resend) {
      if (ids.has(el)) {
        removed.add(el);
        added.add(el);
      }
    }
    resend.clear();

    // Removed first: a node moved in this batch is removed here and re-added below with fresh IDs.
    // All IDs are read before any is forgotten: a removed node may sit inside another one now.
    for (const n of removed) ops.push([Op.Remove, ids.get(n)!]);
    for (const n of removed) ids.forgetSubtree(n);

    // Nodes still known were already in the mirror, so these ops reach existing nodes only.
    // The same change on many elements (a class added to every row) travels as one op with their IDs.
    const changes = new Map<string, [name: string, value: string | null, ids: number[]]>();
    /** Style diffs by the names they set, so elements changing the same properties share one op. */
    const styleChanges = new Map<string, [names: string[], ids: number[], values: Array<string | null>]>();
    for (const [el, names] of attributes) {
      const id = ids.get(el);
      if (id === undefined) continue;
      for (const name of typeof names === 'string' ? [names] : names) {
        const raw = el.getAttribute(name);
        const value = raw === null ? null : serializeAttribute(el, name, raw, masker);
        if (raw !== null && value === null) continue;
        if (name === 'style') {
          const diff = inlineStyleChange(el, id, value);
          if (diff) {
            if (!diff.length) continue; // the mirror has it already
            const names: string[] = [];
            const values: Array<string | null> = [];
            for (let i = 0; i < diff.length; i += 2) {
              names.push(diff[i]!);
              values.push(diff[i + 1]!);
            }
            const key = names.join('\u0000');
            const change = styleChanges.get(key);
            if (change) {
              change[1].push(id);
              for (const v of values) change[2].push(v);
            } else styleChanges.set(key, [names, [id], values]);
            continue;
          }
        }
        const key = value === null ? `${name}\u0000` : `${name}\u0000${value}\u0001`;
        const change = changes.get(key);
        if (change) change[2].push(id);
        else changes.set(key, [name, value, [id]]);
      }
    }
    for (const [name, value, changed] of changes.values()) ops.push([Op.Attr, changed.length === 1 ? changed[0]! : changed, name, value]);
    for (const [names, changed, values] of styleChanges.values()) {
      if (changed.length === 1) ops.push([Op.StyleDiff, changed[0]!, names, values]);
      else ops.push([Op.StyleDiff, changed, names, sameRows(values, names.length) ? values.slice(0, names.length) : values]);
    }
    for (const text of texts) {
      const id = ids.get(text);
      if (id !== undefined && text.nodeType === Node.TEXT_NODE) {
        ops.push([Op.Text, id, masker.text(text)]);
      }
    }
    fieldOps(ops);
    styleOps(ops);
    for (const media of changedMedia) {
      const id = ids.get(media);
      if (id !== undefined) ops.push([Op.Media, id, media.paused, Math.round(media.currentTime * 10) / 10]);
    }
    changedMedia.clear();

    // Added: each new node whose parent the mirror knows, inserted before a sibling it knows.
    // Walking a parent's children from the end makes every `next` known by the time it is used.
    const parents = new Set<Node>();
    for (const n of added) {
      const parent = n.parentNode;
      if (!parent || ids.has(n) || !ids.has(parent) || !n.isConnected) continue;
      // A script filled after insertion: its code stays in the page like any script's.
      if (CONTENT_DROPPED.has((parent as Element).localName)) continue;
      // Nothing goes into a blocked element's placeholder.
      if (ctx.blocked.has(parent as Element)) continue;
      parents.add(parent);
    }
    for (const parent of parents) {
      const parentId = ids.get(parent)!;
      let next: number | null = null;
      for (let child = parent.lastChild; child; child = child.previousSibling) {
        let id = ids.get(child);
        if (id === undefined) {
          const node = serializeNode(child, ctx);
          if (!node) continue;
          if (sheetDefinitions.length) ops.push(...takeSheetDefinitions());
          ops.push([Op.Add, parentId, next, node]);
          id = node[1];
        }
        next = id;
      }
    }

    for (const target of scrolled) {
      const id = ids.get(target);
      if (id === undefined || ctx.blocked.has(target as Element)) continue;
      if (target.nodeType === Node.DOCUMENT_NODE) {
        const win = (target as Document).defaultView;
        if (win) ops.push([Op.Scroll, id, win.scrollX, win.scrollY]);
      } else ops.push([Op.Scroll, id, (target as Element).scrollLeft, (target as Element).scrollTop]);
    }
    scrolled.clear();
    if (viewportChanged) {
      ops.push([Op.Viewport, view.innerWidth, view.innerHeight]);
      viewportChanged = false;
    }
    for (const link of loadedLinks) pseudoRulesOp(link as HTMLLinkElement, ops);
    loadedLinks.clear();
    const interaction = pseudoOp();
    if (interaction) ops.push(interaction);
    return ops;
  }

  /** A linked sheet's :hover, :focus and :active rules, when it has any the mirror was not sent yet. */
  function pseudoRulesOp(link: HTMLLinkElement, ops: PatchOp[]): void {
    const id = ctx.ids.get(link);
    if (id === undefined || ctx.blocked.has(link)) return;
    const sheet = link.sheet;
    let css = pseudoRules(sheet);
    if (!css || sentPseudoRules.get(link) === css) return;
    sentPseudoRules.set(link, css);
    // Relative URLs in a linked sheet are relative to the sheet.
    css = absoluteCss(css, sheet?.href ?? link.baseURI);
    ops.push([Op.PseudoRules, id, css]);
  }

  /**
   * The declarations that changed in an element's inline style, when the mirror can apply them
   * and they are shorter than the attribute; an empty list when the mirror has this style already;
   * undefined to send the whole attribute.
   */
  function inlineStyleChange(el: Element, id: number, value: string | null): Array<string | null> | undefined {
    // Only text in the CSSOM's own form can be rebuilt exactly from declarations: a hand-written
    // `margin: 1px; margin-top: 5px` overlaps, and its diffs would not give the same block. (A masked style never is.)
    const next = value !== null && value === (el as HTMLElement).style?.cssText ? declarations(value) : null;
    if (!next) {
      sentStyles.delete(el);
      return undefined;
    }
    const sent = sentStyles.get(el);
    // An element sent again since (moved, or a new snapshot) has a new ID, and the mirror its current style.
    const diff = !sent || sent[0] !== id ? null : sent[1] === value ? [] : styleDiff(sent[2], next);
    if (diff && (!diff.length || diffLength(diff) < value!.length)) {
      sentStyles.set(el, [id, value!, next]);
      return diff;
    }
    // Sent whole, the mirror parses the text, and a parser lists !important declarations last: its
    // block may then be in another order than the text, and a diff would not rebuild the text.
    if (value!.includes('!important')) sentStyles.delete(el);
    else sentStyles.set(el, [id, value!, next]);
    return undefined;
  }

  function diffLength(declarations: Array<string | null>): number {
    let length = 0;
    for (const part of declarations) length += part === null ? 5 : part.length + 3;
    return length;
  }

  /** The customer's hover, focus and active elements, when they changed since last sent. */
  function pseudoOp(): PatchOp | undefined {
    const [hover, focus, active, visible] = pseudo.state();
    const focusId = knownAncestorId(focus);
    const op: PatchOp = [Op.Pseudo, knownAncestorId(hover), focusId, knownAncestorId(active), visible && focusId !== null];
    const key = `${op[1]},${op[2]},${op[3]},${op[4]}`;
    if (key === sentPseudo) return undefined;
    sentPseudo = key;
    return op;
  }

  /** The ID of the element, or of its nearest ancestor the mirror has (inside a blocked element, say). */
  function knownAncestorId(el: Element | null): number | null {
    for (let node: Node | null = el; node; node = flatParent(node)) {
      const id = ctx.ids.get(node);
      if (id !== undefined) return id;
    }
    return null;
  }

  function fieldOps(ops: PatchOp[]): void {
    const { ids } = ctx;
    for (const field of changedFields) {
      const id = ids.get(field);
      // A blocked field sends nothing; a masked choice does not say what was chosen.
      if (id === undefined || ctx.blocked.has(field)) continue;
      const type = field.localName === 'input' ? (field as HTMLInputElement).type : '';
      if (type === 'checkbox' || type === 'radio') {
        if (!masker.isMaskedField(field)) ops.push([Op.Checked, id, (field as HTMLInputElement).checked]);
      } else if (field.localName === 'select') {
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
  }

  /** CSS that changed without a mutation record: CSSOM edits, adoptedStyleSheets; and <style> text. */
  function styleOps(ops: PatchOp[]): void {
    const { ids, sheets } = ctx;
    for (const sheet of changedSheets) {
      const sheetId = sheets.get(sheet);
      if (sheetId !== undefined) ops.push([Op.Sheet, sheetId, absoluteCss(sheetText(sheet), doc.baseURI)]);
      else if (sheet.ownerNode && (sheet.ownerNode as Element).localName === 'style') changedStyles.add(sheet.ownerNode as Element);
    }
    changedSheets.clear();
    for (const style of changedStyles) {
      const id = ids.get(style);
      if (id !== undefined) ops.push([Op.StyleText, id, styleText(style as HTMLStyleElement)]);
    }
    changedStyles.clear();
    for (const owner of changedAdoptions) {
      const id = ids.get(owner);
      if (id === undefined) continue;
      const adopted = Array.from(owner.adoptedStyleSheets, (sheet) => sheets.idOf(sheet, ctx.defineSheet));
      ops.push(...takeSheetDefinitions(), [Op.Adopted, id, adopted]);
    }
    changedAdoptions.clear();
  }

  function flush(): void {
    flushQueued = false;
    if (stopped) return;
    emitPatch(observer.takeRecords());
    if (documents.size > 1) forgetGoneDocuments();
  }

  /** An iframe removed or reloaded leaves its old document behind: stop listening to it, so it can go. */
  function forgetGoneDocuments(): void {
    for (const [target, unlisten] of documents) {
      if (target !== doc && !target.defaultView) {
        unlisten();
        documents.delete(target);
      }
    }
  }

  /** Changes seen outside the MutationObserver are sent at the end of the task. */
  function queueFlush(): void {
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flush);
    }
  }

  /** Scroll and resize are coalesced to one flush per animation frame. */
  function scheduleFrameFlush(): void {
    if (!frameRequest) {
      frameRequest = view.requestAnimationFrame(() => {
        frameRequest = 0;
        flush();
      });
    }
  }

  const onInput = (event: Event): void => {
    const target = event.composedPath()[0] as Element;
    if (!/^(input|textarea|select)$/.test(target?.localName ?? '')) return;
    changedFields.add(target as Field);
    // A radio's neighbours are unchecked without events of their own.
    const radio = target as HTMLInputElement;
    if (radio.type === 'radio' && radio.name) {
      for (const other of Array.from(radio.ownerDocument.getElementsByName(radio.name))) changedFields.add(other as HTMLInputElement);
    }
    queueFlush(); // typing shows at once; several fields changed in one task share a patch
  };
  const onScroll = (event: Event): void => {
    const target = event.target as Node | Window;
    scrolled.add('document' in target ? (target as Window).document : target.nodeType === Node.DOCUMENT_NODE ? target : (target as Node));
    scheduleFrameFlush();
  };
  const onResize = (): void => {
    viewportChanged = true;
    scheduleFrameFlush();
  };
  const onMedia = (event: Event): void => {
    changedMedia.add(event.target as HTMLMediaElement);
    queueFlush();
  };
  /** Canvas pixels change without any event: sample them, and send only what changed. */
  function captureCanvases(): void {
    const ops: PatchOp[] = [];
    for (const canvas of Array.from(doc.querySelectorAll('canvas'))) {
      const id = ctx.ids.get(canvas);
      if (id === undefined || ctx.blocked.has(canvas) || !canvas.width || !canvas.height) continue;
      try {
        const image = canvas.toDataURL('image/webp', 0.7);
        if (canvasImages.get(canvas) !== image) ops.push([Op.Canvas, id, image]);
        canvasImages.set(canvas, image);
      } catch {
        // A canvas tainted by another origin's image cannot be read.
      }
    }
    if (ops.length) options.emit({ t: 'patch', ops });
  }
  const canvasTimer = options.canvasFps ? setInterval(captureCanvases, 1000 / Math.min(options.canvasFps, 10)) : undefined;

  /** A same-origin iframe that (re)loads has a new document: send the iframe again. */
  const onLoad = (event: Event): void => {
    const target = event.target as Element;
    if (target.localName === 'iframe' || target.localName === 'frame') {
      resend.add(target);
      queueFlush();
    } else if (target.localName === 'link') {
      loadedLinks.add(target);
      queueFlush();
    }
  };

  /** Changes no mutation record shows; the hooks tell every recorder, each keeps what it knows. */
  const hooks: HookListener = {
    sheetChanged(sheet) {
      cssomTouched.add(sheet);
      changedSheets.add(sheet);
      queueFlush();
    },
    adoptedChanged(owner) {
      changedAdoptions.add(owner);
      queueFlush();
    },
    shadowAttached(host) {
      if (host.shadowRoot) {
        resend.add(host);
        queueFlush();
      }
    },
  };
  let unwatchHooks = () => {};

  /** Events and hooks of one document (the page's or a same-origin iframe's). */
  function listenTo(target: Document): void {
    if (documents.has(target)) return;
    const win = target.defaultView;
    target.addEventListener('input', onInput, true);
    target.addEventListener('change', onInput, true);
    target.addEventListener('scroll', onScroll, { capture: true, passive: true });
    target.addEventListener('load', onLoad, true);
    for (const type of MEDIA_EVENTS) target.addEventListener(type, onMedia, true);
    const unlistenPseudo = pseudo.listen(target);
    if (win) unwatchHooks = watchHooks(win, hooks);
    documents.set(target, () => {
      unlistenPseudo();
      target.removeEventListener('input', onInput, true);
      target.removeEventListener('change', onInput, true);
      target.removeEventListener('scroll', onScroll, true);
      target.removeEventListener('load', onLoad, true);
      for (const type of MEDIA_EVENTS) target.removeEventListener(type, onMedia, true);
    });
  }

  function snapshot(): void {
    if (stopped) return;
    observer.takeRecords(); // the snapshot supersedes anything pending
    for (const set of [changedFields, scrolled, resend, changedSheets, changedStyles, changedAdoptions]) set.clear();
    sheetDefinitions = [];
    ctx = newContext();
    sentStyles = new WeakMap();
    sentPseudo = NO_PSEUDO;
    sentPseudoRules = new WeakMap();
    loadedLinks.clear();
    const frame = snapshotDocument(doc, ctx);
    const sheets = takeSheetDefinitions().map((op) => [op[1], op[2]] as [number, string]);
    options.emit(sheets.length ? { ...frame, sheets } : frame);
    const docId = ctx.ids.get(doc)!;
    const state: PatchOp[] = [];
    if (view.scrollX || view.scrollY) state.push([Op.Scroll, docId, view.scrollX, view.scrollY]);
    for (const recorded of documents.keys()) {
      for (const sheet of Array.from(recorded.styleSheets)) {
        const owner = sheet.ownerNode as Element | null;
        if (owner?.localName === 'link') pseudoRulesOp(owner as HTMLLinkElement, state);
      }
    }
    const interaction = pseudoOp();
    if (interaction) state.push(interaction);
    if (state.length) options.emit({ t: 'patch', ops: state });
  }

  view.addEventListener('resize', onResize);
  snapshot();

  return {
    snapshot,
    flush,
    nodeById: (id) => ctx.ids.find(doc, id),
    stop() {
      if (stopped) return;
      stopped = true;
      observer.disconnect();
      for (const unlisten of documents.values()) unlisten();
      documents.clear();
      unwatchHooks();
      view.removeEventListener('resize', onResize);
      if (frameRequest) view.cancelAnimationFrame(frameRequest);
      clearInterval(canvasTimer);
    },
  };
}
