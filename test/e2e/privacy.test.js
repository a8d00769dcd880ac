// The leak corpus (issue 4): masked values never leave the customer's page.
//
// Real Chromium, the real relay in a child process, a customer page and an agent console in
// separate browser contexts. Each case types, pastes, autofills or sets by script its own
// canary string — in plain DOM and in a React 19 app — and then the agent rejoins (resnapshot)
// and the customer's connection drops (reconnect). After each phase, once a plain field typed
// last has reached the agent's mirror (so every earlier frame was delivered), no canary — nor
// any part of one: all share a random prefix — may be found in:
//   - a WebSocket frame of the customer page or of the agent page (read through CDP),
//   - the agent page's DOM: the mirror's document, open shadow roots, same-origin iframes,
//     stylesheets and live field values, and the console's own DOM,
//   - the relay's log (its stdout and stderr),
//   - the relay's V8 heap (a snapshot taken in the relay's process, which never holds the
//     canaries as strings: they reach it XOR-encoded), and, where /proc allows, the relay
//     process's whole memory (read from here, so this process's own copies do not count).
// Every case is also checked to have really happened: its canary is in the customer's page.
// The side doors of issue 16 A (SIDE_DOORS) run in plain DOM, an open shadow root and a same-origin
// iframe, planted before sharing and with the agent there; where the secret is a state (checked,
// chosen, scrolled, drawn) it is checked in the customer's page, the mirror and the frames (boxEvents).
// The launcher never turns canvas capture on, so "no Op.Canvas / data:image for a blocked canvas"
// guards a path no e2e session takes today (test/core/privacy-paths.test.ts records with canvasFps).
// The hand-off token is checked in an `it` of its own (a.localhost → b.localhost).
//
// A leak fails the run unless its case is in KNOWN_LEAKS (printed, not failed): those are
// reported bugs in core/, with their cause, waiting for a fix.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { launchChromium } from '../helpers/chromium.js';
import { until as untilWithin } from '../helpers/wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'privacy');
const DIST = path.join(ROOT, 'dist');

/** What the agent sees instead of a masked value (core/dom/mask.ts MASK; no preserveLength here). */
const MASK = '********';
/** Canaries are XOR-ed with this on their way to the relay's process (test/fixtures/privacy/relay-child.js). */
const KEY = 0x5a;
const WAIT = { timeout: 15_000 };
/** The shared `until`, with this file's patience. */
const until = (check, what) => untilWithin(check, what, { ms: WAIT.timeout });

/**
 * Cases that leak today, by case ID, with the cause. They are printed and do not fail the run;
 * a leak in any other case fails it. When a fix lands, the run says so: remove the entry then.
 */
const KNOWN_LEAKS = new Map([]);

// ---------------------------------------------------------------------------------------------
// Canaries: the case's number, a random run prefix shared by all, a random tail. Searching for
// the run prefix catches part of a canary too (a value caught half-typed), and the three digits
// before it still tell whose. Lower case letters and digits only: nothing escapes or encodes them.

const alnum = (n) => Array.from(randomBytes(n), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
const RUN = `q${alnum(7)}`;

// ---------------------------------------------------------------------------------------------
// Actions. Each gets the customer's page and the case's canary.

/** Key by key, as a person types. */
const typed = (sel) => (page, c) => page.locator(sel).pressSequentially(c);

/** A real paste: the clipboard holds the canary, Ctrl+V puts it in the focused field. */
const pasted = (sel) => async (page, c) => {
  await page.locator(sel).focus();
  await page.evaluate((c) => navigator.clipboard.writeText(c), c);
  await page.keyboard.press('Control+V');
};

/** As browser autofill does: the value set through the native setter, then input and change. */
const autofilled = (sel) => (page, c) =>
  page.evaluate(
    ([sel, c]) => {
      const el = document.querySelector(sel);
      const proto = el.localName === 'textarea' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
      Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, c);
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    },
    [sel, c],
  );

/** Set by the page's script, no event at all: only a (re)snapshot can see it. */
const scripted = (sel) => (page, c) => page.evaluate(([sel, c]) => (document.querySelector(sel).value = c), [sel, c]);

/** Written to an attribute (as React writes `value`). */
const attribute = (sel, name) => (page, c) =>
  page.evaluate(([sel, name, c]) => document.querySelector(sel).setAttribute(name, c), [sel, name, c]);

/** Runs `fn(c)` in the page. */
const inPage = (fn) => (page, c) => page.evaluate(fn, c);

/** Several steps in order. */
const steps =
  (...actions) =>
  async (page, c, ctx) => {
    for (const action of actions) await action(page, c, ctx);
  };
const click = (sel) => (page) => page.locator(sel).click();

// Actions in one of the side-door contexts (test/fixtures/privacy/side-doors.js): `ctx` is dom (#sd-dom),
// shadow (the open shadow root of #sd-host) or frame (the same-origin iframe #sd-frame).

/** The context's part of the customer's page, for locators (Playwright's CSS goes into open shadow roots). */
const within = (page, ctx) => (ctx === 'frame' ? page.frameLocator('#sd-frame') : page.locator(ctx === 'shadow' ? '#sd-host' : '#sd-dom'));
const typedIn = (sel) => (page, c, ctx) => within(page, ctx).locator(sel).pressSequentially(c);
const clickIn = (sel) => (page, c, ctx) => within(page, ctx).locator(sel).click();
/** Runs `fn(element, canary)` in the page (a function of its arguments only). */
const onElement = (sel, fn) => (page, c, ctx) => within(page, ctx).locator(sel).evaluate(fn, c);
/** An attribute set to `url` with the canary for `{c}`. */
const urlIn = (sel, name, url) => (page, c, ctx) =>
  within(page, ctx)
    .locator(sel)
    .evaluate((el, [name, value]) => el.setAttribute(name, value), [name, url.replaceAll('{c}', c)]);
/** A box ticked (or a radio picked) by the customer, the canary in its value attribute. */
const ticked = (sel) =>
  steps(
    onElement(sel, (el, c) => el.setAttribute('value', c)),
    (page, c, ctx) => within(page, ctx).locator(sel).check(),
  );
/**
 * Options with the canary in their values and texts, the last with the `selected` attribute (the
 * default choice), then the customer picks the first of them (index 1) by hand.
 */
const chosen = (sel) =>
  steps(
    onElement(sel, (el, c) =>
      el.insertAdjacentHTML('beforeend', `<option value="${c}v1">${c}t1</option><option value="${c}v2" selected>${c}t2</option>`),
    ),
    (page, c, ctx) => within(page, ctx).locator(sel).selectOption({ index: 1 }),
  );

// ---------------------------------------------------------------------------------------------
// The corpus. `page`: main (launcher mask=".foo" block=".blockme") or maskAll (mask-all-inputs).
// `when`: pre (before sharing starts), live (default), away (the agent is gone, during the
// resnapshot phase), offline (the customer's socket just dropped). `act` absent: the canary is in
// the page's HTML. `masked`: the agent's mirror must show this field's value as the mask; `attr`:
// the canary is in the field's value attribute too (React writes it), which the mirror must show masked.

