/**
 * Observe: everything that tells the recorder the page changed. Mutation records go to `onRecords`;
 * what no record shows (input, scroll, resize, media, loads, CSSOM edits, new shadow roots) is noted
 * as `Pending`, and a patch asked for: at the end of the task, or at the next frame for what moves.
 */
import { watchHooks, type HookListener } from './hooks.js';
import type { Field } from './mask.js';
import { nativeMutationObserver } from './native.js';
import { PSEUDO_EVENTS, PseudoTracker } from './pseudo.js';
import { cssomTouched } from './serializer.js';

const MEDIA_EVENTS = ['play', 'pause', 'seeked', 'ratechange'];

/** How soon the recorder should send what was noted. */
export interface Schedule {
  /** At the end of the task: typing shows at once, and several changes in one task share a patch. */
  soon(): void;
  /** At the next animation frame: scroll, resize and pointer moves coalesce to one patch a frame. */
  nextFrame(): void;
}

/** Changes no mutation record shows, noted by events and hooks until the next patch. */
export class Pending {
  /** Form fields the customer edited. */
  readonly fields = new Set<Field>();
  /** Documents and elements scrolled. */
  readonly scrolled = new Set<Node>();
  /** Elements to send again whole: their shadow root, masking or iframe document changed. */
  readonly resend = new Set<Element>();
  /** Sheets changed through the CSSOM. */
  readonly sheets = new Set<CSSStyleSheet>();
  /** <style> elements whose CSS changed. */
  readonly styles = new Set<Element>();
  /** Documents and shadow roots whose adoptedStyleSheets were assigned. */
  readonly adoptions = new Set<Document | ShadowRoot>();
  /** Media elements played, paused or sought. */
  readonly media = new Set<HTMLMediaElement>();
  /** Linked stylesheets loaded since the last patch, whose :hover & co. rules the mirror may not be able to read. */
  readonly links = new Set<Element>();
  /** The window was resized. */
  viewport = false;

  /** Forgets everything: it was sent, or a snapshot supersedes it. */
  clear(): void {
    for (const field of Object.values(this)) (field as Set<unknown>).clear?.(); // every Set above
    this.viewport = false;
  }
}

/** Watches one page — its document, shadow roots and same-origin iframes — until stopped. */
export interface PageObserver {
  /** What changed without a mutation record since the last patch. */
  readonly pending: Pending;
  /** Interaction state (hover, focus, active); pointer and focus events ask for a frame's patch. */
  readonly pseudo: PseudoTracker;
  /** The documents listened to: the page's and its same-origin iframes'. */
  readonly documents: Iterable<Document>;
  /** Starts observing a root (the page, a shadow root, an iframe's document) and, for a document, its events. */
  observe(root: ShadowRoot | Document): void;
  /** The records not delivered yet. */
  takeRecords(): MutationRecord[];
  /** An iframe removed or reloaded leaves its old document behind: stop listening to it, so it can go. */
  forgetGoneDocuments(): void;
  /** Stops observing and listening, everywhere. */
  stop(): void;
}

const OBSERVE: MutationObserverInit = { childList: true, subtree: true, attributes: true, characterData: true };

