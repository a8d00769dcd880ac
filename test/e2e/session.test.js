// End to end: the real demo server (relay + pages), a customer page and an agent page in
// separate browser contexts, every WebSocket frame read through the DevTools protocol.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo } from '../../dist/demo/server.js';
import { launchChromium, startFromLauncher } from '../helpers/chromium.js';

/** Opens a page in its own context (own IndexedDB) and records every WebSocket frame it sends or receives. */
async function openParty(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const frames = [];
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketFrameSent', (e) => frames.push({ dir: 'sent', data: e.response.payloadData }));
  cdp.on('Network.webSocketFrameReceived', (e) => frames.push({ dir: 'received', data: e.response.payloadData }));
  page.on('pageerror', (error) => console.error(`page error on ${url}:`, error));
  await page.goto(url);
  return { context, page, frames };
}

/** Text of the agent's mirror document (markup plus live field values, which markup does not show). */
const mirrorText = (agent) =>
  agent.evaluate(() => {
    const doc = document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe').contentDocument;
    const values = Array.from(doc.querySelectorAll('input, textarea'), (f) => f.value);
    return doc.documentElement.outerHTML + '\n' + values.join('\n');
  });

const mirrorQuery = (agent, selector) =>
  agent.evaluate((selector) => {
    const doc = document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe').contentDocument;
    const el = doc.querySelector(selector);
    return el ? { text: el.textContent, value: el.value ?? null } : null;
  }, selector);

const startSharing = (customer) => startFromLauncher(customer.page);

async function join(agent, code) {
  const viewer = agent.page.locator('cobrowse-viewer');
  await viewer.locator('input#code').fill(code.replace(/(\d{3})(?=\d)/g, '$1 '));
  await viewer.locator('button[type=submit]').click();
}

describe('co-browsing end to end', () => {
  let demo, browser, customer, agent;

  before(async () => {
    // Dev mode, as `npm start`: the agent console fetches a token the relay signed, and must use it.
    demo = await startDemo({ port: 0, host: '127.0.0.1', relay: { agentAuth: 'dev', log: () => {} } });
    browser = await launchChromium();
    customer = await openParty(browser, `${demo.url}/`);
    agent = await openParty(browser, `${demo.url}/agent/`);
  });

  after(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('gives the agent a clear message for a wrong session ID', async () => {
    await join(agent, '000000000');
    const alert = agent.page.locator('cobrowse-viewer').locator('[role=alert]');
    await alert.waitFor();
    assert.match(await alert.textContent(), /No session with this ID/);
  });

  it('mirrors the page live and never lets a masked value out', async () => {
    const code = await startSharing(customer);
    await join(agent, code);
    await agent.page.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');
    assert.equal((await mirrorQuery(agent.page, 'h1')).text, await customer.page.locator('h1').first().textContent());

    // A DOM change reaches the mirror.
    const marker = `live-change-${Date.now()}`;
    await customer.page.evaluate((marker) => {
      const p = document.createElement('p');
      p.id = 'e2e-marker';
      p.textContent = marker;
      document.body.append(p);
    }, marker);
    await agent.page.waitForFunction(() =>
      document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe').contentDocument.getElementById('e2e-marker'),
    );
    assert.equal((await mirrorQuery(agent.page, '#e2e-marker')).text, marker);

    // Secrets typed key by key, then a plain field typed last: once it shows, every frame before it has been seen.
    const ssn = `987-65-${String(Date.now()).slice(-4)}`;
    const password = `Pw-${Math.random().toString(36).slice(2)}-secret`;
    const name = `Ada Lovelace ${Date.now()}`;
    await customer.page.locator('#ssn').pressSequentially(ssn, { delay: 5 });
    await customer.page.locator('#password').pressSequentially(password, { delay: 5 });
    await customer.page.locator('#name').fill(name);
    await agent.page.waitForFunction(
      (name) =>
        document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe').contentDocument.getElementById('name').value === name,
      name,
    );

    assert.equal((await mirrorQuery(agent.page, '#ssn')).value, '********');
    assert.equal((await mirrorQuery(agent.page, '#password')).value, '********');
    const text = (await mirrorText(agent.page)) + (await agent.page.content());
    assert.ok(text.includes(name), 'the plain field reached the mirror');
    const digits = ssn.replace(/-/g, '');
    for (const secret of [ssn, digits, password]) {
      assert.ok(!text.includes(secret), `agent DOM must not contain ${secret}`);
      for (const party of [customer, agent]) {
        const leaked = party.frames.filter((f) => f.data.includes(secret));
        assert.equal(leaked.length, 0, `a WebSocket frame ${leaked[0]?.dir} by a page carried ${secret}`);
      }
    }
    assert.ok(
      customer.frames.some((f) => f.dir === 'sent' && f.data.includes(name)),
      'frames were captured',
    );
  });

  it('ends from the agent and the customer is told', async () => {
    await agent.page.locator('cobrowse-viewer').locator('cobrowse-toolbar').locator('[part=close]').click();
    const launcher = customer.page.locator('cobrowse-launcher');
    await customer.page.waitForFunction(() => document.querySelector('cobrowse-launcher').state === 'ended');
    assert.match(await launcher.locator('[part=panel]').textContent(), /The agent ended the session/);
    assert.match(await agent.page.locator('cobrowse-viewer').locator('[part=message]').textContent(), /You closed the session/);
  });

  it('ends from the customer (a second session) and the agent is told', async () => {
    const launcher = customer.page.locator('cobrowse-launcher');
    await launcher.locator('[part=start]').click(); // "Start a new session"
    await customer.page.waitForFunction(() => document.querySelector('cobrowse-launcher').state === 'waiting');
    const code = (await launcher.locator('[part=code]').textContent()).replace(/\s/g, '');
    await join(agent, code);
    await agent.page.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');
    await customer.page.waitForFunction(() => document.querySelector('cobrowse-launcher').state === 'connected');
    await launcher.locator('[part=end]').click();
    await agent.page.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'ended');
    assert.match(await agent.page.locator('cobrowse-viewer').locator('[part=message]').textContent(), /The customer ended the session/);
    await customer.page.waitForFunction(() => document.querySelector('cobrowse-launcher').state === 'ended');
    assert.match(await launcher.locator('[part=panel]').textContent(), /You ended the session/);
  });
});
