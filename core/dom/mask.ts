/**
 * The privacy rules: what of the customer's page may leave it. Masking, blocking, our own UI,
 * password watching, and what of a field, a text, an attribute or a URL is sent all live here;
 * the serializer (snapshots, added nodes) and the recorder (every change) ask these functions,
 * so a masked value never leaves the page by any path: downstream only ever sees the mask.
 */
import { NodeKind, type SerializedNode } from '../protocol/index.js';
import { withoutHandoff } from '../handoff.js';
import { frameOf, sameOriginDocument } from './frames.js';
import { watchHooks, type HookListener } from './hooks.js';
import { nativeMutationObserver } from './native.js';

/** What the agent sees instead of a masked value: a fixed run that does not reveal the length. */
export const MASK = '********';

/**
 * The attribute an SDK element (the launcher) carries on its host: the agent sees where it is, as an
 * empty element of its tag, never its attributes or panel. The serializer knows it, not the elements.
 */
export const OWN_UI = 'data-cobrowse-own';

/** Fields masked whatever the configuration (autocomplete tokens are checked separately). */
const ALWAYS_MASKED = 'input[type=password i],input[type=hidden i]';

/** Autocomplete tokens that name a secret; `section-*`, `billing` and other prefixes may precede them. */
const SECRET_AUTOCOMPLETE = /(^|\s)(cc-|one-time-code(\s|$)|current-password(\s|$)|new-password(\s|$))/i;

const MASK_MARK = '[data-cobrowse-mask]';
const BLOCK_MARK = '[data-cobrowse-block]';
const UNMASK_MARK = '[data-cobrowse-unmask]';
const FIELDS = new Set(['input', 'textarea', 'select']);

/** Attributes that carry page text; under a masked element they are masked like its text. */
const TEXT_ATTRIBUTES = new Set(['value', 'placeholder', 'title', 'alt', 'label', 'content']);

export interface MaskOptions {
  /** Extra CSS selectors whose fields and text are masked (the launcher's `mask` attribute). */
  mask?: string;
  /** Extra CSS selectors replaced by an empty placeholder of the same size (the launcher's `block`). */
  block?: string;
  /** Privacy-first: mask every field unless it or an ancestor has `data-cobrowse-unmask`. */
  maskAllInputs?: boolean;
  /** Show masked values as one asterisk per character instead of a fixed run. */
  preserveLength?: boolean;
  /** Send the page URL's query string and fragment (they often carry tokens and personal data). */
  shareUrlQuery?: boolean;
}

/**
 * Like Element.closest, but carries on past a shadow root to its host and past a same-origin
 * iframe's document to the iframe: a mark on an ancestor covers everything inside it.
 */
export function closestAcross(el: Element, selector: string): Element | null {
  for (let n: Element | null = el; n;) {
    const hit = n.closest(selector);
    if (hit) return hit;
    const root = n.getRootNode() as ShadowRoot | Document;
    n = 'host' in root && root.host ? root.host : frameOf(root as Document);
  }
  return null;
}

/** Fields that were ever password inputs in this page, wherever a Masker is made: a fact about the page, not one recorder's state. */
const everPasswords = new WeakSet<Element>();
/** Each watched document's way to start watching one more of its roots (a shadow root that just appeared). */
const watchers = new WeakMap<Document, (root: ShadowRoot) => void>();
/** attachShadow fires no mutation record; the hook tells us before the new root gets any content. */
const shadowWatch: HookListener = {
  sheetChanged() {},
  adoptedChanged() {},
  shadowAttached: (host) => host.shadowRoot && watchers.get(host.ownerDocument)?.(host.shadowRoot),
};

/**
 * Remembers every password field of a document from now on — in its open shadow roots and its
 * same-origin iframes too — so a "show password" toggle used before sharing starts still cannot
 * reveal it. Idempotent; the launcher calls it as soon as it loads.
 */
