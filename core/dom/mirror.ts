/**
 * Rebuilds the customer's page from snapshot and patches inside a sandboxed iframe.
 * The iframe runs no script (sandbox is exactly `allow-same-origin`), and as a second
 * line of defence nothing active is ever created: no script, handler, javascript: URL,
 * meta refresh, base, nested document or plugin.
 */
import {
  NodeKind,
  type ElementExtra,
  Op,
  type PatchContent,
  type SerializedDocument,
  type SerializedElement,
  type SerializedNode,
  type SnapshotContent,
} from '../protocol/index.js';
import { EMULATION_SHEETS, PSEUDO_MARKS, PseudoMark, emulatePseudoClasses, flatParent, mayUsePseudo } from './pseudo.js';
import { applyStyleDiff } from './style-diff.js';
import { AssetPolicy, type AssetLoading } from './assets.js';

const NAMESPACES = { s: 'http://www.w3.org/2000/svg', m: 'http://www.w3.org/1998/Math/MathML' } as const;
const ELEMENT = 1;
const TEXT = 3;
const COMMENT = 8;
const DOCUMENT = 9;
const XLINK_NS = 'http://www.w3.org/1999/xlink';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** The one sandbox the mirror accepts: same origin so we can build its DOM, and nothing else. */
export const MIRROR_SANDBOX = 'allow-same-origin';

/** Written first into every mirror document: its policy stays once set, so nothing it loads tells where the console is. */
const NO_REFERRER = '<meta name="referrer" content="no-referrer">';

/** Elements replaced by an inert <template> so they keep their place but can do nothing. */
const INERT = new Set(['script', 'noscript', 'base', 'object', 'embed', 'applet', 'frame', 'frameset', 'portal']);
const URL_ATTRIBUTES = new Set([
  'src',
  'href',
  'action',
  'formaction',
  'poster',
  'background',
  'xlink:href',
  'data',
  'cite',
  'ping',
  'srcset',
  'lowsrc',
  'dynsrc',
]);
const ACTIVE_URL = /^(javascript|vbscript|data:text\/html|data:application|data:image\/svg)/i;
/** SVG animation attributes that can write a URL or a handler into another attribute. */
const ANIMATION_VALUES = new Set(['to', 'from', 'values', 'by']);

/**
 * Attributes never set whatever their value: handlers, iframe documents, form targets, meta
 * directives, and autofocus (the mirror must not take the agent's focus; the customer's focus is
 * shown by op 13).
 */
const alwaysDropped = (lower: string) =>
  lower.startsWith('on') ||
  lower === 'srcdoc' ||
  lower === 'formaction' ||
  lower === 'http-equiv' ||
  lower === 'autofocus' ||
  REQUEST_SHAPING.has(lower);

/**
 * Attributes that change how the agent's browser requests what an element loads: a referrer policy
 * of its own would tell where the console is, credentials would send the console's cookies, an
 * integrity hash cannot match a proxied copy, and attributionsrc makes the browser call out.
 */
const REQUEST_SHAPING = new Set(['referrerpolicy', 'crossorigin', 'integrity', 'attributionsrc', 'imagesrcset', 'manifest']);

/** SVG presentation attributes whose value may name a URL (url(…)), rewritten like CSS. */
const CSS_VALUED = new Set([
  'style',
  'fill',
  'stroke',
  'filter',
  'clip-path',
  'mask',
  'marker-start',
  'marker-mid',
  'marker-end',
  'cursor',
]);

/** True when an attribute could run code or navigate; such attributes are never set. */
export function isUnsafeAttribute(tag: string, name: string, value: string): boolean {
  const lower = name.toLowerCase();
  if (alwaysDropped(lower)) return true;
  // Our iframes get our content; they inherit the mirror's sandbox, and the page's own would lock us out.
  if (tag === 'iframe' && (lower === 'src' || lower === 'sandbox')) return true;
  // Preload, prefetch and modulepreload would make the agent's browser fetch the customer's scripts.
  if (tag === 'link' && lower === 'rel' && !/^\s*(alternate\s+)?stylesheet(\s+alternate)?\s*$/i.test(value)) return true;
  // <set attributeName="href" to="javascript:…"> would write the URL after we checked it.
  if (lower === 'attributename' && /^\s*(on|href|xlink:href)/i.test(value)) return true;
  // Browsers ignore control characters and spaces inside a scheme, so must we.
  const checked = URL_ATTRIBUTES.has(lower) || ANIMATION_VALUES.has(lower);
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point here
  return checked && ACTIVE_URL.test(value.replace(/[\u0000-\u0020]/g, ''));
}

