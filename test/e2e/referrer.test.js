// The mirror's requests carry no Referer: a customer page (hostile or not) whose images the mirror shows
// must not learn the console's address from them. The agent's browser loads them through the relay's
// asset proxy, which fetches them with no Referer and no cookies. Two real pages, the real relay, and a
// server of the "customer's" assets (an origin the proxy lists) that records the headers it is sent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startDemo } from '../../dist/demo/server.js';
import { launchChromium, startFromLauncher } from '../helpers/chromium.js';
import { until } from '../helpers/wait.js';

const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

describe('requests from the mirror', () => {
  let demo, browser, assets;
  const seen = [];
  before(async () => {
    assets = createServer((req, res) => {
      seen.push({
        url: req.url,
        referer: req.headers.referer ?? null,
        cookie: req.headers.cookie ?? null,
        agent: req.headers['user-agent'],
      });
      res.writeHead(200, { 'content-type': 'image/gif', 'cache-control': 'no-store' }).end(PIXEL);
    });
    await new Promise((resolve) => assets.listen(0, '127.0.0.1', resolve));
    const origins = [`http://127.0.0.1:${assets.address().port}`];
    demo = await startDemo({ port: 0, host: '127.0.0.1', relay: { agentAuth: 'dev', log: () => {}, assets: { origins } } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await demo?.close();
    assets?.close();
  });

  it('send no Referer: the customer page cannot learn the console’s URL', async () => {
    const customer = await (await browser.newContext()).newPage();
    const agent = await (await browser.newContext()).newPage();
    // The customer's page on another origin than the console, so each request says whose it is.
    const port = new URL(demo.url).port;
    await customer.goto(`http://shop.localhost:${port}/`);
    const code = await startFromLauncher(customer);
    await agent.goto(`${demo.url}/agent/?code=${code}`);
    await agent.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');
    const base = `http://127.0.0.1:${assets.address().port}`;
    await customer.evaluate((src) => document.body.append(Object.assign(document.createElement('img'), { src })), `${base}/pixel.gif`);
    // Both load it: the customer's browser (with its own page as Referer) and, for the mirror, the relay's proxy.
    await until(
      () => seen.length >= 2,
      () => `both browsers to load the image (${JSON.stringify(seen)})`,
      { ms: 15_000 },
    );
    const console = new URL(demo.url).origin;
    assert.deepEqual(
      seen.filter((r) => r.referer?.startsWith(console)),
      [],
      'no request from the mirror names the console',
    );
    const proxied = seen.filter((r) => r.referer === null);
    assert.equal(proxied.length, 1, "the mirror's request, without a Referer");
    assert.match(proxied[0].agent, /cobrowse-relay/, 'made by the relay, not by the agent’s browser');
    assert.equal(proxied[0].cookie, null);
  });
});