export function watchPasswords(doc: Document): void {
  if (watchers.has(doc) || !doc.defaultView) return;
  const roots = new WeakSet<Node>();
  const observer = new (nativeMutationObserver(doc))((records) => {
    for (const r of records) {
      if (r.type === 'childList') {
        r.addedNodes.forEach((node) => node.nodeType === Node.ELEMENT_NODE && scan(node as Element));
        continue;
      }
      const el = r.target as Element;
      if (r.oldValue?.toLowerCase() === 'password' || el.getAttribute('type')?.toLowerCase() === 'password') everPasswords.add(el);
    }
  });
  const watchRoot = (root: Document | ShadowRoot) => {
    if (roots.has(root)) return;
    roots.add(root);
    // A field added and toggled before any record is read still reports its old type here.
    observer.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ['type'], attributeOldValue: true });
    scan(root);
  };
  const watchFrame = (frame: HTMLIFrameElement) => {
    const inner = () => {
      // Another origin's page is not ours to watch.
      const framed = sameOriginDocument(frame);
      if (framed) watchPasswords(framed);
    };
    if (!roots.has(frame)) frame.addEventListener('load', inner); // each document it loads
    roots.add(frame);
    inner();
  };
  // Password fields, open shadow roots and frames already in `root`.
  function scan(root: Element | Document | ShadowRoot): void {
    const walker = doc.createTreeWalker(root, NodeFilter.SHOW_ELEMENT);
    for (let node: Node | null = walker.currentNode; node; node = walker.nextNode()) {
      const el = node as Element;
      if (el.nodeType !== Node.ELEMENT_NODE) continue;
      if (el.localName === 'input' && (el as HTMLInputElement).type === 'password') everPasswords.add(el);
      else if (el.localName === 'iframe') watchFrame(el as HTMLIFrameElement);
      if (el.shadowRoot) watchRoot(el.shadowRoot);
    }
  }
  watchers.set(doc, watchRoot);
  watchHooks(doc.defaultView, shadowWatch); // in this document's realm (a frame has its own)
  watchRoot(doc);
}

function selectorList(base: string, extra: string | undefined): string {
  const trimmed = extra?.trim();
  if (!trimmed) return base;
  const list = `${base},${trimmed}`;
  // Fail at once on a bad selector rather than silently mask nothing.
  if (typeof document !== 'undefined') document.createDocumentFragment().querySelector(list);
  return list;
}

/** Decides what is masked and blocked in one page; remembers fields that were ever password inputs. */
export class Masker {
  readonly #marks: string;
  readonly #blocks: string;
  readonly #hasExtraSelectors: boolean;
  readonly #options: MaskOptions;

  constructor(options: MaskOptions = {}) {
    this.#options = options;
    this.#marks = selectorList(MASK_MARK, options.mask);
    this.#blocks = selectorList(BLOCK_MARK, options.block);
    this.#hasExtraSelectors = Boolean(options.mask?.trim() || options.block?.trim());
  }

  /** What the agent sees instead of `value`. */
  mask(value: string): string {
    return this.#options.preserveLength ? '*'.repeat(value.length) : MASK;
  }

  /** A text node's data as it may be sent: masked unless it is only white space (which says nothing). */
  text(text: CharacterData, marked?: boolean): string {
    const data = text.data;
    return /\S/.test(data) && this.isMaskedText(text, marked) ? this.mask(data) : data;
  }

