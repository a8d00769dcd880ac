/**
 * Applies an agent's commands to the customer's page — the only place they take effect.
 * The mode and the masking rules are checked here, whatever the agent's client sent.
 * Commands use real events and native value setters, so framework-controlled inputs
 * (React, Vue) see them as a person's typing.
 */
import { Action, Mode, allowedInMode, type ControlFrame } from '../protocol/index.js';
import type { Masker } from './mask.js';

export interface ControlContext {
  doc: Document;
  mode: Mode;
  masker: Masker;
  /** The live node the mirror knows by this ID. */
  nodeById(id: number): Node | undefined;
  /** Whether a URL is one the session may navigate to (the session's domains). */
  allowsUrl(url: URL): boolean;
}

export type ControlResult = { ok: true } | { ok: false; reason: string };

const refuse = (reason: string): ControlResult => ({ ok: false, reason });
const OK: ControlResult = { ok: true };

type Field = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

/** Sets a field's value through the prototype's setter: frameworks that wrap `value` then see the change. */
function setNativeValue(field: Field, value: string): void {
  const proto = Object.getPrototypeOf(field) as object;
  const setter = Object.getOwnPropertyDescriptor(proto, 'value')?.set;
  if (setter) setter.call(field, value);
  else field.value = value;
}

function fire(target: EventTarget, type: string, init: MouseEventInit | EventInit = {}): void {
  const win = (target as Node).ownerDocument?.defaultView ?? window;
  const Ctor = type.startsWith('pointer') ? win.PointerEvent : type.startsWith('mouse') || type === 'click' ? win.MouseEvent : win.Event;
  target.dispatchEvent(new Ctor(type, { bubbles: true, cancelable: true, composed: true, ...init }));
}

/** The parent element, or the shadow host at a shadow root's top. */
const up = (n: Element): Element | null => n.parentElement ?? (n.getRootNode() as ShadowRoot).host ?? null;

/** Refuses masked and blocked elements, and anything inside a blocked one. */
function guarded(el: Element, masker: Masker): string | null {
  for (let n: Element | null = el; n; n = up(n)) {
    if (masker.isBlocked(n)) return 'This part of the page is hidden from the agent';
  }
  return masker.isMaskedContent(el) ? 'This part of the page is private to the customer' : null;
}

/** What partial control answers a command that would change a form (the agent's console says the same). */
export const FORMS_LOCKED = 'Forms cannot be edited on the agent side';

/** Input types a click presses rather than edits. */
const PRESSED = /^(submit|button|image)$/;

/**
 * Whether a click on `el` would change a form field's value or state: the field itself (or a
 * form-associated custom element), an option, a reset button, editable content, or anywhere in a
 * label of a field (the label hands the click to it) — but not in a link or button inside that label.
 */
function editsForm(el: Element): boolean {
  if ((el as HTMLElement).isContentEditable) return true;
  for (let n: Element | null = el; n; n = up(n)) {
    if ((n.constructor as { formAssociated?: boolean }).formAssociated) return true;
    switch (n.localName) {
      case 'textarea':
      case 'select':
      case 'option':
      case 'optgroup':
        return true;
      case 'input':
        return !PRESSED.test((n as HTMLInputElement).type);
      case 'button':
        return (n as HTMLButtonElement).type === 'reset';
      case 'a':
        if (n.hasAttribute('href')) return false;
        break;
      case 'label': {
        const control = (n as HTMLLabelElement).control;
        return !!control && editsForm(control);
      }
    }
  }
  return false;
}

/** Why the mode refuses a command on this element, or null: partial control clicks, but edits no form. */
const formLock = (frame: ControlFrame, el: Element, mode: Mode): string | null =>
  frame.a === Action.Click && mode === Mode.Partial && editsForm(el) ? FORMS_LOCKED : null;

