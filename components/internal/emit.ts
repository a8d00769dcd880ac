import type { OldRequestEvents, RequestName } from '../events.js';

/** What an event of ours carries, by name. */
export type DetailOf<K extends keyof HTMLElementEventMap> = HTMLElementEventMap[K] extends CustomEvent<infer D> ? D : never;

/** Dispatches a typed event with the defaults every public event of ours has: it bubbles and crosses shadow roots. */
export function emit<K extends keyof HTMLElementEventMap>(el: HTMLElement, name: K, detail: DetailOf<K>, init: EventInit = {}): boolean {
  return el.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true, cancelable: false, ...init, detail }));
}

/**
 * Fires a cancelable request, then under its old name (`cobrowse-close` for `cobrowse-close-request`;
 * deprecated, until 0.2) unless it was refused: the host page refuses it by cancelling either. True when nobody did.
 */
export function emitRequest<K extends RequestName>(el: HTMLElement, name: K, detail: DetailOf<K>): boolean {
  const init = { cancelable: true };
  return emit(el, name, detail, init) && emit(el, name.replace('-request', '') as keyof OldRequestEvents, detail as never, init);
}
