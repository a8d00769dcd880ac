/**
 * The customer's :hover, :focus and :active, shown on the mirror without running anything.
 *
 * The recorder tracks which element is hovered, focused and held down (`PseudoTracker`). The
 * mirror rewrites its copies of the page's CSS so every rule using those pseudo-classes also
 * matches a marker attribute (`:hover` → `:is(:hover, [data-cobrowse-hover])`), and sets the
 * markers where the customer's browser would match them. The mirror's own pointer never hovers
 * anything: it has pointer-events: none.
 */
import { frameOf, sameOriginDocument } from './frames.js';

/** The marker attribute standing for each emulated pseudo-class on the mirror. */
export const PseudoMark = {
  hover: 'data-cobrowse-hover',
  active: 'data-cobrowse-active',
  focus: 'data-cobrowse-focus',
  'focus-within': 'data-cobrowse-focus-within',
  'focus-visible': 'data-cobrowse-focus-visible',
} as const;
export type PseudoClass = keyof typeof PseudoMark;

/** Every marker attribute, for clearing them and for leaving them out when comparing trees. */
export const PSEUDO_MARKS: readonly string[] = /* @__PURE__ */ Object.values(PseudoMark);

/** A cheap first look: CSS without any of these words needs no rewriting. */
const MAY_USE_PSEUDO = /:(hover|active|focus)/;
/**
 * Strings and escapes are matched to be skipped (`[title=":hover"]`, Tailwind's `.hover\:x`);
 * a pseudo-element's `::` is not a pseudo-class.
 */
const PSEUDO_CLASS = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\\.|(?<!:):(hover|active|focus-visible|focus-within|focus)(?![\w-])/g;

/** Whether CSS text may hold a selector with an emulated pseudo-class. */
export const mayUsePseudo = (css: string): boolean => MAY_USE_PSEUDO.test(css);

/** A selector that also matches the markers: `a:hover` → `a:is(:hover, [data-cobrowse-hover])`. */
export function emulatedSelector(selector: string): string {
  return selector.replace(PSEUDO_CLASS, (match, name: PseudoClass | undefined) => (name ? `:is(:${name}, [${PseudoMark[name]}])` : match));
}

/**
 * Rewrites, in place, every style rule of a sheet (nested, @media, @supports, @layer and imported
 * rules included) whose selector uses an emulated pseudo-class. A rewrite the browser refuses
 * (`::-webkit-scrollbar:hover` cannot take `:is()`) leaves the rule as it was.
 */
export function emulatePseudoClasses(sheet: CSSStyleSheet | null | undefined): void {
  if (!sheet) return;
  let rules: CSSRuleList;
  try {
    rules = sheet.cssRules;
  } catch {
    return; // another origin's stylesheet: the browser will not let us read it
  }
  emulateInRules(rules, 0);
}

function emulateInRules(rules: CSSRuleList, depth: number): void {
  if (depth > 32) return;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as CSSRule & { selectorText?: string; cssRules?: CSSRuleList; styleSheet?: CSSStyleSheet | null };
    const selector = rule.selectorText;
    // Only style rules: a @page rule has a selectorText too.
    if (selector !== undefined && rule.type === 1 && MAY_USE_PSEUDO.test(selector)) {
      const rewritten = emulatedSelector(selector);
      if (rewritten !== selector) rule.selectorText = rewritten;
    }
    if (rule.cssRules) emulateInRules(rule.cssRules, depth + 1);
    else if (rule.styleSheet) emulatePseudoClasses(rule.styleSheet);
  }
}

/**
 * The rules of a sheet whose selectors use an emulated pseudo-class, as CSS text (inside their
 * @media and @supports, and from imported sheets); '' when none, or when the sheet cannot be read.
 * The recorder sends them for linked sheets, which the agent's page may not be allowed to read.
 */
export function pseudoRules(sheet: CSSStyleSheet | null | undefined, depth = 0): string {
  if (!sheet || depth > 8) return '';
  let rules: CSSRuleList;
  try {
    rules = sheet.cssRules;
  } catch {
    return '';
  }
  return pseudoRulesIn(rules, depth);
}

