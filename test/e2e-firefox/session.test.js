// The main end-to-end flow with Firefox in it: the real demo server (relay + pages), the customer's
// page in Firefox (puppeteer-core over WebDriver BiDi) and the agent's console in Chromium, then both
// in Firefox. Firefox gives us no WebSocket frames over BiDi, so each page records what it sends itself.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo } from '../../dist/demo/server.js';
import { launchChromium } from '../helpers/chromium.js';
import { launchFirefox } from '../helpers/firefox.js';

const TIMEOUT = 20_000;

/** In the page: the element at `path`, each selector looked up in the shadow root of the one before (or under it). */
const DEEP = 'path => path.reduce((root, selector) => root && (root.shadowRoot ?? root).querySelector(selector), document)';
const deep = (path, then = '') => `(${DEEP})(${JSON.stringify(path)})${then}`;
const MIRROR = ['cobrowse-viewer', 'iframe'];
/** In the page: the agent mirror's document. */
const MIRROR_DOC = deep(MIRROR, '?.contentDocument');

/** Keeps every text a page's WebSockets send in window.__sentFrames, from before its first script. */
function recordSentFrames() {
  const sent = (window.__sentFrames = []);
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    sent.push(typeof data === 'string' ? data : `[${data?.constructor?.name}]`);
    return send.call(this, data);
  };
}

/**
 * One party's page behind the few calls the flow needs, alike for puppeteer (Firefox) and
 * playwright (Chromium): expressions evaluated in the page, waits, real clicks and keystrokes.
 */
function party(browserName, page, driver) {
  // Waits in the page (the driver's waitForFunction); test/helpers/wait.js's until polls from Node.
  const waitInPage = (expression) =>
    driver === 'puppeteer'
      ? page.waitForFunction(expression, { timeout: TIMEOUT })
      : page.waitForFunction(expression, undefined, { timeout: TIMEOUT });
  const handle = async (path) => {
    await waitInPage(deep(path));
    return page.evaluateHandle(deep(path));
  };
  return {
    browserName,
    page,
    until: waitInPage,
    value: (expression) => page.evaluate(expression),
    text: (path) => page.evaluate(deep(path, '?.textContent')),
    click: async (path) => (await handle(path)).click(),
    /** Types key by key (puppeteer's and playwright's keyboards both send real key events). */
    type: async (path, text) => {
      await (await handle(path)).click();
      await page.keyboard.type(text, { delay: 5 });
    },
    sent: () => page.evaluate('window.__sentFrames'),
  };
}

async function openFirefox(browser, url) {
  const context = await browser.createBrowserContext(); // its own storage (IndexedDB), like a second person
  // A window of its own: a second tab would be a hidden page, with animation frames held back.
  const page = await context.newPage({ type: 'window' });
  await page.setViewport({ width: 1280, height: 800 });
  await page.evaluateOnNewDocument(recordSentFrames);
  page.on('pageerror', (error) => console.error(`Firefox page error on ${url}:`, error));
  await page.goto(url);
  return party('Firefox', page, 'puppeteer');
}

async function openChromium(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(recordSentFrames);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`Chromium page error on ${url}:`, error));
  await page.goto(url);
  return party('Chromium', page, 'playwright');
}

const LAUNCHER = ['cobrowse-launcher'];
const VIEWER = ['cobrowse-viewer'];

async function codeShown(customer) {
  await customer.until(`${deep([...LAUNCHER, '[part=code]'])}?.textContent.replace(/\\s/g, '').length === 9`);
  const code = (await customer.text([...LAUNCHER, '[part=code]'])).replace(/\s/g, '');
  assert.match(code, /^\d{9}$/);
  return code;
}

async function join(agent, code) {
  await agent.type([...VIEWER, 'input#code'], code.replace(/(\d{3})(?=\d)/g, '$1 '));
  await agent.click([...VIEWER, 'button[type=submit]']);
  await agent.until(`document.querySelector('cobrowse-viewer').state === 'live'`);
}

