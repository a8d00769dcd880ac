// The session follows the customer across the site's domains: a sub-domain (a.localhost →
// b.localhost) and another listed domain (partner.example) keep the same session ID through a
// one-time hand-off token in the URL fragment; an unlisted domain pauses sharing and the agent
// is told the customer left; coming back resumes. Two real pages, the real relay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemo } from '../../dist/demo/server.js';
import { launchChromium, startFromLauncher } from '../helpers/chromium.js';
import { until as untilShared } from '../helpers/wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** One server for every host name: the site's pages (with the launcher) and a site outside it (without). */
async function startSite() {
  const bundle = await readFile(path.join(ROOT, 'dist/cobrowse.js'));
  let relayUrl = '';
  const server = createServer((req, res) => {
    const host = req.headers.host ?? '';
    const port = server.address().port;
    if (req.url === '/cobrowse.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    if (host.startsWith('outside.example')) {
      return res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>Elsewhere</title><p id="elsewhere">Another site</p>');
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><html><head><title>${host}</title></head><body>
      <h1 id="host">${host}</h1>
      <a id="to-b" href="http://b.localhost:${port}/step-2">Next step (sub-domain)</a>
      <a id="to-partner" href="http://partner.example:${port}/insurance#plans">Partner offer</a>
      <a id="to-outside" href="http://outside.example:${port}/">Somewhere else</a>
      <cobrowse-launcher relay="${relayUrl}" domains="*.localhost partner.example"></cobrowse-launcher>
      <script type="module" src="/cobrowse.js"></script></body></html>`);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    setRelay: (url) => (relayUrl = url),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('the session follows the customer across domains', () => {
  let demo, site, browser;
  before(async () => {
    site = await startSite();
    const partner = `http://partner.example:${site.port}`;
    demo = await startDemo({ port: 0, host: '127.0.0.1', relay: { agentAuth: 'dev', customerOrigins: [partner], log: () => {} } });
    site.setRelay(`${demo.url.replace('http', 'ws')}/relay`);
    // *.localhost reaches loopback by itself; the two .example names are mapped to it, and the
    // partner's http origin is treated as secure as its https one would be.
    browser = await launchChromium([
      '--host-resolver-rules=MAP partner.example 127.0.0.1, MAP outside.example 127.0.0.1',
      `--unsafely-treat-insecure-origin-as-secure=${partner}`,
    ]);
  });
  after(async () => {
    await browser?.close();
    await demo?.close();
    await site?.close();
  });

  it('a sub-domain and a listed domain keep the ID; an unlisted one pauses; coming back resumes', async () => {
    const customer = await (await browser.newContext()).newPage();
    const agent = await (await browser.newContext()).newPage();
    const launcherState = () => customer.evaluate(() => document.querySelector('cobrowse-launcher')?.state);
    const launcherCode = () => customer.evaluate(() => document.querySelector('cobrowse-launcher')?.code);
    const mirrorHost = () =>
      agent.evaluate(
        () =>
          document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe')?.contentDocument?.getElementById('host')
            ?.textContent,
      );
    const viewerState = () => agent.evaluate(() => document.querySelector('cobrowse-viewer').state);
    /** The shared `until`, its message with both sides' states at the time. */
    const until = (test, what) =>
      untilShared(test, async () => `${what} (launcher: ${await launcherState()}, viewer: ${await viewerState()})`, {
        ms: 15_000,
        every: 50,
      });

    await customer.goto(`http://a.localhost:${site.port}/`);
    const code = await startFromLauncher(customer);
    assert.match(code, /^\d{9}$/);
    await agent.goto(`${demo.url}/agent/?code=${code}`);
    await until(async () => (await mirrorHost()) === `a.localhost:${site.port}`, 'the mirror shows a.localhost');

    // A sub-domain: the same session, and the hand-off token gone from the address bar.
    await customer.locator('#to-b').click();
    await customer.waitForURL(`http://b.localhost:${site.port}/step-2`);
    await until(async () => (await launcherState()) === 'connected', 'b.localhost resumes the session');
    assert.equal(await launcherCode(), code, 'the same session ID on the sub-domain');
    assert.equal(customer.url(), `http://b.localhost:${site.port}/step-2`, 'no hand-off token left in the URL');
    await until(async () => (await mirrorHost()) === `b.localhost:${site.port}`, 'the mirror follows to b.localhost');

    // Another domain on the list: the same again, and the page keeps its own fragment.
    await customer.locator('#to-partner').click();
    await customer.waitForURL(`http://partner.example:${site.port}/insurance#plans`);
    await until(async () => (await launcherState()) === 'connected', 'partner.example resumes the session');
    assert.equal(await launcherCode(), code, 'the same session ID on the partner domain');
    await until(async () => (await mirrorHost()) === `partner.example:${site.port}`, 'the mirror follows to partner.example');

    // A site outside the list: the agent is told the customer left.
    await customer.locator('#to-outside').click();
    await customer.waitForURL(`http://outside.example:${site.port}/`);
    await until(async () => (await viewerState()) === 'left', 'the agent sees the customer left');
    const notice = await agent.evaluate(() => document.querySelector('cobrowse-viewer').shadowRoot.textContent);
    assert.match(notice, /left the co-browsing site/);

    // Back on the partner's page: its own resume token (kept from the hand-off) picks the session up.
    await customer.goBack();
    await until(async () => (await launcherState()) === 'connected', 'the session resumes on coming back');
    assert.equal(await launcherCode(), code, 'still the same session ID');
    await until(
      async () => (await viewerState()) === 'live' && (await mirrorHost()) === `partner.example:${site.port}`,
      'the agent sees the page again',
    );
  });
});