const CASES = [
  // Always masked, whatever the configuration; the main page's partial mask=".foo" must not change that (item 2).
  { id: 'pw-typed', group: 'always', what: 'password, typed', act: typed('#pw-typed'), masked: '#pw-typed' },
  { id: 'pw-paste', group: 'always', what: 'password, pasted (clipboard, Ctrl+V)', act: pasted('#pw-paste'), masked: '#pw-paste' },
  { id: 'pw-autofill', group: 'always', what: 'password, autofilled', act: autofilled('#pw-autofill'), masked: '#pw-autofill' },
  {
    id: 'pw-script',
    group: 'always',
    what: 'password, .value set by script without events',
    act: scripted('#pw-script'),
    masked: '#pw-script',
  },
  {
    id: 'pw-attr',
    group: 'always',
    what: 'password, value attribute set by script',
    act: attribute('#pw-attr', 'value'),
    masked: '#pw-attr',
    attr: true,
  },
  { id: 'pw-static', group: 'always', what: 'password, value attribute in the HTML', masked: '#pw-static', attr: true },
  {
    id: 'pw-before-share',
    group: 'always',
    what: 'password typed before sharing started',
    when: 'pre',
    act: typed('#pw-before-share'),
    masked: '#pw-before-share',
  },
  {
    id: 'pw-toggle',
    group: 'always',
    what: 'password typed, then "show password" (type=text), then typed on',
    act: steps(
      typed('#pw-toggle'),
      click('#pw-toggle-show'),
      (page) => page.locator('#pw-toggle').press('End'),
      (page) => page.locator('#pw-toggle').pressSequentially('z'),
    ),
    masked: '#pw-toggle',
  },
  {
    id: 'pw-toggle-before-share',
    group: 'always',
    what: 'password typed and shown (type=text) before sharing started',
    when: 'pre',
    act: steps(typed('#pw-toggle-before-share'), click('#pw-toggle-before-share-show')),
    masked: '#pw-toggle-before-share',
  },
  { id: 'cc-number', group: 'always', what: 'autocomplete=cc-number, typed', act: typed('#cc-number'), masked: '#cc-number' },
  {
    id: 'cc-billing',
    group: 'always',
    what: 'autocomplete="billing cc-number", autofilled',
    act: autofilled('#cc-billing'),
    masked: '#cc-billing',
  },
  {
    id: 'cc-paste-handler',
    group: 'always',
    what: "cc-number pasted through the page's own paste handler (DataTransfer + execCommand('insertText'))",
    act: pasted('#cc-paste-handler'),
    masked: '#cc-paste-handler',
  },
  { id: 'cc-csc', group: 'always', what: 'autocomplete=cc-csc, pasted', act: pasted('#cc-csc'), masked: '#cc-csc' },
  { id: 'cc-exp', group: 'always', what: 'autocomplete=cc-exp, autofilled', act: autofilled('#cc-exp'), masked: '#cc-exp' },
  {
    id: 'cc-exp-month',
    group: 'always',
    what: 'autocomplete=cc-exp-month, value attribute set',
    act: attribute('#cc-exp-month', 'value'),
    masked: '#cc-exp-month',
    attr: true,
  },
  { id: 'otp', group: 'always', what: 'autocomplete=one-time-code, typed', act: typed('#otp'), masked: '#otp' },
  {
    id: 'current-pw',
    group: 'always',
    what: 'type=text autocomplete=current-password, typed',
    act: typed('#current-pw'),
    masked: '#current-pw',
  },
  {
    id: 'new-pw',
    group: 'always',
    what: 'type=text autocomplete="section-signup new-password", autofilled',
    act: autofilled('#new-pw'),
    masked: '#new-pw',
  },
  { id: 'hidden-static', group: 'always', what: 'hidden input (CSRF token) in the HTML', masked: '#hidden-static', attr: true },
  {
    id: 'hidden-script',
    group: 'always',
    what: 'hidden input set by script (writes its value attribute)',
    act: scripted('#hidden-script'),
    masked: '#hidden-script',
    attr: true,
  },
  {
    id: 'offline-pw',
    group: 'always',
    what: 'password typed while the connection was down',
    when: 'offline',
    act: typed('#offline-pw'),
    masked: '#offline-pw',
  },

  // Masked by data-cobrowse-mask on an ancestor.
  { id: 'ssn-typed', group: 'marked', what: 'field, typed', act: typed('#ssn-typed'), masked: '#ssn-typed' },
  { id: 'ssn-paste', group: 'marked', what: 'field, pasted', act: pasted('#ssn-paste'), masked: '#ssn-paste' },
  { id: 'ssn-autofill', group: 'marked', what: 'field, autofilled', act: autofilled('#ssn-autofill'), masked: '#ssn-autofill' },
  {
    id: 'ssn-script',
    group: 'marked',
    what: 'field, .value set by script without events',
    act: scripted('#ssn-script'),
    masked: '#ssn-script',
  },
  {
    id: 'ssn-attr',
    group: 'marked',
    what: 'field, value attribute set by script',
    act: attribute('#ssn-attr', 'value'),
    masked: '#ssn-attr',
    attr: true,
  },
  { id: 'ssn-static', group: 'marked', what: 'field, value attribute in the HTML', masked: '#ssn-static', attr: true },
  {
    id: 'away-ssn',
    group: 'marked',
    what: 'field typed while the agent was away (then rejoined)',
    when: 'away',
    act: typed('#away-ssn'),
    masked: '#away-ssn',
  },
  { id: 'ta-typed', group: 'marked', what: 'textarea, typed', act: typed('#ta-typed'), masked: '#ta-typed' },
  { id: 'ta-static', group: 'marked', what: 'textarea text in the HTML', masked: '#ta-static' },
  {
    id: 'ta-script',
    group: 'marked',
    what: 'textarea text node set by script',
    act: inPage((c) => (document.querySelector('#ta-script').textContent = c)),
    masked: '#ta-script',
  },
  { id: 'ce-typed', group: 'marked', what: 'contenteditable, typed', act: typed('#ce-typed') },
  { id: 'ce-paste', group: 'marked', what: 'contenteditable, pasted', act: pasted('#ce-paste') },
  {
    id: 'opt-text',
    group: 'marked',
    what: 'select: option text, chosen',
    act: (page) => page.locator('#opt-select').selectOption({ index: 1 }),
  },
  { id: 'opt-value', group: 'marked', what: 'select: option value of the chosen option' },
  { id: 'opt-label', group: 'marked', what: 'select: option label attribute' },
  { id: 'placeholder', group: 'marked', what: 'placeholder attribute' },
  { id: 'title', group: 'marked', what: 'title attribute' },
  { id: 'aria-label', group: 'marked', what: 'aria-label attribute' },
  { id: 'data-attr', group: 'marked', what: 'data-* attribute' },
  { id: 'title-later', group: 'marked', what: 'title attribute set later', act: attribute('#attr-later', 'title') },
  { id: 'aria-later', group: 'marked', what: 'aria-description attribute set later', act: attribute('#attr-later', 'aria-description') },
  { id: 'data-later', group: 'marked', what: 'data-* attribute set later', act: attribute('#attr-later', 'data-note') },
  {
    id: 'text-later',
    group: 'marked',
    what: 'text node changed later (characterData)',
    act: inPage((c) => (document.querySelector('#text-later').firstChild.data = c)),
  },
  {
    id: 'text-added',
    group: 'marked',
    what: 'text added later (childList)',
    act: inPage((c) => document.querySelector('#text-added').append(Object.assign(document.createElement('b'), { textContent: c }))),
  },
  {
    id: 'field-added',
    group: 'marked',
    what: 'field added later, then typed',
    act: steps(
      inPage(() => document.querySelector('#field-added').append(Object.assign(document.createElement('input'), { id: 'added-input' }))),
      typed('#added-input'),
    ),
    masked: '#added-input',
  },
  {
    id: 'field-added-attr',
    group: 'marked',
    what: 'field added later with its value attribute',
    act: inPage((c) => document.querySelector('#field-added').insertAdjacentHTML('beforeend', `<input id="added-attr" value="${c}">`)),
    masked: '#added-attr',
    attr: true,
  },
  { id: 'img-alt', group: 'marked', what: 'img alt attribute' },
  { id: 'svg-text', group: 'marked', what: 'SVG <text>' },
  {
    id: 'shadow-field',
    group: 'marked',
    what: 'field in an open shadow root of a custom element inside the marked element, typed',
    act: typed('#shadow-field input'),
  },
  {
    id: 'iframe-editor',
    group: 'marked',
    what: "rich-text editor's same-origin iframe inside the marked element, text written",
    act: inPage((c) => (document.querySelector('#editor-frame').contentDocument.querySelector('#editor-text').textContent = c)),
  },

  // Masked later, and by the launcher's mask=".foo".
  {
    id: 'mark-later',
    group: 'later',
    what: 'data-cobrowse-mask added to the container and the field autofilled in the same task',
    act: inPage((c) => {
      document.querySelector('#mark-later-box').setAttribute('data-cobrowse-mask', '');
      const el = document.querySelector('#mark-later');
      el.value = c;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }),
    masked: '#mark-later',
  },
  {
    id: 'class-later',
    group: 'later',
    what: 'class "foo" (the launcher\'s mask) added to a field, then typed',
    act: steps(
      inPage(() => document.querySelector('#class-later').classList.add('foo')),
      typed('#class-later'),
    ),
    masked: '#class-later',
  },
  {
    id: 'class-ancestor',
    group: 'later',
    what: 'class "foo" added to an ancestor and its text changed in the same task',
    act: inPage((c) => {
      document.querySelector('#class-ancestor-box').classList.add('foo');
      document.querySelector('#class-ancestor').textContent = c;
    }),
  },
  { id: 'foo-text', group: 'later', what: 'text inside mask=".foo"' },
  { id: 'foo-field', group: 'later', what: 'field inside mask=".foo", typed', act: typed('#foo-field'), masked: '#foo-field' },

  // Blocked: data-cobrowse-block and the launcher's block=".blockme".
  { id: 'blk-text', group: 'blocked', what: 'text' },
  { id: 'blk-href', group: 'blocked', what: 'href' },
  { id: 'blk-src', group: 'blocked', what: 'img src' },
  { id: 'blk-srcset', group: 'blocked', what: 'img srcset' },
  { id: 'blk-style', group: 'blocked', what: 'style url()' },
  { id: 'blk-data', group: 'blocked', what: 'data-* attribute' },
  { id: 'blk-title', group: 'blocked', what: 'title attribute' },
  { id: 'blk-aria', group: 'blocked', what: 'aria-* attribute' },
  { id: 'blk-child', group: 'blocked', what: 'child elements' },
  { id: 'sel-block', group: 'blocked', what: 'launcher block=".blockme": text and title' },
  { id: 'blk-field', group: 'blocked', what: 'field inside, typed', act: typed('#blk-field') },
  {
    id: 'blk-later',
    group: 'blocked',
    what: 'content and attributes changed later',
    act: inPage((c) => {
      const el = document.querySelector('#blk-later');
      el.append(Object.assign(document.createElement('span'), { textContent: c }));
      el.setAttribute('title', c);
    }),
  },
  {
    id: 'block-later',
    group: 'blocked',
    what: 'data-cobrowse-block added and content written in the same task',
    act: inPage((c) => {
      const el = document.querySelector('#block-later');
      el.setAttribute('data-cobrowse-block', '');
      el.textContent = c;
    }),
  },

  // The page URL's query string and fragment are not shown by default.
  { id: 'url-query', group: 'url', what: 'page URL query (?token=…)' },
  { id: 'url-fragment', group: 'url', what: 'page URL fragment (#…)' },
  { id: 'url-link', group: 'url', what: 'page URL query through an in-page link resolved against it (href=" #top")', page: 'maskAll' },

  // A React 19 app: controlled inputs.
  {
    id: 'react-ssn-typed',
    group: 'react',
    what: 'controlled input in data-cobrowse-mask, typed (and echoed as text)',
    act: typed('#react-ssn-typed'),
    masked: '#react-ssn-typed',
    attr: true,
  },
  {
    id: 'react-ssn-paste',
    group: 'react',
    what: 'controlled input in data-cobrowse-mask, pasted',
    act: pasted('#react-ssn-paste'),
    masked: '#react-ssn-paste',
    attr: true,
  },
  {
    id: 'react-pw-typed',
    group: 'react',
    what: 'controlled password, typed',
    act: typed('#react-pw-typed'),
    masked: '#react-pw-typed',
    attr: true,
  },
  {
    id: 'react-pw-autofill',
    group: 'react',
    what: 'controlled password, autofilled',
    act: autofilled('#react-pw-autofill'),
    masked: '#react-pw-autofill',
    attr: true,
  },
  {
    id: 'react-pw-toggle',
    group: 'react',
    what: 'controlled password, typed, then shown (React sets type=text)',
    act: steps(typed('#react-pw-toggle'), click('#react-pw-toggle-show')),
    masked: '#react-pw-toggle',
    attr: true,
  },
  {
    id: 'react-cc-state',
    group: 'react',
    what: 'controlled cc-number filled from app state',
    act: inPage((c) => window.privacyReact.setCard(c)),
    masked: '#react-cc-state',
    attr: true,
  },
  {
    id: 'react-foo-typed',
    group: 'react',
    what: 'controlled input inside mask=".foo", typed',
    act: typed('#react-foo-typed'),
    masked: '#react-foo-typed',
    attr: true,
  },

  // mask-all-inputs: every field and select, unless under data-cobrowse-unmask (the proof field is).
  { id: 'ma-text', group: 'maskAll', what: 'text field, typed', page: 'maskAll', act: typed('#ma-text'), masked: '#ma-text' },
  { id: 'ma-textarea', group: 'maskAll', what: 'textarea, typed', page: 'maskAll', act: typed('#ma-textarea'), masked: '#ma-textarea' },
  {
    id: 'ma-select',
    group: 'maskAll',
    what: 'select: option text and value, chosen',
    page: 'maskAll',
    act: (page) => page.locator('#ma-select').selectOption({ index: 1 }),
  },
  { id: 'ma-opt-label', group: 'maskAll', what: 'select: option label attribute', page: 'maskAll' },
  { id: 'ma-static', group: 'maskAll', what: 'value attribute in the HTML', page: 'maskAll', masked: '#ma-static', attr: true },
  {
    id: 'ma-autofill',
    group: 'maskAll',
    what: 'email, autofilled',
    page: 'maskAll',
    act: autofilled('#ma-autofill'),
    masked: '#ma-autofill',
  },
  {
    id: 'ma-added',
    group: 'maskAll',
    what: 'field added later, then typed',
    page: 'maskAll',
    act: steps(
      inPage(() => document.querySelector('#ma-added-box').append(Object.assign(document.createElement('input'), { id: 'ma-added' }))),
      typed('#ma-added'),
    ),
    masked: '#ma-added',
  },
  {
    id: 'ma-unmask-pw',
    group: 'maskAll',
    what: 'password under data-cobrowse-unmask, typed',
    page: 'maskAll',
    act: typed('#ma-unmask-pw'),
    masked: '#ma-unmask-pw',
  },
  {
    id: 'ma-unmask-cc',
    group: 'maskAll',
    what: 'cc-number under data-cobrowse-unmask, typed',
    page: 'maskAll',
    act: typed('#ma-unmask-cc'),
    masked: '#ma-unmask-cc',
  },
  {
    id: 'ma-unmask-hidden',
    group: 'maskAll',
    what: 'hidden input under data-cobrowse-unmask',
    page: 'maskAll',
    masked: '#ma-unmask-hidden',
    attr: true,
  },
];