/**
 * Per attribute name, whether it is always safe, needs its value checked, or is never set; safe
 * names in the xlink: and xml: namespaces are set with their namespace.
 */
const Policy = { Safe: 0, Check: 1, Drop: 2, XLink: 3, Xml: 4 } as const;
type Policy = (typeof Policy)[keyof typeof Policy];
const NEEDS_VALUE_CHECK = new Set([...URL_ATTRIBUTES, ...ANIMATION_VALUES, ...CSS_VALUED, 'src', 'sandbox', 'rel', 'attributename']);

/** Per tag name: the HTML tag created for it, in lower case as the DOM would make it, or an inert stand-in. */
const htmlTags = new Map<string, string>();
function htmlTag(tag: string): string {
  let created = htmlTags.get(tag);
  if (created === undefined) {
    created = tag.toLowerCase();
    if (INERT.has(created)) created = 'template';
    if (htmlTags.size < 10_000) htmlTags.set(tag, created);
  }
  return created;
}

/** An attribute name, once per name: its policy, and the name as one string object. */
interface AttributeName {
  /**
   * Parsed from JSON arrays, every occurrence of a name is a string of its own, which the DOM
   * converts anew; the same string object is converted once, then found in the browser's cache.
   */
  name: string;
  policy: Policy;
}
const attributeNames = new Map<string, AttributeName>();

/** The same answer as isUnsafeAttribute, decided once per name for the names that never depend on the value. */
function attributeName(name: string): AttributeName {
  let known = attributeNames.get(name);
  if (known === undefined) {
    const lower = name.toLowerCase();
    const policy = alwaysDropped(lower)
      ? Policy.Drop
      : NEEDS_VALUE_CHECK.has(lower)
        ? Policy.Check
        : name.startsWith('xlink:')
          ? Policy.XLink
          : name.startsWith('xml:')
            ? Policy.Xml
            : Policy.Safe;
    known = { name, policy };
    if (attributeNames.size < 10_000) attributeNames.set(name, known); // a hostile page cannot grow it without bound
  }
  return known;
}

/**
 * A mirror node's ID lives on the node itself: one property store per node instead of a WeakMap
 * entry, which the apply path pays for every node it builds. (The mirror runs no script to see it.)
 */
const NODE_ID = Symbol('cobrowse-id');
type WithId = Node & { [NODE_ID]?: number };
const idOf = (node: Node): number | undefined => (node as WithId)[NODE_ID];