function pseudoRulesIn(rules: CSSRuleList, depth: number): string {
  let css = '';
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as CSSRule & {
      selectorText?: string;
      cssRules?: CSSRuleList;
      styleSheet?: CSSStyleSheet | null;
      conditionText?: string;
    };
    if (rule.type === 1) {
      if (MAY_USE_PSEUDO.test(rule.selectorText!)) css += rule.cssText + '\n';
    } else if (rule.type === 3) {
      css += pseudoRules(rule.styleSheet, depth + 1); // @import
    } else if ((rule.type === 4 || rule.type === 12) && rule.cssRules) {
      const inner = pseudoRulesIn(rule.cssRules, depth + 1);
      if (inner) css += `${rule.type === 4 ? '@media' : '@supports'} ${rule.conditionText} {\n${inner}}\n`;
    }
  }
  return css;
}

/** Mirror-owned sheets holding linked sheets' pseudo-class rules: not the page's, so left out when trees are compared. */
export const EMULATION_SHEETS = /* @__PURE__ */ new WeakSet<CSSStyleSheet>();

/** The element's parent in the flat tree, crossing shadow roots (to the host) and iframe documents (to the iframe). */
export function flatParent(node: Node): Node | null {
  const slot = (node as Element).assignedSlot;
  if (slot) return slot;
  const parent = node.parentNode;
  if (parent)
    return parent.nodeType === 11 ? ((parent as ShadowRoot).host ?? null) : parent.nodeType === 9 ? frameOf(parent as Document) : parent;
  return node.nodeType === 9 ? frameOf(node as Document) : null;
}

/** [hovered, focused, active, focus is visible]: elements of the customer's page, or null. */
export type PseudoState = [hover: Element | null, focus: Element | null, active: Element | null, focusVisible: boolean];

/** The events a PseudoTracker learns from; the recorder adds the tracker itself as their listener on every document it listens to. */
export const PSEUDO_EVENTS = ['mouseover', 'mouseout', 'mousedown', 'mouseup', 'dragstart', 'focusin', 'focusout'];

/**
 * Tracks the customer's hovered, focused and active elements from events on every document the
 * recorder listens to. `onChange` is told something may have changed; `state()` says what it is now.
 */
export class PseudoTracker {
  #hovered: Element | null = null;
  #active: Element | null = null;

  readonly #doc: Document;
  readonly #onChange: () => void;

  constructor(doc: Document, onChange: () => void) {
    this.#doc = doc;
    this.#onChange = onChange;
  }

  /** What the customer's browser matches now. */
  state(): PseudoState {
    const focus = deepActiveElement(this.#doc);
    let visible = false;
    try {
      visible = !!focus?.matches(':focus-visible');
    } catch {
      // a browser without :focus-visible
    }
    return [this.#hovered?.isConnected ? this.#hovered : null, focus, this.#active?.isConnected ? this.#active : null, visible];
  }

  /** One listener object for every event type: the deepest target, through open shadow roots, is composedPath()[0]. */
  handleEvent(event: MouseEvent): void {
    switch (event.type) {
      case 'mouseover':
        this.#hovered = targetOf(event);
        break;
      case 'mouseout': {
        // Leaving a document for nothing (the window's edge, or the page around an iframe): nothing in it is hovered.
        const left = event.currentTarget as Document;
        if (event.relatedTarget !== null || this.#hovered?.ownerDocument !== left) return;
        this.#hovered = frameOf(left);
        break;
      }
      case 'mousedown':
        if (event.button) return;
        this.#active = targetOf(event);
        break;
      case 'mouseup':
      case 'dragstart':
        if (!this.#active) return;
        this.#active = null;
        break;
    }
    this.#onChange(); // and focusin, focusout
  }
}

function targetOf(event: Event): Element | null {
  const target = event.composedPath()[0] as Node | undefined;
  if (!target) return null;
  return target.nodeType === 1 ? (target as Element) : (target.parentElement ?? null);
}

/** document.activeElement, followed into open shadow roots and same-origin iframes; null when nothing has focus. */
export function deepActiveElement(doc: Document): Element | null {
  let active: Element | null = doc.activeElement;
  for (let depth = 0; active && depth < 64; depth++) {
    const inner = active.shadowRoot?.activeElement;
    if (inner) {
      active = inner;
      continue;
    }
    // In another origin's frame, the iframe itself is what we can see focused.
    const framed = sameOriginDocument(active);
    const innerActive = framed?.activeElement;
    if (innerActive && innerActive !== framed!.body && innerActive !== framed!.documentElement) {
      active = innerActive;
      continue;
    }
    break;
  }
  if (!active || active === active.ownerDocument.body || active === active.ownerDocument.documentElement) return null;
  return active;
}