/** The address a navigate command asks for, or why it cannot go there. */
function destination(frame: ControlFrame, ctx: ControlContext): URL | string {
  let url: URL;
  try {
    url = new URL(frame.url!, ctx.doc.baseURI);
  } catch {
    return 'Not a valid address';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'Only web addresses can be opened';
  return ctx.allowsUrl(url) ? url : 'That address is outside this co-browsing session';
}

/**
 * Why a command will be refused whatever the customer says, or null: checked before the
 * customer is asked for consent, so nobody is asked about something that cannot happen.
 */
export function refusal(frame: ControlFrame, ctx: ControlContext): string | null {
  if (!allowedInMode(ctx.mode, frame)) return `Not allowed in ${ctx.mode} mode`;
  if (frame.a === Action.Navigate) {
    const url = destination(frame, ctx);
    return typeof url === 'string' ? url : null;
  }
  if (frame.id === undefined) return null;
  const node = ctx.nodeById(frame.id);
  if (!node) return 'That element is no longer on the page';
  const el = node.nodeType === Node.ELEMENT_NODE ? (node as Element) : node.parentElement;
  return frame.a !== Action.Scroll && el ? (guarded(el, ctx.masker) ?? formLock(frame, el, ctx.mode)) : null;
}

export function applyControl(frame: ControlFrame, ctx: ControlContext): ControlResult {
  if (!allowedInMode(ctx.mode, frame)) return refuse(`Not allowed in ${ctx.mode} mode`);
  const win = ctx.doc.defaultView!;
  switch (frame.a) {
    case Action.Navigate: {
      const url = destination(frame, ctx);
      if (typeof url === 'string') return refuse(url);
      win.location.assign(url.href);
      return OK;
    }
    case Action.History:
      win.history.go(frame.delta!);
      return OK;
    case Action.Reload:
      win.location.reload();
      return OK;
  }

  const node = ctx.nodeById(frame.id!);
  if (!node) return refuse('That element is no longer on the page');
  if (frame.a === Action.Scroll) {
    if (node.nodeType === Node.DOCUMENT_NODE) (node as Document).defaultView?.scrollTo(frame.x!, frame.y!);
    else if (node.nodeType === Node.ELEMENT_NODE) (node as Element).scrollTo(frame.x!, frame.y!);
    else return refuse('That cannot be scrolled');
    return OK;
  }
  const el = (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement) as HTMLElement | null;
  if (!el) return refuse('That element cannot be used');
  const guard = guarded(el, ctx.masker) ?? formLock(frame, el, ctx.mode);
  if (guard) return refuse(guard);

  switch (frame.a) {
    case Action.Click: {
      const point = { clientX: frame.x!, clientY: frame.y!, view: win };
      fire(el, 'pointerdown', point);
      fire(el, 'mousedown', point);
      if (typeof el.focus === 'function') el.focus({ preventScroll: true });
      fire(el, 'pointerup', point);
      fire(el, 'mouseup', point);
      el.click(); // runs default actions: follows links, submits, toggles
      return OK;
    }
    case Action.Input: {
      if (!/^(input|textarea)$/.test(el.localName) && !el.isContentEditable) return refuse('Only fields can be typed into');
      if (el.isContentEditable) el.textContent = frame.value!;
      else {
        const field = el as HTMLInputElement;
        if (field.disabled || field.readOnly) return refuse('This field cannot be edited');
        el.focus({ preventScroll: true });
        setNativeValue(field, frame.value!);
      }
      fire(el, 'input');
      fire(el, 'change');
      return OK;
    }
    case Action.Check: {
      const box = el as HTMLInputElement;
      if (box.localName !== 'input' || (box.type !== 'checkbox' && box.type !== 'radio'))
        return refuse('Only checkboxes and radio buttons can be checked');
      if (box.disabled) return refuse('This field cannot be edited');
      if (box.checked !== frame.checked) box.click(); // toggles with real input and change events
      return OK;
    }
    case Action.Select: {
      const select = el as HTMLSelectElement;
      if (select.localName !== 'select') return refuse('Only lists can be chosen from');
      if (select.disabled) return refuse('This field cannot be edited');
      setNativeValue(select, frame.value!);
      fire(select, 'input');
      fire(select, 'change');
      return OK;
    }
    default:
      return refuse('Unknown command');
  }
}