/** The whole flow, for one pair of browsers. */
function flow(customerBrowser, agentBrowser) {
  describe(`co-browsing end to end: customer in ${customerBrowser}, agent in ${agentBrowser}`, () => {
    let demo, firefox, chromium, customer, agent;

    before(async () => {
      // Dev mode, as `npm start`: the agent console fetches a token the relay signed, and must use it.
      demo = await startDemo({ port: 0, host: '127.0.0.1', relay: { agentAuth: 'dev', log: () => {} } });
      firefox = await launchFirefox();
      if (agentBrowser === 'Chromium') chromium = await launchChromium();
      customer = await openFirefox(firefox, `${demo.url}/`);
      agent =
        agentBrowser === 'Chromium' ? await openChromium(chromium, `${demo.url}/agent/`) : await openFirefox(firefox, `${demo.url}/agent/`);
    });

    after(async () => {
      await firefox?.close();
      await chromium?.close();
      await demo?.close();
    });

    it('starts from the launcher, joins by code, mirrors the page and a live change, never a masked value', async () => {
      assert.match(await customer.value('navigator.userAgent'), /Firefox\//);
      assert.match(await agent.value('navigator.userAgent'), agentBrowser === 'Firefox' ? /Firefox\// : /Chrom/);
      for (const side of [customer, agent])
        assert.equal(await side.value('document.visibilityState'), 'visible', `the ${side.browserName} page is shown`);
      await customer.click([...LAUNCHER, '[part=trigger]']);
      await customer.click([...LAUNCHER, '[part=start]']);
      const code = await codeShown(customer);
      await join(agent, code);
      await customer.until(`document.querySelector('cobrowse-launcher').state === 'connected'`);

      // The mirror shows the page.
      const heading = await customer.value(`document.querySelector('h1').textContent`);
      await agent.until(`${MIRROR_DOC}?.querySelector('h1')?.textContent === ${JSON.stringify(heading)}`);

      // A DOM change reaches the mirror.
      const marker = `live-change-${Date.now()}`;
      await customer.value(
        `(() => { const p = document.createElement('p'); p.id = 'e2e-marker'; p.textContent = ${JSON.stringify(marker)}; document.body.append(p); })()`,
      );
      await agent.until(`${MIRROR_DOC}?.getElementById('e2e-marker')?.textContent === ${JSON.stringify(marker)}`);

      // Secrets typed key by key, then a plain field typed last: once it shows, every frame before it has been seen.
      const ssn = `987-65-${String(Date.now()).slice(-4)}`;
      const password = `Pw-${Math.random().toString(36).slice(2)}-secret`;
      const name = `Ada Lovelace ${Date.now()}`;
      await customer.type(['#ssn'], ssn);
      await customer.type(['#password'], password);
      await customer.type(['#name'], name);
      await agent.until(`${MIRROR_DOC}?.getElementById('name')?.value === ${JSON.stringify(name)}`);
      assert.equal(await agent.value(`${MIRROR_DOC}.getElementById('ssn').value`), '********');
      assert.equal(await agent.value(`${MIRROR_DOC}.getElementById('password').value`), '********');
      const agentText = await agent.value(`document.documentElement.outerHTML + ${MIRROR_DOC}.documentElement.outerHTML +
        Array.from(${MIRROR_DOC}.querySelectorAll('input, textarea'), (f) => f.value).join('\\n')`);
      const sent = (await customer.sent()).join('\n');
      assert.ok(sent.includes(name), "the customer page's frames were recorded");
      for (const secret of [ssn, ssn.replace(/-/g, ''), password]) {
        assert.ok(!agentText.includes(secret), `the agent's page must not contain ${secret}`);
        assert.ok(!sent.includes(secret), `a frame the customer's page sent carried ${secret}`);
      }
    });

    it('ends from the agent and the customer is told', async () => {
      await agent.click([...VIEWER, 'cobrowse-toolbar', '[part=close]']);
      await customer.until(`document.querySelector('cobrowse-launcher').state === 'ended'`);
      assert.match(await customer.text([...LAUNCHER, '[part=panel]']), /The agent ended the session/);
      assert.match(await agent.text([...VIEWER, '[part=message]']), /You closed the session/);
    });

    it('ends from the customer (a second session) and the agent is told', async () => {
      await customer.click([...LAUNCHER, '[part=start]']); // "Start a new session"
      await customer.until(`document.querySelector('cobrowse-launcher').state === 'waiting'`);
      await join(agent, await codeShown(customer));
      await customer.until(`document.querySelector('cobrowse-launcher').state === 'connected'`);
      await customer.click([...LAUNCHER, '[part=end]']);
      await agent.until(`document.querySelector('cobrowse-viewer').state === 'ended'`);
      assert.match(await agent.text([...VIEWER, '[part=message]']), /The customer ended the session/);
      await customer.until(`document.querySelector('cobrowse-launcher').state === 'ended'`);
      assert.match(await customer.text([...LAUNCHER, '[part=panel]']), /You ended the session/);
    });
  });
}

flow('Firefox', 'Chromium');
flow('Firefox', 'Firefox');
