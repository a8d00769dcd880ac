/**
 * Inline styles changed through the CSSOM (`el.style.left = …`, animation libraries, drag and
 * drop) change a declaration or two of a longer attribute: only those travel.
 *
 * Both the old and the new attribute must be as the CSSOM serializes them ("name: value; name:
 * value;"), so that the mirror, setting the same declarations, ends with the very same text.
 */

/** `value` carries its priority as a suffix, the way the CSSOM serializes it. */
const IMPORTANT = ' !important';
const NAME = /^-{0,2}[a-zA-Z][\w-]*$/;

/**
 * A style attribute in the CSSOM's serialization, as [name, value, name, value…];
 * null when the text is not in that form (written by hand, say) or is ambiguous.
 */
export function declarations(css: string): string[] | null {
  const out: string[] = [];
  const n = css.length;
  let i = 0;
  while (i < n) {
    const colon = css.indexOf(': ', i);
    if (colon < 0) return null;
    const name = css.slice(i, colon);
    if (!NAME.test(name)) return null;
    let j = colon + 2;
    let depth = 0;
    let quote = 0;
    for (; j < n; j++) {
      const c = css.charCodeAt(j);
      if (c === 92 /* \ */) j++;
      else if (quote) {
        if (c === quote) quote = 0;
      } else if (c === 34 || c === 39) quote = c;
      else if (c === 40 || c === 91 || c === 123) depth++;
      else if (c === 41 || c === 93 || c === 125) depth--;
      else if (c === 59 /* ; */ && depth === 0) break;
    }
    if (j >= n || j === colon + 2) return null; // no closing ';', or an empty value (setProperty would remove it)
    out.push(name, css.slice(colon + 2, j));
    i = j + 1;
    if (i < n) {
      // One space between declarations, none after the last: the text is its declarations joined.
      if (css.charCodeAt(i) !== 32 || i + 1 === n) return null;
      i++;
    }
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

/** Sets (or, for null, removes) `names[i]` to `values[offset + i]` in a live declaration block (on the mirror). */
export function applyStyleDiff(style: CSSStyleDeclaration, names: readonly string[], values: ReadonlyArray<string | null>, offset = 0): void {
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const value = values[offset + i];
    if (value === null || value === undefined) style.removeProperty(name);
    else if (value.endsWith(IMPORTANT)) style.setProperty(name, value.slice(0, -IMPORTANT.length), 'important');
    else style.setProperty(name, value);
  }
}