/** A linked sheet can be rewritten for :hover & co. once loaded, if its origin lets us read it. */
function watchLinkedSheet(link: HTMLLinkElement): void {
  link.addEventListener('load', () => emulatePseudoClasses(link.sheet));
}

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
  private nodes = new Map<number, Node>();
  /** CSS of every constructed sheet by ID, and its CSSStyleSheet in each document's realm. */
  private sheetTexts = new Map<number, string>();
  private sheetsByRealm = new WeakMap<Window, Map<number, CSSStyleSheet>>();
  /** Per document or shadow root, the mirror's own sheets of its linked sheets' :hover & co. rules, by link. */
  private emulation = new WeakMap<Document | ShadowRoot, Map<Element, CSSStyleSheet>>();
  /** Work that needs the built nodes in a document: iframe contents (only then do they have one), modal dialogs. */
  private afterAttach: Array<() => void> = [];
  /** Elements carrying a pseudo-class marker (the customer's hover, focus, active). */
  private marked: Element[] = [];
  private assets: AssetPolicy;
  /** Each document's CSP, once written: a policy in force stays for the document's life. */
  private locked = new WeakMap<Document, string>();

  constructor(
    readonly iframe: HTMLIFrameElement,
    private readonly options: MirrorOptions = {},
  ) {
    this.assets = new AssetPolicy(options.assets);
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
    return this.nodes.get(id);
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
    this.assets = new AssetPolicy(loading);
  }

  /** Replaces the whole mirrored page. */
  applySnapshot(frame: SnapshotContent): void {
    let doc = this.document;
    const csp = this.locked.get(doc);
    if (csp !== undefined && csp !== this.assets.csp) {
      // Policies only add up: another asset policy needs a document of its own, which re-inserting the iframe gives.
      this.iframe.parentNode?.insertBefore(this.iframe, this.iframe.nextSibling);
      doc = this.document;
    }
    // The same policy on the iframe: were its document ever navigated, the next one must keep it (or not load).
    if (this.iframe.getAttribute('csp') !== this.assets.csp) this.iframe.setAttribute('csp', this.assets.csp);
    this.nodes = new Map();
    this.sheetTexts = new Map(frame.sheets ?? []);
    this.sheetsByRealm = new WeakMap();
    this.emulation = new WeakMap();
    this.afterAttach = [];
    this.marked = [];
    this.renderDocument(doc, frame.doc);
    this.runAfterAttach();
    this.url = frame.url;
    this.title = frame.title;
    this.setViewport(frame.viewport[0], frame.viewport[1]);
  }

  /**
   * Applies one batch of ops in order. Returns false when an op names a node the mirror
   * does not have: the mirror is out of step and the caller should ask for a snapshot.
   */
  applyPatch(frame: PatchContent): boolean {
    let inStep = true;
    for (const op of frame.ops) {
      switch (op[0]) {
        case Op.Add: {
          const parent = this.nodes.get(op[1]);
          const next = op[2] === null ? null : this.nodes.get(op[2]);
          if (!parent || next === undefined || (next && next.parentNode !== parent)) {
            inStep = false;
            break;
          }
          const node = this.build(op[3], parent.ownerDocument ?? (parent as Document), null);
          if (node) parent.insertBefore(node, next);
          this.runAfterAttach();
          break;
        }
        case Op.Remove: {
          const node = this.nodes.get(op[1]);
          if (!node) break; // already gone with an ancestor
          this.forget(node);
          (node as ChildNode).remove();
          break;
        }
        case Op.Attr: {
          const ids = op[1];
          if (typeof ids === 'number') {
            const el = this.nodes.get(ids);
            if (el?.nodeType === ELEMENT) this.setAttribute(el as Element, op[2], op[3]);
            else inStep = false;
            break;
          }
          // One change on many elements: the name's policy is looked up once.
          const [, , name, value] = op;
          const policy = value === null ? Policy.Safe : attributeName(name).policy;
          for (let i = 0; i < ids.length; i++) {
            const el = this.nodes.get(ids[i]!) as Element | undefined;
            // Only elements have setAttribute: a JS lookup, where nodeType would be a call into the DOM per node.
            if (el?.setAttribute === undefined) inStep = false;
            else if (value === null) el.removeAttribute(name);
            else if (policy === Policy.Safe) {
              try {
                el.setAttribute(name, value);
              } catch {
                // an attribute name the DOM refuses
              }
            } else this.setAttribute(el, name, value);
          }
          break;
        }
        case Op.Text: {
          const node = this.nodes.get(op[1]);
          if (node?.nodeType === TEXT || node?.nodeType === COMMENT)
            (node as CharacterData).data = (node.parentNode as Element | null)?.localName === 'style' ? this.assets.css(op[2]) : op[2];
          else inStep = false;
          break;
        }
        case Op.Value: {
          const el = this.nodes.get(op[1]) as HTMLInputElement | undefined;
          if (el && 'value' in el) el.value = op[2];
          else inStep = false;
          break;
        }
        case Op.Checked: {
          const el = this.nodes.get(op[1]) as (HTMLInputElement & HTMLOptionElement) | undefined;
          if (!el) inStep = false;
          else if (el.localName === 'option') el.selected = op[2];
          else el.checked = op[2];
          break;
        }
        case Op.Scroll: {
          const node = this.nodes.get(op[1]);
          // Nodes live in the iframe's realm, so type checks use nodeType, not instanceof.
          if (node?.nodeType === DOCUMENT) (node as Document).defaultView?.scrollTo(op[2], op[3]);
          else if (node?.nodeType === ELEMENT) (node as Element).scrollTo(op[2], op[3]);
          break;
        }
        case Op.Viewport:
          this.setViewport(op[1], op[2]);
          break;
        case Op.Sheet:
          this.sheetTexts.set(op[1], op[2]);
          // Every realm's copy of the sheet follows, so every root adopting it restyles.
          for (const realm of this.realms()) {
            const sheet = realm.get(op[1]);
            if (!sheet) continue;
            sheet.replaceSync(this.assets.css(op[2]));
            if (mayUsePseudo(op[2])) emulatePseudoClasses(sheet);
          }
          break;
        case Op.Adopted: {
          const owner = this.nodes.get(op[1]) as Document | ShadowRoot | undefined;
          if (owner && 'adoptedStyleSheets' in owner) this.adopt(owner, op[2]);
          else inStep = false;
          break;
        }
        case Op.Media: {
          const media = this.nodes.get(op[1]) as HTMLMediaElement | undefined;
          if (media && 'paused' in media) this.setMedia(media, op[2], op[3]);
          else inStep = false;
          break;
        }
        case Op.Canvas: {
          const canvas = this.nodes.get(op[1]) as HTMLCanvasElement | undefined;
          if (canvas?.localName === 'canvas') this.paintCanvas(canvas, op[2]);
          else inStep = false;
          break;
        }
        case Op.StyleText: {
          const style = this.nodes.get(op[1]);
          if (style?.nodeType === ELEMENT) this.setStyleText(style as HTMLStyleElement, op[2]);
          else inStep = false;
          break;
        }
        case Op.PseudoRules: {
          const link = this.nodes.get(op[1]) as HTMLLinkElement | undefined;
          if (link?.localName === 'link') this.addPseudoRules(link, op[2]);
          else inStep = false;
          break;
        }
        case Op.Pseudo:
          this.showPseudo(op[1], op[2], op[3], op[4]);
          break;
        case Op.StyleDiff: {
          const [, ids, names, values] = op;
          const shared = values.length === names.length;
          const list = typeof ids === 'number' ? [ids] : ids;
          for (let i = 0; i < list.length; i++) {
            const style = (this.nodes.get(list[i]!) as HTMLElement | undefined)?.style;
            if (style) applyStyleDiff(style, names, values, shared ? 0 : i * names.length, this.cssValue);
            else inStep = false;
          }
          break;
        }
      }
    }
    return inStep;
  }

  /** Rebuilds a document in place: the mirror's own, or a same-origin iframe's inside it. */
  private renderDocument(doc: Document, tree: SerializedDocument): void {
    const [, docId, children, quirks, adopted] = tree;
    // Writing (or not) a doctype is the only way to set a document's rendering mode. Quirks mode would
    // take any document as a stylesheet (a console page with its secrets), so it needs the proxy.
    this.openDocument(doc, !(quirks && this.assets.allowsQuirks));
    while (doc.firstChild) doc.firstChild.remove();
    this.remember(doc, docId);
    for (const child of children) {
      const node = this.build(child, doc, null);
      if (node) doc.appendChild(node);
    }
    if (adopted) this.adopt(doc, adopted);
    else if (doc.adoptedStyleSheets.length) doc.adoptedStyleSheets = []; // the previous page's
  }

  private readonly cssValue = (value: string) => this.assets.css(value);

  /** A style element's text, sent as its children, with its url()s and @imports loading by the asset rules. */
  private loadableStyleText(style: Element): void {
    for (let child = style.firstChild; child; child = child.nextSibling) {
      const text = child as CharacterData;
      if (child.nodeType === TEXT && (text.data.includes('url(') || text.data.includes('@import'))) text.data = this.assets.css(text.data);
    }
  }

  /**
   * Empties a mirror document and writes its head: the doctype (or none: quirks mode), no referrer, and
   * once per document its CSP. Then it forgets the console's URL that document.open() gave it.
   */
  private openDocument(doc: Document, standards: boolean): void {
    let head = NO_REFERRER;
    if (!this.locked.has(doc)) {
      this.locked.set(doc, this.assets.csp);
      head = `<meta http-equiv="Content-Security-Policy" content="${this.assets.csp}">${head}`;
    }
    doc.open();
    doc.write(standards ? `<!DOCTYPE html>${head}` : head);
    doc.close();
    forgetConsoleUrl(doc);
  }

  private runAfterAttach(): void {
    while (this.afterAttach.length) this.afterAttach.shift()!();
  }

  /** Plays or pauses at the customer's time; muted, since the agent's speakers are not the customer's. */
  private setMedia(media: HTMLMediaElement, paused: boolean, time: number): void {
    media.muted = true;
    if (Math.abs(media.currentTime - time) > 0.5) media.currentTime = time;
    if (paused) media.pause();
    else void media.play().catch(() => undefined);
  }

  private paintCanvas(canvas: HTMLCanvasElement, dataUrl: string): void {
    const image = new (canvas.ownerDocument.defaultView as Window & typeof globalThis).Image();
    image.onload = () => {
      const context = canvas.getContext('2d');
      context?.clearRect(0, 0, canvas.width, canvas.height);
      context?.drawImage(image, 0, 0);
    };
    image.src = dataUrl;
  }

  /** Renders an iframe's content, now that the iframe is attached. */
  private fillFrame(iframe: HTMLIFrameElement, tree: SerializedDocument | null): void {
    const doc = iframe.contentDocument;
    if (!doc) return; // not attached after all (its parent is inert)
    if (tree) {
      this.renderDocument(doc, tree);
      return;
    }
    // Another site's page is not ours to read: say so, at the same size.
    this.openDocument(doc, true);
    doc.body.style.cssText =
      'margin:0;height:100vh;display:grid;place-items:center;background:#eef0f4;color:#5b6474;font:13px system-ui,sans-serif';
    doc.body.textContent = 'Content from another website is not shared';
  }

  private *realms(): Iterable<Map<number, CSSStyleSheet>> {
    for (const node of this.nodes.values()) {
      if (node.nodeType === DOCUMENT) {
        const realm = this.sheetsByRealm.get((node as Document).defaultView!);
        if (realm) yield realm;
      }
    }
  }

  /** Adopts sheets by ID, as CSSStyleSheets of the owner's own realm (the only ones it accepts). */
  private adopt(owner: Document | ShadowRoot, ids: number[]): void {
    const win = (owner.nodeType === DOCUMENT ? (owner as Document) : owner.ownerDocument!).defaultView;
    if (!win) return;
    let realm = this.sheetsByRealm.get(win);
    if (!realm) this.sheetsByRealm.set(win, (realm = new Map()));
    const sheets: CSSStyleSheet[] = [];
    for (const id of ids) {
      let sheet = realm.get(id);
      if (!sheet) {
        sheet = new (win as Window & typeof globalThis).CSSStyleSheet();
        const css = this.sheetTexts.get(id) ?? '';
        sheet.replaceSync(this.assets.css(css));
        if (mayUsePseudo(css)) emulatePseudoClasses(sheet);
        realm.set(id, sheet);
      }
      sheets.push(sheet);
    }
    owner.adoptedStyleSheets = sheets.concat(this.emulationSheets(owner));
  }

  private setStyleText(style: HTMLStyleElement, css: string): void {
    style.textContent = this.assets.css(css);
    if (mayUsePseudo(css)) emulatePseudoClasses(style.sheet);
  }

  /**
   * Marks where the customer's :hover, :active, :focus, :focus-within and :focus-visible match:
   * hover and active on the element and its ancestors, focus-within on the focused element's.
   * Through shadow roots and iframes, as the browser does (the host or iframe holds the focus).
   */
  private showPseudo(hover: number | null, focus: number | null, active: number | null, focusVisible: boolean): void {
    for (const el of this.marked) for (const name of PSEUDO_MARKS) el.removeAttribute(name);
    this.marked = [];
    this.markUp(hover, PseudoMark.hover);
    this.markUp(active, PseudoMark.active);
    this.markUp(focus, PseudoMark['focus-within']);
    const focused = focus === null ? undefined : this.nodes.get(focus);
    if (focused?.nodeType !== ELEMENT) return;
    this.mark(focused as Element, PseudoMark.focus);
    if (focusVisible) this.mark(focused as Element, PseudoMark['focus-visible']);
    // A shadow host or an iframe whose content holds the focus is itself :focus from outside.
    for (let root = focused.getRootNode(); ;) {
      const holder = root.nodeType === DOCUMENT ? (root as Document).defaultView?.frameElement : (root as ShadowRoot).host;
      if (!holder || idOf(holder) === undefined) break;
      this.mark(holder, PseudoMark.focus);
      root = holder.getRootNode();
    }
  }

  /** Marks the element with this ID and its ancestors in the flat tree, up to the mirror's own document. */
  private markUp(id: number | null, name: string): void {
    for (let node = id === null ? null : (this.nodes.get(id) ?? null); node && idOf(node) !== undefined; node = flatParent(node)) {
      if (node.nodeType === ELEMENT) this.mark(node as Element, name);
    }
  }

  private mark(el: Element, name: string): void {
    el.setAttribute(name, '');
    this.marked.push(el);
  }

  /**
   * A linked sheet's :hover & co. rules, as the customer's page read them: when the mirror cannot read
   * the sheet itself (another origin's), they go in a sheet of the mirror's own, adopted after the page's.
   */
  private addPseudoRules(link: HTMLLinkElement, css: string): void {
    try {
      if (link.sheet?.cssRules) return; // readable: its own rules were rewritten in place, in their cascade position
    } catch {
      // another origin's sheet
    }
    const root = link.getRootNode() as Document | ShadowRoot;
    const win = (root.nodeType === DOCUMENT ? (root as Document) : root.ownerDocument)?.defaultView as (Window & typeof globalThis) | null;
    if (!win || !('adoptedStyleSheets' in root)) return; // not in a document
    let sheets = this.emulation.get(root);
    if (!sheets) this.emulation.set(root, (sheets = new Map()));
    let sheet = sheets.get(link);
    if (!sheet) {
      sheet = new win.CSSStyleSheet();
      EMULATION_SHEETS.add(sheet);
      sheets.set(link, sheet);
    }
    sheet.replaceSync(this.assets.css(css));
    emulatePseudoClasses(sheet);
    const page = root.adoptedStyleSheets.filter((adopted) => !EMULATION_SHEETS.has(adopted));
    root.adoptedStyleSheets = page.concat(this.emulationSheets(root));
  }

  /** The mirror's own sheets a document or shadow root adopts, for the links still in it. */
  private emulationSheets(root: Document | ShadowRoot): CSSStyleSheet[] {
    const sheets = this.emulation.get(root);
    if (!sheets) return [];
    const kept: CSSStyleSheet[] = [];
    for (const [link, sheet] of sheets) {
      if (link.isConnected && link.getRootNode() === root) kept.push(sheet);
      else sheets.delete(link);
    }
    return kept;
  }

  private setViewport(width: number, height: number): void {
    this.viewport = [width, height];
    this.options.onViewport?.(width, height);
  }

  private remember(node: Node, id: number): void {
    if (this.buildingSprite) return; // a sprite's copy has IDs of its own, not the page's
    this.nodes.set(id, node);
    (node as WithId)[NODE_ID] = id;
  }

  /** Drops the IDs of a removed subtree, shadow roots and iframe documents included. */
  private forget(root: Node): void {
    const stack: Node[] = [root];
    while (stack.length) {
      const node = stack.pop()!;
      const id = idOf(node);
      if (id !== undefined) this.nodes.delete(id);
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
  private build(node: SerializedNode, doc: Document, parent: Node | null): Node | null {
    switch (node[0]) {
      case NodeKind.Element: {
        const attrs = node[3];
        const children = node[4];
        const extra = node[5];
        const el = this.createElement(doc, node[2], extra?.ns);
        this.remember(el, node[1]);
        // An HTML element's local name is the tag it was created with (asking the DOM costs a call per node).
        const localName = extra?.ns ? el.localName : this.createdTag;
        for (let i = 0; i < attrs.length; i += 2) {
          const known = attributeName(attrs[i]!);
          if (known.policy !== Policy.Safe) this.setAttribute(el, known.name, attrs[i + 1]!, localName);
          else {
            try {
              el.setAttribute(known.name, attrs[i + 1]!);
            } catch {
              // an attribute name the DOM refuses; the source page kept it, the mirror cannot
            }
          }
        }
        parent?.appendChild(el);
        if (localName === 'link') {
          // Proxied sheets come from another origin: fetched without credentials, their rules stay readable (for :hover & co.).
          if (typeof this.assets.loading === 'object') el.setAttribute('crossorigin', 'anonymous');
          watchLinkedSheet(el as HTMLLinkElement);
        }
        // Content of inert stand-ins is kept (for IDs) but lives in a template, so it never renders.
        const container = localName === 'template' ? (el as HTMLTemplateElement).content : el;
        for (let i = 0; i < children.length; i++) this.build(children[i]!, doc, container);
        if (localName === 'style') this.loadableStyleText(el);
        if (localName === 'input' || localName === 'textarea' || localName === 'select') {
          // The agent's browser must never autofill the agent's data into the mirror.
          el.setAttribute('autocomplete', 'off');
        }
        if (extra) this.applyExtra(el, extra, doc);
        return el;
      }
      case NodeKind.Text:
        return this.place(doc.createTextNode(node[2]), node[1], parent);
      case NodeKind.Comment:
        return this.place(doc.createComment(node[2]), node[1], parent);
      case NodeKind.Doctype:
        return this.place(doc.implementation.createDocumentType(node[2] || 'html', node[3], node[4]), node[1], parent);
      default:
        return null; // a document inside a document is not a thing
    }
  }

  /**
   * State beyond attributes and children. Apart from build so that build captures nothing in
   * closures: a captured variable costs every call a context allocation, and build runs per node.
   */
  private applyExtra(el: Element, extra: ElementExtra, doc: Document): void {
    if (extra.sprite && el.localName === 'use') this.useSprite(el, extra.sprite, doc);
    if (extra.value !== undefined && 'value' in el) (el as HTMLInputElement).value = extra.value;
    if (extra.checked !== undefined) (el as HTMLInputElement).checked = extra.checked;
    if (extra.selected !== undefined) (el as HTMLOptionElement).selected = extra.selected;
    if (extra.css !== undefined && el.localName === 'style') {
      el.textContent = this.assets.css(extra.css);
      // Its sheet exists once the element is in a document.
      if (mayUsePseudo(extra.css)) this.afterAttach.push(() => emulatePseudoClasses((el as HTMLStyleElement).sheet));
    }
    if ((extra.doc || extra.xo) && el.localName === 'iframe')
      this.afterAttach.push(() => this.fillFrame(el as HTMLIFrameElement, extra.doc ?? null));
    if (extra.media && 'paused' in el) this.setMedia(el as HTMLMediaElement, extra.media[0], extra.media[1]);
    if (extra.modal && el.localName === 'dialog') {
      this.afterAttach.push(() => {
        const dialog = el as HTMLDialogElement;
        if (!dialog.isConnected) return;
        dialog.removeAttribute('open'); // showModal() refuses a dialog that is already open
        // On top, with its ::backdrop, as the customer sees it — but showModal() also focuses the dialog
        // or its first field, which would take the agent's focus (and keys) from the console: inert, it has none to take.
        const inert = dialog.inert;
        dialog.inert = true;
        try {
          dialog.showModal();
        } catch {
          dialog.setAttribute('open', '');
        } finally {
          dialog.inert = inert;
        }
      });
    }
    if (extra.shadow) {
      const [, rootId, rootChildren, adopted] = extra.shadow;
      try {
        const root = el.attachShadow({ mode: 'open' });
        this.remember(root, rootId);
        for (const child of rootChildren) this.build(child, doc, root);
        if (adopted) this.adopt(root, adopted);
      } catch {
        // An element that cannot host a shadow root here; its light DOM still shows.
      }
    }
  }

  /** True while a sprite's copy is built: its nodes are not the page's and get no IDs. */
  private buildingSprite = false;
  private spriteCount = 0;

  /**
   * Points a `<use>` at a copy of its external target (the customer's page sent it: the mirror's
   * origin may not load the customer's sprite file), kept in a hidden SVG of the mirror's own.
   */
  private useSprite(use: Element, sprite: SerializedElement, doc: Document): void {
    let holder = doc.querySelector(':root > svg[data-cobrowse-sprites]');
    if (!holder) {
      holder = doc.createElementNS(NAMESPACES.s, 'svg');
      holder.setAttribute('data-cobrowse-sprites', '');
      holder.setAttribute('aria-hidden', 'true');
      holder.setAttribute('style', 'position:absolute;width:0;height:0;overflow:hidden');
      doc.documentElement?.append(holder);
    }
    this.buildingSprite = true;
    try {
      const copy = this.build(sprite, doc, holder) as Element | null;
      if (!copy) return;
      const id = `cobrowse-sprite-${++this.spriteCount}`;
      copy.setAttribute('id', id);
      use.removeAttributeNS(XLINK_NS, 'href');
      use.setAttribute('href', `#${id}`);
    } finally {
      this.buildingSprite = false;
    }
  }

  private place<T extends Node>(node: T, id: number, parent: Node | null): T {
    this.remember(node, id);
    parent?.appendChild(node);
    return node;
  }

  /** The HTML tag createElement last created (its local name). */
  private createdTag = '';

  private createElement(doc: Document, tag: string, ns: 's' | 'm' | undefined): Element {
    try {
      if (ns && !INERT.has(tag.toLowerCase())) return doc.createElementNS(NAMESPACES[ns], tag);
      this.createdTag = htmlTag(tag);
      return doc.createElement(this.createdTag);
    } catch {
      this.createdTag = 'span';
      return doc.createElement('span'); // a tag name the DOM refuses (invalid markup parsed leniently)
    }
  }

  /** A checked attribute's value as the mirror sets it, or null: URLs by the asset rules, url()s in CSS-valued ones too. */
  private loadable(el: Element, tag: string, name: string, value: string): string | null {
    const lower = name.toLowerCase();
    if (URL_ATTRIBUTES.has(lower)) return this.assets.attribute(tag, lower, value, el.namespaceURI === NAMESPACES.s);
    if (CSS_VALUED.has(lower) && value.includes('url(')) return this.assets.css(value);
    return value;
  }

  private setAttribute(el: Element, name: string, value: string | null, localName?: string): void {
    if (value === null) {
      el.removeAttribute(name);
      return;
    }
    const { policy } = attributeName(name);
    // The element's name only matters to the value checks: asking the DOM for it costs a call per attribute.
    if (policy === Policy.Drop) return;
    if (policy === Policy.Check) {
      const tag = localName ?? el.localName;
      const loadable = isUnsafeAttribute(tag, name, value) ? null : this.loadable(el, tag, name, value);
      if (loadable === null) {
        el.removeAttribute(name); // what it said before must not stay either
        return;
      }
      value = loadable;
    }
    try {
      if (policy === Policy.XLink || (policy === Policy.Check && name.startsWith('xlink:'))) el.setAttributeNS(XLINK_NS, name, value);
      else if (policy === Policy.Xml) el.setAttributeNS(XML_NS, name, value);
      else el.setAttribute(name, value);
    } catch {
      // an attribute name the DOM refuses; the source page kept it, the mirror cannot
    }
  }
}
