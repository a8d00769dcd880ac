// A launcher inside an iframe of the customer's page (a widget of the same site, or the site framed
// by someone else) shares the top page's IndexedDB, so it could resume the top page's session and take
// it over. It stays inert instead: it shows nothing, never opens a socket, and start() does nothing.
// Two real pages, the real relay.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFromLauncher } from '../helpers/chromium.js';
import { demoSuite } from '../helpers/demo.js';

describe('a launcher in a frame', () => {
  const ctx = demoSuite();

  it('stays inert: no socket, no panel, no take-over of the top page’s session', async () => {
    const customer = await (await ctx.browser.newContext()).newPage();
    const agent = await (await ctx.browser.newContext()).newPage();
    const sockets = [];
    customer.on('websocket', (ws) => sockets.push(ws.url()));
    await customer.goto(`${ctx.demo.url}/`);
    const code = await startFromLauncher(customer);
    await agent.goto(`${ctx.demo.url}/agent/?code=${code}`);
    await agent.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');
    const socketsBefore = sockets.length;

    // A same-origin frame with the site's own bundle and launcher, asked to start sharing.
    await customer.evaluate(
      async (relay) => {
        const frame = document.createElement('iframe');
        frame.id = 'widget';
        frame.srcdoc = `<!doctype html><body><cobrowse-launcher relay="${relay}"></cobrowse-launcher>
        <script type="module" src="/dist/cobrowse.js"></script></body>`;
        const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
        document.body.append(frame);
        await loaded;
        const win = frame.contentWindow;
        await win.customElements.whenDefined('cobrowse-launcher');
        await win.document.querySelector('cobrowse-launcher').start();
      },
      `${ctx.demo.url.replace('http', 'ws')}/relay`,
    );

    const framed = await customer.evaluate(() => {
      const launcher = document.getElementById('widget').contentDocument.querySelector('cobrowse-launcher');
      return { state: launcher.state, code: launcher.code, shown: launcher.shadowRoot.querySelectorAll('*').length };
    });
    assert.deepEqual(framed, { state: 'idle', code: '', shown: 0 }, 'the framed launcher did nothing and shows nothing');

    // A change in the top page after that still reaches the agent: the top page kept its session.
    await customer.evaluate(() =>
      document.body.append(Object.assign(document.createElement('p'), { id: 'after-frame', textContent: 'still mine' })),
    );
    await agent.waitForFunction(() =>
      document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe')?.contentDocument?.getElementById('after-frame'),
    );
    assert.equal(await customer.evaluate(() => document.getElementById('launcher').state), 'connected');
    assert.equal(sockets.length, socketsBefore, `no socket from the frame (${sockets.slice(socketsBefore).join(', ')})`);
  });
});
