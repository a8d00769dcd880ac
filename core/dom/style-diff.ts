/**
 * Inline styles changed through the CSSOM (`el.style.left = …`, animation libraries, drag and
 * drop) change a declaration or two of a longer attribute: only those travel.
 *
 * Both the old and the new attribute must be as the CSSOM serializes them ("name: value; name:
 * value;"), so that the mirror, setting the same declarations, ends with the very same text.
 */

/** `value` carries its priority as a suffix, the way the CSSOM serializes it. */
const IMPORTANT = ' !important';
/**
 * One declaration as the CSSOM writes it: `name: value;`, then one space before the next. A `;`
 * inside a value is inside quotes there (the CSSOM quotes every url()); anything else fails to match.
 */
const DECLARATION = /(-{0,2}[a-zA-Z][\w-]*): ((?:[^;"'\\]|\\.|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')+);(?: (?=\S)|$)/y;

/**
 * A style attribute in the CSSOM's serialization, as [name, value, name, value…];
 * null when the text is not in that form (written by hand, say) or is ambiguous.
 */
export function declarations(css: string): string[] | null {
  const out: string[] = [];
  DECLARATION.lastIndex = 0;
  while (DECLARATION.lastIndex < css.length) {
    const match = DECLARATION.exec(css);
    if (!match) return null;
    out.push(match[1]!, match[2]!);
  }
  return out;
}

/**
 * The declarations that turn style `before` into `after`: [name, value or null (removed), …], removals
 * first. Empty when nothing changed; null when setting them would not give exactly `after`'s text
 * (a declaration moved, or either text is not in the CSSOM's form): the whole attribute goes then.
 * `before` may be given already split (the recorder keeps the last `after` it split).
 */
export function styleDiff(before: string | string[], after: string | string[]): Array<string | null> | null {
  const a = typeof before === 'string' ? declarations(before) : before;
  const b = typeof after === 'string' ? declarations(after) : after;
  if (!a || !b) return null;
  const removed: Array<string | null> = [];
  const set: Array<string | null> = [];
  // The mirror's block keeps its declarations in place and appends new ones: `after` must list them in that order.
  // Inline styles hold a handful of declarations: a linear search beats building maps.
  let k = 0;
  for (let i = 0; i < a.length; i += 2) {
    const name = a[i]!;
    const value = a[i + 1]!;
    const j = indexOfName(b, name);
    if (j < 0) {
      removed.push(name, null);
      continue;
    }
    if (j !== k || indexOfName(a, name, i + 2) >= 0) return null; // moved, or a name twice (not the CSSOM's form)
    k += 2;
    const now = b[j + 1]!;
    if (now === value) continue;
    // A declaration whose priority changes may move in the block (browsers differ): send the whole text.
    if (now.endsWith(IMPORTANT) !== value.endsWith(IMPORTANT)) return null;
    set.push(name, now);
  }
  for (; k < b.length; k += 2) {
    if (indexOfName(a, b[k]!) >= 0 || indexOfName(b, b[k]!, k + 2) >= 0) return null;
    set.push(b[k]!, b[k + 1]!);
  }
  const diff = removed.length ? removed.concat(set) : set;
  return diff;
}

function indexOfName(list: string[], name: string, from = 0): number {
  for (let i = from; i < list.length; i += 2) if (list[i] === name) return i;
  return -1;
}

/**
 * The recorder's side: per element, the inline style the mirror holds when it is in the CSSOM's form,
 * so later changes can travel as diffs.
 */
export class InlineStyles {
  #sent = new WeakMap<Element, [id: number, css: string, declarations: string[]]>();

  /**
   * The declarations that changed in an element's inline style, when the mirror can apply them
   * and they are shorter than the attribute; an empty list when the mirror has this style already;
   * undefined to send the whole attribute.
   */
  change(el: Element, id: number, value: string | null): Array<string | null> | undefined {
    // Only text in the CSSOM's own form can be rebuilt exactly from declarations: a hand-written
    // `margin: 1px; margin-top: 5px` overlaps, and its diffs would not give the same block. (A masked style never is.)
    const next = value !== null && value === (el as HTMLElement).style?.cssText ? declarations(value) : null;
    if (!next) {
      this.#sent.delete(el);
      return undefined;
    }
    const sent = this.#sent.get(el);
    // An element sent again since (moved, or a new snapshot) has a new ID, and the mirror its current style.
    const diff = !sent || sent[0] !== id ? null : sent[1] === value ? [] : styleDiff(sent[2], next);
    if (diff && (!diff.length || diffLength(diff) < value!.length)) {
      this.#sent.set(el, [id, value!, next]);
      return diff;
    }
    // Sent whole, the mirror parses the text, and a parser lists !important declarations last: its
    // block may then be in another order than the text, and a diff would not rebuild the text.
    if (value!.includes('!important')) this.#sent.delete(el);
    else this.#sent.set(el, [id, value!, next]);
    return undefined;
  }
}

function diffLength(declarations: Array<string | null>): number {
  let length = 0;
  for (const part of declarations) length += part === null ? 5 : part.length + 3;
  return length;
}

/**
 * Sets (or, for null, removes) `names[i]` to `values[offset + i]` in a live declaration block (on the
 * mirror), each value passed through `css` first (the mirror's asset rules for url()s).
 */
export function applyStyleDiff(
  style: CSSStyleDeclaration,
  names: readonly string[],
  values: ReadonlyArray<string | null>,
  offset = 0,
  css: (value: string) => string = (value) => value,
): void {
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const given = values[offset + i];
    const value = given === null || given === undefined || !given.includes('url(') ? given : css(given);
    if (value === null || value === undefined) style.removeProperty(name);
    else if (value.endsWith(IMPORTANT)) style.setProperty(name, value.slice(0, -IMPORTANT.length), 'important');
    else style.setProperty(name, value);
  }
}
