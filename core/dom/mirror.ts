/**
 * Rebuilds the customer's page from snapshot and patches inside a sandboxed iframe.
 * The iframe runs no script (sandbox is exactly `allow-same-origin`), and as a second
 * line of defence nothing active is ever created: what the mirror may create or set is
 * sanitize.ts's to decide, and how each patch op applies is patches.ts's.
 */
import {
  NodeKind,
  type ElementExtra,
  type PatchContent,
  type PatchOp,
  type SerializedDocument,
  type SerializedElement,
  type SerializedNode,
  type SnapshotContent,
} from '../protocol/index.js';
import { PSEUDO_MARKS, PseudoMark, emulatePseudoClasses, flatParent, mayUsePseudo } from './pseudo.js';
import type { AssetLoading } from './assets.js';
import { MIRROR_SANDBOX, NAMESPACES, Sanitizer } from './sanitize.js';
import { MirrorSheets, watchLinkedSheet } from './mirror-sheets.js';
import { PATCH_HANDLERS, setMedia, type PatchTarget } from './patches.js';

export { MIRROR_SANDBOX, isUnsafeAttribute } from './sanitize.js';

const ELEMENT = 1;
const DOCUMENT = 9;
const XLINK_NS = 'http://www.w3.org/1999/xlink';

/**
 * A mirror node's ID lives on the node itself: one property store per node instead of a WeakMap
 * entry, which the apply path pays for every node it builds. (The mirror runs no script to see it.)
 */
const NODE_ID = Symbol('cobrowse-id');
type WithId = Node & { [NODE_ID]?: number };
const idOf = (node: Node): number | undefined => (node as WithId)[NODE_ID];

/**
 * document.open() gives the mirror document the console's URL, path and query included, and Chromium
 * sends it as the Referer of what inline CSS loads (it ignores the document's referrer policy there).
 * The site root is all the proxy may learn.
 */
function forgetConsoleUrl(doc: Document): void {
  try {
    doc.defaultView?.history.replaceState(null, '', '/');
  } catch {
    // an origin with no path to go to (opaque): it had no URL worth hiding
  }
}

/** Shows a dialog as modal, on top with its ::backdrop as the customer sees it, without taking the agent's focus. */
function showModal(dialog: HTMLDialogElement): void {
  if (!dialog.isConnected) return;
  dialog.removeAttribute('open'); // showModal() refuses a dialog that is already open
  // showModal() also focuses the dialog or its first field, which would take the agent's focus (and keys)
  // from the console: inert, it has none to take.
  const inert = dialog.inert;
  dialog.inert = true;
  try {
    dialog.showModal();
  } catch {
    dialog.setAttribute('open', '');
  } finally {
    dialog.inert = inert;
  }
}

export interface MirrorOptions {
  /** Called when the customer's viewport size is known or changes. */
  onViewport?(width: number, height: number): void;
  /** How the page's images, stylesheets, fonts and media load; default 'none' (see setAssets). */
  assets?: AssetLoading;
}

/** Applies frames to an iframe; generic over nothing, it owns the iframe's document. */
export class Mirror {
  /** The customer's viewport in CSS pixels, [0, 0] before the first snapshot. */
  viewport: [number, number] = [0, 0];
  /** The customer page's URL and title at the last snapshot. */
  url = '';
  title = '';
  #nodes = new Map<number, Node>();
  /** CSS as the current asset rules let it load (they may change before the next snapshot). */
  readonly #css = (css: string) => this.#sanitizer.css(css);
  #sheets = new MirrorSheets([], this.#css);
  /** Work that needs the built nodes in a document: iframe contents (only then do they have one), modal dialogs. */
  #afterAttach: Array<() => void> = [];
  /** Elements carrying a pseudo-class marker (the customer's hover, focus, active). */
  #marked: Element[] = [];
  #sanitizer: Sanitizer;
  /** Each document's CSP, once written: a policy in force stays for the document's life. */
  readonly #locked = new WeakMap<Document, string>();
  readonly #options: MirrorOptions;
  /** True while a sprite's copy is built: its nodes are not the page's and get no IDs. */
  #buildingSprite = false;
  #spriteCount = 0;
  /** What the patch handlers work on. */
  readonly #target = Mirror.#patchTarget(this);

  constructor(
    readonly iframe: HTMLIFrameElement,
    options: MirrorOptions = {},
  ) {
    this.#options = options;
    this.#sanitizer = new Sanitizer(options.assets);
    // Out of the console's tab order: nothing in the mirror takes the agent's focus.
    iframe.tabIndex = -1;
    if (iframe.getAttribute('sandbox') !== MIRROR_SANDBOX) {
      iframe.setAttribute('sandbox', MIRROR_SANDBOX);
      // Sandbox flags apply to the next document only: re-inserting the iframe gives it one.
      if (iframe.parentNode) iframe.parentNode.insertBefore(iframe, iframe.nextSibling);
    }
  }

