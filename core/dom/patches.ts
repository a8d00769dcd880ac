/**
 * How the mirror applies each patch op: one small handler per op, so adding an op is adding an
 * entry. A handler returns false when its op names a node the mirror does not have (or not of the
 * kind the op is for): the mirror is out of step and asks for a snapshot.
 */
import { Op, type PatchOp, type SerializedNode } from '../protocol/index.js';
import type { MirrorSheets } from './mirror-sheets.js';
import type { Sanitizer } from './sanitize.js';
import { applyStyleDiff } from './style-diff.js';

const ELEMENT = 1;
const TEXT = 3;
const COMMENT = 8;
const DOCUMENT = 9;

/** What of the mirror the handlers work on. */
export interface PatchTarget {
  /** The mirror node with this ID, if any. */
  node(id: number): Node | undefined;
  /** The rules for what is set (under the current asset policy). */
  readonly sanitizer: Sanitizer;
  readonly sheets: MirrorSheets;
  /** Every node the mirror knows (its documents are where constructed sheets live). */
  nodes(): Iterable<Node>;
  /** Builds a serialized subtree into `parent`, before `next`. */
  insert(parent: Node, tree: SerializedNode, next: Node | null): void;
  /** Removes a node and forgets its subtree's IDs. */
  remove(node: Node): void;
  setViewport(width: number, height: number): void;
  showPseudo(hover: number | null, focus: number | null, active: number | null, focusVisible: boolean): void;
}

type OpOf<K extends PatchOp[0]> = Extract<PatchOp, [K, ...unknown[]]>;
type PatchHandlers = { [K in PatchOp[0]]: (target: PatchTarget, op: OpOf<K>) => boolean };

// Nodes live in the iframe's realm, so type checks use nodeType or local names, not instanceof.
const isElement = (node: Node): node is Element => node.nodeType === ELEMENT;
/** Op 5 has always been set on whatever node its ID names (a property on a non-field does nothing). */
const isAny = (node: Node): node is HTMLInputElement & HTMLOptionElement => node !== null;
const isCharacterData = (node: Node): node is CharacterData => node.nodeType === TEXT || node.nodeType === COMMENT;
const isField = (node: Node): node is HTMLInputElement => 'value' in node;
const isStyleOwner = (node: Node): node is Document | ShadowRoot => 'adoptedStyleSheets' in node;
const isMedia = (node: Node): node is HTMLMediaElement => 'paused' in node;
const isCanvas = (node: Node): node is HTMLCanvasElement => (node as Element).localName === 'canvas';
const isLink = (node: Node): node is HTMLLinkElement => (node as Element).localName === 'link';

/** Changes the node if it is of the kind the op is for; false (out of step) if there is none such. */
function change<T extends Node>(node: Node | undefined, is: (node: Node) => node is T, apply: (node: T) => void): boolean {
  if (!node || !is(node)) return false;
  apply(node);
  return true;
}

/** Plays or pauses at the customer's time; muted, since the agent's speakers are not the customer's. */
export function setMedia(media: HTMLMediaElement, paused: boolean, time: number): void {
  media.muted = true;
  if (Math.abs(media.currentTime - time) > 0.5) media.currentTime = time;
  if (paused) media.pause();
  else void media.play().catch(() => undefined);
}

function paintCanvas(canvas: HTMLCanvasElement, dataUrl: string): void {
  const image = new (canvas.ownerDocument.defaultView as Window & typeof globalThis).Image();
  image.onload = () => {
    const context = canvas.getContext('2d');
    context?.clearRect(0, 0, canvas.width, canvas.height);
    context?.drawImage(image, 0, 0);
  };
  image.src = dataUrl;
}

export const PATCH_HANDLERS: PatchHandlers = {
  [Op.Add]: (target, [, parentId, nextId, tree]) => {
    const parent = target.node(parentId);
    const next = nextId === null ? null : target.node(nextId);
    if (!parent || next === undefined || (next && next.parentNode !== parent)) return false;
    target.insert(parent, tree, next);
    return true;
  },
  [Op.Remove]: (target, [, id]) => {
    const node = target.node(id);
    if (node) target.remove(node); // else already gone with an ancestor
    return true;
  },
  [Op.Attr]: (target, [, ids, name, value]) =>
    typeof ids === 'number'
      ? change(target.node(ids), isElement, (el) => target.sanitizer.setAttribute(el, name, value))
      : target.sanitizer.setAttributeOnEach(ids, (id) => target.node(id), name, value),
  [Op.Text]: (target, [, id, text]) =>
    change(target.node(id), isCharacterData, (node) => (node.data = target.sanitizer.text(node.parentNode, text))),
  [Op.Value]: (target, [, id, value]) => change(target.node(id), isField, (field) => (field.value = value)),
  [Op.Checked]: (target, [, id, checked]) =>
    change(target.node(id), isAny, (el) => {
      if (el.localName === 'option') el.selected = checked;
      else el.checked = checked;
    }),
  [Op.Scroll]: (target, [, id, x, y]) => {
    const node = target.node(id);
    if (node?.nodeType === DOCUMENT) (node as Document).defaultView?.scrollTo(x, y);
    else if (node?.nodeType === ELEMENT) (node as Element).scrollTo(x, y);
    return true; // scrolling a node the mirror lacks is no loss
  },
  [Op.Viewport]: (target, [, width, height]) => {
    target.setViewport(width, height);
    return true;
  },
  [Op.Sheet]: (target, [, id, css]) => {
    target.sheets.define(id, css, target.nodes());
    return true;
  },
  [Op.Adopted]: (target, [, id, sheets]) => change(target.node(id), isStyleOwner, (owner) => target.sheets.adopt(owner, sheets)),
  [Op.StyleText]: (target, [, id, css]) =>
    change(target.node(id), isElement, (style) => target.sheets.setStyleText(style as HTMLStyleElement, css)),
  [Op.Media]: (target, [, id, paused, time]) => change(target.node(id), isMedia, (media) => setMedia(media, paused, time)),
  [Op.Canvas]: (target, [, id, image]) => change(target.node(id), isCanvas, (canvas) => paintCanvas(canvas, image)),
  [Op.Pseudo]: (target, [, hover, focus, active, focusVisible]) => {
    target.showPseudo(hover, focus, active, focusVisible);
    return true;
  },
  [Op.StyleDiff]: (target, [, ids, names, values]) => {
    const shared = values.length === names.length;
    const list = typeof ids === 'number' ? [ids] : ids;
    let inStep = true;
    for (let i = 0; i < list.length; i++) {
      const style = (target.node(list[i]!) as HTMLElement | undefined)?.style;
      if (style) applyStyleDiff(style, names, values, shared ? 0 : i * names.length, target.sanitizer.css);
      else inStep = false;
    }
    return inStep;
  },
  [Op.PseudoRules]: (target, [, id, css]) => change(target.node(id), isLink, (link) => target.sheets.addPseudoRules(link, css)),
};
