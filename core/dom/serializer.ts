/**
 * Turns live DOM nodes into the protocol's tuples, assigning each node an integer ID.
 * Masking happens here, so nothing downstream ever holds a masked value.
 */
import {
  NodeKind,
  type ElementExtra,
  type SerializedDocument,
  type SerializedNode,
  type SerializedShadowRoot,
  type SnapshotContent,
} from '../protocol/index.js';
import { mapCssUrls } from '../protocol/assets.js';
import { mapSrcset } from './assets.js';
import { sameOriginDocument } from './frames.js';
import { CONTENT_DROPPED, fieldValue, isFormField, privateAttribute, sealed, sharedUrl, showsChoice, type Masker } from './mask.js';

/** Gives objects integer IDs in the order they are first seen; forgets them with the objects. */
class Ids<T extends object> {
  #next = 1;
  readonly #ids = new WeakMap<T, number>();

  get(item: T | null): number | undefined {
    return item ? this.#ids.get(item) : undefined;
  }

  has(item: T): boolean {
    return this.#ids.has(item);
  }

  assign(item: T): number {
    const id = this.#next++;
    this.#ids.set(item, id);
    return id;
  }

  protected forget(item: T): void {
    this.#ids.delete(item);
  }
}

/** Maps live nodes to the IDs the mirror knows them by. */
export class NodeIds extends Ids<Node> {
  /**
   * The live node with this ID under `root`, found by walking the tree: agent commands are rare,
   * and a reverse map would cost every recorded node memory.
   */
  find(root: Node, id: number): Node | undefined {
    let found: Node | undefined;
    forEachInTree(root, (n) => {
      if (this.get(n) === id) found = n;
      return found !== undefined;
    });
    return found;
  }

  /** Forgets a node and everything below it (shadow roots included), so it is serialized afresh if it comes back. */
  forgetSubtree(root: Node): void {
    forEachInTree(root, (n) => this.forget(n));
  }
}

/** Visits a node and all below it, entering open shadow roots, template contents and same-origin iframes; `visit` returns true to stop. */
export function forEachInTree(root: Node, visit: (node: Node) => boolean | void): void {
  const stack: Node[] = [root];
  while (stack.length) {
    const node = stack.pop()!;
    if (visit(node)) return;
    for (let child = node.lastChild; child; child = child.previousSibling) stack.push(child);
    if (node.nodeType !== Node.ELEMENT_NODE) continue;
    const el = node as Element;
    if (el.shadowRoot) stack.push(el.shadowRoot);
    if (el.localName === 'template') stack.push((el as HTMLTemplateElement).content);
    const framed = sameOriginDocument(el);
    if (framed) stack.push(framed);
  }
}

/** Gives each stylesheet an ID once, so a sheet adopted by many shadow roots is sent once. */
export class SheetIds extends Ids<CSSStyleSheet> {
  /** The sheet's ID; `define` is called with its CSS the first time it is seen. */
  idOf(sheet: CSSStyleSheet, define: (id: number, css: string) => void): number {
    let id = this.get(sheet);
    if (id === undefined) define((id = this.assign(sheet)), sheetText(sheet));
    return id;
  }
}

/** A sheet's rules as CSS text ('' when the browser will not let us read them: cross-origin). */
export function sheetText(sheet: CSSStyleSheet | null): string {
  if (!sheet) return '';
  try {
    let css = '';
    for (const rule of Array.from(sheet.cssRules)) css += rule.cssText + '\n';
    return css;
  } catch {
    return '';
  }
}

/** Sheets changed through insertRule & co. since the page loaded: their <style> text no longer tells the truth. */
export const cssomTouched = new WeakSet<CSSStyleSheet>();

/** What a <style> element applies: its text, unless the CSSOM changed it or it was filled by insertRule. */
export function styleText(style: HTMLStyleElement): string {
  const sheet = style.sheet;
  const text = style.textContent ?? '';
  const css = sheet && (cssomTouched.has(sheet) || (!text.trim() && sheet.cssRules.length)) ? sheetText(sheet) : text;
  return absoluteCss(css, style.baseURI);
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const MATHML_NS = 'http://www.w3.org/1998/Math/MathML';

/** Attributes holding one URL, made absolute so the mirror loads the same resource. */
const URL_ATTRIBUTES = new Set(['src', 'href', 'action', 'formaction', 'poster', 'background', 'xlink:href', 'data', 'cite']);

export interface SerializeContext {
  ids: NodeIds;
  masker: Masker;
  sheets: SheetIds;
  /** Elements sent as blocked placeholders: nothing more of them, or in them, is ever sent. */
  blocked: WeakSet<Element>;
  /** Called with a sheet's CSS the first time a serialized tree adopts it. */
  defineSheet(id: number, css: string): void;
  /** Called for every shadow root and iframe document serialized, so the recorder can observe it. */
  observeRoot(root: ShadowRoot | Document): void;
  /**
   * The element `id` of the external SVG file `file` (absolute URL, no fragment): the element, null when
   * there is none, undefined while the file is not loaded yet (the recorder loads it, then sends the
   * `<use>` again).
   */
  sprite?(file: string, id: string): Element | null | undefined;
}

/** The IDs of the sheets a document or shadow root adopts; undefined for none. */
export function adoptedIds(owner: Document | ShadowRoot, ctx: SerializeContext): number[] | undefined {
  const sheets = owner.adoptedStyleSheets;
  if (!sheets?.length) return undefined;
  return Array.from(sheets, (sheet) => ctx.sheets.idOf(sheet, ctx.defineSheet));
}

function serializeChildren(parent: Node, ctx: SerializeContext, marked: boolean): SerializedNode[] {
  const children: SerializedNode[] = [];
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    const serialized = serializeNode(child, ctx, marked);
    if (serialized) children.push(serialized);
  }
  return children;
}