  /** The mirror's document; throws if the iframe could run scripts. */
  get document(): Document {
    if (this.iframe.getAttribute('sandbox') !== MIRROR_SANDBOX) {
      throw new Error(`Refusing to render: the mirror iframe's sandbox must be exactly "${MIRROR_SANDBOX}"`);
    }
    const doc = this.iframe.contentDocument;
    if (!doc) throw new Error('The mirror iframe is not attached to a document');
    return doc;
  }

  /** The mirror node with this ID, if any. */
  node(id: number): Node | undefined {
    return this.#nodes.get(id);
  }

  /** The ID the customer's page knows a mirror node by (what agent commands name). */
  idOfNode(node: Node): number | undefined {
    return idOf(node);
  }

  /**
   * How the page's assets load from the next snapshot on: through the relay's proxy (what the relay's
   * `joined` grants), 'direct' from wherever the customer's page says (an operator's explicit choice:
   * the customer's page then decides what the agent's browser fetches), or 'none'.
   */
  setAssets(loading: AssetLoading): void {
    this.#sanitizer = new Sanitizer(loading);
  }

  /** Replaces the whole mirrored page. */
  applySnapshot(frame: SnapshotContent): void {
    let doc = this.document;
    const { csp } = this.#sanitizer;
    const locked = this.#locked.get(doc);
    if (locked !== undefined && locked !== csp) {
      // Policies only add up: another asset policy needs a document of its own, which re-inserting the iframe gives.
      this.iframe.parentNode?.insertBefore(this.iframe, this.iframe.nextSibling);
      doc = this.document;
    }
    // The same policy on the iframe: were its document ever navigated, the next one must keep it (or not load).
    if (this.iframe.getAttribute('csp') !== csp) this.iframe.setAttribute('csp', csp);
    this.#nodes = new Map();
    this.#sheets = new MirrorSheets(frame.sheets ?? [], this.#css);
    this.#afterAttach = [];
    this.#marked = [];
    this.#renderDocument(doc, frame.doc);
    this.#runAfterAttach();
    this.url = frame.url;
    this.title = frame.title;
    this.#setViewport(frame.viewport[0], frame.viewport[1]);
  }

  /**
   * Applies one batch of ops in order. Returns false when an op names a node the mirror
   * does not have: the mirror is out of step and the caller should ask for a snapshot.
   */
  applyPatch(frame: PatchContent): boolean {
    let inStep = true;
    for (const op of frame.ops) {
      const handle = PATCH_HANDLERS[op[0]] as ((target: PatchTarget, op: PatchOp) => boolean) | undefined;
      if (handle && !handle(this.#target, op)) inStep = false;
    }
    return inStep;
  }

  /** The mirror as the patch handlers see it. */
  static #patchTarget(mirror: Mirror): PatchTarget {
    return {
      node: (id) => mirror.#nodes.get(id),
      get sanitizer() {
        return mirror.#sanitizer;
      },
      get sheets() {
        return mirror.#sheets;
      },
      nodes: () => mirror.#nodes.values(),
      insert: (parent, tree, next) => mirror.#insert(parent, tree, next),
      remove: (node) => {
        mirror.#forget(node);
        (node as ChildNode).remove();
      },
      setViewport: (width, height) => mirror.#setViewport(width, height),
      showPseudo: (hover, focus, active, focusVisible) => mirror.#showPseudo(hover, focus, active, focusVisible),
    };
  }

  #insert(parent: Node, tree: SerializedNode, next: Node | null): void {
    const node = this.#build(tree, parent.ownerDocument ?? (parent as Document), null);
    if (node) parent.insertBefore(node, next);
    this.#runAfterAttach();
  }

