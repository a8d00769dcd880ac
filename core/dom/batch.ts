/**
 * Batch and diff: a batch of mutation records, and what events and hooks noted (`Pending`) since the
 * last patch, become one patch's ops against what the mirror holds since the last snapshot.
 * What may be sent of each node, the privacy rules (mask.ts) decide.
 */
import { Op, type PatchOp } from '../protocol/index.js';
import { fieldValue, sendableId, sendableParentId, showsChoice, type Field, type Masker } from './mask.js';
import type { PageObserver, Pending } from './observe.js';
import { flatParent, pseudoRules, type PseudoTracker } from './pseudo.js';
import {
  NodeIds,
  SheetIds,
  absoluteCss,
  adoptedIds,
  serializeAttribute,
  serializeNode,
  sheetText,
  styleText,
  type SerializeContext,
} from './serializer.js';
import type { SpriteLookup } from './sprites.js';
import { InlineStyles } from './style-diff.js';

/** Nothing hovered, focused or held down. */
const NO_PSEUDO = 'null,null,null,false';

/** One name per element is the common case; a Set only when a second name shows up. */
type AttributeNames = Map<Element, string | Set<string>>;

/**
 * What the mirror holds since one snapshot — node and sheet IDs, inline styles, linked sheets'
 * pseudo-class rules, the interaction state — and the ops that bring it up to date.
 */
export interface Patcher {
  /** The IDs and sealed elements the snapshot and its patches assigned. */
  readonly ctx: SerializeContext;
  /** Sheet definitions collected while serializing; they must reach the mirror before their users. */
  takeDefinitions(): PatchOp[];
  /** Turns a batch of records (plus the changes pending, which it clears) into ops. */
  diff(records: MutationRecord[]): PatchOp[];
  /** What a snapshot does not carry: the page's scroll, linked sheets' pseudo-class rules, the interaction state. */
  stateOps(): PatchOp[];
}

/** A Patcher for a snapshot of `doc` about to be taken; `page` observes it, `sprite` finds sprite files' elements. */
export function newPatcher(doc: Document, masker: Masker, page: PageObserver, sprite: SpriteLookup): Patcher {
  const { pending } = page;
  let definitions: PatchOp[] = [];
  const styles = new InlineStyles();
  const sentPseudoRules = new WeakMap<Element, string>();
  const ctx: SerializeContext = {
    ids: new NodeIds(),
    masker,
    sheets: new SheetIds(),
    blocked: new WeakSet(),
    // Constructed sheets resolve relative URLs against their document's base; the mirror has another.
    defineSheet: (id, css) => definitions.push([Op.Sheet, id, absoluteCss(css, doc.baseURI)]),
    observeRoot: page.observe,
    sprite,
  };
  const pseudoOp = interactionOps(page.pseudo, ctx.ids);
  const takeDefinitions = (): PatchOp[] => {
    const taken = definitions;
    definitions = [];
    return taken;
  };

  function diff(records: MutationRecord[]): PatchOp[] {
    const { ids } = ctx;
    const added = new Set<Node>();
    const removed = new Set<Node>();
    const attributes: AttributeNames = new Map();
    const texts = new Set<CharacterData>();
    for (const r of records) {
      const target = r.target;
      // A <style>'s children are not sent: any change inside it resends its CSS.
      const style = target.nodeType === Node.ELEMENT_NODE ? target : target.parentNode;
      if (style && (style as Element).localName === 'style' && r.type !== 'attributes') {
        if (ids.has(style)) pending.styles.add(style as Element);
      } else if (r.type === 'childList') {
        const { removedNodes, addedNodes } = r;
        for (let i = 0; i < removedNodes.length; i++) if (ids.has(removedNodes[i]!)) removed.add(removedNodes[i]!);
        for (let i = 0; i < addedNodes.length; i++) added.add(addedNodes[i]!);
      } else if (r.type === 'attributes') {
        noteAttribute(target as Element, r.attributeName!, ctx, pending, attributes);
      } else if (ids.has(target)) {
        texts.add(target as CharacterData);
      }
    }
    for (const el of pending.resend) {
      if (ids.has(el)) {
        removed.add(el);
        added.add(el);
      }
    }
    const ops: PatchOp[] = [];
    // Removed first: a node moved in this batch is removed here and re-added below with fresh IDs.
    // All IDs are read before any is forgotten: a removed node may sit inside another one now.
    for (const n of removed) ops.push([Op.Remove, ids.get(n)!]);
    for (const n of removed) ids.forgetSubtree(n);
    // Nodes still known were already in the mirror, so these ops reach existing nodes only.
    attributeOps(attributes, ctx, styles, ops);
    for (const text of texts) {
      const id = sendableId(ctx, text);
      if (id !== undefined && text.nodeType === Node.TEXT_NODE) ops.push([Op.Text, id, masker.text(text)]);
    }
    fieldOps(pending.fields, ctx, ops);
    styleOps(pending, ctx, doc.baseURI, takeDefinitions, ops);
    for (const media of pending.media) {
      const id = sendableId(ctx, media);
      if (id !== undefined) ops.push([Op.Media, id, media.paused, Math.round(media.currentTime * 10) / 10]);
    }
    addOps(added, ctx, takeDefinitions, ops);
    scrollOps(pending.scrolled, ctx, ops);
    if (pending.viewport) ops.push([Op.Viewport, doc.defaultView!.innerWidth, doc.defaultView!.innerHeight]);
    for (const link of pending.links) pseudoRulesOp(link as HTMLLinkElement, ctx, sentPseudoRules, ops);
    pseudoOp(ops);
    pending.clear();
    return ops;
  }

  return {
    ctx,
    takeDefinitions,
    diff,
    stateOps() {
      const view = doc.defaultView!;
      const ops: PatchOp[] = [];
      if (view.scrollX || view.scrollY) ops.push([Op.Scroll, ctx.ids.get(doc)!, view.scrollX, view.scrollY]);
      for (const recorded of page.documents) {
        for (const sheet of Array.from(recorded.styleSheets)) {
          const owner = sheet.ownerNode as Element | null;
          if (owner?.localName === 'link') pseudoRulesOp(owner as HTMLLinkElement, ctx, sentPseudoRules, ops);
        }
      }
      pseudoOp(ops);
      return ops;
    },
  };
}

