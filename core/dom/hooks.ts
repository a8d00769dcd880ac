/**
 * Some page changes fire no mutation record: CSSOM edits, adoptedStyleSheets, attachShadow.
 * We wrap those methods once per realm and tell every recorder; each keeps only what is its
 * own, so two recorders can run side by side and stopping one leaves the others working.
 *
 * Both the recorded window's realm and the recorder's own are wrapped: a page's node can
 * carry a wrapper from the realm that touched it (Chromium re-creates collected wrappers),
 * and its methods are then that realm's.
 */

export interface HookListener {
  /** A stylesheet's rules changed through the CSSOM. */
  sheetChanged(sheet: CSSStyleSheet): void;
  /** A document's or shadow root's adoptedStyleSheets was assigned. */
  adoptedChanged(owner: Document | ShadowRoot): void;
  /** An element got a shadow root. */
  shadowAttached(host: Element): void;
}

const listeners = new Set<HookListener>();
const installed = new WeakSet<object>();

type Win = Window & typeof globalThis;

function notify(call: (listener: HookListener) => void): void {
  for (const listener of listeners) {
    try {
      call(listener);
    } catch {
      // A recorder's bug must never break the page's own call.
    }
  }
}

function wrapMethod<T extends object>(proto: T, name: string, after: (self: T) => void): void {
  const original = (proto as Record<string, unknown>)[name];
  if (typeof original !== 'function') return;
  Object.defineProperty(proto, name, {
    configurable: true,
    writable: true,
    value: function (this: T, ...args: unknown[]) {
      const result = original.apply(this, args);
      if (result instanceof Promise)
        void result.then(
          () => after(this),
          () => undefined,
        );
      else after(this);
      return result;
    },
  });
}

function wrapSetter<T extends object>(proto: T, name: string, after: (self: T) => void): void {
  const descriptor = Object.getOwnPropertyDescriptor(proto, name);
  if (!descriptor?.set) return;
  const set = descriptor.set;
  Object.defineProperty(proto, name, {
    ...descriptor,
    set(this: T, value: unknown) {
      set.call(this, value);
      after(this);
    },
  });
}

function install(win: Win): void {
  if (installed.has(win) || !win.CSSStyleSheet) return;
  installed.add(win);
  const sheetChanged = (sheet: CSSStyleSheet | null) => sheet && notify((l) => l.sheetChanged(sheet));
  for (const name of ['insertRule', 'deleteRule', 'addRule', 'removeRule', 'replace', 'replaceSync']) {
    wrapMethod(win.CSSStyleSheet.prototype, name, sheetChanged);
  }
  // Rules inside @media and @supports change their sheet too.
  for (const name of ['insertRule', 'deleteRule']) {
    wrapMethod(win.CSSGroupingRule.prototype, name, (rule: CSSGroupingRule) => sheetChanged(rule.parentStyleSheet));
  }
  wrapSetter(win.Document.prototype, 'adoptedStyleSheets', (doc: Document) => notify((l) => l.adoptedChanged(doc)));
  wrapSetter(win.ShadowRoot.prototype, 'adoptedStyleSheets', (root: ShadowRoot) => notify((l) => l.adoptedChanged(root)));
  wrapMethod(win.Element.prototype, 'attachShadow', (host: Element) => notify((l) => l.shadowAttached(host)));
}

/** Starts telling `listener` about hooked changes (in `win`, and wherever our code runs); returns the function that stops it. */
export function watchHooks(win: Window, listener: HookListener): () => void {
  install(win as Win);
  install(globalThis as unknown as Win);
  listeners.add(listener);
  return () => listeners.delete(listener);
}
