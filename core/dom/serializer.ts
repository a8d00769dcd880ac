/**
 * Turns live DOM nodes into the protocol's tuples, assigning each node an integer ID.
 * Masking happens here, so nothing downstream ever holds a masked value.
 */
import { NodeKind, type ElementExtra, type SerializedNode, type SnapshotFrame } from '../protocol/index.js';
import { MASK, type Masker } from './mask.js';

/** Maps live nodes to the IDs the mirror knows them by. */
export class NodeIds {
  private next = 1;
  private readonly ids = new WeakMap<Node, number>();

  get(node: Node | null): number | undefined {
    return node ? this.ids.get(node) : undefined;
  }

  has(node: Node): boolean {
    return this.ids.has(node);
  }

  assign(node: Node): number {
    const id = this.next++;
    this.ids.set(node, id);
    return id;
  }

  /** Forgets a node and everything below it, so it is serialized afresh if it comes back. */
  forgetSubtree(root: Node): void {
    this.ids.delete(root);
    const walker = root.ownerDocument?.createTreeWalker(root) ?? null;
    for (let n = walker?.nextNode(); n; n = walker!.nextNode()) this.ids.delete(n);
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const MATHML_NS = 'http://www.w3.org/1998/Math/MathML';

/** Attributes holding one URL, made absolute so the mirror loads the same resource. */
const URL_ATTRIBUTES = new Set(['src', 'href', 'action', 'formaction', 'poster', 'background', 'xlink:href', 'data', 'cite']);

/** Elements whose content is never sent: it is code, or it would render in a script-less mirror. */
export const CONTENT_DROPPED = new Set(['script', 'noscript']);

export interface SerializeContext {
  ids: NodeIds;
  masker: Masker;
}

function absolute(url: string, base: string): string {
  try {
    return new URL(url, base).href;
  } catch {
    return url;
  }
}

function absoluteSrcset(srcset: string, base: string): string {
  return srcset
    .split(',')
    .map((candidate) => {
      const [url, ...descriptor] = candidate.trim().split(/\s+/);
      return url ? [absolute(url, base), ...descriptor].join(' ') : '';
    })
    .join(', ');
}

/**
 * The value an attribute is sent with, or null to leave it out.
 * Inline event handlers never leave the page: they are code, and may carry data.
 */
export function serializeAttribute(el: Element, name: string, value: string, masker: Masker): string | null {
  if (name.length > 2 && (name.charCodeAt(0) | 32) === 111 /* o */ && (name.charCodeAt(1) | 32) === 110 /* n */) return null;
  if (name === 'value' && (isFormField(el) || el.localName === 'option') && masker.isMaskedField(el)) return MASK;
  if (URL_ATTRIBUTES.has(name) && value && !value.startsWith('#')) return absolute(value, el.baseURI);
  if (name === 'srcset') return absoluteSrcset(value, el.baseURI);
  return value;
}

function isFormField(el: Element): el is HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement {
  const tag = el.localName;
  return tag === 'input' || tag === 'textarea' || tag === 'select';
}

/** The field's current value as it may be sent (masked, or undefined for file inputs). */
export function fieldValue(el: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, masker: Masker): string | undefined {
  if (el.localName === 'input' && (el as HTMLInputElement).type === 'file') return undefined;
  return masker.isMaskedField(el) ? MASK : el.value;
}

function elementExtra(el: Element, masker: Masker): ElementExtra | undefined {
  let extra: ElementExtra | undefined;
  const ns = el.namespaceURI;
  if (ns === SVG_NS) extra = { ns: 's' };
  else if (ns === MATHML_NS) extra = { ns: 'm' };
  else if (isFormField(el)) {
    const type = el.localName === 'input' ? (el as HTMLInputElement).type : '';
    if (type === 'checkbox' || type === 'radio') extra = { checked: (el as HTMLInputElement).checked };
    else if (el.localName !== 'select') extra = { value: fieldValue(el, masker) };
  } else if (el.localName === 'option' && !masker.isMaskedField(el)) {
    // Which option of a masked select is chosen is itself the secret.
    extra = { selected: (el as HTMLOptionElement).selected };
  }
  return extra;
}

/** Serializes a node and its subtree, assigning IDs; null for node types that are not sent. */
export function serializeNode(node: Node, ctx: SerializeContext): SerializedNode | null {
  switch (node.nodeType) {
    case Node.ELEMENT_NODE: {
      const el = node as Element;
      const id = ctx.ids.assign(el);
      const attrs: string[] = [];
      for (const attr of Array.from(el.attributes)) {
        const value = serializeAttribute(el, attr.name, attr.value, ctx.masker);
        if (value !== null) attrs.push(attr.name, value);
      }
      const children: SerializedNode[] = [];
      if (!CONTENT_DROPPED.has(el.localName)) {
        // <template> keeps its content in a fragment, not in childNodes.
        const source = el.localName === 'template' ? (el as HTMLTemplateElement).content : el;
        for (let child = source.firstChild; child; child = child.nextSibling) {
          const serialized = serializeNode(child, ctx);
          if (serialized) children.push(serialized);
        }
      }
      const extra = elementExtra(el, ctx.masker);
      return extra ? [NodeKind.Element, id, el.localName, attrs, children, extra] : [NodeKind.Element, id, el.localName, attrs, children];
    }
    case Node.TEXT_NODE: {
      const text = node as Text;
      return [NodeKind.Text, ctx.ids.assign(text), ctx.masker.isMaskedText(text) ? MASK : text.data];
    }
    case Node.COMMENT_NODE:
      // Comments can carry anything a template left behind; the mirror needs only their place.
      return [NodeKind.Comment, ctx.ids.assign(node), ''];
    case Node.DOCUMENT_TYPE_NODE: {
      const doctype = node as DocumentType;
      return [NodeKind.Doctype, ctx.ids.assign(doctype), doctype.name, doctype.publicId, doctype.systemId];
    }
    case Node.DOCUMENT_NODE: {
      const doc = node as Document;
      const id = ctx.ids.assign(doc);
      const children: SerializedNode[] = [];
      for (let child = doc.firstChild; child; child = child.nextSibling) {
        const serialized = serializeNode(child, ctx);
        if (serialized) children.push(serialized);
      }
      return doc.compatMode === 'BackCompat' ? [NodeKind.Document, id, children, true] : [NodeKind.Document, id, children];
    }
    default:
      return null; // CDATA, processing instructions: nothing to render.
  }
}

/** A full snapshot of the document, with fresh IDs. */
export function snapshotDocument(doc: Document, ctx: SerializeContext): SnapshotFrame {
  const view = doc.defaultView;
  return {
    t: 'snapshot',
    url: doc.URL,
    title: doc.title,
    viewport: [view?.innerWidth ?? 0, view?.innerHeight ?? 0],
    doc: serializeNode(doc, ctx) as SnapshotFrame['doc'],
  };
}