  /** The page's URL as the agent is shown it: without query and fragment unless the site opts in. */
  displayUrl(url: string): string {
    if (this.#options.shareUrlQuery) return url;
    const cut = url.search(/[?#]/);
    return cut < 0 ? url : url.slice(0, cut);
  }

  /**
   * True when `el` or an ancestor carries a mask mark. The serializer already knows this for
   * the ancestors it came through and passes it down as `marked` to the methods below, so a
   * deep tree is not walked up once per node.
   */
  isMarked(el: Element): boolean {
    return closestAcross(el, this.#marks) !== null;
  }

  /** True when `el` itself carries a mask mark (its ancestors are the caller's business). */
  marksItself(el: Element): boolean {
    return el.matches(this.#marks);
  }

  /** True when a form field's (or an option's) value must not leave the page. */
  isMaskedField(el: Element, marked?: boolean): boolean {
    if (el.localName === 'option') {
      const select = el.closest('select');
      return select ? this.isMaskedField(select, marked) : (marked ?? this.isMarked(el));
    }
    // A "show password" toggle must not unmask: once a password, always masked.
    if (everPasswords.has(el)) return true;
    if (el.matches(ALWAYS_MASKED) || SECRET_AUTOCOMPLETE.test(el.getAttribute('autocomplete') ?? '')) {
      if (el.matches('input[type=password i]')) everPasswords.add(el);
      return true;
    }
    if (this.#options.maskAllInputs && FIELDS.has(el.localName) && !closestAcross(el, UNMASK_MARK)) return true;
    return marked ?? this.isMarked(el);
  }

  /** True when an element's text and text-bearing attributes must not leave the page. */
  isMaskedContent(el: Element, marked?: boolean): boolean {
    if (marked ?? this.isMarked(el)) return true;
    return (FIELDS.has(el.localName) || el.localName === 'option') && this.isMaskedField(el, false);
  }

  /** True when a text node's content must not leave the page; `marked` is its parent's state. */
  isMaskedText(text: CharacterData, marked?: boolean): boolean {
    const parent = text.parentElement;
    if (!parent) return false;
    if (parent.localName === 'textarea' || parent.localName === 'option') return this.isMaskedField(parent, marked);
    if (parent.localName === 'style') return false;
    return marked ?? this.isMarked(parent);
  }

  /** True when an attribute's value is page text that masking covers here. */
  isMaskedAttribute(el: Element, name: string, marked?: boolean): boolean {
    const textual =
      TEXT_ATTRIBUTES.has(name) || name.startsWith('aria-') || (name.startsWith('data-') && !name.startsWith('data-cobrowse'));
    return textual && this.isMaskedContent(el, marked);
  }

  /** True when an element is replaced by a placeholder: nothing in or on it leaves the page. */
  isBlocked(el: Element): boolean {
    return el.matches(this.#blocks);
  }

  /** True when an attribute change can change what is masked or blocked below an element. */
  affectsMasking(attribute: string): boolean {
    if (attribute === 'type' || attribute === 'autocomplete' || attribute.startsWith('data-cobrowse')) return true;
    // Site selectors may match on anything; class and id are what they match on in practice.
    return this.#hasExtraSelectors && (attribute === 'class' || attribute === 'id');
  }
}

/** Elements whose content is never sent: it is code (which may carry data), or it would render in a script-less mirror. */
export const CONTENT_DROPPED = new Set(['script', 'noscript']);

/** What was sent of the page since the last snapshot (every SerializeContext is one). */
export interface Sent {
  ids: { get(node: Node | null): number | undefined };
  /** Elements sent sealed (a blocked placeholder, our own UI's bare tag): nothing more of them, or in them, is sent. */
  blocked: WeakSet<Element>;
}

/** The ID a change of `node` may be sent under: undefined when the mirror lacks it, or it was sent sealed. */
export function sendableId(sent: Sent, node: Node): number | undefined {
  return sent.blocked.has(node as Element) ? undefined : sent.ids.get(node);
}

/** The ID new children of `parent` may be sent under: none inside a sealed element, nor inside code. */
export function sendableParentId(sent: Sent, parent: Node): number | undefined {
  // A script filled after insertion: its code stays in the page like any script's.
  return CONTENT_DROPPED.has((parent as Element).localName) ? undefined : sendableId(sent, parent);
}

/**
 * What is sent of an element that is sealed — a blocked one: same tag and size, nothing else; our own
 * UI (the launcher): the agent sees where it is, never its panel — or null when it is not (then it is
 * unsealed: it may have been unblocked since it was last sent).
 */
export function sealed(el: Element, id: number, sent: Sent, masker: Masker): SerializedNode | null {
  const blocked = masker.isBlocked(el);
  if (!blocked && !el.hasAttribute(OWN_UI)) {
    sent.blocked.delete(el);
    return null;
  }
  sent.blocked.add(el);
  if (!blocked) return [NodeKind.Element, id, el.localName, [], []];
  const { width, height } = el.getBoundingClientRect();
  const inline = el.ownerDocument.defaultView?.getComputedStyle(el).display === 'inline' ? 'display:inline-block;' : '';
  const style = `${inline}width:${Math.round(width)}px;height:${Math.round(height)}px;background:#e5e7eb`;
  return [NodeKind.Element, id, el.localName, ['data-cobrowse-blocked', '', 'style', style], []];
}

/** A form control whose value the customer edits. */
export type Field = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

/** Whether `el` is a form control whose value the customer edits. */
export function isFormField(el: Element): el is Field {
  return FIELDS.has(el.localName);
}

/** The field's current value as it may be sent (masked, or undefined for file inputs). */
export function fieldValue(el: Field, masker: Masker, marked?: boolean): string | undefined {
  if (el.localName === 'input' && (el as HTMLInputElement).type === 'file') return undefined;
  return masker.isMaskedField(el, marked) ? masker.mask(el.value) : el.value;
}

/** Whether a choice's state (a box ticked, an option chosen) may be sent: of a masked choice, it is itself the secret. */
export function showsChoice(el: Element, masker: Masker, marked?: boolean): boolean {
  return !masker.isMaskedField(el, marked);
}

/**
 * What the rules make of an attribute: null to leave it out, its value masked, or undefined when
 * they let it pass as it is (a URL attribute then goes through `sharedUrl`).
 */
export function privateAttribute(el: Element, name: string, value: string, masker: Masker, marked?: boolean): string | null | undefined {
  // Inline event handlers never leave the page: they are code, and may carry data.
  if (name.length > 2 && (name.charCodeAt(0) | 32) === 111 /* o */ && (name.charCodeAt(1) | 32) === 110 /* n */) return null;
  if ((isFormField(el) || el.localName === 'option') && (name === 'value' || name === 'checked' || name === 'selected')) {
    // The default state of a masked choice tells as much as its live state.
    if (!showsChoice(el, masker, marked)) return name === 'value' ? masker.mask(value) : null;
  }
  if (masker.isMaskedAttribute(el, name, marked)) return masker.mask(value);
  if (name.startsWith('data-') && /^\s*https?:\/\//i.test(value)) return masker.displayUrl(withoutHandoff(value.trim()));
  return undefined;
}

/** An absolute URL an attribute holds, as it may be sent. */
export function sharedUrl(el: Element, name: string, url: string, masker: Masker): string {
  url = withoutHandoff(url);
  // A link to this very page would carry its query string (tokens, personal data): send the fragment only.
  const page = el.ownerDocument.URL.split('#')[0];
  if (url.split('#')[0] === page) return url.includes('#') ? url.slice(url.indexOf('#')) : '#';
  // Where a link, form or frame leads is shown, never fetched: the page URL's rule holds (no query, no fragment).
  return isDestination(el, name) ? masker.displayUrl(url) : url;
}

/** URL attributes the mirror never fetches: where a link, a form or a frame leads. */
function isDestination(el: Element, name: string): boolean {
  if (name === 'href' || name === 'xlink:href') return el.localName === 'a' || el.localName === 'area';
  if (name === 'src') return el.localName === 'iframe' || el.localName === 'frame';
  return name === 'action' || name === 'formaction' || name === 'cite';
}