  /** Rebuilds a document in place: the mirror's own, or a same-origin iframe's inside it. */
  #renderDocument(doc: Document, tree: SerializedDocument): void {
    const [, docId, children, quirks, adopted] = tree;
    // Writing (or not) a doctype is the only way to set a document's rendering mode. Quirks mode would
    // take any document as a stylesheet (a console page with its secrets), so it needs the proxy.
    this.#openDocument(doc, !(quirks && this.#sanitizer.allowsQuirks));
    while (doc.firstChild) doc.firstChild.remove();
    this.#remember(doc, docId);
    for (const child of children) {
      const node = this.#build(child, doc, null);
      if (node) doc.appendChild(node);
    }
    if (adopted) this.#sheets.adopt(doc, adopted);
    else if (doc.adoptedStyleSheets.length) doc.adoptedStyleSheets = []; // the previous page's
  }

  /**
   * Empties a mirror document and writes its head: the doctype (or none: quirks mode), no referrer, and
   * once per document its CSP. Then it forgets the console's URL that document.open() gave it.
   */
  #openDocument(doc: Document, standards: boolean): void {
    const first = !this.#locked.has(doc);
    if (first) this.#locked.set(doc, this.#sanitizer.csp);
    const head = this.#sanitizer.head(first);
    doc.open();
    doc.write(standards ? `<!DOCTYPE html>${head}` : head);
    doc.close();
    forgetConsoleUrl(doc);
  }

  #runAfterAttach(): void {
    while (this.#afterAttach.length) this.#afterAttach.shift()!();
  }

  /** Renders an iframe's content, now that the iframe is attached. */
  #fillFrame(iframe: HTMLIFrameElement, tree: SerializedDocument | null): void {
    const doc = iframe.contentDocument;
    if (!doc) return; // not attached after all (its parent is inert)
    if (tree) {
      this.#renderDocument(doc, tree);
      return;
    }
    // Another site's page is not ours to read: say so, at the same size.
    this.#openDocument(doc, true);
    doc.body.style.cssText =
      'margin:0;height:100vh;display:grid;place-items:center;background:#eef0f4;color:#5b6474;font:13px system-ui,sans-serif';
    doc.body.textContent = 'Content from another website is not shared';
  }

  /**
   * Marks where the customer's :hover, :active, :focus, :focus-within and :focus-visible match:
   * hover and active on the element and its ancestors, focus-within on the focused element's.
   * Through shadow roots and iframes, as the browser does (the host or iframe holds the focus).
   */
  #showPseudo(hover: number | null, focus: number | null, active: number | null, focusVisible: boolean): void {
    for (const el of this.#marked) for (const name of PSEUDO_MARKS) el.removeAttribute(name);
    this.#marked = [];
    this.#markUp(hover, PseudoMark.hover);
    this.#markUp(active, PseudoMark.active);
    this.#markUp(focus, PseudoMark['focus-within']);
    const focused = focus === null ? undefined : this.#nodes.get(focus);
    if (focused?.nodeType !== ELEMENT) return;
    this.#mark(focused as Element, PseudoMark.focus);
    if (focusVisible) this.#mark(focused as Element, PseudoMark['focus-visible']);
    // A shadow host or an iframe whose content holds the focus is itself :focus from outside.
    for (let root = focused.getRootNode(); ;) {
      const holder = root.nodeType === DOCUMENT ? (root as Document).defaultView?.frameElement : (root as ShadowRoot).host;
      if (!holder || idOf(holder) === undefined) break;
      this.#mark(holder, PseudoMark.focus);
      root = holder.getRootNode();
    }
  }

  /** Marks the element with this ID and its ancestors in the flat tree, up to the mirror's own document. */
  #markUp(id: number | null, name: string): void {
    for (let node = id === null ? null : (this.#nodes.get(id) ?? null); node && idOf(node) !== undefined; node = flatParent(node)) {
      if (node.nodeType === ELEMENT) this.#mark(node as Element, name);
    }
  }

  #mark(el: Element, name: string): void {
    el.setAttribute(name, '');
    this.#marked.push(el);
  }

  #setViewport(width: number, height: number): void {
    this.viewport = [width, height];
    this.#options.onViewport?.(width, height);
  }

  #remember(node: Node, id: number): void {
    if (this.#buildingSprite) return; // a sprite's copy has IDs of its own, not the page's
    this.#nodes.set(id, node);
    (node as WithId)[NODE_ID] = id;
  }

  /** Drops the IDs of a removed subtree, shadow roots and iframe documents included. */
  #forget(root: Node): void {
    const stack: Node[] = [root];
    while (stack.length) {
      const node = stack.pop()!;
      const id = idOf(node);
      if (id !== undefined) this.#nodes.delete(id);
      for (let child = node.firstChild; child; child = child.nextSibling) stack.push(child);
      if (node.nodeType !== ELEMENT) continue;
      const el = node as Element;
      if (el.shadowRoot) stack.push(el.shadowRoot);
      if (el.localName === 'template') stack.push((el as HTMLTemplateElement).content);
      if (el.localName === 'iframe' && (el as HTMLIFrameElement).contentDocument) stack.push((el as HTMLIFrameElement).contentDocument!);
    }
  }

  /**
   * Builds a serialized subtree. Each node goes into `parent` as soon as it exists, before its
   * own children: built top-down inside a detached root, a deep tree costs linear time, where
   * bottom-up insertion re-walks ever larger subtrees.
   */
  #build(node: SerializedNode, doc: Document, parent: Node | null): Node | null {
    switch (node[0]) {
      case NodeKind.Element:
        return this.#buildElement(node, doc, parent);
      case NodeKind.Text:
        return this.#place(doc.createTextNode(node[2]), node[1], parent);
      case NodeKind.Comment:
        return this.#place(doc.createComment(node[2]), node[1], parent);
      case NodeKind.Doctype:
        return this.#place(doc.implementation.createDocumentType(node[2] || 'html', node[3], node[4]), node[1], parent);
      default:
        return null; // a document inside a document is not a thing
    }
  }

  #buildElement(node: SerializedElement, doc: Document, parent: Node | null): Element {
    // Indexed, not destructured: this runs per node, and indexing a tuple costs less than iterating it.
    const children = node[4];
    const extra = node[5];
    const sanitizer = this.#sanitizer;
    const el = sanitizer.createElement(doc, node[2], extra?.ns);
    this.#remember(el, node[1]);
    // An HTML element's local name is the tag it was created with (asking the DOM costs a call per node).
    const localName = extra?.ns ? el.localName : sanitizer.createdTag;
    sanitizer.setAttributes(el, node[3], localName);
    parent?.appendChild(el);
    if (localName === 'link') {
      sanitizer.prepareLink(el);
      watchLinkedSheet(el as HTMLLinkElement);
    }
    // Content of inert stand-ins is kept (for IDs) but lives in a template, so it never renders.
    const container = localName === 'template' ? (el as HTMLTemplateElement).content : el;
    for (let i = 0; i < children.length; i++) this.#build(children[i]!, doc, container);
    sanitizer.finishElement(el, localName);
    if (extra) this.#applyExtra(el, extra, doc);
    return el;
  }

  /**
   * State beyond attributes and children. Apart from build so that build captures nothing in
   * closures: a captured variable costs every call a context allocation, and build runs per node.
   */
  #applyExtra(el: Element, extra: ElementExtra, doc: Document): void {
    if (extra.sprite && el.localName === 'use') this.#useSprite(el, extra.sprite, doc);
    if (extra.value !== undefined && 'value' in el) (el as HTMLInputElement).value = extra.value;
    if (extra.checked !== undefined) (el as HTMLInputElement).checked = extra.checked;
    if (extra.selected !== undefined) (el as HTMLOptionElement).selected = extra.selected;
    if (extra.css !== undefined && el.localName === 'style') {
      el.textContent = this.#sanitizer.css(extra.css);
      // Its sheet exists once the element is in a document.
      if (mayUsePseudo(extra.css)) this.#afterAttach.push(() => emulatePseudoClasses((el as HTMLStyleElement).sheet));
    }
    if ((extra.doc || extra.xo) && el.localName === 'iframe')
      this.#afterAttach.push(() => this.#fillFrame(el as HTMLIFrameElement, extra.doc ?? null));
    if (extra.media && 'paused' in el) setMedia(el as HTMLMediaElement, extra.media[0], extra.media[1]);
    if (extra.modal && el.localName === 'dialog') this.#afterAttach.push(() => showModal(el as HTMLDialogElement));
    if (extra.shadow) {
      const [, rootId, rootChildren, adopted] = extra.shadow;
      try {
        const root = el.attachShadow({ mode: 'open' });
        this.#remember(root, rootId);
        for (const child of rootChildren) this.#build(child, doc, root);
        if (adopted) this.#sheets.adopt(root, adopted);
      } catch {
        // An element that cannot host a shadow root here; its light DOM still shows.
      }
    }
  }

  /**
   * Points a `<use>` at a copy of its external target (the customer's page sent it: the mirror's
   * origin may not load the customer's sprite file), kept in a hidden SVG of the mirror's own.
   */
  #useSprite(use: Element, sprite: SerializedElement, doc: Document): void {
    let holder = doc.querySelector(':root > svg[data-cobrowse-sprites]');
    if (!holder) {
      holder = doc.createElementNS(NAMESPACES.s, 'svg');
      holder.setAttribute('data-cobrowse-sprites', '');
      holder.setAttribute('aria-hidden', 'true');
      holder.setAttribute('style', 'position:absolute;width:0;height:0;overflow:hidden');
      doc.documentElement?.append(holder);
    }
    this.#buildingSprite = true;
    try {
      const copy = this.#build(sprite, doc, holder) as Element | null;
      if (!copy) return;
      const id = `cobrowse-sprite-${++this.#spriteCount}`;
      copy.setAttribute('id', id);
      use.removeAttributeNS(XLINK_NS, 'href');
      use.setAttribute('href', `#${id}`);
    } finally {
      this.#buildingSprite = false;
    }
  }

  #place<T extends Node>(node: T, id: number, parent: Node | null): T {
    this.#remember(node, id);
    parent?.appendChild(node);
    return node;
  }
}
