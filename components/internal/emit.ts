/** What an event of ours carries, by name. */
export type DetailOf<K extends keyof HTMLElementEventMap> = HTMLElementEventMap[K] extends CustomEvent<infer D> ? D : never;

/** Dispatches a typed event with the defaults every public event of ours has: it bubbles and crosses shadow roots. */
export function emit<K extends keyof HTMLElementEventMap>(el: HTMLElement, name: K, detail: DetailOf<K>, init: EventInit = {}): boolean {
  return el.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true, cancelable: false, ...init, detail }));
}

/** Each request event's old name (deprecated: still fired until 0.2). */
const OLD_REQUEST_NAME = {
  'cobrowse-close-request': 'cobrowse-close',
  'cobrowse-zoom-request': 'cobrowse-zoom',
  'cobrowse-navigate-request': 'cobrowse-navigate',
  'cobrowse-highlight-request': 'cobrowse-highlight',
  'cobrowse-highlight-clear-request': 'cobrowse-highlight-clear',
} as const;
export type RequestName = keyof typeof OLD_REQUEST_NAME;

/**
 * Fires a cancelable request, then under its old name unless it was refused: the host page refuses
 * it by cancelling either. True when nobody did.
 */
export function emitRequest<K extends RequestName>(el: HTMLElement, name: K, detail: DetailOf<K>): boolean {
  return emit(el, name, detail, { cancelable: true }) && emit(el, OLD_REQUEST_NAME[name], detail as never, { cancelable: true });
}