/** Adds an op with the customer's hover, focus and active elements (as `ids` knows them) when they changed since last added. */
function interactionOps(pseudo: PseudoTracker, ids: NodeIds): (ops: PatchOp[]) => void {
  let sent = NO_PSEUDO;
  return (ops) => {
    const [hover, focus, active, visible] = pseudo.state();
    const focusId = knownAncestorId(ids, focus);
    const op: PatchOp = [Op.Pseudo, knownAncestorId(ids, hover), focusId, knownAncestorId(ids, active), visible && focusId !== null];
    const key = `${op[1]},${op[2]},${op[3]},${op[4]}`;
    if (key === sent) return;
    sent = key;
    ops.push(op);
  };
}

/** Notes an attribute record on an element the mirror has: among the batch's attributes, or as one to send whole. */
function noteAttribute(el: Element, name: string, ctx: SerializeContext, pending: Pending, attributes: AttributeNames): void {
  if (!ctx.ids.has(el)) return;
  // What is masked or blocked below the element may change: send it whole (a sealed one too).
  if (ctx.masker.affectsMasking(name)) pending.resend.add(el);
  // A sealed element shows nothing of itself; only a change of the seal matters.
  else if (sendableId(ctx, el) === undefined) return;
  // A dialog opened with showModal() and one opened with show() differ only in state: send it whole.
  else if (el.localName === 'dialog' && name === 'open') pending.resend.add(el);
  else {
    const names = attributes.get(el);
    if (names === undefined) attributes.set(el, name);
    else if (typeof names === 'string') {
      if (names !== name) attributes.set(el, new Set([names, name]));
    } else names.add(name);
  }
}

/**
 * The same change on many elements (a class added to every row) travels as one op with their IDs;
 * so do style diffs that set the same properties.
 */
