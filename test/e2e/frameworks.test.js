// Co-fill into framework-controlled inputs: the agent types in the console, the customer's
// React 19 app takes it as its own state, and keeps it through its re-renders.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startDemo } from '../../dist/demo/server.js';
import { launchChromium, settledMirrorPoint, startFromLauncher } from '../helpers/chromium.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The customer's React page on its own origin, talking to the demo's relay. */
async function startReactPage(relayUrl) {
  const app = await build({
    entryPoints: [path.join(ROOT, 'test/fixtures/frameworks/react-app.jsx')],
    bundle: true,
    write: false,
    format: 'esm',
    jsx: 'automatic',
    target: 'es2022',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const launcher = await readFile(path.join(ROOT, 'dist/cobrowse.js'));
  const html = `<!doctype html><html><body><div id="app"></div>
    <cobrowse-launcher relay="${relayUrl}"></cobrowse-launcher>
    <script type="module" src="/cobrowse.js"></script><script type="module" src="/app.js"></script></body></html>`;
  const server = createServer((req, res) => {
    const body = { '/': html, '/app.js': app.outputFiles[0].text, '/cobrowse.js': launcher }[req.url];
    if (body === undefined) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': req.url === '/' ? 'text/html' : 'text/javascript' }).end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('co-fill into framework-controlled inputs', () => {
  let demo, page, browser;
  before(async () => {
    demo = await startDemo({ port: 0, host: '127.0.0.1', relay: { agentAuth: 'dev', log: () => {} } });
    page = await startReactPage(`${demo.url.replace('http', 'ws')}/relay`);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await page?.close();
    await demo?.close();
  });

  it("React 19: the agent's value becomes the app's state and survives a re-render", async () => {
    const customer = await (await browser.newContext()).newPage();
    const agent = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await customer.goto(page.url);
    await customer.locator('#react-name').waitFor();
    await customer.evaluate(() =>
      document.querySelector('cobrowse-launcher').addEventListener('cobrowse-control-request', (e) => {
        e.preventDefault();
        e.detail.allow();
      }),
    );
    const code = await startFromLauncher(customer);

    await agent.goto(`${demo.url}/agent/?code=${code}`);
    await agent.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');
    const point = await settledMirrorPoint(agent, '#react-name');
    await agent.mouse.click(point.x, point.y);
    await agent.locator('cobrowse-viewer').locator('[part=editor]').waitFor();
    await agent.keyboard.type('Grace', { delay: 20 });

    // React's state took the value: its own rendering shows it.
    await customer.waitForFunction(() => document.getElementById('echo').textContent === 'Hello Grace');
    await customer.locator('#rerender').click();
    await customer.waitForFunction(() => document.getElementById('rerender').textContent === 'Re-render (1)');
    assert.equal(await customer.locator('#react-name').inputValue(), 'Grace', 'the value survives React re-rendering');
    // And the agent's mirror shows what React rendered.
    await agent.waitForFunction(
      () =>
        document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe').contentDocument.getElementById('echo')?.textContent ===
        'Hello Grace',
    );
  });
});
