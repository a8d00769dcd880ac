/**
 * Every rule that decides what the mirror may create or set: element names, attribute names and
 * values, URLs and style text. The customer's page may be an attacker's, and the agent's browser
 * renders it: nothing active is ever created (no script, handler, javascript: URL, meta refresh,
 * base, nested document or plugin), and what loads, loads by the asset rules (assets.ts). The
 * mirror creates elements and sets attributes and CSS only through a Sanitizer.
 */
import { AssetPolicy, type AssetLoading } from './assets.js';

export const NAMESPACES = { s: 'http://www.w3.org/2000/svg', m: 'http://www.w3.org/1998/Math/MathML' } as const;
const TEXT = 3;
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

/** Fields the agent's browser must never autofill the agent's data into. */
const FIELDS = new Set(['input', 'textarea', 'select']);

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

/** The mirror's rules under one asset policy: a new policy (setAssets) is a new Sanitizer. */
export class Sanitizer {
  readonly #assets: AssetPolicy;
  /** The HTML tag createElement last created (its local name): asking the DOM costs a call per node. */
  createdTag = '';

  constructor(loading: AssetLoading = 'none') {
    this.#assets = new AssetPolicy(loading);
  }

  /** The mirror document's Content-Security-Policy (see AssetPolicy). */
  get csp(): string {
    return this.#assets.csp;
  }

  /** Whether a page in quirks mode may stay in it: in quirks mode a stylesheet may be any document. */
  get allowsQuirks(): boolean {
    return this.#assets.allowsQuirks;
  }

  /** What a mirror document starts with: no referrer, and (once per document, as it stays) its CSP. */
  head(withPolicy: boolean): string {
    return withPolicy ? `<meta http-equiv="Content-Security-Policy" content="${this.csp}">${NO_REFERRER}` : NO_REFERRER;
  }

  /** CSS whose url()s and @imports load by the asset rules. */
  readonly css = (css: string): string => this.#assets.css(css);

  /** A text or comment node's data as set under `parent`: a style element's text is CSS. */
  text(parent: Node | null, data: string): string {
    return (parent as Element | null)?.localName === 'style' ? this.css(data) : data;
  }

  /** An element for a tag name, or an inert stand-in for what could act; sets createdTag for HTML elements. */
  createElement(doc: Document, tag: string, ns: 's' | 'm' | undefined): Element {
    try {
      if (ns && !INERT.has(tag.toLowerCase())) return doc.createElementNS(NAMESPACES[ns], tag);
      this.createdTag = htmlTag(tag);
      return doc.createElement(this.createdTag);
    } catch {
      this.createdTag = 'span';
      return doc.createElement('span'); // a tag name the DOM refuses (invalid markup parsed leniently)
    }
  }

  /** Sets a snapshot's attribute list, name and value in turn, on an element whose local name is `tag`. */
  setAttributes(el: Element, attrs: string[], tag: string): void {
    for (let i = 0; i < attrs.length; i += 2) this.#set(el, attributeName(attrs[i]!), attrs[i + 1]!, tag);
  }

  /** Sets (or, given null, removes) one attribute as the rules allow. */
  setAttribute(el: Element, name: string, value: string | null): void {
    if (value === null) el.removeAttribute(name);
    else this.#set(el, attributeName(name), value);
  }

  /** The same change on the elements with these IDs, the name's rules looked up once; false if one is not an element. */
  setAttributeOnEach(ids: number[], node: (id: number) => Node | undefined, name: string, value: string | null): boolean {
    const known = attributeName(name);
    let all = true;
    for (let i = 0; i < ids.length; i++) {
      const el = node(ids[i]!) as Element | undefined;
      // Only elements have setAttribute: a JS lookup, where nodeType would be a call into the DOM per node.
      if (el?.setAttribute === undefined) all = false;
      else if (value === null) el.removeAttribute(name);
      else this.#set(el, known, value);
    }
    return all;
  }

  /** Once a link is built: proxied sheets come from another origin, fetched without credentials their rules stay readable (for :hover & co.). */
  prepareLink(link: Element): void {
    if (typeof this.#assets.loading === 'object') link.setAttribute('crossorigin', 'anonymous');
  }

  /** Once an element's children are built: a style element's text loads by the asset rules, and fields never autofill. */
  finishElement(el: Element, tag: string): void {
    if (tag === 'style') this.#styleChildren(el);
    if (FIELDS.has(tag)) el.setAttribute('autocomplete', 'off');
  }

  #styleChildren(style: Element): void {
    for (let child = style.firstChild; child; child = child.nextSibling) {
      const text = child as CharacterData;
      if (child.nodeType === TEXT && (text.data.includes('url(') || text.data.includes('@import'))) text.data = this.css(text.data);
    }
  }

  /** Sets an attribute by its name's policy; `tag`, the element's local name, is asked of the DOM only for the value checks. */
  #set(el: Element, { name, policy }: AttributeName, value: string, tag?: string): void {
    if (policy === Policy.Drop) return;
    if (policy === Policy.Check) {
      tag ??= el.localName;
      const loadable = isUnsafeAttribute(tag, name, value) ? null : this.#loadable(el, tag, name, value);
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

  /** A checked attribute's value as the mirror sets it, or null: URLs by the asset rules, url()s in CSS-valued ones too. */
  #loadable(el: Element, tag: string, name: string, value: string): string | null {
    const lower = name.toLowerCase();
    if (URL_ATTRIBUTES.has(lower)) return this.#assets.attribute(tag, lower, value, el.namespaceURI === NAMESPACES.s);
    if (CSS_VALUED.has(lower) && value.includes('url(')) return this.css(value);
    return value;
  }
}
