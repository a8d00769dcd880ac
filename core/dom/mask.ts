/**
 * Masking rules, applied in the customer's page before anything is serialized.
 * A masked value never leaves the page: the serializer and recorder only ever see MASK.
 */

/** What the agent sees instead of a masked value: a fixed run that does not reveal the length. */
export const MASK = '********';

/** Fields masked whatever the configuration (autocomplete tokens are checked separately). */
const ALWAYS_MASKED = 'input[type=password i],input[type=hidden i]';

/** Autocomplete tokens that name a secret; `section-*`, `billing` and other prefixes may precede them. */
const SECRET_AUTOCOMPLETE = /(^|\s)(cc-|one-time-code(\s|$)|current-password(\s|$)|new-password(\s|$))/i;

const MASK_MARK = '[data-cobrowse-mask]';

export interface MaskOptions {
  /** Extra CSS selectors whose fields and text are masked (the launcher's `mask` attribute). */
  mask?: string;
}

/** Decides what is masked in one page; remembers fields that were ever password inputs. */
export class Masker {
  private readonly marks: string;
  private readonly hasExtraSelectors: boolean;
  /** A "show password" toggle must not unmask: once a password, always masked. */
  private readonly everSecret = new WeakSet<Element>();

  constructor(options: MaskOptions = {}) {
    const extra = options.mask?.trim();
    this.marks = extra ? `${MASK_MARK},${extra}` : MASK_MARK;
    this.hasExtraSelectors = Boolean(extra);
    // Fail early on a bad selector rather than silently mask nothing.
    if (extra && typeof document !== 'undefined') document.createDocumentFragment().querySelector(this.marks);
  }

  /** True when a form field's (or an option's) value must not leave the page. */
  isMaskedField(el: Element): boolean {
    if (el.localName === 'option') {
      const select = el.closest('select');
      return select ? this.isMaskedField(select) : el.closest(this.marks) !== null;
    }
    if (this.everSecret.has(el)) return true;
    if (el.matches(ALWAYS_MASKED) || SECRET_AUTOCOMPLETE.test(el.getAttribute('autocomplete') ?? '')) {
      this.everSecret.add(el);
      return true;
    }
    return el.closest(this.marks) !== null;
  }

  /** True when a text node's content must not leave the page. */
  isMaskedText(text: CharacterData): boolean {
    const parent = text.parentElement;
    if (!parent) return false;
    if (parent.localName === 'textarea' || parent.localName === 'option') return this.isMaskedField(parent);
    if (parent.localName === 'style') return false;
    return parent.closest(this.marks) !== null;
  }

  /** True when an attribute change can change what is masked below an element. */
  affectsMasking(attribute: string): boolean {
    if (attribute === 'type' || attribute === 'autocomplete' || attribute.startsWith('data-cobrowse')) return true;
    // Site selectors may match on anything; class and id are what they match on in practice.
    return this.hasExtraSelectors && (attribute === 'class' || attribute === 'id');
  }
}
