/**
 * Turns the agent's mouse and wheel over the mirror into pointer frames and commands.
 * The mirror itself never receives the agent's input (it has pointer-events: none): this
 * layer does, finds the mirrored element under the pointer, and asks the customer's page.
 */
import type { AgentSession, Command, CommandResult, Mirror } from '../../core/index.js';
import { Action, MODE_ACTIONS, type Mode } from '../../core/protocol/index.js';

/** What clicking a mirrored element leads to. */
export type Target =
  | { kind: 'field'; id: number; el: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement; rect: DOMRect }
  | { kind: 'toggle'; id: number; checked: boolean }
  | { kind: 'element'; id: number };

const FIELD = /^(input|textarea|select)$/;
const TOGGLES = new Set(['checkbox', 'radio']);
/** Input types co-filled as text; others (buttons, files, colors…) are clicked. */
const TEXT_INPUTS = new Set([
  '',
  'text',
  'email',
  'tel',
  'url',
  'search',
  'number',
  'password',
  'date',
  'time',
  'datetime-local',
  'month',
  'week',
]);

/** The deepest mirrored element at a point of the customer's viewport, through open shadow roots. */
export function elementAt(doc: Document, x: number, y: number): Element | null {
  let el = doc.elementFromPoint(x, y);
  while (el?.shadowRoot) {
    const inner = el.shadowRoot.elementFromPoint(x, y);
    if (!inner || inner === el) break;
    el = inner;
  }
  return el;
}

/** The nearest ancestor that can scroll vertically or horizontally, or null for the document. */
function scrollableAncestor(el: Element | null): Element | null {
  for (let n = el; n && n.localName !== 'html' && n.localName !== 'body'; n = n.parentElement) {
    const style = n.ownerDocument.defaultView!.getComputedStyle(n);
    const scrolls = (v: string) => v === 'auto' || v === 'scroll';
    if ((scrolls(style.overflowY) && n.scrollHeight > n.clientHeight) || (scrolls(style.overflowX) && n.scrollWidth > n.clientWidth))
      return n;
  }
  return null;
}

export class RemoteControl {
  #pointerFrame = 0;
  #lastPoint: [number, number] | undefined;
  #scrollFrame = 0;
  #scrollTarget: { id: number; x: number; y: number } | undefined;

  readonly #session: () => AgentSession | undefined;
  readonly #mirror: () => Mirror | undefined;
  readonly #mode: () => Mode | '';

  constructor(session: () => AgentSession | undefined, mirror: () => Mirror | undefined, mode: () => Mode | '') {
    this.#session = session;
    this.#mirror = mirror;
    this.#mode = mode;
  }

  /** Whether the mode lets the agent do this at all (the customer's page checks again). */
  allows(action: Action): boolean {
    const mode = this.#mode();
    return Boolean(mode && MODE_ACTIONS[mode].has(action));
  }

  /** The agent's pointer moved over the mirror: sent once per animation frame. */
  move(x: number, y: number): void {
    this.#lastPoint = [x, y];
    this.#pointerFrame ||= requestAnimationFrame(() => {
      this.#pointerFrame = 0;
      if (this.#lastPoint) this.#session()?.pointer(...this.#lastPoint);
    });
  }

  /** What the agent clicked, in mirror terms; the viewer decides what to show. */
  targetAt(x: number, y: number): Target | null {
    const mirror = this.#mirror();
    if (!mirror) return null;
    const el = elementAt(mirror.document, x, y);
    const id = el ? mirror.idOfNode(el) : undefined;
    if (!el || id === undefined) return null;
    if (FIELD.test(el.localName)) {
      const type = el.localName === 'input' ? (el as HTMLInputElement).type : '';
      if (TOGGLES.has(type)) return { kind: 'toggle', id, checked: (el as HTMLInputElement).checked };
      if (el.localName !== 'input' || TEXT_INPUTS.has(type)) {
        return { kind: 'field', id, el: el as HTMLInputElement, rect: el.getBoundingClientRect() };
      }
    }
    return { kind: 'element', id };
  }

  click(x: number, y: number, id: number): Promise<CommandResult> {
    this.#session()?.pointer(x, y, true);
    return this.send({ a: Action.Click, id, x, y });
  }

  send(command: Command): Promise<CommandResult> {
    const session = this.#session();
    if (!session) return Promise.resolve({ ok: false, reason: 'Not connected' });
    return session.command(command);
  }

  /** Wheel over the mirror scrolls what is under the pointer on the customer's page (once per frame). */
  wheel(x: number, y: number, dx: number, dy: number): void {
    const mirror = this.#mirror();
    if (!mirror || !this.allows(Action.Scroll)) return;
    if (!this.#scrollTarget) {
      const scroller = scrollableAncestor(elementAt(mirror.document, x, y));
      const win = mirror.document.defaultView!;
      const id = mirror.idOfNode(scroller ?? mirror.document);
      if (id === undefined) return;
      this.#scrollTarget = scroller ? { id, x: scroller.scrollLeft, y: scroller.scrollTop } : { id, x: win.scrollX, y: win.scrollY };
    }
    this.#scrollTarget.x = Math.max(0, this.#scrollTarget.x + dx);
    this.#scrollTarget.y = Math.max(0, this.#scrollTarget.y + dy);
    this.#scrollFrame ||= requestAnimationFrame(() => {
      this.#scrollFrame = 0;
      const target = this.#scrollTarget;
      this.#scrollTarget = undefined;
      if (target) void this.send({ a: Action.Scroll, id: target.id, x: Math.round(target.x), y: Math.round(target.y) });
    });
  }

  dispose(): void {
    cancelAnimationFrame(this.#pointerFrame);
    cancelAnimationFrame(this.#scrollFrame);
  }
}