// Issue 16 A's side doors, end to end: each path in plain DOM, in an open shadow root and in a same-origin
// iframe, planted before sharing starts (pre) and once the agent is there (live): one case per path,
// context and phase. The markup is test/fixtures/privacy/side-doors.js (${w} in an ID is the phase).
// `prepare` runs before sharing starts whatever the case's phase. `state`: a field whose checked state,
// choice, scroll position or pixels are the secret (the canary approach does not fit them): the customer's
// page must show the state, the agent's mirror must not (a blocked one is a placeholder), and no frame the
// agent receives may carry it for any node inside the `box` (see boxEvents).
const SIDE_DOORS = [
  // 1. Blocked elements send nothing.
  (w) => ({ id: 'sd-blk-input', group: 'side-blocked', what: 'input inside data-cobrowse-block, typed', act: typedIn(`#sd-bin-${w}`) }),
  (w) => ({ id: 'sd-blk-textarea', group: 'side-blocked', what: 'textarea inside block=".blockme", typed', act: typedIn(`#sd-bta-${w}`) }),
  (w) => ({
    id: 'sd-blk-script',
    group: 'side-blocked',
    what: 'input inside data-cobrowse-block, .value set by script without events',
    act: onElement(`#sd-bscript-${w}`, (el, c) => (el.value = c)),
  }),
  (w) => ({
    id: 'sd-blk-self',
    group: 'side-blocked',
    what: 'input that is itself data-cobrowse-block, typed',
    act: typedIn(`#sd-bself-${w}`),
  }),
  (w) => ({
    id: 'sd-blk-checkbox',
    group: 'side-blocked',
    what: 'checkbox that is itself blocked, ticked: its value and checked state',
    act: ticked(`#sd-bcheck-${w}-box input`),
    state: { box: `#sd-bcheck-${w}-box`, kind: 'checked', blocked: true },
  }),
  (w) => ({
    id: 'sd-blk-radio',
    group: 'side-blocked',
    what: 'radio inside block=".blockme", picked: its value and checked state',
    act: ticked(`#sd-bradio-${w}-box input:last-of-type`),
    state: { box: `#sd-bradio-${w}-box`, kind: 'checked', blocked: true },
  }),
  (w) => ({
    id: 'sd-blk-select',
    group: 'side-blocked',
    what: 'select inside data-cobrowse-block: option values and texts, the selected attribute, the choice',
    act: chosen(`#sd-bselect-${w}-box select`),
    state: { box: `#sd-bselect-${w}-box`, kind: 'select', blocked: true },
  }),
  (w) => ({
    id: 'sd-blk-canvas',
    group: 'side-blocked',
    what: 'canvas that is itself blocked, the canary drawn with fillText (and in its aria-label): no image of it',
    act: onElement(`#sd-bcanvas-${w}-box canvas`, (el, c) => {
      const context = el.getContext('2d');
      context.font = '16px sans-serif';
      context.fillText(c, 2, 16);
      el.setAttribute('aria-label', c);
    }),
    state: { box: `#sd-bcanvas-${w}-box`, kind: 'canvas', blocked: true },
  }),
  (w) => ({
    id: 'sd-blk-scroll',
    group: 'side-blocked',
    what: 'scroller that is itself blocked: its text, and its scroll position',
    act: onElement(`#sd-bscroll-${w}-box > div`, (el, c) => {
      el.firstElementChild.textContent = c;
      el.scrollTop = 40;
    }),
    state: { box: `#sd-bscroll-${w}-box`, kind: 'scroll', blocked: true },
  }),
  // 2. Ever a password: shown as text before sharing started (and before the agent joined), then typed.
  (w) => ({
    id: 'sd-ever-pw',
    group: 'side-password',
    what: 'password switched to type=text by its "show" toggle before sharing started, then typed',
    prepare: clickIn(`#sd-epw-${w}-show`),
    act: typedIn(`#sd-epw-${w}`),
    masked: `#sd-epw-${w}`,
  }),
  // 3. Masked choices: data-cobrowse-mask, the launcher's mask=".foo", mask-all-inputs.
  ...[
    ['m', 'inside data-cobrowse-mask', 'main'],
    ['f', 'inside mask=".foo"', 'main'],
    ['a', 'under mask-all-inputs', 'maskAll'],
  ].flatMap(([k, how, page]) => [
    (w) => ({
      id: `sd-mask-${k}-checkbox`,
      group: 'side-choice',
      what: `checkbox ${how}, ticked: its value and checked state`,
      page,
      act: ticked(`#sd-${k}chk-${w}-box input`),
      state: { box: `#sd-${k}chk-${w}-box`, kind: 'checked' },
    }),
    (w) => ({
      id: `sd-mask-${k}-radio`,
      group: 'side-choice',
      what: `radio ${how}, picked: its value and which is checked`,
      page,
      act: ticked(`#sd-${k}radio-${w}-box input:last-of-type`),
      state: { box: `#sd-${k}radio-${w}-box`, kind: 'checked' },
    }),
    (w) => ({
      id: `sd-mask-${k}-select`,
      group: 'side-choice',
      what: `select ${how}: option values and texts, the selected attribute, the choice (index)`,
      page,
      act: chosen(`#sd-${k}sel-${w}-box select`),
      state: { box: `#sd-${k}sel-${w}-box`, kind: 'select' },
    }),
  ]),
  // 4. URLs carry secrets: where a link, a form or a frame leads is sent without query and fragment.
  (w) => ({
    id: 'sd-url-iframe',
    group: 'side-url',
    what: 'iframe src: query and fragment',
    act: urlIn(`#sd-uframe-${w}`, 'src', 'https://widget.invalid/embed?session={c}#{c}'),
  }),
  (w) => ({
    id: 'sd-url-href',
    group: 'side-url',
    what: 'a href to another site: query and fragment',
    act: urlIn(`#sd-ulink-${w}`, 'href', 'https://elsewhere.invalid/reset?token={c}#{c}'),
  }),
  (w) => ({
    id: 'sd-url-action',
    group: 'side-url',
    what: 'form action: query and fragment',
    act: urlIn(`#sd-uform-${w}`, 'action', '/pay?card={c}#{c}'),
  }),
  (w) => ({
    id: 'sd-url-formaction',
    group: 'side-url',
    what: 'button formaction: query and fragment',
    act: urlIn(`#sd-ubtn-${w}`, 'formaction', '/pay?otp={c}#{c}'),
  }),
  (w) => ({
    id: 'sd-url-data',
    group: 'side-url',
    what: 'data-* URL attribute: query and fragment',
    act: urlIn(`#sd-udata-${w}`, 'data-next', 'https://bank.invalid/next?user={c}#{c}'),
  }),
];
const CONTEXTS = { dom: 'plain DOM', shadow: 'open shadow root', frame: 'same-origin iframe' };
const PHASES = { pre: 'planted before sharing', live: 'planted with the agent there' };
for (const make of SIDE_DOORS) {
  for (const ctx of Object.keys(CONTEXTS)) {
    for (const when of Object.keys(PHASES)) {
      const c = make(when);
      CASES.push({ ...c, id: `${c.id}-${ctx}-${when}`, what: `${c.what} (${CONTEXTS[ctx]}, ${PHASES[when]})`, ctx, when });
    }
  }
}