/** Starts watching `doc`'s window; `observe` adds its roots as they are serialized. */
export function observePage(doc: Document, schedule: Schedule, onRecords: (records: MutationRecord[]) => void): PageObserver {
  const view = doc.defaultView!;
  const pending = new Pending();
  const observer = new (nativeMutationObserver(doc))(onRecords);
  const pseudo = new PseudoTracker(doc, schedule.nextFrame);
  /** Each observed document's listeners, removed on stop. */
  const documents = new Map<Document, () => void>();
  const listeners = eventListeners(pending, schedule).concat(PSEUDO_EVENTS.map((type): Listener => [type, pseudo, PASSIVE]));
  const hooks = hookListener(pending, schedule);
  let unwatchHooks = () => {};
  const onResize = (): void => {
    pending.viewport = true;
    schedule.nextFrame();
  };
  view.addEventListener('resize', onResize);

  /** Events and hooks of one document (the page's or a same-origin iframe's). */
  function listenTo(target: Document): void {
    if (documents.has(target)) return;
    for (const [type, listener, capture] of listeners) target.addEventListener(type, listener, capture);
    if (target.defaultView) unwatchHooks = watchHooks(target.defaultView, hooks);
    documents.set(target, () => {
      for (const [type, listener, capture] of listeners) target.removeEventListener(type, listener, capture);
    });
  }

  return {
    pending,
    pseudo,
    get documents() {
      return documents.keys();
    },
    observe(root) {
      observer.observe(root, OBSERVE);
      if (root.nodeType === Node.DOCUMENT_NODE) listenTo(root as Document);
    },
    takeRecords: () => observer.takeRecords(),
    forgetGoneDocuments() {
      if (documents.size < 2) return;
      for (const [target, unlisten] of documents) {
        if (target !== doc && !target.defaultView) {
          unlisten();
          documents.delete(target);
        }
      }
    },
    stop() {
      observer.disconnect();
      for (const unlisten of documents.values()) unlisten();
      documents.clear();
      unwatchHooks();
      view.removeEventListener('resize', onResize);
    },
  };
}

/** Capturing, and passive: these listeners never hold up or cancel the page's own. */
const PASSIVE: AddEventListenerOptions = { capture: true, passive: true };

type Listener = [type: string, listener: EventListenerOrEventListenerObject, options: boolean | AddEventListenerOptions];

/** A listener on every document (all capturing) for each event that tells of a change no mutation record shows. */
function eventListeners(pending: Pending, schedule: Schedule): Listener[] {
  const onInput = (event: Event): void => {
    const target = event.composedPath()[0] as Element;
    if (!/^(input|textarea|select)$/.test(target?.localName ?? '')) return;
    pending.fields.add(target as Field);
    // A radio's neighbours are unchecked without events of their own.
    const radio = target as HTMLInputElement;
    if (radio.type === 'radio' && radio.name) {
      for (const other of Array.from(radio.ownerDocument.getElementsByName(radio.name))) pending.fields.add(other as HTMLInputElement);
    }
    schedule.soon();
  };
  const onScroll = (event: Event): void => {
    const target = event.target as Node | Window;
    pending.scrolled.add('document' in target ? (target as Window).document : (target as Node));
    schedule.nextFrame();
  };
  const onMedia = (event: Event): void => {
    pending.media.add(event.target as HTMLMediaElement);
    schedule.soon();
  };
  /** A same-origin iframe that (re)loads has a new document: send the iframe again. A linked sheet brings rules. */
  const onLoad = (event: Event): void => {
    const target = event.target as Element;
    if (target.localName === 'iframe' || target.localName === 'frame') pending.resend.add(target);
    else if (target.localName === 'link') pending.links.add(target);
    else return;
    schedule.soon();
  };
  return [
    ['input', onInput, true],
    ['change', onInput, true],
    ['scroll', onScroll, PASSIVE],
    ['load', onLoad, true],
    ...MEDIA_EVENTS.map((type): Listener => [type, onMedia, true]),
  ];
}

/** CSSOM edits, adoptedStyleSheets and new shadow roots fire no event: the hooks tell every recorder, each keeps what it knows. */
function hookListener(pending: Pending, schedule: Schedule): HookListener {
  return {
    sheetChanged(sheet) {
      cssomTouched.add(sheet);
      pending.sheets.add(sheet);
      schedule.soon();
    },
    adoptedChanged(owner) {
      pending.adoptions.add(owner);
      schedule.soon();
    },
    shadowAttached(host) {
      if (!host.shadowRoot) return;
      pending.resend.add(host);
      schedule.soon();
    },
  };
}
