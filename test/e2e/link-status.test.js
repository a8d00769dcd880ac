// The agent's view of the customer's connection, end to end: a real customer page and agent
// console through the demo's relay, the customer's link slowed, cut and restored by a small TCP
// proxy between the customer's page and the demo server. (CDP's Network.emulateNetworkConditions
// does not delay WebSocket frames in this Chromium, so latency is added on the wire instead.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startDemo } from '../../dist/demo/server.js';
import { launchChromium, startFromLauncher } from '../helpers/chromium.js';

/**
 * A loopback TCP proxy to `port` that can delay every chunk by `delayMs` in each direction
 * (order kept), or stall (hold every chunk until it stops stalling).
 */
function throttlingProxy(port) {
  const sockets = new Set();
  const state = { delayMs: 0, stalled: false };
  const pumps = new Set();

  /** Forwards `from` → `to`, each chunk no sooner than delayMs after it came, never while stalled. */
  function pump(from, to) {
    const queue = [];
    let timer;
    const flush = () => {
      timer = undefined;
      if (state.stalled) return;
      const now = Date.now();
      while (queue.length && queue[0].due <= now) to.write(queue.shift().chunk);
      // The delay under test, not a wait: the next chunk goes out when it is due.
      if (queue.length) timer = setTimeout(flush, queue[0].due - now);
    };
    from.on('data', (chunk) => {
      queue.push({ chunk, due: Date.now() + state.delayMs });
      if (!timer) flush();
    });
    const self = { kick: () => timer || flush() };
    pumps.add(self);
    from.on('close', () => pumps.delete(self));
  }

  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    pump(client, upstream);
    pump(upstream, client);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: server.address().port,
        /** Every chunk from now on waits this long, each way. */
        delay(ms) {
          state.delayMs = ms;
        },
        /** Holds (true) or releases (false) everything in flight. */
        stall(stalled) {
          state.stalled = stalled;
          if (!stalled) for (const p of pumps) p.kick();
        },
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((done) => server.close(done));
        },
      }),
    ),
  );
}

describe("the toolbar shows the customer's connection", () => {
  let demo, proxy, browser;

  before(async () => {
    demo = await startDemo({ port: 0, host: '127.0.0.1', relay: { agentAuth: 'dev', log: () => {} } });
    proxy = await throttlingProxy(demo.port);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await proxy?.close();
    await demo?.close();
  });

  it('good, slow with the round trip, offline, and good again', async () => {
    // The customer's page (and so its relay socket, same host) goes through the proxy; the console does not.
    const customer = await (await browser.newContext()).newPage();
    const agent = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    for (const page of [customer, agent]) page.on('pageerror', (error) => console.error('page error:', error));
    await customer.goto(`http://127.0.0.1:${proxy.port}/`);
    const code = await startFromLauncher(customer);
    await agent.goto(`${demo.url}/agent/?code=${code}`);
    await agent.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');

    const link = agent.locator('cobrowse-viewer').locator('cobrowse-toolbar').locator('[part=link]');
    /** What the toolbar shows: its status attribute, its text and its label. */
    const shown = async () => ({
      status: await link.getAttribute('data-link'),
      text: (await link.textContent()).replace(/\s+/g, ' ').trim(),
      label: await link.getAttribute('aria-label'),
    });
    // The browser polls the toolbar itself: a waitForFunction, not test/helpers/wait.js's until.
    const linkShows = (status, timeout) =>
      agent.waitForFunction(
        (status) =>
          document
            .querySelector('cobrowse-viewer')
            .shadowRoot.querySelector('cobrowse-toolbar')
            .shadowRoot.querySelector('[part=link]')
            ?.getAttribute('data-link') === status,
        status,
        { timeout, polling: 100 },
      );

    // Pings go every 2 s: the first pong makes it good.
    await linkShows('good', 10_000);
    let now = await shown();
    assert.match(now.text, /^Good · \d+ ms$/);
    assert.ok(Number(/(\d+) ms/.exec(now.text)[1]) < 300, now.text);

    // 250 ms each way: the round trip passes 300 ms. (A deliberate network delay: the slowness under test.)
    proxy.delay(250);
    await linkShows('slow', 10_000);
    now = await shown();
    const rtt = Number(/^Slow · (\d+) ms$/.exec(now.text)?.[1]);
    assert.ok(rtt >= 500 && rtt < 2000, `slow with the round trip shown: ${now.text}`);
    assert.equal(now.label, `Customer's connection: Slow, ${rtt} ms`);

    // Nothing gets through: no pong for two intervals.
    proxy.stall(true);
    await linkShows('offline', 12_000);
    now = await shown();
    assert.equal(now.text, 'Offline');
    assert.equal(now.label, "Customer's connection: Offline");

    // Restored: what was held arrives, then the next pings come back fast.
    proxy.delay(0);
    proxy.stall(false);
    await linkShows('good', 15_000);
    now = await shown();
    assert.ok(Number(/^Good · (\d+) ms$/.exec(now.text)?.[1]) < 300, now.text);
  });
});