for (const [i, c] of CASES.entries()) {
  c.page ??= 'main';
  c.when ??= 'live';
  c.ctx ??= null;
  c.canary = `${String(i).padStart(3, '0')}${RUN}${alnum(5)}`;
}
const byId = new Map(CASES.map((c) => [c.id, c]));
assert.equal(byId.size, CASES.length, 'case IDs are unique');
const canary = (id) => byId.get(id).canary;

// ---------------------------------------------------------------------------------------------
// Infrastructure: the relay's process, the fixture server, the browser parties.

/** The relay in a child process; its stdout/stderr are its log. */
async function startRelayProcess() {
  const child = fork(path.join(FIXTURES, 'relay-child.js'), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
  let log = '';
  child.stdout.on('data', (chunk) => (log += chunk));
  child.stderr.on('data', (chunk) => (log += chunk));
  let nextId = 1;
  const pending = new Map();
  const ready = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`relay process exited (${code}) before it was ready:\n${log}`)));
    child.on('message', (msg) => {
      if (msg.t === 'ready') resolve(msg);
      else pending.get(msg.id)?.(msg);
    });
  });
  const { url, port, pid } = await ready;
  const ask = (msg) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ ...msg, id });
    });
  return {
    url,
    port,
    pid,
    log: () => log,
    /** Which needles occur in a heap snapshot of the relay's process. */
    async searchHeap(needles) {
      const encoded = needles.map((n) =>
        Buffer.from(n)
          .map((b) => b ^ KEY)
          .toString('base64'),
      );
      const { found, bytes } = await ask({ t: 'heap', needles: encoded });
      return { found: found.map((i) => needles[i]), bytes };
    },
    /** Cuts the TCP connections of every socket of this role. */
    drop: (role) => ask({ t: 'drop', role }).then((msg) => msg.count),
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ t: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000); // a guard: a child that will not exit is killed
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Searches the whole readable, writable memory of process `pid` for each needle (in UTF-8 and in
 * UTF-16LE, V8's two-byte strings); returns, per needle, each hit with a few characters around it.
 * Read from this process, so our own copies of the canaries do not count. Null when /proc does
 * not let us.
 */
function scanProcessMemory(pid, needles) {
  let maps, fd;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'utf8').trim().split('\n');
    fd = openSync(`/proc/${pid}/mem`, 'r');
  } catch {
    return null;
  }
  const patterns = needles.flatMap((needle) => [
    { needle, enc: 'latin1', width: 1, bytes: Buffer.from(needle, 'latin1') },
    { needle, enc: 'utf16le', width: 2, bytes: Buffer.from(needle, 'utf16le') },
  ]);
  const hits = new Map(needles.map((needle) => [needle, []]));
  let scanned = 0;
  try {
    for (const line of maps) {
      const [range, perms] = line.split(/\s+/);
      if (!perms.startsWith('rw')) continue;
      const [start, end] = range.split('-').map((x) => BigInt(`0x${x}`));
      const length = Number(end - start);
      if (length > 1 << 30) continue;
      const buf = Buffer.allocUnsafe(length);
      let read;
      try {
        read = readSync(fd, buf, 0, length, start);
      } catch {
        continue; // a guard page, or a mapping gone meanwhile
      }
      scanned += read;
      const region = buf.subarray(0, read);
      for (const { needle, enc, width, bytes } of patterns) {
        for (let at = region.indexOf(bytes); at >= 0; at = region.indexOf(bytes, at + 1)) {
          hits.get(needle).push(region.subarray(Math.max(0, at - 3 * width), at + (needle.length + 8) * width).toString(enc));
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return { hits, scanned };
}

const CONTENT_TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json' };

/** Serves the fixture pages (canaries and the relay filled in), the React app and dist/. */
async function startFixtureServer({ relayUrl, token, reactApp }) {
  const fill = (name) =>
    readFileSync(path.join(FIXTURES, name), 'utf8').replace(/\{\{([\w-]+)\}\}/g, (match, key) => {
      if (key === 'RELAY') return relayUrl;
      if (key === 'TOKEN') return token;
      if (!byId.has(key)) throw new Error(`${name}: no case "${key}"`);
      return canary(key);
    });
  const pages = new Map(
    ['customer.html', 'customer-mask-all.html', 'customer-handoff.html', 'agent.html', 'side-doors.js'].map((name) => [
      `/${name}`,
      fill(name),
    ]),
  );
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://fixture.invalid');
    let body = pages.get(url.pathname);
    let type = CONTENT_TYPES[path.extname(url.pathname)] ?? CONTENT_TYPES['.html'];
    if (url.pathname === '/react-app.js') [body, type] = [reactApp, CONTENT_TYPES['.js']];
    else if (!body && /^\/dist\/[\w.-]+\.(js|map)$/.test(url.pathname)) {
      try {
        body = readFileSync(path.join(DIST, path.basename(url.pathname)));
        type = CONTENT_TYPES[path.extname(url.pathname)];
      } catch {
        body = undefined;
      }
    }
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, pages, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** A page in its own browser context; every WebSocket frame it sends or receives is recorded through CDP. */
async function openParty(browser, name) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT.timeout);
  const party = { name, context, page, frames: [], sockets: 0, errors: [] };
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketCreated', () => party.sockets++);
  cdp.on('Network.webSocketFrameSent', (e) => party.frames.push({ dir: 'sent', data: e.response.payloadData }));
  cdp.on('Network.webSocketFrameReceived', (e) => party.frames.push({ dir: 'received', data: e.response.payloadData }));
  page.on('pageerror', (error) => party.errors.push(String(error)));
  return party;
}

const frameType = (data) => /^\{"t":"([\w-]+)"/.exec(data)?.[1];
const countFrames = (party, dir, type) => party.frames.filter((f) => f.dir === dir && frameType(f.data) === type).length;

/**
 * Everything a document shows or holds, as text: markup, open shadow roots, same-origin iframes
 * (the mirror is one), stylesheets, live field values (markup does not show them) and the URL.
 * Runs in the page.
 */
function deepText() {
  const parts = [location.href, document.title];
  const seen = new Set();
  const sheetText = (sheet) => {
    try {
      return Array.from(sheet.cssRules, (rule) => rule.cssText).join('\n');
    } catch {
      return '';
    }
  };
  const walk = (root) => {
    if (!root || seen.has(root)) return;
    seen.add(root);
    if (root.nodeType === Node.DOCUMENT_NODE) parts.push(root.URL, root.title, root.documentElement?.outerHTML ?? '');
    else if (root.innerHTML !== undefined) parts.push(root.innerHTML);
    for (const sheet of [...(root.styleSheets ?? []), ...(root.adoptedStyleSheets ?? [])]) parts.push(sheetText(sheet));
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) walk(el.shadowRoot);
      if (el.localName === 'template') walk(el.content);
      if (el.localName === 'iframe' || el.localName === 'frame') {
        try {
          walk(el.contentDocument);
        } catch {
          // cross-origin: not ours to read, and not the mirror
        }
      }
      if (typeof el.value === 'string') parts.push(el.value);
      if (el.isContentEditable || el.localName === 'option') parts.push(el.textContent);
    }
  };
  walk(document);
  return parts.join('\n');
}

/** The agent's mirror document (the viewer's iframe), queried in the agent's page; in a side-door context if `ctx`. */
function mirrorValue([selector, ctx]) {
  const doc = document.querySelector('cobrowse-viewer')?.shadowRoot?.querySelector('iframe')?.contentDocument;
  const root = !ctx
    ? doc
    : ctx === 'frame'
      ? doc?.getElementById('sd-frame')?.contentDocument
      : ctx === 'shadow'
        ? doc?.getElementById('sd-host')?.shadowRoot
        : doc?.getElementById('sd-dom');
  const el = root?.querySelector(selector);
  return el ? { value: el.value ?? null, attr: el.getAttribute('value') } : null;
}

/**
 * What a side-door `box` shows of its field, in the customer's page or in the agent's mirror (`where`).
 * Runs in the page.
 */
function boxState([where, ctx, box]) {
  let doc = document;
  if (where === 'mirror') doc = document.querySelector('cobrowse-viewer')?.shadowRoot?.querySelector('iframe')?.contentDocument;
  const root =
    ctx === 'frame'
      ? doc?.getElementById('sd-frame')?.contentDocument
      : ctx === 'shadow'
        ? doc?.getElementById('sd-host')?.shadowRoot
        : doc?.getElementById('sd-dom');
  const el = root?.querySelector(box);
  if (!el) return null;
  // A blocked field's placeholder has its tag: it is no field.
  const field = ':not([data-cobrowse-blocked])';
  const inputs = Array.from(el.querySelectorAll(`input${field}`));
  const select = el.querySelector(`select${field}`);
  const canvas = el.querySelector(`canvas${field}`);
  const scroller = el.querySelector(':scope > div');
  let inked = false;
  try {
    inked = canvas
      ? canvas
          .getContext('2d')
          .getImageData(0, 0, canvas.width, canvas.height)
          .data.some((v, i) => i % 4 === 3 && v > 0)
      : false;
  } catch {
    inked = false; // the mirror's placeholder is no canvas
  }
  return {
    placeholder: Boolean(el.querySelector('[data-cobrowse-blocked]')),
    fields: inputs.length + (select ? 1 : 0) + (canvas ? 1 : 0),
    checked: inputs.map((i) => i.checked),
    checkedAttr: inputs.some((i) => i.hasAttribute('checked')),
    selectedIndex: select ? select.selectedIndex : null,
    options: select ? select.options.length : 0,
    selectedAttr: Boolean(select?.querySelector('option[selected]')),
    scrollTop: scroller?.scrollTop ?? 0,
    inked,
  };
}

/**
 * What the agent was told about the state of each side-door box's fields: its received frames
 * (snapshots, patches, reassembled chunks) replayed as node IDs, each node filed under the nearest
 * `…-box` element around it (in its context). Returns box ("ctx:id") → what was sent: a checked or
 * selected state (an extra, an attribute or Op.Checked), a scroll position, an image.
 */
function boxEvents(frames) {
  const events = new Map();
  let owner = new Map(); // node ID → { key, ctx }
  const note = (id, what) => {
    const key = owner.get(id)?.key;
    if (key) events.set(key, [...(events.get(key) ?? []), what]);
  };
  const walk = (node, key, ctx) => {
    const [kind, id] = node;
    if (kind === 1) {
      const [, , tag, attrs, children, extra] = node;
      const idAt = attrs.findIndex((a, i) => i % 2 === 0 && a === 'id');
      const name = idAt >= 0 ? attrs[idAt + 1] : '';
      if (name === 'sd-dom') ctx = 'dom';
      else if (name === 'sd-host') ctx = 'shadow';
      else if (name === 'sd-frame') ctx = 'frame';
      else if (ctx && name.endsWith('-box')) key = `${ctx}:#${name}`;
      owner.set(id, { key, ctx });
      for (let i = 0; i < attrs.length; i += 2) {
        if (attrs[i] === 'checked' || attrs[i] === 'selected') note(id, `<${tag}> attribute ${attrs[i]}`);
        if (/^\s*data:image/i.test(attrs[i + 1])) note(id, `<${tag}> ${attrs[i]}=data:image…`);
      }
      if (extra && ('checked' in extra || 'selected' in extra)) note(id, `<${tag}> ${JSON.stringify(extra)}`);
      for (const child of children) walk(child, key, ctx);
      if (extra?.shadow) walk(extra.shadow, key, ctx);
      if (extra?.doc) walk(extra.doc, key, ctx);
    } else {
      owner.set(id, { key, ctx });
      if (kind === 9 || kind === 11) for (const child of node[2]) walk(child, key, ctx);
    }
  };
  const apply = (frame) => {
    if (frame.t === 'snapshot') {
      owner = new Map();
      walk(frame.doc, undefined, undefined);
    } else if (frame.t === 'patch') {
      for (const op of frame.ops) {
        if (op[0] === 0) walk(op[3], owner.get(op[1])?.key, owner.get(op[1])?.ctx);
        else if (op[0] === 2) {
          for (const id of [op[1]].flat()) {
            if (op[2] === 'checked' || op[2] === 'selected') note(id, `Op.Attr ${op[2]}=${op[3]}`);
            if (/^\s*data:image/i.test(op[3] ?? '')) note(id, `Op.Attr ${op[2]}=data:image…`);
          }
        } else if (op[0] === 5) note(op[1], `Op.Checked ${op[2]}`);
        else if (op[0] === 6) note(op[1], `Op.Scroll ${op[2]},${op[3]}`);
        else if (op[0] === 12) note(op[1], 'Op.Canvas');
      }
    }
  };
  let chunks = [];
  for (const { data } of frames) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      continue;
    }
    if (frame.t === 'chunk') {
      if (frame.i === 0) chunks = [];
      chunks.push(frame.d);
      if (frame.i === frame.n - 1) apply(JSON.parse(chunks.join('')));
    } else apply(frame);
  }
  return events;
}