/** Serializes an open shadow root and starts observing it; `marked`: its host is under a mask mark. */
export function serializeShadowRoot(
  root: ShadowRoot,
  ctx: SerializeContext,
  marked = ctx.masker.isMarked(root.host),
): SerializedShadowRoot {
  const id = ctx.ids.assign(root);
  ctx.observeRoot(root);
  const children = serializeChildren(root, ctx, marked);
  const adopted = adoptedIds(root, ctx);
  return adopted ? [NodeKind.ShadowRoot, id, children, adopted] : [NodeKind.ShadowRoot, id, children];
}

function absolute(url: string, base: string): string {
  // Already absolute web URLs are most of them; the URL parser costs a microsecond each.
  if (/^https?:\/\/[^\s]*$/i.test(url)) return url;
  try {
    return new URL(url, base).href;
  } catch {
    return url;
  }
}

const absoluteSrcset = (srcset: string, base: string): string => mapSrcset(srcset, (url) => absolute(url, base));

/** CSS with every url() and @import made absolute: the mirror's document has another base. */
export const absoluteCss = (css: string, base: string): string => mapCssUrls(css, (url) => absolute(url, base));

/** The value an attribute is sent with (once the privacy rules had their say), or null to leave it out. */
export function serializeAttribute(el: Element, name: string, value: string, masker: Masker, marked?: boolean): string | null {
  const ruled = privateAttribute(el, name, value, masker, marked);
  if (ruled !== undefined) return ruled;
  if (name === 'src' && value.startsWith('blob:') && el.localName === 'img') return inlineBlobImage(el as HTMLImageElement) ?? value;
  if (URL_ATTRIBUTES.has(name) && value.trim() && !value.trim().startsWith('#'))
    return sharedUrl(el, name, absolute(value, el.baseURI), masker);
  if (name === 'srcset') return absoluteSrcset(value, el.baseURI);
  if (name === 'style') return absoluteCss(value, el.baseURI);
  return value;
}

/** A blob: URL means nothing outside the customer's page: a small loaded image is sent as a data URL instead. */
function inlineBlobImage(img: HTMLImageElement): string | null {
  const { naturalWidth: w, naturalHeight: h } = img;
  if (!img.complete || !w || !h || w * h > 512 * 512) return null;
  try {
    const canvas = img.ownerDocument.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    canvas.getContext('2d')!.drawImage(img, 0, 0);
    return canvas.toDataURL('image/png');
  } catch {
    return null;
  }
}

/** The target of a `<use>` that points into another file (a sprite), once the recorder has that file. */
function spriteTarget(use: Element, ctx: SerializeContext): Element | null {
  const href = use.getAttribute('href') ?? use.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
  if (!href || href.startsWith('#') || !ctx.sprite) return null;
  let url: URL;
  try {
    url = new URL(href, use.baseURI);
  } catch {
    return null;
  }
  const id = decodeURIComponent(url.hash.slice(1));
  url.hash = '';
  if (!id || url.href === use.ownerDocument.URL.split('#')[0]) return null;
  return ctx.sprite(url.href, id) ?? null;
}