function attributeOps(attributes: AttributeNames, ctx: SerializeContext, styles: InlineStyles, ops: PatchOp[]): void {
  const changes = new Map<string, [name: string, value: string | null, ids: number[]]>();
  const styleChanges = new Map<string, [names: string[], ids: number[], values: Array<string | null>]>();
  for (const [el, names] of attributes) {
    const id = sendableId(ctx, el);
    if (id === undefined) continue;
    for (const name of typeof names === 'string' ? [names] : names) {
      const raw = el.getAttribute(name);
      const value = raw === null ? null : serializeAttribute(el, name, raw, ctx.masker);
      if (raw !== null && value === null) continue;
      const diff = name === 'style' ? styles.change(el, id, value) : undefined;
      if (diff) {
        if (diff.length) addStyleChange(styleChanges, id, diff);
        continue; // an empty diff: the mirror has this style already
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
}

/** Adds an element's style diff to the changes setting the same names. */
function addStyleChange(
  changes: Map<string, [names: string[], ids: number[], values: Array<string | null>]>,
  id: number,
  diff: Array<string | null>,
): void {
  const names: string[] = [];
  const values: Array<string | null> = [];
  for (let i = 0; i < diff.length; i += 2) {
    names.push(diff[i]!);
    values.push(diff[i + 1]!);
  }
  const key = names.join('\u0000');
  const change = changes.get(key);
  if (change) {
    change[1].push(id);
    for (const v of values) change[2].push(v);
  } else changes.set(key, [names, [id], values]);
}

/** Whether every row of `width` values equals the first. */
function sameRows(values: Array<string | null>, width: number): boolean {
  for (let i = width; i < values.length; i++) if (values[i] !== values[i % width]) return false;
  return true;
}

function fieldOps(fields: Set<Field>, ctx: SerializeContext, ops: PatchOp[]): void {
  const { ids, masker } = ctx;
  for (const field of fields) {
    const id = sendableId(ctx, field);
    if (id === undefined) continue;
    const type = field.localName === 'input' ? (field as HTMLInputElement).type : '';
    if (type === 'checkbox' || type === 'radio') {
      if (showsChoice(field, masker)) ops.push([Op.Checked, id, (field as HTMLInputElement).checked]);
    } else if (field.localName === 'select') {
      if (!showsChoice(field, masker)) continue;
      for (const option of Array.from((field as HTMLSelectElement).options)) {
        const optionId = ids.get(option);
        if (optionId !== undefined) ops.push([Op.Checked, optionId, option.selected]);
      }
    } else {
      const value = fieldValue(field, masker);
      if (value !== undefined) ops.push([Op.Value, id, value]);
    }
  }
}

/** CSS that changed without a mutation record: CSSOM edits, adoptedStyleSheets; and <style> text. */
function styleOps(pending: Pending, ctx: SerializeContext, base: string, takeDefinitions: () => PatchOp[], ops: PatchOp[]): void {
  const { ids, sheets } = ctx;
  for (const sheet of pending.sheets) {
    const sheetId = sheets.get(sheet);
    if (sheetId !== undefined) ops.push([Op.Sheet, sheetId, absoluteCss(sheetText(sheet), base)]);
    else if (sheet.ownerNode && (sheet.ownerNode as Element).localName === 'style') pending.styles.add(sheet.ownerNode as Element);
  }
  for (const style of pending.styles) {
    const id = sendableId(ctx, style);
    if (id !== undefined) ops.push([Op.StyleText, id, styleText(style as HTMLStyleElement)]);
  }
  for (const owner of pending.adoptions) {
    const id = ids.get(owner);
    if (id === undefined) continue;
    const adopted = adoptedIds(owner, ctx) ?? [];
    ops.push(...takeDefinitions(), [Op.Adopted, id, adopted]);
  }
}

/**
 * Each new node whose parent the mirror knows, inserted before a sibling it knows. Walking a
 * parent's children from the end makes every `next` known by the time it is used.
 */
function addOps(added: Set<Node>, ctx: SerializeContext, takeDefinitions: () => PatchOp[], ops: PatchOp[]): void {
  const { ids } = ctx;
  const parents = new Map<Node, number>();
  for (const n of added) {
    const parent = n.parentNode;
    if (!parent || ids.has(n) || !n.isConnected) continue;
    const parentId = sendableParentId(ctx, parent);
    if (parentId !== undefined) parents.set(parent, parentId);
  }
  for (const [parent, parentId] of parents) {
    let next: number | null = null;
    for (let child = parent.lastChild; child; child = child.previousSibling) {
      let id = ids.get(child);
      if (id === undefined) {
        const node = serializeNode(child, ctx);
        if (!node) continue;
        ops.push(...takeDefinitions(), [Op.Add, parentId, next, node]);
        id = node[1];
      }
      next = id;
    }
  }
}

function scrollOps(scrolled: Set<Node>, ctx: SerializeContext, ops: PatchOp[]): void {
  for (const target of scrolled) {
    const id = sendableId(ctx, target);
    if (id === undefined) continue;
    if (target.nodeType === Node.DOCUMENT_NODE) {
      const win = (target as Document).defaultView;
      if (win) ops.push([Op.Scroll, id, win.scrollX, win.scrollY]);
    } else ops.push([Op.Scroll, id, (target as Element).scrollLeft, (target as Element).scrollTop]);
  }
}

/** A linked sheet's :hover, :focus and :active rules, when it has any the mirror was not sent yet. */
function pseudoRulesOp(link: HTMLLinkElement, ctx: SerializeContext, sent: WeakMap<Element, string>, ops: PatchOp[]): void {
  const id = sendableId(ctx, link);
  if (id === undefined) return;
  const sheet = link.sheet;
  const css = pseudoRules(sheet);
  if (!css || sent.get(link) === css) return;
  sent.set(link, css);
  // Relative URLs in a linked sheet are relative to the sheet.
  ops.push([Op.PseudoRules, id, absoluteCss(css, sheet?.href ?? link.baseURI)]);
}

/** The ID of the element, or of its nearest ancestor the mirror has (inside a blocked element, say). */
function knownAncestorId(ids: NodeIds, el: Element | null): number | null {
  for (let node: Node | null = el; node; node = flatParent(node)) {
    const id = ids.get(node);
    if (id !== undefined) return id;
  }
  return null;
}