/** The text of an element of the agent's mirror. Runs in the agent's page. */
function mirrorText(selector) {
  const doc = document.querySelector('cobrowse-viewer')?.shadowRoot?.querySelector('iframe')?.contentDocument;
  return doc?.querySelector(selector)?.textContent ?? null;
}

function mirrorBlockedCount() {
  const doc = document.querySelector('cobrowse-viewer')?.shadowRoot?.querySelector('iframe')?.contentDocument;
  return doc ? doc.querySelectorAll('[data-cobrowse-blocked]').length : -1;
}

// ---------------------------------------------------------------------------------------------

describe('privacy: the leak corpus', { timeout: 180_000 }, () => {
  let relay, fixtures, browser;
  /** One customer page and its agent console per fixture page. */
  const pairs = {};
  /** Leaks found so far: case ID → set of places. */
  const leaks = new Map();
  const notes = [];
  const scans = [];
  const done = new Set(); // phases run: which cases have acted

  before(async () => {
    const [relayProcess, reactBundle] = await Promise.all([
      startRelayProcess(),
      build({
        entryPoints: [path.join(FIXTURES, 'react-app.jsx')],
        bundle: true,
        write: false,
        format: 'esm',
        jsx: 'automatic',
        minify: true,
        target: 'es2022',
        define: { 'process.env.NODE_ENV': '"production"' },
        logLevel: 'silent',
      }),
    ]);
    relay = relayProcess;
    const tokenRes = await fetch(`http://127.0.0.1:${relay.port}/dev/agent-token?name=${encodeURIComponent('Privacy agent')}`);
    assert.equal(tokenRes.status, 200, 'the relay runs in dev mode and issues agent tokens');
    const { token } = await tokenRes.json();
    fixtures = await startFixtureServer({ relayUrl: relay.url, token, reactApp: reactBundle.outputFiles[0].text });
    browser = await launchChromium();

    // Every static case's canary must really be in its page's HTML.
    for (const c of CASES.filter((c) => !c.act && c.group !== 'url')) {
      const html = fixtures.pages.get(c.page === 'main' ? '/customer.html' : '/customer-mask-all.html');
      assert.ok(html.includes(c.canary), `case ${c.id}: its canary is in the fixture page`);
    }

    const urls = {
      main: `${fixtures.origin}/customer.html?token=${canary('url-query')}&step=2#${canary('url-fragment')}`,
      maskAll: `${fixtures.origin}/customer-mask-all.html?session=${canary('url-link')}`,
    };
    for (const [name, url] of Object.entries(urls)) {
      const customer = await openParty(browser, `${name} customer`);
      await customer.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: fixtures.origin });
      const agent = await openParty(browser, `${name} agent`);
      pairs[name] = { name, url, customer, agent, agentUrl: '' };
      await customer.page.goto(url);
      await customer.page.waitForFunction(() => customElements.get('cobrowse-launcher'));
      if (name === 'main') await customer.page.waitForFunction(() => document.body.dataset.reactReady === '1');
      await customer.page.waitForFunction(() => document.body.dataset.sideReady === '1');
    }

    await act('pre');
    for (const pair of Object.values(pairs)) {
      const launcher = pair.customer.page.locator('cobrowse-launcher');
      await launcher.locator('[part=trigger]').click();
      await launcher.locator('[part=start]').click();
      const code = (await launcher.locator('[part=code]').textContent()).replace(/\s/g, '');
      assert.match(code, /^\d{9}$/);
      pair.code = code;
      pair.agentUrl = `${fixtures.origin}/agent.html?code=${code}`;
      await pair.agent.page.goto(pair.agentUrl);
      await waitLive(pair);
    }
  });

  after(async () => {
    await browser?.close();
    await fixtures?.close();
    await relay?.close();
  });

  /** Runs the actions of the cases that act at `when`. */
  async function act(when) {
    if (when === 'pre') for (const c of CASES.filter((c) => c.prepare)) await c.prepare(pairs[c.page].customer.page, c.canary, c.ctx);
    for (const c of CASES.filter((c) => c.when === when && c.act)) {
      await c.act(pairs[c.page].customer.page, c.canary, c.ctx);
    }
    done.add(when);
  }

  const customerState = (pair) => pair.customer.page.evaluate(() => document.querySelector('cobrowse-launcher').state);

  async function waitLive(pair) {
    await pair.agent.page.waitForFunction(() => document.querySelector('cobrowse-viewer')?.state === 'live', null, WAIT);
    await until(async () => (await customerState(pair)) === 'connected', `${pair.name}: the customer to be connected`);
  }

  /** Types a plain value into the page's unmasked field and waits until the agent's mirror shows it. */
  async function proof(pair, phase) {
    const value = `proof${phase}${alnum(6)}`;
    pair.proof = value;
    await pair.customer.page.locator('#proof').fill(value);
    await pair.agent.page.waitForFunction(
      ([selector, value]) => {
        const doc = document.querySelector('cobrowse-viewer')?.shadowRoot?.querySelector('iframe')?.contentDocument;
        return doc?.querySelector(selector)?.value === value;
      },
      ['#proof', value],
      WAIT,
    );
    // The DevTools events for the frame that carried it have arrived too.
    await until(
      () =>
        pair.customer.frames.some((f) => f.dir === 'sent' && f.data.includes(value)) &&
        pair.agent.frames.some((f) => f.dir === 'received' && f.data.includes(value)),
      `${pair.name}: the proof frame in the DevTools records`,
    );
  }

  function record(c, where) {
    if (!leaks.has(c)) leaks.set(c, new Set());
    leaks.get(c).add(where);
  }

  /** Finds canaries (or any part of one after the shared prefix) in `text`; attributes each to its case. */
  function search(text, where) {
    const lower = text.toLowerCase();
    for (const match of lower.matchAll(new RegExp(`(\\d{3})?${RUN}([a-z0-9]{5})?`, 'g'))) {
      // Whose: the random tail after the prefix tells best; else (cut short) the number before it.
      const c = (match[2] && CASES.find((c) => c.canary.endsWith(RUN + match[2]))) || (match[1] ? CASES[Number(match[1])] : undefined);
      const full = c && lower.startsWith(c.canary, match.index);
      const around = text.slice(Math.max(0, match.index - 80), match.index + RUN.length + 90).replace(/\s+/g, ' ');
      record(c?.id ?? '(unknown case)', `${where}${full ? '' : ' (part of a canary)'}: …${around}…`);
    }
  }

  /**
   * The side-door fields whose state is the secret: the customer's page shows the state (the case
   * happened), the agent's mirror does not (a blocked field is a placeholder, a masked choice shows
   * nothing chosen), and no frame the agent received carries it.
   */
  async function checkStates(phase) {
    const events = new Map(
      Object.values(pairs).map((pair) => [pair.name, boxEvents(pair.agent.frames.filter((f) => f.dir === 'received'))]),
    );
    for (const c of CASES.filter((c) => c.state && done.has(c.when))) {
      const { box, kind, blocked } = c.state;
      const pair = pairs[c.page];
      const mine = await pair.customer.page.evaluate(boxState, ['customer', c.ctx, box]);
      const happened = {
        checked: () => mine?.checked.includes(true),
        select: () => mine?.selectedIndex === 1 && mine.selectedAttr && mine.options === 3,
        scroll: () => mine?.scrollTop > 0,
        canvas: () => mine?.inked,
      }[kind];
      assert.ok(happened(), `case ${c.id} did not take effect in the customer's page (${phase}): ${JSON.stringify(mine)}`);
      const shown = await pair.agent.page.evaluate(boxState, ['mirror', c.ctx, box]);
      assert.ok(shown, `case ${c.id}: ${box} is in the agent's mirror (${c.ctx})`);
      const where = `${phase}: ${pair.name} agent's mirror`;
      if (blocked) {
        assert.ok(shown.placeholder, `case ${c.id}: the blocked field is a placeholder in the mirror`);
        if (shown.fields) record(c.id, `${where}: a blocked field is there as a field: ${JSON.stringify(shown)}`);
      } else if (kind === 'checked') {
        assert.equal(shown.checked.length, mine.checked.length, `case ${c.id}: the mirror has the fields`);
        if (shown.checked.includes(true) || shown.checkedAttr) record(c.id, `${where} shows it checked: ${JSON.stringify(shown)}`);
      } else if (kind === 'select') {
        assert.equal(shown.options, 3, `case ${c.id}: the mirror has the options`);
        if (shown.selectedIndex > 0 || shown.selectedAttr) record(c.id, `${where} shows the choice: ${JSON.stringify(shown)}`);
      }
      for (const what of events.get(pair.name).get(`${c.ctx}:${box}`) ?? []) record(c.id, `${phase}: ${pair.name} agent frames: ${what}`);
    }
  }

  /** Looks everywhere for every canary; returns the leaks of cases not in KNOWN_LEAKS. */
  async function check(phase) {
    // Each case really happened: its canary is in the customer's page (value, markup or URL).
    for (const pair of Object.values(pairs)) {
      const text = (await pair.customer.page.evaluate(deepText)).toLowerCase();
      for (const c of CASES.filter((c) => c.page === pair.name && done.has(c.when))) {
        assert.ok(text.includes(c.canary), `case ${c.id} did not take effect in the customer's page (${phase})`);
      }
      assert.deepEqual(pair.customer.errors, [], `${pair.name} customer page errors`);
      assert.deepEqual(pair.agent.errors, [], `${pair.name} agent page errors`);
    }

    for (const pair of Object.values(pairs)) {
      for (const party of [pair.customer, pair.agent]) {
        // Frames are searched once each, in the phase that recorded them.
        for (let i = party.searched ?? 0; i < party.frames.length; i++) {
          search(party.frames[i].data, `${phase}: ${party.name} WebSocket frame #${i} ${party.frames[i].dir}`);
        }
        party.searched = party.frames.length;
      }
      const agentDom = await pair.agent.page.evaluate(deepText);
      assert.ok(agentDom.includes(pair.proof), `${pair.name}: the agent DOM search sees the mirror's field values`);
      search(agentDom, `${phase}: ${pair.name} agent page DOM`);
    }
    search(relay.log(), `${phase}: relay log`);
    await checkStates(phase);

    assert.match(relay.log(), /"event":"agent-joined"/, 'the relay log is captured');

    // The relay's memory. Positive control: the session IDs, which the relay does hold, are found.
    const codes = Object.values(pairs).map((pair) => pair.code);
    const memory = scanProcessMemory(relay.pid, [RUN, ...codes]);
    if (memory) {
      for (const hit of memory.hits.get(RUN)) search(hit, `${phase}: relay process memory`);
      for (const code of codes) assert.ok(memory.hits.get(code).length > 0, `the memory scan finds session ${code} in the relay`);
    } else notes.push(`${phase}: /proc/${relay.pid}/mem is not readable here; the relay's memory was searched by heap snapshot only`);
    const heap = await relay.searchHeap([RUN, ...CASES.map((c) => c.canary), ...codes]);
    for (const needle of heap.found.filter((n) => !codes.includes(n))) {
      const c = CASES.find((c) => c.canary === needle);
      record(c?.id ?? '(unknown case)', `${phase}: relay heap snapshot${c ? '' : ' (part of a canary)'}`);
    }
    for (const code of codes) assert.ok(heap.found.includes(code), `the heap snapshot finds session ${code} in the relay`);
    scans.push(
      `${phase}: relay heap ${(heap.bytes / 1e6).toFixed(1)} MB` + (memory ? `, relay memory ${(memory.scanned / 1e6).toFixed(0)} MB` : ''),
    );

    const unexpected = [...leaks].filter(([id]) => !KNOWN_LEAKS.has(id));
    return unexpected;
  }

  function assertNoUnexpectedLeaks(unexpected) {
    const describeLeak = ([id, places]) =>
      `  ${id} (${byId.get(id)?.what ?? '?'}):\n${[...places]
        .slice(0, 4)
        .map((p) => `    ${p}`)
        .join('\n')}`;
    assert.equal(unexpected.length, 0, `canaries leaked:\n${unexpected.map(describeLeak).join('\n')}`);
  }

  it('live: typed, pasted, autofilled and scripted canaries never leave the page', async () => {
    await act('live');
    // A positive control for the state checks: an unmasked box ticked in each context is seen ticked, on the wire and in the mirror.
    for (const ctx of Object.keys(CONTEXTS)) await within(pairs.main.customer.page, ctx).locator('#sd-open-box input').check();
    for (const pair of Object.values(pairs)) await proof(pair, 'live');
    const events = boxEvents(pairs.main.agent.frames.filter((f) => f.dir === 'received'));
    for (const ctx of Object.keys(CONTEXTS)) {
      assert.ok(
        events.get(`${ctx}:#sd-open-box`)?.some((what) => what.includes('Op.Checked true')),
        `the state search sees an unmasked box ticked (${ctx})`,
      );
      const shown = await pairs.main.agent.page.evaluate(boxState, ['mirror', ctx, '#sd-open-box']);
      assert.deepEqual(shown?.checked, [true], `the mirror shows the unmasked box ticked (${ctx})`);
    }
    assertNoUnexpectedLeaks(await check('live'));
  });

  it('resnapshot: a raw request-snapshot and the agent rejoining send only masked state', async () => {
    for (const pair of Object.values(pairs)) {
      // 1. `request-snapshot` on the agent's own socket, as the viewer sends when its mirror is out of step.
      const before = countFrames(pair.customer, 'sent', 'snapshot');
      const sent = await pair.agent.page.evaluate(() => {
        const viewer = document.querySelector('cobrowse-viewer');
        return viewer.session?.transport?.send({ t: 'request-snapshot' }) ?? false;
      });
      if (sent)
        await until(() => countFrames(pair.customer, 'sent', 'snapshot') > before, `${pair.name}: a snapshot after request-snapshot`);
      else notes.push(`${pair.name}: could not reach the viewer's socket to send request-snapshot; the rejoin below resnapshots`);

      // 2. The agent leaves (the customer is told), a field changes meanwhile, the agent rejoins.
      const rejoined = countFrames(pair.customer, 'sent', 'snapshot');
      await pair.agent.page.goto('about:blank');
      await until(async () => (await customerState(pair)) === 'waiting', `${pair.name}: the customer to see the agent leave`);
      for (const c of CASES.filter((c) => c.when === 'away' && c.page === pair.name)) await c.act(pair.customer.page, c.canary, c.ctx);
      await pair.agent.page.goto(pair.agentUrl);
      await waitLive(pair);
      await until(() => countFrames(pair.customer, 'sent', 'snapshot') > rejoined, `${pair.name}: a snapshot for the rejoined agent`);
    }
    done.add('away');
    for (const pair of Object.values(pairs)) await proof(pair, 'resnapshot');
    assertNoUnexpectedLeaks(await check('resnapshot'));
  });

  it("reconnect: after the customer's connection drops, the resumed session sends only masked state", async () => {
    const before = Object.fromEntries(
      Object.values(pairs).map((p) => [
        p.name,
        {
          sockets: p.customer.sockets,
          snapshots: countFrames(p.customer, 'sent', 'snapshot'),
          acks: countFrames(p.customer, 'received', 'ack'),
        },
      ]),
    );
    const dropped = await relay.drop('customer');
    assert.equal(dropped, Object.keys(pairs).length, 'each customer socket was cut');
    await act('offline');
    for (const pair of Object.values(pairs)) {
      await until(() => pair.customer.sockets > before[pair.name].sockets, `${pair.name}: the customer to reconnect`);
      // The agent gets what it missed: replayed from the customer's outbox (or a snapshot, when it cannot be).
      // (what changed meanwhile, or nothing if nothing did), once the agent has said where it is.
      await until(
        () => countFrames(pair.customer, 'received', 'ack') > before[pair.name].acks,
        `${pair.name}: the agent's ack after the reconnect`,
      );
      await waitLive(pair);
      await proof(pair, 'reconnect');
    }
    assertNoUnexpectedLeaks(await check('reconnect'));

    // The masked fields reached the agent, as the mask: the paths were exercised, not skipped.
    for (const c of CASES.filter((c) => c.masked && !KNOWN_LEAKS.has(c.id))) {
      const mirrored = await pairs[c.page].agent.page.evaluate(mirrorValue, [c.masked, c.ctx]);
      assert.ok(mirrored, `case ${c.id}: ${c.masked} is in the agent's mirror`);
      assert.equal(mirrored.value, MASK, `case ${c.id}: the agent's mirror shows ${c.masked} masked`);
      if (!c.attr) continue;
      const attr = await pairs[c.page].customer.page.evaluate((sel) => document.querySelector(sel).getAttribute('value'), c.masked);
      assert.equal(attr, c.canary, `case ${c.id}: the canary is in the customer's value attribute`);
      assert.equal(mirrored.attr, MASK, `case ${c.id}: the agent's mirror shows the value attribute masked`);
    }
    // Blocked elements are there as placeholders (one per blocked element on the page).
    const blocked = await pairs.main.customer.page.evaluate(
      () =>
        Array.from(document.querySelectorAll('[data-cobrowse-block], .blockme')).filter(
          (el) => !el.parentElement.closest('[data-cobrowse-block], .blockme'),
        ).length,
    );
    assert.equal(await pairs.main.agent.page.evaluate(mirrorBlockedCount), blocked, 'every blocked element is a placeholder in the mirror');
  });

  it('a partial configuration (mask=".foo") leaves passwords, card fields and hidden inputs masked (item 2)', async () => {
    const launcher = pairs.main.customer.page.locator('cobrowse-launcher');
    assert.equal(await launcher.getAttribute('mask'), '.foo');
    assert.equal(await launcher.getAttribute('mask-all-inputs'), null);
    // The partial configuration is in force: what it selects is masked…
    for (const id of ['foo-text', 'foo-field', 'class-later', 'react-foo-typed'])
      assert.ok(!leaks.has(id), `${id} is masked by mask=".foo"`);
    // …and it replaced none of the defaults.
    const defaults = CASES.filter((c) => c.page === 'main' && /^(react-)?(pw|cc|hidden|otp|current-pw|new-pw|offline-pw)\b/.test(c.id));
    assert.ok(defaults.length >= 20);
    for (const c of defaults.filter((c) => !KNOWN_LEAKS.has(c.id))) {
      assert.ok(!leaks.has(c.id), `${c.id} leaked under mask=".foo"`);
      const mirrored = await pairs.main.agent.page.evaluate(mirrorValue, [c.masked]);
      assert.equal(mirrored?.value, MASK, `${c.id}: the agent sees the mask`);
    }
  });

  it('hand-off: the token that carries the session to another listed domain reaches no frame the agent receives', async () => {
    // a.localhost lists *.localhost: its link to b.localhost carries a one-time token in its fragment.
    const port = new URL(fixtures.origin).port;
    const pair = {
      name: 'hand-off',
      customer: await openParty(browser, 'hand-off customer'),
      agent: await openParty(browser, 'hand-off agent'),
    };
    const { customer, agent } = pair;
    const navigated = [];
    customer.page.on('framenavigated', (frame) => frame === customer.page.mainFrame() && navigated.push(frame.url()));
    await customer.page.goto(`http://a.localhost:${port}/customer-handoff.html`);
    await customer.page.waitForFunction(() => customElements.get('cobrowse-launcher'));
    const launcher = customer.page.locator('cobrowse-launcher');
    await launcher.locator('[part=trigger]').click();
    await launcher.locator('[part=start]').click();
    const code = (await launcher.locator('[part=code]').textContent()).replace(/\s/g, '');
    await agent.page.goto(`${fixtures.origin}/agent.html?code=${code}`);
    await waitLive(pair);
    // The tokens the relay gave the customer page (read through CDP), one of which the link will carry.
    const tokens = () =>
      customer.frames.filter((f) => f.dir === 'received' && frameType(f.data) === 'handoff-token').map((f) => JSON.parse(f.data).token);
    await until(() => tokens().length > 0, 'a hand-off token held by the customer page');

    await customer.page.locator('#to-b').click();
    await customer.page.waitForURL(`http://b.localhost:${port}/customer-handoff.html`);
    await until(async () => (await customerState(pair)) === 'connected', 'b.localhost resumes the session');
    await until(
      () => agent.page.evaluate(mirrorText, '#host').then((host) => host === `b.localhost:${port}`),
      'the mirror follows to b.localhost',
    );
    await proof(pair, 'handoff');
    const carried = tokens().filter((token) => navigated.some((url) => url.includes(token)));
    assert.ok(carried.length > 0, `the link carried a hand-off token (navigations: ${navigated.join(', ')})`);

    // The same searches: every frame of the agent's page, what the customer sent for it, the agent's DOM, the relay's log.
    const places = [
      ...agent.frames.map((f, i) => [`agent WebSocket frame #${i} ${f.dir}`, f.data]),
      ...customer.frames
        .filter((f) => f.dir === 'sent' && ['snapshot', 'patch', 'chunk'].includes(frameType(f.data)))
        .map((f, i) => [`customer mirror frame #${i}`, f.data]),
      ['agent page DOM', await agent.page.evaluate(deepText)],
      ['relay log', relay.log()],
    ];
    for (const token of tokens()) {
      for (const [where, text] of places) if (text.includes(token)) record('handoff-token', `hand-off: ${where}: ${token.slice(0, 6)}…`);
    }
    assertNoUnexpectedLeaks([...leaks].filter(([id]) => id === 'handoff-token'));
    scans.push(`hand-off: ${tokens().length} tokens, ${places.length} places`);
  });

  it('reports: cases: N, leaks: 0', () => {
    const counts = new Map();
    for (const c of CASES) counts.set(c.group, (counts.get(c.group) ?? 0) + 1);
    const groups = [...counts].map(([group, n]) => `${group} ${n}`).join(', ');
    console.log(`privacy corpus: ${CASES.length} cases (${groups}); phases: live, resnapshot, reconnect`);
    console.log(`searched: ${scans.join('; ')}`);
    for (const note of notes) console.log(`note: ${note}`);
    for (const [id, reason] of KNOWN_LEAKS) {
      const places = leaks.get(id);
      if (places) {
        console.log(`KNOWN LEAK ${id} (${byId.get(id)?.what}): ${reason}`);
        for (const place of [...places].slice(0, 3)) console.log(`    ${place}`);
      } else console.log(`KNOWN_LEAKS lists ${id}, but it no longer leaks: remove it from KNOWN_LEAKS`);
    }
    const known = [...leaks.keys()].filter((id) => KNOWN_LEAKS.has(id)).length;
    console.log(`cases: ${CASES.length}, leaks: ${leaks.size}${known ? ` (${known} known, listed in KNOWN_LEAKS)` : ''}`);
    assert.ok(CASES.length >= 130);
    assert.equal([...leaks.keys()].filter((id) => !KNOWN_LEAKS.has(id)).length, 0);
  });
});