function elementExtra(el: Element, ctx: SerializeContext, marked: boolean): ElementExtra | undefined {
  const { masker } = ctx;
  let extra: ElementExtra | undefined;
  const ns = el.namespaceURI;
  if (ns === SVG_NS) {
    extra = { ns: 's' };
    const target = el.localName === 'use' ? spriteTarget(el, ctx) : null;
    if (target) {
      // Its own IDs: the mirror builds the copy apart from the page's nodes.
      // (No sprites inside a sprite: a file pointing into itself would never end.)
      const sprite = serializeNode(
        target,
        { ...ctx, ids: new NodeIds(), blocked: new WeakSet(), observeRoot: () => {}, sprite: undefined },
        marked,
      );
      if (sprite?.[0] === NodeKind.Element) extra.sprite = sprite;
    }
  } else if (ns === MATHML_NS) extra = { ns: 'm' };
  else if (isFormField(el)) {
    const type = el.localName === 'input' ? (el as HTMLInputElement).type : '';
    if (type === 'checkbox' || type === 'radio')
      extra = showsChoice(el, masker, marked) ? { checked: (el as HTMLInputElement).checked } : undefined;
    else if (el.localName !== 'select') extra = { value: fieldValue(el, masker, marked) };
  } else if (el.localName === 'option' && showsChoice(el, masker, marked)) {
    extra = { selected: (el as HTMLOptionElement).selected };
  } else if (el.localName === 'video' || el.localName === 'audio') {
    const media = el as HTMLMediaElement;
    extra = { media: [media.paused, Math.round(media.currentTime * 10) / 10] };
  } else if (el.localName === 'dialog' && el.matches(':modal')) {
    extra = { modal: 1 };
  } else if (el.localName === 'style') {
    extra = { css: styleText(el as HTMLStyleElement) };
  } else if (el.localName === 'iframe' || el.localName === 'frame') {
    const doc = sameOriginDocument(el);
    extra = doc ? { doc: serializeDocument(doc, ctx, marked) } : { xo: 1 };
  }
  if (el.shadowRoot) (extra ??= {}).shadow = serializeShadowRoot(el.shadowRoot, ctx, marked);
  return extra;
}

/**
 * Serializes a node and its subtree, assigning IDs; null for node types that are not sent.
 * `marked` says whether an ancestor carries a mask mark; when absent it is looked up once,
 * then handed down the recursion.
 */
export function serializeNode(node: Node, ctx: SerializeContext, inherited?: boolean): SerializedNode | null {
  switch (node.nodeType) {
    case Node.ELEMENT_NODE: {
      const el = node as Element;
      const id = ctx.ids.assign(el);
      const seal = sealed(el, id, ctx, ctx.masker);
      if (seal) return seal;
      const marked = inherited === undefined ? ctx.masker.isMarked(el) : inherited || ctx.masker.marksItself(el);
      const attrs: string[] = [];
      const attributes = el.attributes;
      for (let i = 0; i < attributes.length; i++) {
        const attr = attributes[i]!;
        const value = serializeAttribute(el, attr.name, attr.value, ctx.masker, marked);
        if (value !== null) attrs.push(attr.name, value);
      }
      // <template> keeps its content in a fragment, not in childNodes; a <style>'s CSS travels in `css`.
      const source = el.localName === 'template' ? (el as HTMLTemplateElement).content : el;
      const children = CONTENT_DROPPED.has(el.localName) || el.localName === 'style' ? [] : serializeChildren(source, ctx, marked);
      const extra = elementExtra(el, ctx, marked);
      return extra ? [NodeKind.Element, id, el.localName, attrs, children, extra] : [NodeKind.Element, id, el.localName, attrs, children];
    }
    case Node.TEXT_NODE: {
      const text = node as Text;
      return [NodeKind.Text, ctx.ids.assign(text), ctx.masker.text(text, inherited)];
    }
    case Node.COMMENT_NODE:
      // Comments can carry anything a template left behind; the mirror needs only their place.
      return [NodeKind.Comment, ctx.ids.assign(node), ''];
    case Node.DOCUMENT_TYPE_NODE: {
      const doctype = node as DocumentType;
      return [NodeKind.Doctype, ctx.ids.assign(doctype), doctype.name, doctype.publicId, doctype.systemId];
    }
    case Node.DOCUMENT_NODE:
      return serializeDocument(node as Document, ctx, inherited);
    default:
      return null; // CDATA, processing instructions: nothing to render.
  }
}

/** Serializes a document (the page's, or a same-origin iframe's) and starts observing it. */
export function serializeDocument(doc: Document, ctx: SerializeContext, marked?: boolean): SerializedDocument {
  const id = ctx.ids.assign(doc);
  ctx.observeRoot(doc);
  // A same-origin iframe's document inherits its iframe's marks.
  const frame = doc.defaultView?.frameElement;
  const children = serializeChildren(doc, ctx, marked ?? (frame ? ctx.masker.isMarked(frame) : false));
  const adopted = adoptedIds(doc, ctx);
  const quirks = doc.compatMode === 'BackCompat';
  if (adopted) return [NodeKind.Document, id, children, quirks, adopted];
  return quirks ? [NodeKind.Document, id, children, true] : [NodeKind.Document, id, children];
}

/** A full snapshot of the document, with fresh IDs (the sheets it adopts go through `ctx.defineSheet`). */
export function snapshotDocument(doc: Document, ctx: SerializeContext): SnapshotContent {
  const view = doc.defaultView;
  return {
    t: 'snapshot',
    url: ctx.masker.displayUrl(doc.URL),
    title: doc.title,
    viewport: [view?.innerWidth ?? 0, view?.innerHeight ?? 0],
    doc: serializeDocument(doc, ctx),
  };
}
