/**
 * What the live stories share: a loopback relay per rendered story, a demo customer page, and each
 * side of a session without its element (a customer page shared by a CustomerSession, an agent's
 * AgentSession feeding a hidden mirror) for the stories that show the other side's element.
 */
import { createStore } from 'idb-keyval';
import { html } from 'lit';
import { AgentSession, CustomerSession, Mirror, MIRROR_SANDBOX, Mode } from '../core/index.js';
import { LoopbackRelay } from './loopback.js';

/** A rendered story's relay, and what to stop when the story is left or rendered again. */
export class Live {
  readonly relay = new LoopbackRelay();
  /** The customer's session, when the story shares a page without the launcher (customerFrame). */
  customer: Promise<CustomerSession> | undefined;
  private readonly stops: Array<() => void> = [];

  onStop(stop: () => void): void {
    this.stops.push(stop);
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
    this.relay.close();
  }
}

const lives = new Map<string, Live>();

/** A live story's `beforeEach`: a fresh relay for each render, closed when the story is left. */
export const withLive = ({ id }: { id: string }): (() => void) => {
  const live = new Live();
  lives.set(id, live);
  return () => {
    live.stop();
    if (lives.get(id) === live) lives.delete(id);
  };
};

/** The story's Live (from `withLive`). */
export const liveOf = ({ id }: { id: string }): Live => {
  let live = lives.get(id);
  if (!live) lives.set(id, (live = new Live()));
  return live;
};

/** The agent's side of a story carries this attribute; the customer's launcher blocks it (`block`), so it is never recorded. */
export const AGENT_SIDE = '[data-story-agent]';

/** Resolves once `check` holds (polled every 50 ms); rejects after `ms`. */
export function until(check: () => unknown, ms = 5_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) return resolve();
      if (Date.now() - started > ms) return reject(new Error(`Timed out after ${ms} ms waiting for ${check}`));
      setTimeout(poll, 50);
    };
    poll();
  });
}

const FORM_CSS = `
  .demo-form { display: grid; gap: 10px; max-width: 340px; }
  .demo-form label { display: grid; gap: 2px; font-weight: 600; font-size: 13px; }
  .demo-form input, .demo-form select, .demo-form button { font: inherit; padding: 6px 8px; border-radius: 6px; border: 1px solid #aab2c0; }
  .demo-form .check { display: flex; gap: 6px; align-items: center; font-weight: 400; }
  .demo-form button { background: #0b5fff; color: #fff; border: 0; font-weight: 600; cursor: pointer; }`;

const FORM_FIELDS = `
  <label>Full name <input id="name" name="name" value="Ada Lovelace" autocomplete="off"></label>
  <label>Email <input id="email" name="email" type="email" value="ada@example.com" autocomplete="off"></label>
  <label>Yearly income <select id="income" name="income"><option>Under 30,000</option><option selected>30,000–60,000</option><option>Over 60,000</option></select></label>
  <label>Card number (always masked) <input id="card" name="card" autocomplete="cc-number" value="4242 4242 4242 4242"></label>
  <label class="check"><input id="terms" type="checkbox"> I accept the terms</label>
  <button id="submit" type="button">Continue</button>`;

/** The customer's site in the launcher's stories: a loan application form. */
export const demoPage = () => html`<style>${FORM_CSS}</style>
  <h2 style="margin:0 0 4px">Northwind Bank · Loan application</h2>
  <p style="margin:0 0 12px; opacity:0.8">Step 2 of 4: income and employment. Questions? Open <em>Co-browsing</em> in the corner.</p>
  <form class="demo-form" @submit=${(e: Event) => e.preventDefault()} .innerHTML=${FORM_FIELDS}></form>`;

/** The same page as a document of its own, for an iframe. */
const DEMO_DOCUMENT = `<!doctype html><html lang="en"><head><style>
  body { margin: 16px; font: 14px/1.4 system-ui, sans-serif; color: #14213d; background: #fff; }
  ${FORM_CSS}</style></head><body>
  <h2 style="margin:0 0 4px; font-size:18px">Northwind Bank · Loan application</h2>
  <form class="demo-form">${FORM_FIELDS}</form></body></html>`;

/** The stories' own IndexedDB store: a story's customer never resumes the launcher's stored session. */
const storyStore = createStore('cobrowse-stories', 'session');

/**
 * The customer's side without the launcher: the demo page in an iframe, shared through the story's
 * relay by a CustomerSession that says yes to control. `session` resolves once the session exists.
 */
export function customerFrame(live: Live, mode: Mode = Mode.Full): { frame: HTMLIFrameElement; session: Promise<CustomerSession> } {
  const frame = document.createElement('iframe');
  frame.title = "Customer's page";
  frame.srcdoc = DEMO_DOCUMENT;
  frame.style.cssText = 'width:360px; height:440px; border:1px solid rgb(128 128 128 / 0.4); border-radius:8px; background:#fff';
  const session = new Promise<CustomerSession>((resolve) => {
    frame.addEventListener(
      'load',
      () => {
        const session = new CustomerSession({
          relay: live.relay.url,
          connection: live.relay.connection,
          doc: frame.contentDocument!,
          store: storyStore,
          mode,
          askConsent: async () => true,
        });
        live.onStop(() => session.dispose());
        void session.start().then(() => resolve(session));
      },
      { once: true },
    );
  });
  live.customer = session;
  return { frame, session };
}

/** The agent's side without the viewer: an AgentSession feeding a mirror no one sees (kept out of the recording). */
export function headlessAgent(live: Live, host: HTMLElement, code: string, name = 'Alice'): { session: AgentSession; mirror: Mirror } {
  const frame = document.createElement('iframe');
  frame.setAttribute('sandbox', MIRROR_SANDBOX);
  frame.setAttribute(AGENT_SIDE.slice(1, -1), '');
  frame.setAttribute('aria-hidden', 'true');
  frame.tabIndex = -1;
  frame.style.cssText = 'position:absolute; width:1px; height:1px; opacity:0; pointer-events:none; border:0';
  host.append(frame);
  const mirror = new Mirror(frame);
  // The in-memory relay has no asset proxy; the mirrored page is the demo's own, so it loads directly.
  const session = new AgentSession({ relay: live.relay.url, connection: live.relay.connection, name, mirror, assets: 'direct' });
  live.onStop(() => {
    session.dispose();
    frame.remove();
  });
  session.join(code);
  return { session, mirror };
}
