// The framework examples under examples/, built as users build them, each served on its own origin:
// the customer starts a session from the launcher the framework rendered, the demo's agent console
// joins and sees the page. For Vue, the agent also co-fills a v-model input (issue 7).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildExample } from '../../examples/build.mjs';
import { serveExample } from '../../examples/serve.mjs';
import { startDemo } from '../../dist/demo/server.js';
import { launchChromium, settledMirrorPoint } from '../helpers/chromium.js';

/** The mirror's copy of the customer's page, in the agent's console. */
const mirrored = (agent, selector) =>
  agent.evaluate(
    (selector) =>
      document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe').contentDocument.querySelector(selector)?.textContent ??
      null,
    selector,
  );

describe('framework examples', () => {
  let demo, browser, relayUrl;
  before(async () => {
    demo = await startDemo({ port: 0, host: '127.0.0.1', relay: { agentAuth: 'dev', log: () => {} } });
    relayUrl = `${demo.url.replace('http', 'ws')}/relay`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await demo?.close();
  });

  /** Builds and serves one example, opens it as the customer, starts a session and joins it as the agent. */
  async function startSession(name, t) {
    const site = await serveExample(await buildExample(name));
    t.after(() => site.close());
    const customerContext = await browser.newContext();
    const agentContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    t.after(() => Promise.all([customerContext.close(), agentContext.close()]));
    const customer = await customerContext.newPage();
    const agent = await agentContext.newPage();
    const errors = [];
    customer.on('pageerror', (err) => errors.push(err.message));

    await customer.goto(`${site.url}?relay=${encodeURIComponent(relayUrl)}`);
    await customer.locator('#name').waitFor();
    await customer.evaluate(() =>
      document.querySelector('cobrowse-launcher').addEventListener('cobrowse-control-request', (e) => {
        e.preventDefault();
        e.detail.allow();
      }),
    );
    const launcher = customer.locator('cobrowse-launcher');
    // What the framework passed as `strings`, an object only a property can carry.
    const trigger = (await launcher.locator('[part=trigger]').textContent()).trim();
    await launcher.locator('[part=trigger]').click();
    await launcher.locator('[part=start]').click();
    const code = (await launcher.locator('[part=code]').textContent()).replace(/\s/g, '');
    assert.match(code, /^\d{9}$/);
    // The page heard the launcher's event through its framework's own event binding.
    await customer.waitForFunction((code) => document.getElementById('session').textContent === `Session ID ${code}`, code);

    await agent.goto(`${demo.url}/agent/?code=${code}`);
    await agent.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');
    assert.equal(await mirrored(agent, 'h1'), 'Contact us', 'the mirror shows the example page');
    assert.deepEqual(errors, []);
    return { customer, agent, trigger };
  }

  it('plain HTML: the one-tag bundle, no build', async (t) => {
    const { agent } = await startSession('plain-html', t);
    assert.equal(
      await agent.evaluate(
        () =>
          document
            .querySelector('cobrowse-viewer')
            .shadowRoot.querySelector('iframe')
            .contentDocument.querySelectorAll('#contact input, #contact textarea').length,
      ),
      2,
    );
  });

  it('React 19: properties and events on the element directly', async (t) => {
    const { trigger } = await startSession('react', t);
    assert.equal(trigger, 'Share this tab');
  });

  it('Svelte 5: properties and events on the element directly', async (t) => {
    const { trigger } = await startSession('svelte', t);
    assert.equal(trigger, 'Share this tab');
  });

  it("Vue 3: the agent co-fills a v-model input; Vue's state takes it and keeps it through a re-render", async (t) => {
    const { customer, agent, trigger } = await startSession('vue', t);
    assert.equal(trigger, 'Share this tab');

    const point = await settledMirrorPoint(agent, '#name');
    await agent.mouse.click(point.x, point.y);
    await agent.locator('cobrowse-viewer').locator('[part=editor]').waitFor();
    await agent.keyboard.type('Ada', { delay: 20 });

    // Vue's state, not only the DOM, holds the agent's value.
    await customer.waitForFunction(() => window.vueState.name === 'Ada');
    await customer.waitForFunction(() => document.getElementById('echo').textContent === 'Hello Ada');
    await customer.locator('#rerender').click();
    await customer.waitForFunction(() => document.getElementById('rerender').textContent === 'Re-render (1)');
    assert.equal(await customer.locator('#name').inputValue(), 'Ada', 'the value survives Vue re-rendering');
    assert.equal(await customer.evaluate(() => window.vueState.name), 'Ada');
    await agent.waitForFunction(
      () =>
        document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe').contentDocument.getElementById('echo')?.textContent ===
        'Hello Ada',
    );
  });
});
