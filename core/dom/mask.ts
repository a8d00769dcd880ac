/**
 * Masking rules, applied in the customer's page before anything is serialized.
 * A masked value never leaves the page: the serializer and recorder only ever see MASK.
 */

/** What the agent sees instead of a masked value: a fixed run that does not reveal the length. */
export const MASK = '********';

/** Fields masked whatever the configuration. */
const ALWAYS_MASKED =
  'input[type=password i],[autocomplete^=cc-],[autocomplete=one-time-code],' +
  '[autocomplete=current-password],[autocomplete=new-password],input[type=hidden i]';

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

  /** True when a form field's value must not leave the page. */
  isMaskedField(el: Element): boolean {
    if (this.everSecret.has(el)) return true;
    if (el.matches(ALWAYS_MASKED)) {
      this.everSecret.add(el);
      return true;
    }
    return el.closest(this.marks) !== null;
  }

  /** True when a text node's content must not leave the page. */
  isMaskedText(text: CharacterData): boolean {
    const parent = text.parentElement;
    if (!parent) return false;
    if (parent.localName === 'textarea') return this.isMaskedField(parent);
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
