/** Dispatches a typed event with the defaults every public event of ours has: it bubbles and crosses shadow roots. */
export function emit<K extends keyof HTMLElementEventMap>(
  el: HTMLElement,
  name: K,
  detail: HTMLElementEventMap[K] extends CustomEvent<infer D> ? D : never,
  init: EventInit = {},
): boolean {
  return el.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true, cancelable: false, ...init, detail }));
}
