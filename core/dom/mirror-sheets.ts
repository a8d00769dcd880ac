/**
 * The mirror's stylesheets that are not the page's elements: constructed sheets (adoptedStyleSheets)
 * by ID, as a CSSStyleSheet of each realm that adopts them, and the mirror's own sheets of linked
 * sheets' :hover & co. rules. One instance per snapshot.
 */
import { EMULATION_SHEETS, emulatePseudoClasses, mayUsePseudo } from './pseudo.js';

const DOCUMENT = 9;

/** A linked sheet can be rewritten for :hover & co. once loaded, if its origin lets us read it. */
export function watchLinkedSheet(link: HTMLLinkElement): void {
  link.addEventListener('load', () => emulatePseudoClasses(link.sheet));
}

const windowOf = (owner: Document | ShadowRoot) =>
  (owner.nodeType === DOCUMENT ? (owner as Document) : owner.ownerDocument)?.defaultView as (Window & typeof globalThis) | null;

export class MirrorSheets {
  /** CSS of every constructed sheet by ID, and its CSSStyleSheet in each document's realm. */
  readonly #texts: Map<number, string>;
  readonly #byRealm = new WeakMap<Window, Map<number, CSSStyleSheet>>();
  /** Per document or shadow root, the mirror's own sheets of its linked sheets' :hover & co. rules, by link. */
  readonly #emulation = new WeakMap<Document | ShadowRoot, Map<Element, CSSStyleSheet>>();
  /** CSS as the asset rules let it load. */
  readonly #css: (css: string) => string;

  constructor(sheets: Iterable<[number, string]>, css: (css: string) => string) {
    this.#texts = new Map(sheets);
    this.#css = css;
  }

  /** Defines or replaces a constructed sheet: every realm's copy follows, so every root adopting it restyles. */
  define(id: number, css: string, documents: Iterable<Node>): void {
    this.#texts.set(id, css);
    for (const doc of documents) {
      if (doc.nodeType !== DOCUMENT) continue;
      const sheet = this.#byRealm.get((doc as Document).defaultView!)?.get(id);
      if (!sheet) continue;
      sheet.replaceSync(this.#css(css));
      if (mayUsePseudo(css)) emulatePseudoClasses(sheet);
    }
  }

  /** Adopts sheets by ID, as CSSStyleSheets of the owner's own realm (the only ones it accepts). */
  adopt(owner: Document | ShadowRoot, ids: number[]): void {
    const win = windowOf(owner);
    if (!win) return;
    let realm = this.#byRealm.get(win);
    if (!realm) this.#byRealm.set(win, (realm = new Map()));
    const sheets: CSSStyleSheet[] = [];
    for (const id of ids) {
      let sheet = realm.get(id);
      if (!sheet) {
        sheet = new win.CSSStyleSheet();
        const css = this.#texts.get(id) ?? '';
        sheet.replaceSync(this.#css(css));
        if (mayUsePseudo(css)) emulatePseudoClasses(sheet);
        realm.set(id, sheet);
      }
      sheets.push(sheet);
    }
    owner.adoptedStyleSheets = sheets.concat(this.#emulationSheets(owner));
  }

  /** Replaces a style element's CSS. */
  setStyleText(style: HTMLStyleElement, css: string): void {
    style.textContent = this.#css(css);
    if (mayUsePseudo(css)) emulatePseudoClasses(style.sheet);
  }

  /**
   * A linked sheet's :hover & co. rules, as the customer's page read them: when the mirror cannot read
   * the sheet itself (another origin's), they go in a sheet of the mirror's own, adopted after the page's.
   */
  addPseudoRules(link: HTMLLinkElement, css: string): void {
    try {
      if (link.sheet?.cssRules) return; // readable: its own rules were rewritten in place, in their cascade position
    } catch {
      // another origin's sheet
    }
    const root = link.getRootNode() as Document | ShadowRoot;
    const win = windowOf(root);
    if (!win || !('adoptedStyleSheets' in root)) return; // not in a document
    let sheets = this.#emulation.get(root);
    if (!sheets) this.#emulation.set(root, (sheets = new Map()));
    let sheet = sheets.get(link);
    if (!sheet) {
      sheet = new win.CSSStyleSheet();
      EMULATION_SHEETS.add(sheet);
      sheets.set(link, sheet);
    }
    sheet.replaceSync(this.#css(css));
    emulatePseudoClasses(sheet);
    const page = root.adoptedStyleSheets.filter((adopted) => !EMULATION_SHEETS.has(adopted));
    root.adoptedStyleSheets = page.concat(this.#emulationSheets(root));
  }

  /** The mirror's own sheets a document or shadow root adopts, for the links still in it. */
  #emulationSheets(root: Document | ShadowRoot): CSSStyleSheet[] {
    const sheets = this.#emulation.get(root);
    if (!sheets) return [];
    const kept: CSSStyleSheet[] = [];
    for (const [link, sheet] of sheets) {
      if (link.isConnected && link.getRootNode() === root) kept.push(sheet);
      else sheets.delete(link);
    }
    return kept;
  }
}
