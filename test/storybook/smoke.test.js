// Smoke test of the static Storybook (`npm run build-storybook` first): opens every story and every
// docs page in Chromium and fails on a render error, a page error, a console error, a request that
// leaves this machine, or an element that did not render.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { launchChromium } from '../helpers/chromium.js';

const ROOT = path.resolve(import.meta.dirname, '../../storybook-static');
const MANIFEST = path.resolve(import.meta.dirname, '../../custom-elements.json');
/** Pages open at once: loading Storybook's preview is most of the time a story takes. */
const CONCURRENCY = 4;
const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};
/** Storybook's channel events that end a render, well or badly. */
const DONE = ['storyRendered', 'docsRendered'];
const FAILED = ['storyErrored', 'storyThrewException', 'playFunctionThrewException', 'storyMissing', 'unhandledErrorsWhilePlaying'];

/** Serves storybook-static/ on a loopback port. */
function serve(root) {
  const server = http.createServer(async (req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    // Chromium asks for one on its own; Storybook's preview has none.
    if (pathname === '/favicon.ico') return res.writeHead(204).end();
    const file = path.join(root, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    if (!file.startsWith(root + path.sep)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      // Built assets have content hashes in their names: the browser may keep them for the whole run.
      const cache = pathname.startsWith('/assets/') ? 'max-age=3600, immutable' : 'no-cache';
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': cache }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Records Storybook's render events: the channel is caught as it is installed, before the first render. */
function listenToStorybook(events) {
  let channel;
  Object.defineProperty(window, '__STORYBOOK_ADDONS_CHANNEL__', {
    configurable: true,
    get: () => channel,
    set(next) {
      if (next === channel) return;
      channel = next;
      for (const name of events) next.on(name, (...args) => window.__smokeEvents.push({ name, detail: JSON.stringify(args) }));
      // Where a render that never finishes is stuck (a play function that never settles stays in `playing`).
      next.on('storyRenderPhaseChanged', ({ newPhase }) => (window.__smokePhase = newPhase));
      next.on('storyPrepared', ({ argTypes }) => {
        window.__smokeArgTable = Object.fromEntries(Object.entries(argTypes).map(([name, a]) => [name, a.table?.category ?? '']));
      });
    },
  });
  window.__smokeEvents = [];
  window.__smokePhase = '';
}

/** In the page: what proves the story rendered; '' when it did, else what is missing. */
function renderedCheck() {
  const root = document.getElementById('storybook-root');
  const elements = [...root.querySelectorAll('*')].filter((el) => el.localName.startsWith('cobrowse-'));
  const mirrors = [...root.querySelectorAll('iframe[data-cobrowse-mirror]')];
  if (!elements.length && !mirrors.length) return 'no cobrowse-* element and no mirror in #storybook-root';
  for (const el of elements) {
    if (!customElements.get(el.localName)) return `<${el.localName}> is not defined`;
    if (!el.shadowRoot?.childElementCount) return `<${el.localName}> has no rendered shadow root`;
  }
  for (const frame of mirrors) {
    if (!frame.contentDocument?.body?.childElementCount) return 'the mirror iframe is empty';
  }
  return '';
}

describe('Storybook smoke test', () => {
  let server, base, browser, index, manifest;

  before(async () => {
    assert.ok(existsSync(path.join(ROOT, 'index.json')), 'storybook-static/ is missing: run `npm run build-storybook` first');
    index = JSON.parse(await readFile(path.join(ROOT, 'index.json'), 'utf8'));
    manifest = JSON.parse(await readFile(MANIFEST, 'utf8'));
    server = await serve(ROOT);
    base = `http://127.0.0.1:${server.address().port}`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  /**
   * A page per worker, reused from entry to entry; `visit` opens one entry and returns what went wrong
   * (empty when nothing did). Every entry is a fresh navigation; the cache, IndexedDB and sessionStorage
   * carry over from entry to entry, so a story must never depend on what an earlier one left there.
   */
  async function openWorker() {
    // A context per worker: live stories keep sessions in IndexedDB, and pages side by side must not share it.
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    await context.addInitScript(listenToStorybook, [...DONE, ...FAILED]);
    await context.addInitScript({ content: `window.__renderedCheck = ${renderedCheck};` });
    const page = await context.newPage();
    let problems = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console error: ${msg.text().slice(0, 400)}`));
    page.on('response', (res) => res.status() >= 400 && problems.push(`HTTP ${res.status()} for ${res.url()}`));
    // Storybook must work offline: anything but our server (or an inline or blank document) is reported.
    page.on('request', (req) => {
      const url = req.url();
      if (!url.startsWith(`${base}/`) && !/^(data|blob|about):/.test(url)) problems.push(`request leaves the machine: ${url}`);
    });
    const visit = async (entry, viewMode) => {
      problems = [];
      await page.goto(`${base}/iframe.html?id=${encodeURIComponent(entry.id)}&viewMode=${viewMode}`);
      await page
        .waitForFunction((names) => window.__smokeEvents.some((e) => names.includes(e.name)), [...DONE, ...FAILED], { timeout: 20_000 })
        .catch(async () =>
          problems.push(
            `Storybook never reported the render as finished (last phase: ${(await page.evaluate(() => window.__smokePhase)) || 'none'})`,
          ),
        );
      const events = await page.evaluate(() => window.__smokeEvents);
      for (const e of events) if (FAILED.includes(e.name)) problems.push(`${e.name}: ${e.detail.slice(0, 400)}`);
      return problems;
    };
    return { page, visit };
  }

  /** Visits every entry, CONCURRENCY pages at a time; `check` adds what it finds wrong to `problems`. */
  async function visitAll(entries, viewMode, check) {
    const failures = [];
    const queue = [...entries];
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
        const { page, visit } = await openWorker();
        for (let entry = queue.shift(); entry; entry = queue.shift()) {
          const problems = await visit(entry, viewMode);
          if (!problems.length) await check(page, entry, problems);
          if (problems.length) failures.push(`${entry.id}:\n    ${problems.join('\n    ')}`);
        }
        await page.context().close();
      }),
    );
    return failures;
  }

  /** Each story's Controls table as Storybook prepared it: arg name → category. */
  const argTables = new Map();

  it('renders every story without an error', async () => {
    const stories = Object.values(index.entries).filter((e) => e.type === 'story');
    assert.ok(stories.length > 0, 'index.json lists no stories');
    const failures = await visitAll(stories, 'story', async (page, story, problems) => {
      // Elements render in a microtask and the mirror once its page has loaded: give both a moment.
      await page
        .waitForFunction(() => window.__renderedCheck() === '', null, { timeout: 5_000 })
        .catch(async () => problems.push(await page.evaluate(() => window.__renderedCheck())));
      argTables.set(story, await page.evaluate(() => window.__smokeArgTable));
    });
    console.log(`Storybook smoke test: ${stories.length - failures.length} of ${stories.length} stories rendered cleanly.`);
    assert.deepEqual(failures, [], `stories that failed:\n  ${failures.join('\n  ')}`);
  });

  it("lists each element's attributes, events, parts and CSS properties from the manifest in its Controls table", () => {
    const declarations = manifest.modules.flatMap((m) => m.declarations ?? []).filter((d) => d.customElement);
    assert.equal(declarations.length, 3, 'custom-elements.json should describe the three elements');
    const failures = [];
    for (const element of declarations) {
      const stories = [...argTables.keys()].filter((s) => storyElement(s) === element.tagName);
      if (!stories.length) failures.push(`<${element.tagName}> has no stories`);
      for (const story of stories) {
        const table = argTables.get(story) ?? {};
        const missing = expectedRows(element).filter(([name, category]) => table[name] !== category);
        if (missing.length) failures.push(`${story.id}: no ${missing.map(([n, c]) => `${n} (${c})`).join(', ')}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('renders every docs page with the manifest', async (t) => {
    const docs = Object.values(index.entries).filter((e) => e.type === 'docs');
    if (!docs.length) return t.skip('no docs pages: they need @storybook/addon-docs');
    const declarations = manifest.modules.flatMap((m) => m.declarations ?? []).filter((d) => d.customElement);
    const failures = await visitAll(docs, 'docs', async (page, entry, problems) => {
      const element = declarations.find((d) => d.tagName === storyElement(entry));
      if (!element) return;
      const text = await page.locator('#storybook-docs').innerText();
      const missing = expectedRows(element)
        .map(([, , label]) => label)
        .filter((label) => !text.includes(label));
      if (missing.length) problems.push(`the docs page does not list ${missing.join(', ')}`);
    });
    console.log(`Storybook smoke test: ${docs.length - failures.length} of ${docs.length} docs pages rendered cleanly.`);
    assert.deepEqual(failures, [], `docs pages that failed:\n  ${failures.join('\n  ')}`);
  });
});

/** Convention: storybook/<name>.stories.ts shows <cobrowse-<name>>. */
const storyElement = (entry) => `cobrowse-${path.basename(entry.importPath, '.stories.ts')}`;

/** The rows storybook/arg-types.ts makes from an element's manifest entry: [arg name, category, label shown]. */
const expectedRows = (element) => [
  ...(element.attributes ?? []).map((a) => [a.fieldName ?? a.name, 'attributes', a.name]),
  ...(element.events ?? []).map((e) => [e.name, 'events', e.name]),
  ...(element.cssParts ?? []).map((p) => [`::part(${p.name})`, 'css shadow parts', `::part(${p.name})`]),
  ...(element.cssProperties ?? []).map((p) => [p.name, 'css custom properties', p.name]),
];
